from django.core.management.base import BaseCommand

from integrations.sandbox.generic_sink import SinkState, make_server


class Command(BaseCommand):
    help = "Serve the generic JSON receiver simulator on loopback."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)
        parser.add_argument("--secret", default="", help="Signing secret to require.")
        parser.add_argument(
            "--require", action="append", default=None, help="Required field."
        )

    def handle(self, *args, host, port, secret, require, **options):
        state = SinkState(
            signing_secret=secret, required_fields=tuple(require or ["reference"])
        )
        server = make_server(host, port, state)
        self.stdout.write(f"generic sink on http://{host}:{port}/documents")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
