"""The agent's settings: a JSON or INI file, then environment, then command line.

The agent runs on a Windows server that an administrator configures by hand, so
every mistake is refused at start-up with the name of the setting to fix.
Secrets (the hub's keys and the Sage password) are never shown in a repr or
in ``describe()``, which is what the agent logs.

INI layout (JSON is the same with ``"backend"`` as an object)::

    [agent]
    host = 0.0.0.0
    port = 8765
    keys_file = C:\\LedgerBridge\\agent-keys.txt   ; lines "key_id:secret"
    journal = C:\\LedgerBridge\\agent-journal.db
    replay_window_seconds = 300
    max_body_bytes = 1048576
    tls_cert = C:\\LedgerBridge\\agent.crt
    tls_key = C:\\LedgerBridge\\agent.key

    [backend]
    name = boi                                  ; or simulator
    home = \\\\SAGE\\Sage 100\\MAS90\\Home
    company = ABC
    user = ledgerbridge
    password = ...                              ; or LEDGERBRIDGE_AGENT_PASSWORD
"""

from __future__ import annotations

import configparser
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrations.agent.signing import DEFAULT_WINDOW_SECONDS

ENV_PREFIX = "LEDGERBRIDGE_AGENT_"
DEFAULT_PORT = 8765
DEFAULT_MAX_BODY = 1024 * 1024
MIN_SECRET_LENGTH = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Agent settings (not the backend's) and the environment variable of each.
_AGENT_SETTINGS = {
    "host": "HOST",
    "port": "PORT",
    "keys_file": "KEYS_FILE",
    "journal": "JOURNAL",
    "replay_window_seconds": "REPLAY_WINDOW",
    "max_body_bytes": "MAX_BODY",
    "tls_cert": "TLS_CERT",
    "tls_key": "TLS_KEY",
}
_PATHS = ("keys_file", "journal", "tls_cert", "tls_key")
# Backend options settable from the environment, and the ones each backend needs.
_BACKEND_ENV = ("root", "home", "company", "user", "password")
_REQUIRED = {"simulator": ("root",), "boi": ("home", "company")}
_BACKEND_PATHS = ("root",)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class AgentConfig:
    keys: dict[str, str] = field(repr=False)
    journal: Path
    backend: str = "simulator"
    backend_options: dict[str, Any] = field(default_factory=dict, repr=False)
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    replay_window_seconds: int = DEFAULT_WINDOW_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    def describe(self) -> dict[str, Any]:
        """What is safe to log: no secrets, no password."""
        options = {
            k: ("***" if k == "password" and v else v)
            for k, v in self.backend_options.items()
        }
        return {
            "host": self.host,
            "port": self.port,
            "backend": self.backend,
            "backend_options": options,
            "key_ids": sorted(self.keys),
            "journal": str(self.journal),
            "replay_window_seconds": self.replay_window_seconds,
            "max_body_bytes": self.max_body_bytes,
            "tls": bool(self.tls_cert),
        }


def load_config(
    path: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> AgentConfig:
    """Read ``path`` (JSON or INI), then ``env``, then ``overrides`` (the CLI).

    ``overrides`` uses the file's names; backend options go in as ``root``,
    ``home``, ``company``, ``user``, ``password`` and the backend's name as
    ``backend``. ``None`` values are ignored, so argparse defaults can pass.
    """
    env = os.environ if env is None else env
    agent, backend, base = {}, {}, Path.cwd()
    if path:
        path = Path(path)
        agent, backend = _read_file(path)
        base = path.resolve().parent
        for name in _PATHS:
            if agent.get(name):
                agent[name] = str(base / agent[name])
        for name in _BACKEND_PATHS:
            if backend.get(name):
                backend[name] = str(base / backend[name])
    for name, suffix in _AGENT_SETTINGS.items():
        if env.get(ENV_PREFIX + suffix):
            agent[name] = env[ENV_PREFIX + suffix]
    if env.get(ENV_PREFIX + "BACKEND"):
        backend["name"] = env[ENV_PREFIX + "BACKEND"]
    for name in _BACKEND_ENV:
        if env.get(ENV_PREFIX + name.upper()):
            backend[name] = env[ENV_PREFIX + name.upper()]
    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name == "backend":
            backend["name"] = value
        elif name in _AGENT_SETTINGS:
            agent[name] = value
        else:
            backend[name] = value
    return _build(agent, backend, env)


def _read_file(path: Path) -> tuple[dict, dict]:
    if not path.is_file():
        raise ConfigError(f"config: the file {path} does not exist.")
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"config: {path} is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"config: {path} must hold a JSON object.")
        backend = data.pop("backend", {})
        if isinstance(backend, str):
            backend = {"name": backend}
        if not isinstance(backend, dict):
            raise ConfigError("backend: must be an object with a name and options.")
        agent = data
    else:
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read_string(text, source=str(path))
        except configparser.Error as exc:
            raise ConfigError(
                f"config: {path} is not a valid INI file: {exc}"
            ) from None
        agent = dict(parser["agent"]) if parser.has_section("agent") else {}
        backend = dict(parser["backend"]) if parser.has_section("backend") else {}
    if "keys" in agent:
        raise ConfigError(
            "keys: secrets do not belong in the config file; put them in "
            "keys_file or LEDGERBRIDGE_AGENT_KEYS."
        )
    unknown = sorted(set(agent) - set(_AGENT_SETTINGS))
    if unknown:
        known = ", ".join(_AGENT_SETTINGS)
        raise ConfigError(f"{unknown[0]}: unknown setting; the agent knows {known}.")
    return agent, dict(backend)


def _build(agent: dict, backend: dict, env: Mapping[str, str]) -> AgentConfig:
    name = str(backend.pop("name", "simulator") or "simulator").strip().lower()
    if name not in _REQUIRED:
        raise ConfigError(f"backend: {name!r} is unknown; use simulator or boi.")
    for option in _REQUIRED[name]:
        if not str(backend.get(option) or "").strip():
            raise ConfigError(
                f"backend.{option}: required for the {name} backend "
                f"(config [backend] {option}, {ENV_PREFIX}{option.upper()} "
                f"or --{option})."
            )
    if "company" in backend:
        backend["company"] = str(backend["company"]).strip().upper()
    journal = str(agent.get("journal") or "").strip()
    if not journal:
        raise ConfigError(
            "journal: set the path of the agent's journal file (config journal, "
            f"{ENV_PREFIX}JOURNAL or --journal)."
        )
    tls_cert, tls_key = _tls(agent)
    return AgentConfig(
        keys=_keys(agent.get("keys_file"), env.get(ENV_PREFIX + "KEYS", "")),
        journal=Path(journal),
        backend=name,
        backend_options=backend,
        host=str(agent.get("host") or "127.0.0.1").strip(),
        port=_integer(agent, "port", DEFAULT_PORT, 0, 65535),
        replay_window_seconds=_integer(
            agent, "replay_window_seconds", DEFAULT_WINDOW_SECONDS, 1, 3600
        ),
        max_body_bytes=_integer(
            agent, "max_body_bytes", DEFAULT_MAX_BODY, 1024, 64 * 1024 * 1024
        ),
        tls_cert=tls_cert,
        tls_key=tls_key,
    )


def _integer(agent: dict, name: str, default: int, low: int, high: int) -> int:
    value = agent.get(name, default)
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ConfigError(f"{name}: {value!r} is not a whole number.") from None
    if not low <= number <= high:
        raise ConfigError(f"{name}: {number} is outside {low}..{high}.")
    return number


def _tls(agent: dict) -> tuple[Path | None, Path | None]:
    cert = str(agent.get("tls_cert") or "").strip()
    key = str(agent.get("tls_key") or "").strip()
    if bool(cert) != bool(key):
        missing = "tls_key" if cert else "tls_cert"
        raise ConfigError(f"{missing}: TLS needs both tls_cert and tls_key.")
    for name, value in (("tls_cert", cert), ("tls_key", key)):
        if value and not Path(value).is_file():
            raise ConfigError(f"{name}: the file {value} does not exist.")
    return (Path(cert), Path(key)) if cert else (None, None)


def _keys(keys_file: str | None, env_keys: str) -> dict[str, str]:
    """Key ids and secrets from the keys file and LEDGERBRIDGE_AGENT_KEYS.

    Both hold ``id:secret`` pairs (the file one per line, the variable
    comma-separated); the variable wins for an id in both, so a secret can be
    rotated without editing the file.
    """
    keys: dict[str, str] = {}
    if keys_file:
        path = Path(keys_file)
        if not path.is_file():
            raise ConfigError(f"keys_file: the file {path} does not exist.")
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        for number, line in enumerate(lines, 1):
            if line.strip() and not line.lstrip().startswith("#"):
                keys.update([_pair(line, f"keys_file line {number}")])
    for item in env_keys.split(","):
        if item.strip():
            keys.update([_pair(item, f"{ENV_PREFIX}KEYS")])
    if not keys:
        raise ConfigError(
            "keys: no hub keys; set keys_file (lines id:secret) or "
            f"{ENV_PREFIX}KEYS=id:secret."
        )
    return keys


def _pair(text: str, where: str) -> tuple[str, str]:
    key_id, sep, secret = text.strip().partition(":")
    key_id, secret = key_id.strip(), secret.strip()
    if not sep or not _KEY_ID.match(key_id):
        # The secret may be on this line: say where, never what.
        raise ConfigError(f"{where}: expected key_id:secret (letters, digits, ._-).")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ConfigError(
            f"{where}: the secret of {key_id!r} must be at least "
            f"{MIN_SECRET_LENGTH} characters."
        )
    return key_id, secret
