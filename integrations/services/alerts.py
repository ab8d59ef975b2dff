"""Alerts: match rules when a record needs attention, then deliver them."""

from __future__ import annotations

import logging
from datetime import timedelta

import requests
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from redis.exceptions import RedisError

from integrations.models import Alert, AlertChannel, AlertRule, SyncRecord

logger = logging.getLogger(__name__)


def record_needs_attention(record_id: int) -> list[Alert]:
    """Raise an alert for each matching rule outside its cool-down."""
    record = SyncRecord.objects.get(pk=record_id)
    now, raised = timezone.now(), []
    for rule in AlertRule.objects.filter(enabled=True):
        if not rule.matches(flow=record.flow, category=record.error_category):
            continue
        cooling = rule.alerts.filter(
            created_at__gte=now - timedelta(minutes=rule.cooldown_minutes)
        ).exists()
        if cooling:
            continue
        raised.append(
            Alert.objects.create(
                rule=rule,
                record_id=record_id,
                message=(
                    f"{record.flow}: {record.source_object_type} {record.source_id} "
                    f"needs attention ({record.get_error_category_display()}): "
                    f"{record.error_message}"
                ),
            )
        )
    if raised:
        ids = [alert.pk for alert in raised]
        transaction.on_commit(lambda: _enqueue_delivery(ids))
    return raised


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
        Alert.objects.filter(pk=alert.pk).update(delivery_error=str(exc)[:2000])
        logger.warning("alert %s not delivered: %s", alert.pk, exc)
        return False
    Alert.objects.filter(pk=alert.pk).update(
        delivered_at=timezone.now(), delivery_error=""
    )
    return True
