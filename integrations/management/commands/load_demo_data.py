"""Demo data: the logins, the connections, flows and records a newcomer explores.

Safe to run again: everything is looked up by a natural key before creation.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from integrations import roles
from integrations.services import demo

# One login per role besides the superuser "admin", all with the same password.
ROLE_LOGINS = (
    ("finance", "Fiona", "Finance", roles.FINANCE),
    ("auditor", "Arthur", "Auditor", roles.AUDITOR),
)


class Command(BaseCommand):
    help = "Create (or refresh) the demo logins and demo data."

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
        roles.apply(apps, exact=False)
        for username, first, last, role in ROLE_LOGINS:
            member, _ = user_model.objects.get_or_create(
                username=username,
                defaults={
                    "email": f"{username}@example.com",
                    "first_name": first,
                    "last_name": last,
                },
            )
            member.is_staff = True
            member.is_superuser = False
            member.set_password(password)
            member.save()
            member.groups.set([Group.objects.get(name=role)])
        summary = demo.load()
        self.stdout.write(f"Demo data ready: {summary}")
