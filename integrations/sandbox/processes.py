"""The simulator processes ``make demo`` starts beside the portal."""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings

from integrations.services import (
    demo_sage100,
    demo_salesforce,
    demo_shopify,
    demo_xero,
)
from integrations.services.demo import ORDER_DESK_PORT, ORDER_DESK_SECRET


def demo_commands() -> list[tuple[str, list[str]]]:
    """(name, command) for each simulator; vendor issues add theirs here."""
    manage = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py")]
    return [
        (
            "order-desk-sim",
            [
                *manage, "run_generic_sink", "--port", str(ORDER_DESK_PORT),
                "--secret", ORDER_DESK_SECRET,
                "--require", "reference", "--require", "customer_email",
            ],
        ),
        ("sage100-agent", demo_sage100.agent_command()),
        ("warehouse-app-sim", demo_sage100.warehouse_app_command()),
        ("salesforce-sim", demo_salesforce.simulator_command()),
        ("salesforce-subscriber", demo_salesforce.subscriber_command()),
        ("xero-sim", demo_xero.simulator_command()),
        ("sage100-purchases", demo_xero.purchases_command()),
        ("shopify-sim", demo_shopify.simulator_command()),
    ]  # fmt: skip


def demo_ports() -> list[int]:
    """The loopback ports the simulators listen on once they are up."""
    return [
        ORDER_DESK_PORT,
        demo_sage100.AGENT_PORT,
        demo_sage100.WAREHOUSE_APP_PORT,
        demo_salesforce.PORT,
        demo_xero.PORT,
        demo_shopify.PORT,
    ]
