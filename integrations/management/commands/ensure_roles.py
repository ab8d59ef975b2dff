"""Create the role groups if missing and give them their permissions.

``migrate`` already does this; the command is for a database where someone
deleted a group, or (with ``--exact``) edited one by hand and wants it back as
integrations/roles.py describes it.
"""

from django.apps import apps
from django.core.management.base import BaseCommand

from integrations import roles


class Command(BaseCommand):
    help = "Create the Finance staff, Integration admin and Auditor groups."

    def add_arguments(self, parser):
        parser.add_argument(
            "--exact",
            action="store_true",
            help="Also remove permissions a group has beyond its role.",
        )

    def handle(self, *args, exact: bool, verbosity: int, **options):
        counts = roles.apply(apps, exact=exact)
        if verbosity:
            for name, count in counts.items():
                self.stdout.write(f"{name}: {count} permissions")
