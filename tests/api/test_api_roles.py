"""The records API for signed-in people: what a session may do follows the role."""

from __future__ import annotations

import pytest

from integrations import roles
from integrations.models import RecordStatus
from tests.api.helpers import key_client
from tests.factories import SyncRecordFactory
from tests.support.roles import member, signed_in

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/records/"


def failed_record():
    return SyncRecordFactory(
        status=RecordStatus.NEEDS_ATTENTION, attempts=1, error_category="validation"
    )


@pytest.mark.parametrize(
    "role", [roles.AUDITOR, roles.FINANCE, roles.INTEGRATION_ADMIN]
)
def test_every_role_reads_records(role):
    record = failed_record()
    client = signed_in(member(role))

    assert client.get(RECORDS).status_code == 200
    assert client.get(f"{RECORDS}{record.pk}/").json()["id"] == record.pk


def test_auditor_session_cannot_resubmit_or_ignore():
    record = failed_record()
    client = signed_in(member(roles.AUDITOR))

    resubmit = client.post(f"{RECORDS}{record.pk}/resubmit/")
    ignore = client.post(
        f"{RECORDS}{record.pk}/ignore/",
        {"reason": "x"},
        content_type="application/json",
    )

    for response in (resubmit, ignore):
        assert response.status_code == 403
        assert response.json()["error"] == (
            "Your role does not let you resubmit and ignore records (records:write)."
        )
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


@pytest.mark.parametrize("role", [roles.FINANCE, roles.INTEGRATION_ADMIN])
def test_finance_and_admin_sessions_resubmit_and_the_history_names_them(
    role, redis_conn, django_capture_on_commit_callbacks
):
    record = failed_record()
    user = member(role)
    client = signed_in(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{RECORDS}{record.pk}/resubmit/")

    assert response.status_code == 200
    assert response.json()["status"] == RecordStatus.PENDING
    assert record.history.first().history_user == user


def test_staff_without_a_role_may_not_read_records():
    client = signed_in(member(None))

    response = client.get(RECORDS)

    assert response.status_code == 403
    assert response.json()["error"] == (
        "Your role does not let you read records (records:read)."
    )


def test_api_keys_keep_their_own_scopes_whatever_the_roles():
    record = failed_record()
    reader = key_client("records:read")
    writer = key_client("records:read", "records:write")

    assert reader.post(f"{RECORDS}{record.pk}/resubmit/").status_code == 403
    ignored = writer.post(
        f"{RECORDS}{record.pk}/ignore/",
        {"reason": "dup"},
        content_type="application/json",
    )

    assert ignored.status_code == 200
    record.refresh_from_db()
    assert record.status == RecordStatus.IGNORED
