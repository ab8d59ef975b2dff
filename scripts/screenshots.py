"""Screenshots of the portal's main pages for the README (``make screenshots``).

Starts a throwaway portal on the demo data, in a temporary directory that is
removed afterwards: embedded SQLite and Redis, ``load_demo_data``, then each
waiting demo record is run once, against the demo's simulated order desk and
Sage 100 agent started here on spare ports, so that some records succeed and
some need attention, as on a real morning. Chromium (the distribution's, never
a downloaded one) then visits the pages at 1400x900 and saves a PNG of each to
``docs/screenshots/``.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--keep]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler

BASE_DIR = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1400, "height": 900}
PASSWORD = "ledgerbridge"  # load_demo_data's default for admin, finance, auditor
CHROMIUM_ENV = "LEDGERBRIDGE_CHROMIUM"
XREF_CSV = (
    "kind,source_connection,source_value,target_connection,target_value,note\n"
    "item,web-orders,WIDGET-9,sage100-abc,1001-HON-H252,Web shop's own code\n"
    "item,web-orders,GADGET-2,sage100-abc,1001-HON-H254,\n"
    "item,web-orders,GIZMO-3,sage-100,1001-HON-H255,\n"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=BASE_DIR / "docs" / "screenshots")
    parser.add_argument(
        "--keep", action="store_true", help="Keep the throwaway data directory."
    )
    args = parser.parse_args()
    chromium = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium")
    if not chromium or not os.access(chromium, os.X_OK):
        print(
            "Chromium is not installed: run make system-packages, or set "
            f"{CHROMIUM_ENV} to a Chromium executable.",
            file=sys.stderr,
        )
        return 1
    var_dir = Path(tempfile.mkdtemp(prefix="ledgerbridge-screenshots-"))
    try:
        with throwaway_portal(var_dir) as url:
            taken = take_screenshots(url, chromium, args.out)
    finally:
        if args.keep:
            print(f"Data kept in {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)
    for path in taken:
        print(f"Saved {path}")
    return 0


# -- the throwaway portal -------------------------------------------------------------


@contextmanager
def throwaway_portal(var_dir: Path) -> Iterator[str]:
    """The demo portal on this machine only; yields its base URL."""
    # Never the operator's own database or Redis: everything lives in var_dir.
    for name in ("DATABASE_URL", "REDIS_URL", "DEBUG"):
        os.environ.pop(name, None)
    os.environ["LEDGERBRIDGE_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test.utils import override_settings

    from portal import embedded

    # Static files straight from the apps (WhiteNoise's finders), no collectstatic.
    plain_static = override_settings(
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {
                "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
            },
        }
    )
    plain_static.enable()
    started = embedded.ensure_redis(settings.EMBEDDED_REDIS_DIR)
    try:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo_data", password=PASSWORD)
        run_demo_records()
        with serving() as url:
            yield url
    finally:
        if started:
            embedded.stop_redis(settings.EMBEDDED_REDIS_DIR)
        plain_static.disable()


def run_demo_records() -> None:
    """Run each waiting demo record once, as a worker would, against the demo's
    order desk and Sage 100 agent started here on spare ports (the demo's own
    ports may be taken by a running ``make demo``). The connections are put back
    as the demo configured them afterwards."""
    from integrations.engine import runner
    from integrations.models import Connection, RecordStatus, SyncRecord
    from integrations.sandbox.generic_sink import SinkState
    from integrations.sandbox.generic_sink import make_server as make_sink
    from integrations.services import demo

    desk = Connection.objects.get(slug="order-desk")
    sage = Connection.objects.get(slug="sage100-abc")
    saved = {desk.pk: dict(desk.settings), sage.pk: dict(sage.settings)}
    sink = make_sink(
        "127.0.0.1",
        0,
        SinkState(
            signing_secret=demo.ORDER_DESK_SECRET,
            required_fields=("reference", "customer_email"),
        ),
    )
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        with sage100_agent() as agent_url:
            desk.settings = {**desk.settings, "url": _sink_url(sink)}
            sage.settings = {**sage.settings, "agent_url": agent_url}
            desk.save(update_fields=["settings"])
            sage.save(update_fields=["settings"])
            waiting = SyncRecord.objects.filter(status=RecordStatus.PENDING)
            for pk in waiting.order_by("pk").values_list("pk", flat=True):
                runner.run_record(pk)
    finally:
        sink.shutdown()
        sink.server_close()
        for connection in (desk, sage):
            connection.settings = saved[connection.pk]
            connection.save(update_fields=["settings"])


def _sink_url(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/documents"


@contextmanager
def sage100_agent() -> Iterator[str]:
    """The demo's Sage 100 agent (simulator backend, the demo's certificate)."""
    from django.conf import settings

    from integrations.agent.config import AgentConfig
    from integrations.agent.journal import Journal
    from integrations.agent.server import make_server, serve_in_thread
    from integrations.sandbox.sage100.business import SimulatorBackend
    from integrations.services import demo_sage100

    certificate = demo_sage100.agent_certificate()
    config = AgentConfig(
        keys={demo_sage100.AGENT_KEY_ID: demo_sage100.AGENT_SECRET},
        journal=Path(settings.VAR_DIR) / "sage100-agent-journal.db",
        backend="simulator",
        host="127.0.0.1",
        port=0,
        tls_cert=certificate.cert,
        tls_key=certificate.key,
    )
    journal = Journal(config.journal)
    backend = SimulatorBackend(demo_sage100.root(), demo_sage100.COMPANY, user="agent")
    server = make_server(config, backend, journal=journal)
    thread = serve_in_thread(server)
    try:
        yield server.url
    finally:
        server.shutdown()
        server.app.drain(10)
        server.server_close()
        thread.join(5)
        journal.close()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # the pages' own logs are enough
        return


@contextmanager
def serving() -> Iterator[str]:
    """The portal's WSGI application on a spare loopback port, in threads."""
    from django.core.servers.basehttp import ThreadedWSGIServer

    from portal.wsgi import application

    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler)
    server.set_app(application)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- the pages -------------------------------------------------------------------------


def take_screenshots(url: str, chromium: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from integrations.models import FlowConfig, SyncRecord

    out.mkdir(parents=True, exist_ok=True)
    web_order = SyncRecord.objects.get(source_id="WEB-2003")
    relay = FlowConfig.objects.get(flow="generic_webhook_to_http")
    orders = FlowConfig.objects.get(flow="generic_order_to_sage100")
    taken: list[Path] = []

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=["--no-sandbox"]
        )
        try:

            def shoot(name: str, user: str, path: str, prepare: Callable | None = None):
                context = browser.new_context(
                    base_url=url, viewport=VIEWPORT, device_scale_factor=1
                )
                # The pages without the admin's side menu: more room for content.
                context.add_init_script(
                    "localStorage.setItem('django.admin.navSidebarIsOpen', 'false')"
                )
                page = context.new_page()
                page.set_default_timeout(20_000)
                sign_in(page, user)
                page.goto(path, wait_until="networkidle")
                if prepare is not None:
                    prepare(page)
                target = out / f"{name}.png"
                page.screenshot(path=str(target), animations="disabled")
                taken.append(target)
                context.close()

            shoot("queue", "finance", "/admin/queue/")
            shoot(
                "record-page",
                "finance",
                f"/admin/integrations/syncrecord/{web_order.pk}/change/",
            )
            shoot("dashboard", "admin", "/admin/", wait_for_charts)
            shoot("connections", "admin", "/admin/integrations/connection/")
            shoot(
                "mapping-editor",
                "admin",
                f"/admin/integrations/flowconfig/{relay.pk}/change/",
                try_the_mappings,
            )
            shoot(
                "flow-designer",
                "admin",
                f"/admin/integrations/flowconfig/{orders.pk}/designer/",
            )
            shoot(
                "cross-reference-import",
                "admin",
                "/admin/integrations/crossreference/import/",
                preview_an_import,
            )
            shoot(
                "suggestions",
                "admin",
                "/admin/integrations/crossreference/suggestions/",
            )
        finally:
            browser.close()
    return taken


def sign_in(page, username: str) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")


def wait_for_charts(page) -> None:
    page.wait_for_load_state("networkidle")


def try_the_mappings(page) -> None:
    """The mappings with "Try it" run on the latest record."""
    page.wait_for_selector("#lb-fields-status:has-text('Field pickers')")
    page.click("#lb-try-button")
    page.wait_for_selector("#lb-try-result table")
    page.locator("#mappings-group").scroll_into_view_if_needed()
    page.evaluate(
        "document.querySelector('#mappings-group').scrollIntoView({block: 'start'})"
    )


def preview_an_import(page) -> None:
    """A file with a bad row: the preview names it and offers no Import."""
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "item-codes.csv",
                "mimeType": "text/csv",
                "buffer": XREF_CSV.encode(),
            }
        ],
    )
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#lb-preview-title")


if __name__ == "__main__":
    sys.exit(main())
