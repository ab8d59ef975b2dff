"""Alerts: tell people when records need attention, then deliver by email or chat.

Three ways a rule fires:
- at once, from the runner, for a rule about single records (``min_count`` 1,
  no ``min_age_minutes``): ``record_needs_attention``;
- from the scheduler's periodic ``check``, for a rule with a count or age
  threshold, when enough matching records have waited long enough;
- once a day, a digest of everything the rule covers (``daily_digest``).
A rule's cool-down limits how often the first two fire; the digest has its own day.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from urllib.parse import urlencode

import requests
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone
from redis.exceptions import RedisError

from integrations.models import (
    Alert,
    AlertChannel,
    AlertRule,
    ErrorCategory,
    RecordStatus,
    SyncRecord,
)

logger = logging.getLogger(__name__)

DIGEST_HOUR = 7  # local time; the digest goes out at the first check after it


def record_needs_attention(record_id: int) -> list[Alert]:
    """Raise an alert for each matching rule outside its cool-down.

    Threshold rules whose count is reached right now fire here too, so they
    need not wait for the periodic check; rules with an age wait for it.
    """
    record = SyncRecord.objects.get(pk=record_id)
    now, raised = timezone.now(), []
    for rule in AlertRule.objects.filter(enabled=True):
        if not rule.matches(flow=record.flow, category=record.error_category):
            continue
        if rule.min_age_minutes:
            continue
        if rule.min_count > 1:
            waiting = rule.waiting(now=now).count()
            if waiting < rule.min_count:
                continue
            message = _threshold_message(rule, waiting, record, now)
        else:
            message = _record_message(record)
        if rule.is_cooling_down(now=now):
            continue
        raised.append(Alert.objects.create(rule=rule, record=record, message=message))
    _deliver_on_commit(raised)
    return raised


def check(
    *, now: datetime | None = None, digest_hour: int = DIGEST_HOUR
) -> list[Alert]:
    """The periodic part: count and age thresholds, and daily digests."""
    now = now or timezone.now()
    raised: list[Alert] = []
    for rule in AlertRule.objects.filter(enabled=True):
        if rule.is_threshold and not rule.is_cooling_down(now=now):
            alert = _check_threshold(rule, now)
            if alert:
                raised.append(alert)
        if rule.digest_due(now=now, hour=digest_hour):
            alert = _digest(rule, now)
            if alert:
                raised.append(alert)
    _deliver_on_commit(raised)
    return raised


def _check_threshold(rule: AlertRule, now: datetime) -> Alert | None:
    waiting = rule.waiting(now=now)
    count = waiting.count()
    if count < max(rule.min_count, 1):
        return None
    oldest = waiting.order_by("waiting_since", "pk").first()
    return Alert.objects.create(
        rule=rule,
        record=oldest,
        message=_threshold_message(rule, count, oldest, now),
    )


def _digest(rule: AlertRule, now: datetime) -> Alert | None:
    """One summary a day; the compare-and-set makes it once with two schedulers."""
    claimed = AlertRule.objects.filter(
        pk=rule.pk, last_digest_at=rule.last_digest_at
    ).update(last_digest_at=now)
    if not claimed:
        return None
    return Alert.objects.create(rule=rule, record=None, message=digest_text(rule, now))


def digest_text(rule: AlertRule, now: datetime | None = None) -> str:
    """What needs attention under a rule, by category and flow, with the oldest."""
    now = now or timezone.now()
    waiting = rule.waiting(now=now).order_by()
    total = waiting.aggregate(n=Count("pk"), oldest=Min("waiting_since"))
    heading = f"Daily digest ({rule.name}): "
    if not total["n"]:
        return heading + "nothing needs attention."
    labels = dict(ErrorCategory.choices)
    by_category = Counter(
        dict(waiting.values_list("error_category").annotate(n=Count("pk")))
    )
    by_flow = Counter(dict(waiting.values_list("flow").annotate(n=Count("pk"))))
    lines = [
        heading + f"{_records(total['n'])} need attention; the oldest has waited "
        f"{_age(now - total['oldest'])}.",
        "By cause: "
        + ", ".join(f"{labels.get(c, c)} {n}" for c, n in sorted(by_category.items())),
        "By flow: " + ", ".join(f"{f} {n}" for f, n in sorted(by_flow.items())),
        f"Open the queue: {queue_url(flow=rule.flow, category=rule.category)}",
    ]
    return "\n".join(lines)


def _record_message(record: SyncRecord) -> str:
    return (
        f"{record.flow}: {record.source_object_type} {record.source_id} "
        f"needs attention ({record.get_error_category_display()}): "
        f"{record.error_message}\n"
        f"Open it: {portal_url(record_path(record))}"
    )


def _threshold_message(
    rule: AlertRule, count: int, oldest: SyncRecord | None, now: datetime
) -> str:
    about = " ".join(
        part
        for part in (
            rule.flow and f"in {rule.flow}",
            rule.category
            and f"with {dict(ErrorCategory.choices)[rule.category].lower()} errors",
        )
        if part
    )
    waited = f" for {rule.min_age_minutes} min or more" if rule.min_age_minutes else ""
    text = f"{rule.name}: {_records(count)}{' ' + about if about else ''} "
    text += f"{'has' if count == 1 else 'have'} needed attention{waited}."
    if oldest is not None:
        since = getattr(oldest, "waiting_since", None) or oldest.created_at
        text += (
            f" The oldest, {oldest.source_object_type} {oldest.source_id}, has "
            f"waited {_age(now - since)}."
        )
    return (
        text + f"\nOpen the queue: {queue_url(flow=rule.flow, category=rule.category)}"
    )


def _records(n: int) -> str:
    return f"{n} record" if n == 1 else f"{n} records"


def _age(delta) -> str:
    from integrations.admin.display import age_in_words

    return age_in_words(delta)


def record_path(record: SyncRecord) -> str:
    return reverse("admin:integrations_syncrecord_change", args=[record.pk])


def queue_url(*, flow: str = "", category: str = "") -> str:
    """The record list filtered to what needs attention (and the rule's scope)."""
    query = {
        "status__exact": RecordStatus.NEEDS_ATTENTION,
        "flow": flow,
        "error_category__exact": category,
    }
    path = reverse("admin:integrations_syncrecord_changelist")
    return portal_url(f"{path}?{urlencode({k: v for k, v in query.items() if v})}")


def portal_url(path: str) -> str:
    """An absolute link when ``LEDGERBRIDGE["PORTAL_URL"]`` says where we live."""
    base = str(settings.LEDGERBRIDGE.get("PORTAL_URL") or "").rstrip("/")
    return base + path


def _deliver_on_commit(raised: list[Alert]) -> None:
    if raised:
        ids = [alert.pk for alert in raised]
        transaction.on_commit(lambda: _enqueue_delivery(ids))


def _enqueue_delivery(alert_ids: list[int]) -> None:
    from integrations.engine.dispatch import queue
    from integrations.jobs import deliver_alert

    for alert_id in alert_ids:
        try:
            queue().enqueue(deliver_alert, alert_id, job_timeout=60)
        except RedisError:
            deliver(alert_id)  # no queue: deliver in this process instead


def deliver(alert_id: int) -> bool:
    alert = Alert.objects.select_related("rule").get(pk=alert_id)
    if alert.delivered_at:
        return True
    rule = alert.rule
    try:
        if rule.channel == AlertChannel.EMAIL:
            recipients = [r.strip() for r in rule.recipients.split(",") if r.strip()]
            send_mail(f"LedgerBridge: {rule.name}", alert.message, None, recipients)
        else:
            response = requests.post(
                rule.webhook_url, json={"text": alert.message}, timeout=10
            )
            response.raise_for_status()
    except Exception as exc:  # noqa: BLE001 - SMTP/HTTP fail many ways; all shown
        reason = delivery_error(exc)
        Alert.objects.filter(pk=alert.pk).update(delivery_error=reason)
        logger.warning("alert %s not delivered: %s", alert.pk, reason)
        return False
    Alert.objects.filter(pk=alert.pk).update(
        delivered_at=timezone.now(), delivery_error=""
    )
    return True


def delivery_error(exc: BaseException) -> str:
    """Why an alert did not arrive, without the webhook's URL: a chat webhook's
    URL is its secret, and requests puts it in every error message."""
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return f"The chat service answered HTTP {exc.response.status_code}."
    if isinstance(exc, requests.RequestException):
        return f"The chat service could not be reached ({type(exc).__name__})."
    return str(exc)[:2000]
