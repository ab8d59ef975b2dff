"""``manage.py sage100_purchases``: play a buyer entering purchases in Sage 100.

    sage100_purchases [--connection sage100-abc] [--root var/sage100]
                      [--company ABC] [--seconds 40] [--count 3]
                      [--tag-prefix DP] [--customer-phone 01-ABF]
                      [--name-conflict 02-BEACPAP --xero-connection xero]
                      [--exit-when-done]

Every ``--seconds`` one purchase cycle (``seed_activity.purchase_cycle``): a
purchase order for a vendor's item, then the vendor's bill for it, both
written through the connection's agent as a Sage user would enter them, up
to ``--count`` purchases. The bills are numbered ``<prefix><DDHHMM><n>``
from the minute the command started (``DP0307151``): each start of the demo
buys again, while a retried write of one purchase writes nothing new (the
agent's writes are idempotent by that tag). The Xero simulator's bookkeeper
pays bills with that prefix.

``--customer-phone 01-ABF``: after the first purchase, the clerk also gives
that customer a new phone number (through the agent, as a person saving the
customer would), once per run, so the demo shows a Sage 100 change reach the
customer's Xero contact (two-way master data).

``--name-conflict 02-BEACPAP --xero-connection xero``: after the second
purchase, the clerk renames that customer in Sage 100 while, at the same
moment, the Xero bookkeeper renames its contact differently (played here
through the Xero connection, so the two happen before either is synchronised):
both changed the name, whose owner is "ask", so the pair waits under Needs
attention with both names shown. Once per run; skipped while the customer has
no Xero contact yet.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import date, datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandParser

from integrations.engine import clients
from integrations.engine.errors import RateLimited
from integrations.models import Connection
from integrations.sandbox.sage100.database import CompanyDatabase
from integrations.sandbox.sage100.seed_activity import purchase_cycle
from integrations.services import demo_sage100

logger = logging.getLogger(__name__)


def new_phone(started: datetime) -> str:
    """A phone number of this run (a new value every start of the demo)."""
    return f"(415) 555-{started:%M%S}"


def change_phone(agent, customer: str, phone: str, *, tag: str) -> dict:
    """The clerk saves ``customer`` (``01-ABF``) with a new phone number."""
    division, _, number = customer.partition("-")
    return agent.update_customer(
        division, number, {"TelephoneNo": phone}, idempotency_key=f"phone-{tag}"
    )


LEGAL_FORMS = ("Inc", "Corp", "LLC")
_FORM = re.compile(r"\s+(Inc|Corp|LLC|Co)\.?$", re.IGNORECASE)


def rival_names(name: str) -> tuple[str, str]:
    """(Sage's new name, Xero's new name): the base name with two legal forms
    other than the one it has, so both sides change on every run."""
    found = _FORM.search(name)
    base = name[: found.start()] if found else name
    current = found.group(1).lower() if found else ""
    sage, xero = [form for form in LEGAL_FORMS if form.lower() != current][:2]
    return f"{base[:25]} {sage}", f"{base[:25]} {xero}"


def rename_both(sage, xero, customer: str, *, tag: str) -> tuple[str, str] | None:
    """The clerk (``sage``: the Sage 100 client) and the bookkeeper (``xero``)
    rename ``customer`` differently at once; None while Xero has no contact
    with that ContactNumber."""
    found = xero.get_contacts(where=f'ContactNumber=="{customer}"')
    if not found:
        return None
    division, _, number = customer.partition("-")
    row = sage.reader.customer(division, number) or {}
    sage_name, xero_name = rival_names(str(row.get("CustomerName") or customer))
    sage.agent.update_customer(
        division, number, {"CustomerName": sage_name}, idempotency_key=f"name-{tag}"
    )
    for attempt in range(4):  # Xero's budget may be spent: wait, briefly
        try:
            xero.save_contacts(
                [{"ContactID": found[0]["ContactID"], "Name": xero_name}],
                idempotency_key=f"name-{tag}-{customer}",
            )
            break
        except RateLimited as exc:
            if attempt == 3:
                raise
            time.sleep(min(exc.retry_after or 5.0, 10.0))
    return sage_name, xero_name


def tag_for(prefix: str, started: datetime, number: int) -> str:
    """The bill number and idempotency tag of the ``number``-th purchase (1-9)
    of a run that started at ``started``."""
    tag = f"{prefix}{started:%d%H%M}{number}"
    if not 1 <= number <= 9 or len(tag) > 10:
        raise ValueError(f"{tag!r}: Sage keeps 10 characters; 1 to 9 purchases.")
    return tag


class Command(BaseCommand):
    help = "Enter a purchase order and its bill in Sage 100 every N seconds."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connection", default=demo_sage100.SLUG)
        parser.add_argument("--root", help="Default: the demo company's folder.")
        parser.add_argument("--company", default=demo_sage100.COMPANY)
        parser.add_argument("--seconds", type=float, default=40.0)
        parser.add_argument("--count", type=int, default=3)
        parser.add_argument("--tag-prefix", default="DP")
        parser.add_argument(
            "--name-conflict",
            default="",
            help="After the second purchase, rename this customer differently in "
            "Sage 100 and in Xero (needs --xero-connection).",
        )
        parser.add_argument("--xero-connection", default="")
        parser.add_argument(
            "--customer-phone",
            default="",
            help="After the first purchase, give this customer (01-ABF) a new phone.",
        )
        parser.add_argument(
            "--exit-when-done",
            action="store_true",
            help="Exit after the purchases (the demo keeps the process up).",
        )

    def handle(self, *args, connection, root, company, seconds, count, **options):
        sage = Connection.objects.get(slug=connection)
        database = CompanyDatabase(Path(root) if root else demo_sage100.root(), company)
        stop = threading.Event()
        started, played = datetime.now(), 0
        phone_for = options["customer_phone"]
        conflict_for = options["name_conflict"]
        if conflict_for and not options["xero_connection"]:
            raise SystemExit("--name-conflict needs --xero-connection.")
        if not 1 <= count <= 9:
            raise SystemExit("--count must be 1 to 9.")
        try:
            while played < count and not stop.wait(seconds):
                tag = tag_for(options["tag_prefix"], started, played + 1)
                try:
                    agent = clients.build(sage).agent
                    order, bill = purchase_cycle(
                        agent, database, day=date.today(), tag=tag
                    )
                except Exception:  # the agent may still be starting: next tick
                    logger.exception("Could not play purchase %s", tag)
                    continue
                played += 1
                self.stdout.write(
                    f"Purchase {tag}: PO {order['key'].get('PurchaseOrderNo')}, "
                    f"bill {bill['key'].get('InvoiceNo')}"
                )
                if phone_for:
                    phone = new_phone(started)
                    try:
                        change_phone(agent, phone_for, phone, tag=tag)
                    except Exception:  # the demo goes on without it
                        logger.exception("Could not change %s's phone", phone_for)
                    else:
                        self.stdout.write(f"Customer {phone_for}: phone {phone}")
                        phone_for = ""
                if conflict_for and played >= 2:
                    conflict_for = self._conflict(conflict_for, sage, options, tag)
            while conflict_for and not stop.wait(seconds):
                conflict_for = self._conflict(conflict_for, sage, options, tag)
            if not options["exit_when_done"]:
                stop.wait()  # `make demo` stops everything when a process exits
        except KeyboardInterrupt:
            pass

    def _conflict(self, customer: str, sage: Connection, options: dict, tag: str):
        """One try at the rival renames; the customer while it is still to do."""
        try:
            xero = Connection.objects.get(slug=options["xero_connection"])
            names = rename_both(
                clients.build(sage), clients.build(xero), customer, tag=tag
            )
        except RateLimited as exc:  # the first sync may be spending the budget
            logger.info("Renaming %s waits for Xero's budget: %s", customer, exc)
            return customer
        except Exception:  # the demo goes on without it
            logger.exception("Could not rename %s on both sides", customer)
            return customer
        if names is None:
            return customer  # no Xero contact yet: next tick
        self.stdout.write(
            f"Customer {customer}: named {names[0]!r} in Sage 100 and "
            f"{names[1]!r} in Xero"
        )
        return ""
