"""``manage.py create_api_key NAME --scope records:read [--connection SLUG]``.

Only a hash is stored, so the key is printed once, here, and never again.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from integrations.models import Connection, ConnectionAPIKey

Scope = ConnectionAPIKey.Scope


class Command(BaseCommand):
    help = "Create an API key for an external system and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who uses the key, e.g. 'Warehouse ERP'.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            choices=Scope.values,
            required=True,
            help="Repeat for several scopes.",
        )
        parser.add_argument(
            "--connection",
            metavar="SLUG",
            help="Limit the key to records and events of this connection.",
        )
        parser.add_argument(
            "--expires-in-days",
            type=int,
            metavar="DAYS",
            help="Refuse the key after this many days (default: never).",
        )

    def handle(self, *args, name, scopes, connection, expires_in_days, **options):
        if len(name) > 50:
            raise CommandError("The name must be at most 50 characters.")
        bound = None
        if connection:
            bound = Connection.objects.filter(slug=connection).first()
            if bound is None:
                raise CommandError(f"No connection has the slug {connection!r}.")
        expiry = None
        if expires_in_days is not None:
            if expires_in_days <= 0:
                raise CommandError("--expires-in-days must be a positive number.")
            expiry = timezone.now() + timedelta(days=expires_in_days)
        api_key, key = ConnectionAPIKey.objects.create_key(
            name=name,
            scopes=sorted(set(scopes)),
            connection=bound,
            expiry_date=expiry,
        )
        # The key alone goes to stdout, so KEY=$(manage.py create_api_key ...) works.
        self.stderr.write(
            f"Created API key {api_key.name!r} (prefix {api_key.prefix}) with scopes "
            f"{', '.join(api_key.scopes)}"
            + (f" for connection {bound.slug!r}" if bound else "")
            + (f", expiring {expiry:%Y-%m-%d}" if expiry else "")
            + ".\nStore it now; it cannot be shown again:"
        )
        self.stdout.write(key)
