"""The Xero contracts as checks: operations found by concrete path, requests
and answers held against the OpenAPI schemas."""

from __future__ import annotations

import json

import pytest

from integrations.sandbox.xero import contract

TENANT = {"xero-tenant-id": "aef86862-2015-4b6b-88bc-d89032cecc50"}
UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


def spec_example(path: str, method: str, status: str = "200"):
    spec = contract.accounting()
    answer, _ = spec.resolve(spec.document["paths"][path][method]["responses"][status])
    return answer["content"]["application/json"]["example"]


@pytest.mark.parametrize(
    ("method", "path", "operation_id"),
    [
        ("PUT", "/Invoices", "createInvoices"),
        ("POST", "/Invoices", "updateOrCreateInvoices"),
        ("POST", f"/Invoices/{UUID}", "updateInvoice"),
        ("GET", f"/Contacts/{UUID}", "getContact"),
        ("GET", "/Contacts/CUST-0042", "getContactByContactNumber"),
        ("GET", "/PurchaseOrders/PO-0001", "getPurchaseOrderByNumber"),
        ("PUT", "/Payments", "createPayments"),
        ("POST", "/Payments", "createPayment"),
        ("get", "/invoices", "getInvoices"),
    ],
)
def test_concrete_paths_find_their_operation(method, path, operation_id):
    assert contract.operation(method, path).operation_id == operation_id


def test_a_path_the_api_does_not_have_is_no_operation():
    assert contract.operation("GET", "/Widgets") is None
    assert contract.operation("DELETE", "/Invoices") is None


def test_a_bad_body_on_put_invoices_is_rejected():
    """Prism lets these through (API-FACTS §5); the simulator must not."""
    createInvoices = contract.operation("PUT", "/Invoices")
    bad_bodies = [
        5,
        [],
        {"Invoices": "not-an-array"},
        {"Invoices": [{"Type": "INVOICE"}]},
        {"Invoices": [{"LineItems": [{"Quantity": "two"}]}]},
    ]
    for body in bad_bodies:
        assert createInvoices.check_request({}, TENANT, body), body


def test_problems_name_the_json_path_and_the_fault():
    problems = contract.operation("PUT", "/Invoices").check_request(
        {},
        TENANT,
        {"Invoices": [{"Type": "ACCREC", "LineItems": [{}, {"Quantity": "two"}]}]},
    )
    assert problems == [
        'request body at $.Invoices[0].LineItems[1].Quantity: "two" is not of '
        'type "number"'
    ]


def test_recursive_invoice_payment_credit_note_schemas_validate():
    """Invoice → Payment → CreditNote → Allocation → Invoice: both ways."""
    createInvoices = contract.operation("PUT", "/Invoices")
    nested = {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Payments": [
                    {
                        "CreditNote": {
                            "Allocations": [
                                {
                                    "Amount": 5,
                                    "Date": "2026-12-01",
                                    "Invoice": {"Contact": {"ContactID": "nope"}},
                                }
                            ]
                        }
                    }
                ],
            }
        ]
    }
    assert createInvoices.check_request({}, TENANT, nested) == [
        "request body at $.Invoices[0].Payments[0].CreditNote.Allocations[0]"
        '.Invoice.Contact.ContactID: "nope" is not a uuid'
    ]
    nested["Invoices"][0]["Payments"][0]["CreditNote"]["Allocations"][0]["Invoice"][
        "Contact"
    ]["ContactID"] = UUID
    assert createInvoices.check_request({}, TENANT, nested) == []


@pytest.mark.parametrize(
    ("path", "method"),
    [("/Invoices", "put"), ("/Invoices", "get"), ("/Payments", "put")],
)
def test_the_specs_own_examples_pass(path, method):
    operation = contract.operation(method, path)
    assert operation.check_response(200, spec_example(path, method)) == []


def test_a_good_invoice_batch_passes():
    body = {
        "Invoices": [
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": UUID},
                "Date": "2026-12-01",
                "LineItems": [
                    {
                        "ItemCode": "WIDGET",
                        "Quantity": 2,
                        "UnitAmount": 9.5,
                        "AccountCode": "200",
                        "TaxType": "OUTPUT",
                    }
                ],
                "Status": "AUTHORISED",
            }
        ]
    }
    createInvoices = contract.operation("PUT", "/Invoices")
    assert (
        createInvoices.check_request({"summarizeErrors": "false"}, TENANT, body) == []
    )


@pytest.mark.parametrize("value", ["false", "False", "TRUE", "true"])
def test_boolean_query_values_are_taken_in_any_case(value):
    """xero-python sends ``summarizeErrors=False``."""
    createInvoices = contract.operation("PUT", "/Invoices")
    assert createInvoices.check_request({"summarizeErrors": value}, TENANT, {}) == []


def test_query_parameters_are_checked_by_type_and_name():
    getInvoices = contract.operation("GET", "/Invoices")
    problems = getInvoices.check_request(
        {"page": "two", "IDs": f"{UUID},nope", "summarize_errors": "false"},
        TENANT,
        None,
    )
    assert problems == [
        "query parameter summarize_errors: not a parameter of GET /Invoices "
        "(getInvoices)",
        "query parameter IDs: 'nope' is not a uuid",
        "query parameter page: 'two' is not an integer",
    ]
    createInvoices = contract.operation("PUT", "/Invoices")
    assert createInvoices.check_request({"summarize_errors": "x"}, TENANT, {}) == [
        "query parameter summarize_errors: not a parameter of PUT /Invoices "
        "(createInvoices) (did you mean summarizeErrors?)"
    ]


def test_the_tenant_header_is_required_and_if_modified_since_must_be_a_date():
    getInvoices = contract.operation("GET", "/Invoices")
    assert getInvoices.check_request({}, {}, None) == [
        "header parameter xero-tenant-id: required, but missing"
    ]
    headers = {**TENANT, "If-Modified-Since": "yesterday"}
    assert getInvoices.check_request({}, headers, None) == [
        "header parameter If-Modified-Since: 'yesterday' is not a date-time "
        "(ISO 8601 or an HTTP date)"
    ]
    for moment in ("2026-12-01T10:00:00", "Tue, 01 Dec 2026 10:00:00 GMT"):
        headers["If-Modified-Since"] = moment
        assert getInvoices.check_request({}, headers, None) == []


def test_a_path_parameter_must_fit_its_format():
    getInvoice = contract.operation("GET", "/Invoices/INV-0001")
    assert getInvoice.check_request({}, TENANT, None) == [
        "path parameter InvoiceID: 'INV-0001' is not a uuid"
    ]


def test_a_missing_body_is_a_problem_where_one_is_required():
    assert contract.operation("PUT", "/Contacts").check_request({}, TENANT, None) == [
        "request body: required, but none was sent"
    ]


def test_answers_are_checked_by_status():
    createInvoices = contract.operation("PUT", "/Invoices")
    assert createInvoices.check_response(201, {}) == [
        "response status 201: PUT /Invoices (createInvoices) declares only 200, 400"
    ]
    assert createInvoices.check_response(
        200, {"Invoices": [{"InvoiceID": "x", "Total": "12.00"}]}
    ) == [
        'response 200 body at $.Invoices[0].InvoiceID: "x" is not a uuid',
        'response 200 body at $.Invoices[0].Total: "12.00" is not of type "number"',
    ]
    error = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception occurred",
        "Elements": [{"ValidationErrors": [{"Message": "Invoice # must be unique."}]}],
    }
    assert createInvoices.check_response(400, error) == []
    # Statuses the spec does not declare (401/403/404/429) carry no schema.
    assert createInvoices.check_response(404, None) == []


def test_nullable_becomes_a_null_type():
    schema = {
        "properties": {
            "A": {"type": "string", "nullable": True},
            "B": {"$ref": "#/x", "nullable": True},
            "C": {"type": "string", "enum": ["X"], "nullable": True},
        }
    }
    contract._nullable_to_types(schema)
    assert schema["properties"]["A"]["type"] == ["string", "null"]
    assert schema["properties"]["B"] == {
        "nullable": True,
        "anyOf": [{"$ref": "#/x"}, {"type": "null"}],
    }
    assert schema["properties"]["C"]["enum"] == ["X", None]


def test_connections_are_checked_against_the_identity_contract():
    getConnections = contract.identity_operation("GET", "/connections")
    assert getConnections.operation_id == "getConnections"
    example = json.loads(
        contract.identity().document["paths"]["/Connections"]["get"]["responses"][
            "200"
        ]["content"]["application/json"]["example"]
    )
    assert getConnections.check_response(200, example) == []
    assert getConnections.check_response(200, [{"tenantId": "nope"}]) == [
        'response 200 body at $[0].tenantId: "nope" is not a uuid'
    ]
    deleteConnection = contract.identity_operation("DELETE", f"/Connections/{UUID}")
    assert deleteConnection.check_response(204, None) == []


def test_webhook_payloads_are_checked_including_credit_note_data():
    from integrations.sandbox.xero.webhooks import event, payload

    contact = event("CONTACT", "CREATE", tenant_id=UUID, resource_id=UUID)
    assert contract.check_webhook_payload(payload([contact], 1)) == []
    note = event(
        "CREDITNOTE",
        "UPDATE",
        tenant_id=UUID,
        resource_id=UUID,
        data={"Type": "ACCRECCREDIT", "Status": "AUTHORISED"},
    )
    assert contract.check_webhook_payload(payload([note], 7)) == []
    del note["data"]
    assert contract.check_webhook_payload(payload([note], 7)) == [
        "webhook payload (credit notes) at $.events[0]: 'data' is a required property"
    ]
    assert contract.check_webhook_payload({"events": []}) == [
        "webhook payload at $: 'entropy' is a required property",
        "webhook payload at $: 'firstEventSequence' is a required property",
        "webhook payload at $: 'lastEventSequence' is a required property",
    ]
