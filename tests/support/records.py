"""Running a flow's records in the test process, as workers would."""

from __future__ import annotations

from integrations.engine import runner
from integrations.models import RecordStatus, SyncRecord

WAITING = (RecordStatus.PENDING, RecordStatus.RETRY_SCHEDULED)


def drain(limit: int = 30, *, leave_scheduled: bool = False) -> None:
    """Run every record that waits until none is left; ``leave_scheduled``
    leaves those a backoff put off until later (``next_attempt_at``)."""
    for _ in range(limit):
        waiting = SyncRecord.objects.filter(status__in=WAITING)
        if leave_scheduled:
            waiting = waiting.filter(next_attempt_at=None)
        pks = list(waiting.order_by("pk").values_list("pk", flat=True))
        if not pks:
            return
        for pk in pks:
            runner.run_record(pk)
    raise AssertionError("records kept waiting")


def records(flow: str) -> list[SyncRecord]:
    """The flow's records, oldest first."""
    return list(SyncRecord.objects.filter(flow=flow).order_by("pk"))
