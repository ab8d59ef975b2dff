"""Import and export of cross-references through the admin pages."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from integrations.models import CrossReference, System
from integrations.services import xref_import
from tests.factories import ConnectionFactory, CrossReferenceFactory

pytestmark = pytest.mark.django_db

IMPORT = "admin:crossreference_import"
CONFIRM = "admin:crossreference_import_confirm"
HEADER = "kind,source_connection,source_value,target_connection,target_value\n"


@pytest.fixture
def sides():
    web = ConnectionFactory(slug="web-orders", name="Web orders")
    sage = ConnectionFactory(slug="sage100-abc", name="ABC", system=System.SAGE100)
    return web, sage


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def upload(client, text: str, name: str = "items.csv"):
    return client.post(
        reverse(IMPORT), {"file": SimpleUploadedFile(name, text.encode())}
    )


def fingerprint(page) -> str:
    """The hidden field naming the previewed file, as the Import button posts it."""
    found = re.search(r'name="sha256" value="([0-9a-f]{64})"', page.content.decode())
    assert found, "the preview offers no Import button"
    return found.group(1)


def test_preview_then_confirm_imports_the_rows(admin_client, sides):
    page = upload(
        admin_client,
        HEADER + "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252\n",
    )

    html = page.content.decode()
    assert "What items.csv would do" in html
    assert "Will change" not in html and ">Add<" in html
    assert not CrossReference.objects.exists()

    done = admin_client.post(
        reverse(CONFIRM), {"sha256": fingerprint(page)}, follow=True
    )

    assert CrossReference.objects.get().target_value == "1001-HON-H252"
    assert messages_of(done) == [
        "Imported items.csv: 1 added, 0 changed, 0 already as in the file."
    ]


def test_a_bad_row_is_named_and_no_import_button_is_offered(admin_client, sides):
    page = upload(
        admin_client,
        HEADER
        + "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252\n"
        + "item,web-orders,GADGET,nowhere,1001-HON-H254\n",
    )

    html = page.content.decode()
    assert "<td>Row 3</td><td>target_connection</td>" in html
    assert "no connection has the slug or name &#x27;nowhere&#x27;" in html
    assert reverse(CONFIRM) not in html
    assert not CrossReference.objects.exists()


def test_confirming_a_file_with_errors_saves_nothing(admin_client, sides):
    text = HEADER + "item,web-orders,GADGET,sage100-abc,\n"
    upload(admin_client, text)
    digest = hashlib.sha256(text.encode()).hexdigest()  # a hand-made post

    done = admin_client.post(reverse(CONFIRM), {"sha256": digest}, follow=True)

    assert not CrossReference.objects.exists()
    [message] = messages_of(done)
    assert "Row 2, column target_value: is empty" in message
    assert "nothing was imported" in message


def test_confirming_a_preview_after_another_file_was_previewed_is_refused(
    admin_client, sides
):
    first = upload(
        admin_client, HEADER + "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252\n"
    )
    upload(  # a second tab previews another file
        admin_client,
        HEADER + "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H254\n",
        name="other.csv",
    )

    done = admin_client.post(
        reverse(CONFIRM), {"sha256": fingerprint(first)}, follow=True
    )

    assert not CrossReference.objects.exists()
    [message] = messages_of(done)
    assert message.startswith("Nothing was imported: the file waiting to be imported")
    assert "Upload the file again" in message


def test_a_conflicting_row_shows_the_old_and_new_value(admin_client, sides):
    web, sage = sides
    CrossReferenceFactory(
        kind="item", source_connection=web, target_connection=sage,
        source_value="WIDGET-9", target_value="1001-HON-H252",
    )  # fmt: skip

    html = upload(
        admin_client, HEADER + "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H254\n"
    ).content.decode()

    assert "Will change" in html
    assert "<del><code>1001-HON-H252</code></del> → <code>1001-HON-H254</code>" in html


def test_export_honours_the_list_filters_and_reads_back_unchanged(admin_client, sides):
    web, sage = sides
    CrossReferenceFactory(
        kind="item", source_connection=web, target_connection=sage,
        source_value="WIDGET-9", target_value="1001-HON-H252",
    )  # fmt: skip
    CrossReferenceFactory(
        kind="customer", source_connection=web, target_connection=sage,
        source_value="C-1", target_value="01-ABF",
    )  # fmt: skip
    url = reverse("admin:crossreference_export", args=["xlsx"]) + "?kind__exact=item"

    response = admin_client.get(url)

    assert response["Content-Disposition"].endswith('.xlsx"')
    preview = xref_import.preview("back.xlsx", response.content)
    assert [(r.source_value, r.action) for r in preview.rows] == [
        ("WIDGET-9", "unchanged")
    ]


def test_the_list_links_to_import_export_and_suggestions(admin_client, sides):
    html = admin_client.get(
        reverse("admin:integrations_crossreference_changelist") + "?kind__exact=item"
    ).content.decode()

    assert reverse(IMPORT) in html
    assert (
        reverse("admin:crossreference_export", args=["csv"]) + "?kind__exact=item"
        in html
    )
    assert reverse("admin:crossreference_suggestions") in html


def test_templates_download_with_the_columns(admin_client):
    csv = admin_client.get(reverse("admin:crossreference_template", args=["csv"]))
    xlsx = admin_client.get(reverse("admin:crossreference_template", args=["xlsx"]))

    assert csv.content.decode("utf-8-sig").strip() == ",".join(xref_import.COLUMNS)
    assert xlsx.content[:2] == b"PK"  # a zip: an Excel workbook


def test_people_who_may_only_look_cannot_import(client, django_user_model, sides):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user(
        "viewer", password="x", is_staff=True
    )
    viewer.user_permissions.add(Permission.objects.get(codename="view_crossreference"))
    client.force_login(viewer)

    assert client.get(reverse(IMPORT)).status_code == 403
    assert client.post(reverse(CONFIRM)).status_code == 403
    assert (
        client.get(reverse("admin:crossreference_export", args=["csv"])).status_code
        == 200
    )
