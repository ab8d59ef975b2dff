"""Flows register themselves by name; FlowConfig rows refer to those names."""

from __future__ import annotations

import importlib
import pkgutil

from django.conf import settings

_flows: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: ``@register`` on a Flow subclass."""
    name = getattr(cls, "name", "")
    if not name:
        raise ValueError(f"{cls.__name__} has no name")
    existing = _flows.get(name)
    # Re-importing the same module (autoreload, tests) registers the same class again.
    same = existing is not None and (existing.__module__, existing.__qualname__) == (
        cls.__module__,
        cls.__qualname__,
    )
    if existing is not None and not same:
        raise ValueError(f"Two flows are named {name!r}")
    _flows[name] = cls
    return cls


def get(name: str):
    """A fresh instance of the named flow; KeyError names what is missing."""
    try:
        return _flows[name]()
    except KeyError:
        raise KeyError(f"No flow named {name!r} is installed") from None


def names() -> list[str]:
    return sorted(_flows)


def choices() -> list[tuple[str, str]]:
    return [(name, _flows[name].title or name) for name in names()]


def autodiscover() -> None:
    """Import every module in integrations.flows, plus configured extra modules."""
    import integrations.flows as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name not in {"registry", "base"}:
            importlib.import_module(f"{package.__name__}.{module.name}")
    for dotted in settings.LEDGERBRIDGE["EXTRA_FLOW_MODULES"]:
        importlib.import_module(dotted)
