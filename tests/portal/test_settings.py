"""Settings fail loudly on malformed values and name the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}
    }
    clean.update(LEDGERBRIDGE_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", "import portal.settings as s; print(s.DATABASES)"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "not-a-url"),
        ("REDIS_URL", "http://example"),
        ("FIELD_ENCRYPTION_KEYS", "short"),
        ("LEDGERBRIDGE_LEASE_SECONDS", "five minutes"),
        ("DEBUG", "perhaps"),
    ],
)
def test_malformed_variable_stops_startup_naming_it(tmp_path, name, value):
    result = _load_settings(tmp_path, **{name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_nothing_set_means_the_embedded_default(tmp_path):
    result = _load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "ledgerbridge.sqlite3") in result.stdout
    assert (tmp_path / "secret_key").exists()
    assert (tmp_path / "field_encryption_key").exists()
