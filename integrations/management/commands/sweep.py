from django.core.management.base import BaseCommand

from integrations.engine import sweeper


class Command(BaseCommand):
    help = "Re-enqueue lost, due and expired-lease records now."

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=int, default=None)

    def handle(self, *args, grace, **options):
        report = sweeper.sweep(grace_seconds=grace)
        self.stdout.write(str(vars(report)))
