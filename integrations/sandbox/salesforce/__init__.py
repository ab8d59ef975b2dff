"""A simulated Salesforce org: REST API, OAuth token endpoint and event hooks."""
