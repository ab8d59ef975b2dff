"""``GET /health/``: what a load balancer and an on-call person need to know."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.db.models import Min
from django.http import HttpRequest, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from integrations.models import RecordStatus, SyncRecord


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return {"ok": True, "engine": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - reported in the JSON, not raised
        return {"ok": False, "error": str(exc)[:300]}


def _redis() -> tuple[dict, dict, dict]:
    from rq import Worker

    from integrations.engine.dispatch import queue

    try:
        q = queue()
        q.connection.ping()
    except Exception as exc:  # noqa: BLE001 - reported in the JSON, not raised
        down = {"ok": False, "error": str(exc)[:300]}
        return down, {"ok": False, "count": 0}, {"ok": False, "depth": None}
    workers = Worker.all(connection=q.connection)
    return (
        {"ok": True},
        {"ok": len(workers) > 0, "count": len(workers)},
        {"ok": True, "depth": q.count, "name": q.name},
    )


def _oldest_pending(db_ok: bool) -> dict:
    if not db_ok:
        return {"ok": False, "age_seconds": None}
    oldest = SyncRecord.objects.filter(status=RecordStatus.PENDING).aggregate(
        oldest=Min("updated_at")
    )["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    limit = settings.LEDGERBRIDGE.get("HEALTH_MAX_PENDING_AGE_SECONDS", 900)
    return {"ok": age <= limit, "age_seconds": round(age, 1), "limit_seconds": limit}


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    database = _database()
    redis, workers, queue_info = _redis()
    pending = _oldest_pending(database["ok"])
    checks = {
        "database": database,
        "redis": redis,
        "workers": workers,
        "queue": queue_info,
        "oldest_pending": pending,
    }
    failing = [name for name, check in checks.items() if not check["ok"]]
    healthy = not failing
    return JsonResponse(
        {
            "status": "ok" if healthy else "unhealthy",
            "failing": failing,
            "checks": checks,
        },
        status=200 if healthy else 503,
    )


def root_redirect(request: HttpRequest):
    return redirect("admin:index")
