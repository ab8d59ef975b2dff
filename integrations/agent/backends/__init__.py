"""Agent backends: ``boi`` (Windows COM) and ``simulator`` (this project's Sage 100)."""

from __future__ import annotations

from importlib import import_module

BACKENDS = {
    "boi": "integrations.agent.backends.boi:BOIBackend",
    "simulator": "integrations.sandbox.sage100.business:SimulatorBackend",
}


def backend_class(name: str):
    """Import a backend only when chosen: the BOI one needs pywin32 on Windows."""
    try:
        dotted = BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"Unknown backend {name!r}; choose one of {', '.join(BACKENDS)}"
        ) from None
    module, _, attr = dotted.partition(":")
    return getattr(import_module(module), attr)
