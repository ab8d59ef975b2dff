"""Demo data: a login, the connections, flows and records a newcomer explores.

Safe to run again: everything is looked up by a natural key before creation.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from integrations.services import demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo login and demo data."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="ledgerbridge")

    def handle(self, *args, password: str, **options):
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username="admin", defaults={"email": "admin@example.com"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        summary = demo.load()
        self.stdout.write(f"Demo data ready: {summary}")
