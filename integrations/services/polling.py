"""Polls: ask a source for changes since the watermark and submit them."""

from __future__ import annotations

import logging

from django.db import transaction

from integrations.engine.errors import SyncError
from integrations.flows import registry
from integrations.models import FlowConfig
from integrations.services import inbox

logger = logging.getLogger(__name__)


def poll(flow_config_id: int) -> int:
    """Submit every change since the last poll; returns how many records are new.

    The watermark moves in the same transaction as the records are created, so
    a crash repeats the poll rather than skipping changes.
    """
    config = FlowConfig.objects.select_related("source_connection").get(
        pk=flow_config_id
    )
    if not config.enabled:
        return 0
    flow = registry.get(config.flow)
    try:
        specs, watermark = flow.poll(config, watermark=config.watermark)
    except SyncError as exc:
        logger.warning("poll of %s failed: %s", config, exc)
        return 0
    created = 0
    with transaction.atomic():
        for spec in specs:
            _, was_created = inbox.submit(config, spec)
            created += was_created
        FlowConfig.objects.filter(pk=config.pk, watermark=config.watermark).update(
            watermark=watermark
        )
    return created
