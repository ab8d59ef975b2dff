"""The admin index's dashboard: counts by status and flow, the oldest problem."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations import selectors
from integrations.admin.display import age_in_words
from integrations.models import RecordStatus, SyncRecord
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")
LIST = reverse("admin:integrations_syncrecord_changelist")


def make(status: str, *, config=None, **fields) -> SyncRecord:
    if config is not None:
        fields["flow_config"] = config
    if status == RecordStatus.NEEDS_ATTENTION:
        fields.setdefault("error_category", "validation")
    if status == RecordStatus.RETRY_SCHEDULED:
        fields.setdefault("next_attempt_at", timezone.now() + timedelta(minutes=10))
    if status == RecordStatus.RUNNING:
        fields.setdefault("lease_expires_at", timezone.now() + timedelta(minutes=5))
    return SyncRecordFactory(status=status, **fields)


def test_dashboard_counts_records_by_status(admin_client):
    for status in ["needs_attention", "needs_attention", "succeeded", "pending"]:
        make(status)

    response = admin_client.get(INDEX)

    cards = {s["value"]: s["count"] for s in response.context["dashboard"]["statuses"]}
    assert cards == {
        "needs_attention": 2,
        "retry_scheduled": 0,
        "running": 0,
        "pending": 1,
        "succeeded": 1,
        "ignored": 0,
    }
    html = response.content.decode()
    assert f'href="{LIST}?status__exact=needs_attention"' in html


def test_dashboard_counts_records_by_flow_and_status(admin_client):
    effect = FlowConfigFactory(flow="test_effect")
    scripted = FlowConfigFactory(flow="test_scripted")
    make("succeeded", config=effect)
    make("succeeded", config=effect)
    make("needs_attention", config=scripted)

    response = admin_client.get(INDEX)

    rows = {
        row["name"]: {c["status"]: c["count"] for c in row["cells"] if c["count"]}
        for row in response.context["dashboard"]["flows"]
    }
    assert rows == {
        "test_effect": {"succeeded": 2},
        "test_scripted": {"needs_attention": 1},
    }
    html = response.content.decode()
    assert "Test: scripted behaviour" in html
    link = f"{LIST}?status__exact=needs_attention&flow=test_scripted"
    assert link.replace("&", "&amp;") in html
    assert admin_client.get(link).context["cl"].result_count == 1


def test_dashboard_shows_the_age_of_the_oldest_record_needing_attention(
    admin_client,
):
    oldest = make("needs_attention")
    make("needs_attention")
    SyncRecord.objects.filter(pk=oldest.pk).update(
        created_at=timezone.now() - timedelta(hours=3, minutes=12, seconds=5)
    )

    response = admin_client.get(INDEX)

    html = response.content.decode()
    assert "<strong>3 h 12 min</strong>" in html
    assert reverse("admin:integrations_syncrecord_change", args=[oldest.pk]) in html


def test_dashboard_says_when_nothing_needs_attention(admin_client):
    make("succeeded")

    html = admin_client.get(INDEX).content.decode()

    assert "None: nothing needs attention." in html


def test_dashboard_counts_retries_in_progress_and_overdue_ones(admin_client):
    make("retry_scheduled")
    make("retry_scheduled", next_attempt_at=timezone.now() - timedelta(minutes=5))

    response = admin_client.get(INDEX)

    retries = response.context["dashboard"]["retries"]
    assert (retries["scheduled"], retries["overdue"]) == (2, 1)
    assert "1 overdue" in response.content.decode()


def test_dashboard_links_open_the_filtered_record_list(admin_client):
    make("needs_attention")
    make("succeeded")
    index = admin_client.get(INDEX)
    (card,) = [
        s for s in index.context["dashboard"]["statuses"] if s["value"] == "succeeded"
    ]

    response = admin_client.get(card["url"])

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_dashboard_is_hidden_from_staff_who_cannot_see_records(
    client, django_user_model
):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)

    response = client.get(INDEX)

    assert response.status_code == 200
    assert "dashboard" not in response.context
    assert 'id="lb-dashboard"' not in response.content.decode()


def test_status_counts_include_every_status():
    assert selectors.status_counts() == dict.fromkeys(RecordStatus.values, 0)


@pytest.mark.parametrize(
    ("age", "words"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3, minutes=12), "3 h 12 min"),
        (timedelta(days=2, hours=4, minutes=30), "2 d 4 h"),
    ],
)
def test_ages_are_given_in_words(age, words):
    assert age_in_words(age) == words
