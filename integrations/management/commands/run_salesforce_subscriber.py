"""Follow a Salesforce connection's Pub/Sub topics into the inbox until stopped."""

import signal

from django.core.management.base import BaseCommand, CommandError

from integrations.connectors.salesforce.subscriber import Subscriber
from integrations.engine.errors import SyncError
from integrations.models import Connection, System


class Command(BaseCommand):
    help = (
        "Subscribe to a Salesforce connection's Pub/Sub API topics (settings."
        "pubsub_topics, default the Opportunity and Order change events and "
        "Order_Event__e) at settings.pubsub_url, storing each event in the inbox."
    )

    def add_arguments(self, parser):
        parser.add_argument("--connection", required=True, help="Connection slug.")
        parser.add_argument(
            "--topic",
            action="append",
            default=None,
            help="A topic, e.g. /data/OpportunityChangeEvent (repeatable).",
        )
        parser.add_argument("--batch-size", type=int, default=100)

    def handle(self, *args, connection, topic, batch_size, **options):
        try:
            found = Connection.objects.get(slug=connection)
        except Connection.DoesNotExist:
            raise CommandError(f"No connection has the slug {connection!r}.") from None
        if found.system != System.SALESFORCE:
            raise CommandError(f"The connection {connection!r} is not Salesforce.")
        try:
            subscriber = Subscriber(found.pk, topic, batch_size=batch_size)
        except SyncError as exc:
            raise CommandError(f"{exc.field}: {exc.message}") from None
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        signal.signal(signal.SIGTERM, lambda *_: subscriber.stop(timeout=0))
        self.stdout.write(
            f"Following {', '.join(subscriber.topics)} at {subscriber.target}"
        )
        try:
            subscriber.run()
        except KeyboardInterrupt:
            subscriber.stop()
        self.stdout.write("Stopped.")
