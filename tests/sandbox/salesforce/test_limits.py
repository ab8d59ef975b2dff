"""The daily API allowance: counting, the header, the 403, and faults."""

from __future__ import annotations

import pytest
from simple_salesforce.exceptions import (
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)


def test_every_call_counts_and_reports_usage(sim, sf):
    before = sim.org.budget.used
    sf.query("SELECT Id FROM Account")
    limits = sf.limits()
    assert sim.org.budget.used == before + 2
    assert limits["DailyApiRequests"] == {"Max": 15000, "Remaining": 15000 - before - 2}
    usage = sf.api_usage["api-usage"]
    assert (usage.used, usage.total) == (before + 2, 15000)


def test_over_the_allowance_is_request_limit_exceeded(sim, sf):
    sim.org.set_budget(max=100, used=99)
    sf.Account.describe()
    with pytest.raises(SalesforceRefusedRequest) as excinfo:
        sf.Account.describe()
    assert excinfo.value.status == 403
    assert excinfo.value.content == [
        {
            "message": "TotalRequests Limit exceeded.",
            "errorCode": "REQUEST_LIMIT_EXCEEDED",
        }
    ]


def test_allowance_window_restarts(sim, sf):
    sim.org.set_budget(max=5, used=5)
    with pytest.raises(SalesforceRefusedRequest):
        sf.limits()
    sim.org.budget.window_started -= sim.org.budget.window_seconds  # a day later
    assert sf.limits()["DailyApiRequests"] == {"Max": 5, "Remaining": 4}


def test_injected_faults_answer_the_next_calls(sim, sf):
    sim.org.faults.fail_next(2, status=503)
    for _ in range(2):
        with pytest.raises(SalesforceGeneralError) as excinfo:
            sf.limits()
        assert excinfo.value.status == 503
    assert sf.limits()["DailyApiRequests"]["Max"] == 15000


def test_api_calls_are_counted_per_resource(sim, sf):
    sf.query("SELECT Id FROM Account")
    sf.Account.create({"Name": "Counted"})
    assert sim.org.api_calls[("GET", "/query")] == 1
    assert sim.org.api_calls[("POST", "/sobjects/{sobject}")] == 1
