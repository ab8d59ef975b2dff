"""Procure-to-pay switched on between one Sage 100 and one Xero connection.

What an admin would click together (docs/procure-to-pay.md, "Setting it
up"), in one call for the demo and for scripts: the two Sage change feeds the
flows take, and the three flow configs. Running it again changes nothing
that is already there, so a demo can call it on every start.
"""

from __future__ import annotations

from django.db import transaction

from integrations.engine.errors import ValidationFailed
from integrations.models import ChangeFeed, Connection, FlowConfig, System, Trigger

FEED_TABLES = ("PO_PurchaseOrderHeader", "AP_OpenInvoice")
SAGE_FLOWS = (
    ("sage100_purchase_orders_to_xero", "Purchase orders to Xero"),
    ("sage100_ap_invoices_to_xero", "A/P invoices to Xero bills"),
)
PAYMENT_FLOW = ("xero_bill_payments_to_sage100", "Xero bill payments to Sage 100")
PAYMENT_TRIGGERS = (Trigger.WEBHOOK, Trigger.POLL)


def wire(
    sage: Connection,
    xero: Connection,
    *,
    payments: str = Trigger.WEBHOOK,
    schedule: str = "*/5 * * * *",
    options: dict | None = None,
) -> list[FlowConfig]:
    """The feeds and flow configs, created when missing; ``payments`` is how
    bill payments are noticed: Xero's invoice webhooks, or a poll on
    ``schedule``. ``options`` go to every flow config made here."""
    if sage.system != System.SAGE100:
        raise ValidationFailed(f"{sage} is not a Sage 100 connection.", field="sage")
    if xero.system != System.XERO:
        raise ValidationFailed(f"{xero} is not a Xero connection.", field="xero")
    if payments not in PAYMENT_TRIGGERS:
        raise ValidationFailed(
            f"payments must be webhook or poll, not {payments!r}.", field="payments"
        )
    with transaction.atomic():
        for table in FEED_TABLES:
            ChangeFeed.objects.get_or_create(connection=sage, table=table)
        configs = [
            _config(flow, title, sage, xero, Trigger.WEBHOOK, "", options)
            for flow, title in SAGE_FLOWS
        ]
        configs.append(
            _config(
                *PAYMENT_FLOW,
                xero,
                sage,
                payments,
                schedule if payments == Trigger.POLL else "",
                options,
            )
        )
    return configs


def _config(flow, title, source, target, trigger, schedule, options) -> FlowConfig:
    config, _ = FlowConfig.objects.get_or_create(
        flow=flow,
        source_connection=source,
        target_connection=target,
        defaults={
            "name": f"{title} ({source.name} → {target.name})"[:100],
            "trigger": trigger,
            "schedule": schedule,
            "options": dict(options or {}),
        },
    )
    return config
