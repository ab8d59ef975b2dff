"""GET /health/: what a load balancer and an on-call person read."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rq import Worker

from integrations.models import SyncRecord
from tests.factories import SyncRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(queue):
    """A worker registered in Redis, as a running `rqworker` would be."""
    registered = Worker([queue], connection=queue.connection, name="health-test")
    registered.register_birth()
    yield registered
    registered.register_death()


def test_health_is_ok_with_a_registered_worker(client, worker):
    response = client.get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["failing"]) == ("ok", [])
    checks = body["checks"]
    assert set(checks) == {"database", "redis", "workers", "queue", "oldest_pending"}
    assert all(check["ok"] for check in checks.values())
    assert checks["workers"] == {"ok": True, "count": 1}
    assert checks["queue"]["depth"] == 0
    assert checks["database"]["engine"] in {"sqlite", "postgresql"}
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_is_503_naming_missing_workers(client, queue):
    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["failing"]) == ("unhealthy", ["workers"])
    assert body["checks"]["workers"] == {"ok": False, "count": 0}
    assert body["checks"]["database"]["ok"] is True


def test_health_is_503_when_records_wait_too_long(client, worker, settings):
    settings.LEDGERBRIDGE = {
        **settings.LEDGERBRIDGE,
        "HEALTH_MAX_PENDING_AGE_SECONDS": 60,
    }
    record = SyncRecordFactory()
    SyncRecord.objects.filter(pk=record.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json()["failing"] == ["oldest_pending"]
    assert response.json()["checks"]["oldest_pending"]["age_seconds"] >= 600
