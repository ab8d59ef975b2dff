"""The simulated Xero organisation's books: objects, rules and queries.

``accounting.Organisation`` is the entry point; these modules hold the parts
(one job each) so the rules can be read and tested on their own.
"""
