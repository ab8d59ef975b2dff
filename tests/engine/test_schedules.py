from datetime import UTC, datetime

import pytest
from django.utils import timezone

from integrations.engine import schedules
from integrations.flows.base import RecordSpec
from integrations.flows.registry import register
from integrations.models import Connection, FlowConfig, SyncRecord, Trigger
from integrations.services import polling
from tests.factories import ConnectionFactory, FlowConfigFactory
from tests.support.flows import TestEffect

pytestmark = pytest.mark.django_db


@register
class PollingEffect(TestEffect):
    """Returns two changes after the watermark, then nothing new."""

    name = "test_polling"

    def poll(self, config, *, watermark):
        changes = [("A", "2026-01-01"), ("B", "2026-01-02")]
        new = [(i, v) for i, v in changes if v > (watermark or "")]
        specs = [RecordSpec("order", i, {"id": i}, source_version=v) for i, v in new]
        return specs, max([v for _, v in new], default=watermark)


def _polled(**kwargs) -> FlowConfig:
    return FlowConfigFactory(
        flow="test_polling", trigger=Trigger.POLL, schedule="*/5 * * * *", **kwargs
    )


def test_next_run_follows_the_cron_expression():
    after = datetime(2026, 11, 25, 10, 7, tzinfo=UTC)
    assert schedules.next_run("*/5 * * * *", after) == after.replace(minute=10)


def test_first_tick_only_plans_the_next_run(queue):
    config = _polled()
    now = datetime(2026, 11, 25, 10, 7, tzinfo=UTC)

    assert schedules.tick(now=now)["polls"] == 0
    config.refresh_from_db()
    assert config.next_run_at == now.replace(minute=10)


def test_due_poll_is_started_once_even_with_two_schedulers(queue):
    now = datetime(2026, 11, 25, 10, 10, tzinfo=UTC)
    config = _polled(next_run_at=now)

    first = schedules.tick(now=now)
    second = schedules.tick(now=now)

    assert (first["polls"], second["polls"]) == (1, 0)
    config.refresh_from_db()
    assert config.next_run_at == now.replace(minute=15)
    polls = [job for job in queue.jobs if job.func_name.endswith("poll_flow")]
    assert [job.args for job in polls] == [(config.pk,)]


def test_sweep_is_started_once_per_interval(queue):
    assert schedules.tick()["sweep"] is True
    assert schedules.tick()["sweep"] is False


def test_each_due_connection_is_tested_in_its_own_job_once_per_interval(queue):
    due = [ConnectionFactory(), ConnectionFactory()]
    tested = ConnectionFactory()
    Connection.objects.filter(pk=tested.pk).update(last_checked_at=timezone.now())

    assert schedules.tick()["checks"] == 2
    assert schedules.tick()["checks"] == 0  # the interval's lock is held

    checks = [job for job in queue.jobs if job.func_name.endswith("check_connection")]
    assert sorted(job.args for job in checks) == sorted((c.pk,) for c in due)


def test_poll_submits_changes_and_moves_the_watermark(queue):
    config = _polled()

    assert polling.poll(config.pk) == 2
    assert polling.poll(config.pk) == 0  # nothing after the watermark

    config.refresh_from_db()
    assert config.watermark == "2026-01-02"
    assert sorted(SyncRecord.objects.values_list("source_id", flat=True)) == ["A", "B"]


def test_disabled_flow_is_not_polled(queue):
    config = _polled(enabled=False)
    assert polling.poll(config.pk) == 0
