"""Inbound events are evidence: readable, never editable."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import InboundEvent
from tests.factories import InboundEventFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db


def change_url(event) -> str:
    return reverse("admin:integrations_inboundevent_change", args=[event.pk])


def test_inbound_event_cannot_be_changed(admin_client):
    event = InboundEventFactory(topic="orders/create")

    page = admin_client.get(change_url(event))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()

    response = admin_client.post(change_url(event), {"topic": "changed"})

    assert response.status_code == 403
    event.refresh_from_db()
    assert event.topic == "orders/create"


def test_inbound_events_cannot_be_added_or_deleted(admin_client):
    event = InboundEventFactory()

    add = reverse("admin:integrations_inboundevent_add")
    delete = reverse("admin:integrations_inboundevent_delete", args=[event.pk])
    assert admin_client.get(add).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert InboundEvent.objects.filter(pk=event.pk).exists()


def test_json_body_is_pretty_printed(admin_client):
    event = InboundEventFactory(body=b'{"id":"1001","lines":[{"sku":"W-1"}]}')

    html = admin_client.get(change_url(event)).content.decode()

    assert '<pre class="lb-json">{\n  &quot;id&quot;: &quot;1001&quot;,' in html


def test_non_json_body_is_shown_as_escaped_text(admin_client):
    event = InboundEventFactory(body=b"<soap><script>alert(1)</script></soap>")

    html = admin_client.get(change_url(event)).content.decode()

    assert '<pre class="lb-text">&lt;soap&gt;&lt;script&gt;' in html
    assert "<script>alert(1)</script>" not in html


def test_inbound_event_shows_headers_and_links_to_its_records(admin_client):
    event = InboundEventFactory(headers={"X-Shopify-Topic": "orders/create"})
    record = SyncRecordFactory(event=event, source_id="1001")

    html = admin_client.get(change_url(event)).content.decode()

    assert "X-Shopify-Topic" in html
    assert reverse("admin:integrations_syncrecord_change", args=[record.pk]) in html


def test_event_list_says_why_no_record_was_made(admin_client):
    InboundEventFactory(error="No flow takes events from this connection.")

    response = admin_client.get(reverse("admin:integrations_inboundevent_changelist"))

    assert "No flow takes events from this connection." in response.content.decode()
