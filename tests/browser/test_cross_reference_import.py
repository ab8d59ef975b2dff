"""An admin imports cross-references from a CSV with one bad row: the row and
its column are named on the preview, and nothing is saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.models import CrossReference, System
from integrations.roles import INTEGRATION_ADMIN
from tests.browser.people import person, sign_in
from tests.factories import ConnectionFactory

pytestmark = pytest.mark.browser

CSV = (
    "kind,source_connection,source_value,target_connection,target_value\n"
    "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252\n"
    "item,web-orders,GADGET-2,nowhere,1001-HON-H254\n"
    "item,web-orders,GIZMO-3,sage100-abc,1001-HON-H255\n"
)


@pytest.fixture
def sides():
    ConnectionFactory(slug="web-orders", name="Web orders")
    ConnectionFactory(slug="sage100-abc", name="ABC", system=System.SAGE100)


def test_a_bad_row_is_named_by_row_and_column_and_nothing_is_imported(page, sides):
    sign_in(page, person("ines", INTEGRATION_ADMIN))

    page.goto("/admin/integrations/crossreference/import/")
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "items.csv", "mimeType": "text/csv", "buffer": CSV.encode()}],
    )
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#lb-preview-title")).to_have_text("What items.csv would do")
    errors = page.locator(".lb-errors tr.lb-error-row")
    expect(errors).to_have_count(1)
    expect(errors.locator("td").nth(0)).to_have_text("Row 3")
    expect(errors.locator("td").nth(1)).to_have_text("target_connection")
    expect(errors.locator("td").nth(2)).to_contain_text("nowhere")
    expect(page.locator(".lb-errors")).to_contain_text("Nothing was saved.")
    expect(page.get_by_role("button", name="Import")).to_have_count(0)
    assert not CrossReference.objects.exists()
