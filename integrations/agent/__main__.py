"""Run the agent: ``python -m integrations.agent --config agent.ini``.

Flags override the file, which the environment (LEDGERBRIDGE_AGENT_*) already
overrides. SIGINT or SIGTERM stops it cleanly: in-flight requests finish, the
journal is closed.
"""

from __future__ import annotations

import argparse
import logging
import signal
import ssl
import sys
import threading

from integrations.agent.backends import backend_class
from integrations.agent.config import AgentConfig, ConfigError, load_config
from integrations.agent.journal import Journal
from integrations.agent.server import VERSION, make_server, serve_in_thread

log = logging.getLogger("integrations.agent")
DRAIN_SECONDS = 30.0  # a BOI write in progress is allowed to finish


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m integrations.agent",
        description="LedgerBridge's on-premise Sage 100 write agent.",
    )
    parser.add_argument("--config", help="a JSON or INI settings file")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--backend", choices=("simulator", "boi"))
    parser.add_argument("--root", help="simulator: the company databases' folder")
    parser.add_argument("--home", help=r"boi: the MAS90\Home folder")
    parser.add_argument("--company", help="the Sage company code, e.g. ABC")
    parser.add_argument("--user", help="the Sage 100 user the agent logs in as")
    parser.add_argument("--journal", help="the agent's idempotency journal file")
    parser.add_argument("--keys-file", help="lines key_id:secret")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--log-level", default="INFO")
    return parser.parse_args(argv)


def build_backend(config: AgentConfig):
    """The configured backend; a constructor that refuses says why."""
    cls = backend_class(config.backend)
    try:
        backend = cls(**config.backend_options)
    except TypeError as exc:
        raise ConfigError(f"backend: the {config.backend} backend says {exc}") from None
    if hasattr(backend, "start_watchdog"):
        backend.start_watchdog()
    return backend


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    overrides = {
        "host": args.host,
        "port": args.port,
        "backend": args.backend,
        "root": args.root,
        "home": args.home,
        "company": args.company,
        "user": args.user,
        "journal": args.journal,
        "keys_file": args.keys_file,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
    }
    try:
        config = load_config(args.config, overrides=overrides)
        backend = build_backend(config)
    except (ConfigError, ValueError, ImportError, RuntimeError) as exc:
        print(f"ledgerbridge-agent: {exc}", file=sys.stderr)
        return 2
    journal = Journal(config.journal)
    pruned = journal.prune()
    try:
        server = make_server(config, backend, journal=journal)
    except (ssl.SSLError, OSError) as exc:
        where = f"{config.host}:{config.port}"
        print(f"ledgerbridge-agent: cannot listen on {where}: {exc}", file=sys.stderr)
        journal.close()
        return 2
    log.info("settings %s; %d old journal keys pruned", config.describe(), pruned)
    stop = threading.Event()
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())
    thread = serve_in_thread(server)
    print(
        f"LedgerBridge agent {VERSION} listening on {server.url} "
        f"(backend {config.backend}, company {getattr(backend, 'company', '?')})",
        flush=True,
    )
    # A timed wait: on Windows an untimed one would not see Ctrl+C.
    while not stop.wait(0.5) and thread.is_alive():
        pass
    server.shutdown()  # no new requests
    if not server.app.drain(DRAIN_SECONDS):
        log.warning("Stopping with requests still running after %ss", DRAIN_SECONDS)
    server.server_close()
    journal.close()
    close = getattr(backend, "close", None)
    if callable(close):
        close()
    print("LedgerBridge agent stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
