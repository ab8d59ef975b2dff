"""Every Postman request template we claim to serve reaches a real handler.

The templates (forcedotcom/postman-salesforce-apis) give method and URL; each is
sent to the simulator with its placeholders filled in, and the answer must not
be "no such resource" or "method not allowed".
"""

from __future__ import annotations

import json
import re

import pytest

from integrations.sandbox.contracts import contract

TEMPLATES = contract("salesforce/postman-salesforce-apis")
SERVED = sorted(
    [p.relative_to(TEMPLATES).as_posix() for p in (TEMPLATES / "rest").glob("*.json")]
    + [
        "composite/sobject_collections_create.json",
        "composite/sobject_collections_delete.json",
        "composite/sobject_collections_retrieve.json",
        "composite/sobject_collections_update.json",
        "auth/oauth_username_password.json",
        "auth/jwt_bearer_token_flow.json",
    ]
)
NOT_SERVED = {
    "composite/batch.json": "Composite Batch is not used by the connector",
    "composite/composite.json": "Composite (referenceId chaining) is not used",
    "composite/composite_graph.json": "Composite Graph is not used",
    "composite/sobject_tree.json": "sObject Tree is not used",
    "bulk_v2/*": "Bulk API 2.0 ingest is not simulated (collections of 200 suffice)",
    "query/*": "Bulk API 2.0 query jobs are not simulated",
    "auth/soap_login.json": "SOAP login: the connector uses OAuth only",
    "auth/refresh_token.json": "no flow we use issues refresh tokens",
    "auth/web_server_flow_1.json": "interactive browser flows are not simulated",
    "auth/web_server_flow_2.json": "interactive browser flows are not simulated",
    "auth/user_agent_flow.json": "interactive browser flows are not simulated",
    "auth/asset_token_flow.json": "asset tokens are not used",
    "auth/id_token.json": "OpenID Connect is not used",
    "auth/openid_connect_discovery_endpoint.json": "OpenID Connect is not used",
    "auth/openid_connect_dynamic_client_registration_endpoint.json": "not used",
    "auth/openid_connect_token_introspection_endpoint.json": "not used",
    "auth/authentication_configuration_endpoint.json": "not used",
    "auth/salesforce_keys.json": "not used",
    "auth/revoke_token.json": "served, but the template is a GET with the token "
    "in the query; we serve POST as the connector uses",
    "auth/user_info.json": "served (GET /services/oauth2/userinfo); checked in "
    "test_oauth",
}


def _template(name: str) -> dict:
    return json.loads((TEMPLATES / name).read_text())


def test_every_template_is_either_served_or_listed_with_a_reason():
    every = {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.glob("*/*.json")}
    listed = set(SERVED)
    for pattern in NOT_SERVED:
        folder, _, name = pattern.partition("/")
        listed |= {
            p
            for p in every
            if p.startswith(folder + "/") and (name == "*" or p.endswith("/" + name))
        }
    assert every - listed == set()


def _fill(sim, url: str, ids: dict) -> str:
    url = url.replace("{{_endpoint}}", sim.url).replace("{{url}}{{site}}", sim.url)
    url = url.replace("{{version}}", "62.0")
    url = re.sub(r":SOBJECT_API_NAME|<SOBJECT_API_NAME>", "Account", url)
    url = re.sub(r"<RECORD_ID>|:RECORD_ID|:ID", ids["account"], url)
    url = url.replace("<FIELD_NAME>", "ExternalID__c").replace(
        "<FIELD_VALUE>", "01-ABF"
    )
    now = "2026-01-01T00:00:00Z"
    url = url.replace("start=&end=", f"start={now}&end=2026-01-02T00:00:00Z")
    url = url.replace("?ids&allOrNone", f"?ids={ids['contact']}&allOrNone=false")
    return url.replace("?ids&fields", f"?ids={ids['account']}&fields=Name")


@pytest.mark.parametrize("name", SERVED)
def test_template_is_served(sim, name):
    template = _template(name)
    ids = {
        "account": sim.access.ids["account:abf"],
        "contact": sim.access.ids["contact:delta"],
    }
    url = _fill(sim, template["url"], ids)
    assert "{{" not in url and "<" not in url, url
    method = template["method"]
    headers = {"Authorization": f"Bearer {sim.token()}"}
    kwargs = {}
    if name.startswith("auth/"):
        headers = {}
        kwargs["data"] = {d["key"]: "x" for d in template["data"]} | {
            d["key"]: d["value"] for d in template["data"] if "{{" not in d["value"]
        }
    elif method in ("POST", "PATCH"):
        kwargs["json"] = (
            {"records": [{"attributes": {"type": "Account"}, "Name": "T"}]}
            if "composite" in name
            else {"Name": "Template"}
        )
    response = sim.http().request(method, url, headers=headers, **kwargs)
    if name.startswith("auth/"):
        # Placeholder credentials: the endpoint answers with an OAuth error.
        assert response.status_code == 400
        assert response.json()["error"] in ("invalid_client_id", "invalid_grant")
        return
    assert response.status_code not in (404, 405), (name, response.text)
    assert response.status_code < 300 or response.status_code == 300, response.text
