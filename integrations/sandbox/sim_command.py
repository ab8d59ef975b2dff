"""What the ``*_sim`` management commands share once their simulator is up:
handing out its credentials and serving until stopped."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path


def write_credentials(folder: Path, credentials: dict) -> Path:
    """``<folder>/credentials.json``, readable by its owner only; replaced whole,
    so the demo and tests polling for it never read half a file."""
    path = folder / "credentials.json"
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(credentials, indent=2) + "\n")
    partial.chmod(0o600)
    partial.replace(path)
    return path


def serve_until_interrupted(
    stoppers: list[Callable[[], None]],
    scenario: Callable[[threading.Event], None] | None = None,
    *,
    name: str = "scenario",
    say: Callable[[str], None] = print,
) -> None:
    """Play ``scenario(stop)`` in a daemon thread, if given, and wait for
    Ctrl-C (``make demo`` ends its children with SIGTERM, which needs no
    clean-up); then stop the scenario and run ``stoppers``, the last first."""
    stop = threading.Event()
    if scenario is not None:
        threading.Thread(target=scenario, args=(stop,), name=name, daemon=True).start()
    try:
        stop.wait()
    except KeyboardInterrupt:
        say("Stopping.")
    finally:
        stop.set()
        for stopper in reversed(stoppers):
            stopper()
