"""The "Needs attention" page, driven through the admin as a finance clerk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.engine.dispatch import job_id
from integrations.models import RecordStatus, SyncRecord
from tests.factories import FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

QUEUE_URL = reverse("admin:queue")


@pytest.fixture
def clerk(django_user_model):
    """A staff user who may see and work records, nothing else."""
    user = django_user_model.objects.create_user(
        "clerk", password="pw", is_staff=True, first_name="Carla", last_name="Clerk"
    )
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="integrations",
            codename__in=["view_syncrecord", "change_syncrecord"],
        )
    )
    return user


@pytest.fixture
def clerk_client(clerk) -> Client:
    client = Client()
    client.force_login(clerk)
    return client


def failing(category: str, **fields) -> SyncRecord:
    defaults = {
        "status": RecordStatus.NEEDS_ATTENTION,
        "attempts": 1,
        "error_category": category,
        "error_field": "lines.0.item",
        "error_message": f"A {category} problem.",
        "finished_at": timezone.now(),
    }
    return SyncRecordFactory(**{**defaults, **fields})


def retrying(category: str, attempts: int) -> SyncRecord:
    return SyncRecordFactory(
        status=RecordStatus.RETRY_SCHEDULED,
        attempts=attempts,
        error_category=category,
        error_message="The other system did not answer.",
        next_attempt_at=timezone.now() + timedelta(minutes=5),
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def shown_ids(response) -> list[int]:
    return [
        row["record"].pk
        for group in response.context["groups"]
        for row in group["rows"]
    ]


# --- grouping and counts ----------------------------------------------------------


def test_queue_groups_records_by_cause_with_counts(clerk_client):
    failing("validation")
    failing("validation")
    failing("referential")
    failing("duplicate")
    failing("conflict")
    retrying("auth", attempts=1)
    retrying("unavailable", attempts=3)
    failing("unavailable")  # gave up after its retries
    SyncRecordFactory(status=RecordStatus.SUCCEEDED)

    response = clerk_client.get(QUEUE_URL)

    assert response.status_code == 200
    counts = {c["cause"]: c["count"] for c in response.context["counts"]}
    assert counts == {
        "validation": 2,
        "referential": 1,
        "duplicate": 1,
        "auth": 1,
        "unavailable": 2,
        "conflict": 1,
    }
    assert [g["cause"] for g in response.context["groups"]] == [
        "validation",
        "referential",
        "duplicate",
        "auth",
        "unavailable",
        "conflict",
    ]
    html = response.content.decode()
    assert "Wrong or missing data" in html
    assert "System unavailable for too long" in html


def test_queue_leaves_out_retries_that_have_not_waited_long(clerk_client):
    young = retrying("unavailable", attempts=2)
    old = retrying("unavailable", attempts=3)

    response = clerk_client.get(QUEUE_URL)

    assert shown_ids(response) == [old.pk]
    assert young.pk not in shown_ids(response)


def test_each_row_says_what_it_is_what_went_wrong_and_the_fix(clerk_client):
    record = failing(
        "referential",
        payload={"reference": "WEB-9", "customer": "01-ABF", "lines": [{"item": "W"}]},
        error_message="Item W does not exist in Sage 100.",
        flow_config=FlowConfigFactory(
            flow="generic_order_to_sage100", target_connection__system="sage100"
        ),
        flow="generic_order_to_sage100",
    )

    html = clerk_client.get(QUEUE_URL).content.decode()

    record_url = reverse("admin:integrations_syncrecord_change", args=[record.pk])
    assert f'href="{record_url}"' in html
    assert "WEB-9 · 01-ABF" in html
    assert "Web orders (signed webhook)" in html
    assert "<code>lines.0.item</code>" in html
    assert "Item W does not exist in Sage 100: add a cross-reference" in html
    assert "Nobody" in html


def test_filters_by_cause_flow_and_assignee(clerk_client, clerk):
    mine = failing("validation", assigned_to=clerk)
    other = failing(
        "referential", flow_config=FlowConfigFactory(flow="generic_webhook_to_http")
    )

    by_cause = clerk_client.get(QUEUE_URL, {"cause": "referential"})
    by_flow = clerk_client.get(QUEUE_URL, {"flow": "generic_webhook_to_http"})
    assigned = clerk_client.get(QUEUE_URL, {"who": "me"})
    unassigned = clerk_client.get(QUEUE_URL, {"who": "unassigned"})

    assert shown_ids(by_cause) == [other.pk]
    assert shown_ids(by_flow) == [other.pk]
    assert shown_ids(assigned) == [mine.pk]
    assert shown_ids(unassigned) == [other.pk]


def test_search_box_finds_a_record_by_the_customer_name(clerk_client):
    wanted = failing("validation", search_text="0061 | northwind traders | so-77")
    failing("validation", search_text="0062 | acme")

    response = clerk_client.get(QUEUE_URL, {"q": "Northwind"})

    assert shown_ids(response) == [wanted.pk]


def test_queue_pages_long_lists(clerk_client):
    for _ in range(27):
        failing("validation")

    first = clerk_client.get(QUEUE_URL)
    second = clerk_client.get(QUEUE_URL, {"page": 2})

    assert len(shown_ids(first)) == 25
    assert len(shown_ids(second)) == 2
    assert "Page 1 of 2" in first.content.decode()


def test_the_empty_queue_says_so(clerk_client):
    html = clerk_client.get(QUEUE_URL).content.decode()

    assert "Nothing needs attention." in html


def test_a_user_who_may_not_see_records_is_refused(django_user_model):
    user = django_user_model.objects.create_user("x", password="pw", is_staff=True)
    client = Client()
    client.force_login(user)

    assert client.get(QUEUE_URL).status_code == 403


# --- bulk actions ------------------------------------------------------------------


def test_bulk_resubmit_requeues_each_record_and_reports_refusals(
    clerk_client, clerk, queue, django_capture_on_commit_callbacks
):
    first, second = failing("validation"), failing("referential")
    finished = SyncRecordFactory(status=RecordStatus.SUCCEEDED)

    with django_capture_on_commit_callbacks(execute=True):
        response = clerk_client.post(
            QUEUE_URL,
            {"action": "resubmit", "records": [first.pk, second.pk, finished.pk]},
        )

    assert response.status_code == 302
    for record in (first, second):
        record.refresh_from_db()
        assert record.status == RecordStatus.PENDING
        assert queue.fetch_job(job_id(record.pk, 2)) is not None
        assert record.history.first().history_user == clerk
    finished.refresh_from_db()
    assert finished.status == RecordStatus.SUCCEEDED
    said = messages_of(response)
    assert "2 records resubmitted." in said
    assert any(
        f"Record #{finished.pk}" in m and "succeeded and cannot be resubmitted" in m
        for m in said
    )


def test_bulk_ignore_needs_a_reason_and_keeps_it(clerk_client):
    record = failing("duplicate")

    refused = clerk_client.post(QUEUE_URL, {"action": "ignore", "records": [record.pk]})
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION
    assert "Say why the records are ignored." in messages_of(refused)

    done = clerk_client.post(
        QUEUE_URL,
        {"action": "ignore", "records": [record.pk], "reason": "Test order"},
    )
    record.refresh_from_db()
    assert record.status == RecordStatus.IGNORED
    assert record.ignored_reason == "Test order"
    assert "1 record ignored." in messages_of(done)


def test_bulk_assign_sets_the_person_and_the_history(clerk_client, clerk):
    first, second = failing("validation"), failing("conflict")

    response = clerk_client.post(
        QUEUE_URL,
        {"action": "assign", "records": [first.pk, second.pk], "assignee": clerk.pk},
    )

    assert "2 records assigned to clerk." in messages_of(response)
    for record in (first, second):
        record.refresh_from_db()
        assert record.assigned_to == clerk
        latest = record.history.first()
        assert latest.history_change_reason == "Assigned to Carla Clerk"
        assert latest.history_user == clerk


def test_the_page_posts_each_record_with_the_attempts_it_shows(clerk_client):
    record = failing("validation", attempts=3)

    page = clerk_client.get(QUEUE_URL).content.decode()

    assert f'name="records" value="{record.pk}:3"' in page


@pytest.mark.parametrize(
    ("action", "extra"),
    [("resubmit", {}), ("ignore", {"reason": "Test order"}), ("assign", {})],
)
def test_bulk_action_refuses_a_record_that_ran_since_the_page_was_shown(
    clerk_client, clerk, queue, action, extra
):
    record = failing("validation", attempts=1)
    ticked = f"{record.pk}:{record.attempts}"
    SyncRecord.objects.filter(pk=record.pk).update(attempts=2)  # a worker ran it
    if action == "assign":
        extra = {"assignee": clerk.pk}

    response = clerk_client.post(
        QUEUE_URL, {"action": action, "records": [ticked], **extra}
    )

    [said] = messages_of(response)
    assert said.startswith(f"Record #{record.pk}")
    assert said.endswith("This record changed since you looked at it: open it again.")
    record.refresh_from_db()
    assert (record.status, record.assigned_to) == (RecordStatus.NEEDS_ATTENTION, None)


def test_bulk_action_on_the_records_as_shown_is_done(clerk_client, clerk):
    record = failing("validation", attempts=2)

    response = clerk_client.post(
        QUEUE_URL,
        {"action": "assign", "records": [f"{record.pk}:2"], "assignee": clerk.pk},
    )

    assert "1 record assigned to clerk." in messages_of(response)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/queue/",
        "///evil.example",
        "\\\\evil.example",
    ],
)
def test_bulk_action_never_sends_the_person_to_another_site(clerk_client, target):
    record = failing("validation")

    response = clerk_client.post(
        QUEUE_URL,
        {"action": "ignore", "records": [record.pk], "reason": "x", "next": target},
    )

    assert response["Location"] == QUEUE_URL


def test_bulk_action_goes_back_to_the_filtered_page(clerk_client):
    record = failing("validation")
    back = QUEUE_URL + "?cause=validation&page=2"

    response = clerk_client.post(
        QUEUE_URL,
        {"action": "ignore", "records": [record.pk], "reason": "x", "next": back},
    )

    assert response["Location"] == back


def test_bulk_action_without_ticked_records_says_what_to_do(clerk_client):
    response = clerk_client.post(QUEUE_URL, {"action": "resubmit"})

    assert "Tick at least one record first." in messages_of(response)


def test_bulk_actions_need_the_csrf_token(clerk):
    record = failing("validation")
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)

    response = client.post(QUEUE_URL, {"action": "resubmit", "records": [record.pk]})

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


def test_a_viewer_cannot_run_bulk_actions(django_user_model):
    viewer = django_user_model.objects.create_user("v", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_syncrecord"))
    record = failing("validation")
    client = Client()
    client.force_login(viewer)

    page = client.get(QUEUE_URL).content.decode()
    response = client.post(QUEUE_URL, {"action": "resubmit", "records": [record.pk]})

    assert 'name="records"' not in page
    assert response.status_code == 403


# --- landing page and header link -------------------------------------------------


def test_finance_staff_land_on_the_queue(clerk_client, clerk):
    group, _ = Group.objects.get_or_create(name="Finance staff")
    clerk.groups.add(group)

    response = clerk_client.get(reverse("admin:index"))

    assert response.status_code == 302
    assert response["Location"] == QUEUE_URL
    assert clerk_client.get(reverse("admin:index"), {"home": 1}).status_code == 200


def test_other_staff_keep_the_overview_as_their_home(clerk_client):
    Group.objects.filter(name="Finance staff").delete()

    assert clerk_client.get(reverse("admin:index")).status_code == 200


def test_every_admin_page_links_to_the_queue_with_its_count(clerk_client):
    failing("validation")

    html = clerk_client.get(reverse("admin:integrations_syncrecord_changelist"))

    assert f'href="{QUEUE_URL}" class="lb-needs-attention">Needs attention (1)' in (
        html.content.decode()
    )
