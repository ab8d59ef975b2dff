"""``manage.py sage100_sim``: run the Sage 100 simulator's company file.

    sage100_sim create [--seed] [--reset]
    sage100_sim add-udf AR_Customer SF_ACCOUNT_ID --length 18
    sage100_sim fault down | up | outage 30 | slow 2 | busy 10 | skew -90 | clear
    sage100_sim fault lock AR_Customer 01 ABF      (unlock the same way)
    sage100_sim status

``--root`` (default ``<VAR_DIR>/sage100``) and ``--company`` (default ABC) go
before the action. The agent's simulator backend and the ODBC connection
settings printed by ``create`` point at the same files.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.agent.backends.base import BOIError
from integrations.sandbox.sage100.database import CompanyDatabase, SimulatorError
from integrations.sandbox.sage100.faults import OFFLINE, Faults
from integrations.sandbox.sage100.schema import DATE, NUMBER, STRING, YES_NO

UDF_TYPES = {"string": STRING, "number": NUMBER, "date": DATE, "yes_no": YES_NO}
FAULTS_WITH_SECONDS = ("outage", "slow", "busy", "skew")


class Command(BaseCommand):
    help = "Create, seed, extend and break the simulated Sage 100 company."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--root", help="Folder of the simulated server (default VAR_DIR/sage100)."
        )
        parser.add_argument("--company", default="ABC", help="Company code.")
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create the company file.")
        create.add_argument("--seed", action="store_true", help="Add demo data.")
        create.add_argument(
            "--reset", action="store_true", help="Delete the company first."
        )
        udf = actions.add_parser("add-udf", help="Add a UDF column (Custom Office).")
        udf.add_argument("table", help="Sage table, e.g. AR_Customer.")
        udf.add_argument("name", help="Column name; UDF_ is added when missing.")
        udf.add_argument("--type", choices=sorted(UDF_TYPES), default="string")
        udf.add_argument("--length", type=int, default=30)
        udf.add_argument("--choices", default="", help="Valid values, e.g. A,B,C.")
        fault = actions.add_parser("fault", help="Switch a fault on or off.")
        fault.add_argument(
            "fault",
            choices=["down", "up", *FAULTS_WITH_SECONDS, "lock", "unlock", "clear"],
        )
        fault.add_argument(
            "values", nargs="*", help="SECONDS, or TABLE KEY-PART... for lock/unlock."
        )
        actions.add_parser("status", help="Show the company and its faults.")

    def handle(self, *args, action, root, company, **options):
        root = Path(root) if root else Path(settings.VAR_DIR) / "sage100"
        db = CompanyDatabase(root, company)
        try:
            getattr(self, "_" + action.replace("-", "_"))(db, **options)
        except (SimulatorError, BOIError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

    # -- actions -------------------------------------------------------------
    def _create(self, db: CompanyDatabase, *, seed, reset, **options) -> None:
        if Faults(db.root, db.company).is_down():
            raise CommandError("The simulated server is down; run 'fault up' first.")
        if reset:
            for path in (db.path, db.path.with_name(db.path.name + OFFLINE)):
                path.unlink(missing_ok=True)
        existed = db.exists()
        db.create()
        if seed:
            from integrations.sandbox.sage100.seed import seed as seed_company

            counts = seed_company(db)
            self.stdout.write(
                f"Seeded {counts['AR_Customer']} customers, {counts['CI_Item']} items "
                f"and {counts['SO_SalesOrderHeader']} open sales orders."
            )
        verb = "Updated" if existed else "Created"
        self.stdout.write(f"{verb} company {db.company} at {db.path}")
        self.stdout.write("ODBC settings: " + json.dumps(db.odbc_settings()))

    def _add_udf(self, db, *, table, name, type, length, choices, **options) -> None:
        self._require(db)
        if length < 1 or length > 2048:
            raise CommandError("--length must be between 1 and 2048.")
        column = db.add_udf(
            table,
            name,
            kind=UDF_TYPES[type],
            length=length,
            choices=tuple(c.strip() for c in choices.split(",") if c.strip()),
        )
        self.stdout.write(f"Added {table}.{column.name} ({type}, {column.length}).")

    def _fault(self, db: CompanyDatabase, *, fault, values, **options) -> None:
        faults = Faults(db.root, db.company)
        if fault in FAULTS_WITH_SECONDS:
            seconds = self._seconds(fault, values)
            if fault == "busy":
                self._require(db)
                self.stdout.write(f"Holding {db.company}'s files for {seconds} s ...")
                faults.busy(seconds).start().wait()
            else:
                method = {"skew": faults.clock_skew}.get(fault) or getattr(
                    faults, fault
                )
                method(seconds)
        elif fault in ("lock", "unlock"):
            if len(values) < 2:
                raise CommandError(f"Usage: fault {fault} TABLE KEY-PART [KEY-PART...]")
            self._require(db)
            table, key = values[0], values[1:]
            if fault == "lock":
                text = faults.lock_record(table, key)
            else:
                faults.unlock_record(table, key)
                text = "|".join(key)
            self.stdout.write(f"{fault.title()}ed {table} {text}.")
            return
        elif values:
            raise CommandError(f"fault {fault} takes no values.")
        else:
            getattr(faults, fault)()
        self.stdout.write(f"Fault {fault}: done.")

    def _status(self, db: CompanyDatabase, **options) -> None:
        state = Faults(db.root, db.company).status()
        offline = db.path.with_name(db.path.name + OFFLINE)
        where = db.path if db.exists() else offline if offline.exists() else None
        self.stdout.write(f"Company {db.company}: {where or 'not created'}")
        if state["down_until"]:
            left = max(0, round(state["down_until"] - time.time()))
            state["down_until"] = f"back in {left} s"
        for name in ("down", "down_until", "slow", "skew", "busy_until"):
            self.stdout.write(f"  {name}: {state[name]}")
        for lock in state["locks"]:
            self.stdout.write(
                f"  locked: {lock['TableName']} {lock['RecordKey']} "
                f"by {lock['LockedBy']}"
            )

    # -- helpers -------------------------------------------------------------
    def _require(self, db: CompanyDatabase) -> None:
        if not db.exists():
            raise CommandError(
                f"Company {db.company} does not exist at {db.root} (or the server "
                "is down); run 'sage100_sim create' first."
            )

    def _seconds(self, fault: str, values: list[str]) -> float:
        if len(values) != 1:
            raise CommandError(f"Usage: fault {fault} SECONDS")
        try:
            seconds = float(values[0])
        except ValueError:
            raise CommandError(
                f"SECONDS must be a number, not {values[0]!r}."
            ) from None
        if seconds < 0 and fault != "skew":
            raise CommandError("SECONDS must not be negative.")
        return seconds
