"""The agent's settings: files, environment and flags; mistakes named."""

import json

import pytest

from integrations.agent.config import ConfigError, load_config

SECRET = "0123456789abcdef-hub"


@pytest.fixture
def keys_file(tmp_path):
    path = tmp_path / "keys.txt"
    path.write_text(f"# the hub\nhub:{SECRET}\n\nold:{SECRET}-previous\n")
    return path


def test_ini_file_for_the_boi_backend(tmp_path, keys_file):
    ini = tmp_path / "agent.ini"
    ini.write_text(
        "[agent]\nhost = 0.0.0.0\nport = 9000\nkeys_file = keys.txt\n"
        "journal = journal.db\nreplay_window_seconds = 120\n"
        "[backend]\nname = boi\nhome = \\\\SAGE\\MAS90\\Home\ncompany = abc\n"
        "user = ledgerbridge\npassword = pa55\n"
    )
    config = load_config(ini, env={})

    assert (config.host, config.port, config.replay_window_seconds) == (
        "0.0.0.0",
        9000,
        120,
    )
    assert config.keys == {"hub": SECRET, "old": f"{SECRET}-previous"}
    assert config.journal == tmp_path / "journal.db"  # relative to the file
    assert config.backend == "boi"
    assert config.backend_options == {
        "home": "\\\\SAGE\\MAS90\\Home",
        "company": "ABC",
        "user": "ledgerbridge",
        "password": "pa55",
    }
    assert config.scheme == "http"


def test_json_file_with_environment_and_flags_on_top(tmp_path, keys_file):
    path = tmp_path / "agent.json"
    path.write_text(
        json.dumps(
            {
                "port": 9000,
                "keys_file": "keys.txt",
                "journal": "j.db",
                "backend": {"name": "simulator", "root": "sage", "company": "ABC"},
            }
        )
    )
    env = {
        "LEDGERBRIDGE_AGENT_PORT": "9100",
        "LEDGERBRIDGE_AGENT_KEYS": f"hub:{SECRET}-rotated,ci:{SECRET}-ci",
        "LEDGERBRIDGE_AGENT_COMPANY": "XYZ",
    }
    config = load_config(path, env=env, overrides={"port": 9200, "host": None})

    assert config.port == 9200  # the flag wins over env and file
    assert config.host == "127.0.0.1"  # None flags are ignored
    assert config.keys["hub"] == f"{SECRET}-rotated"  # env wins over the file
    assert config.keys["ci"] == f"{SECRET}-ci"
    assert config.backend_options["root"] == str(tmp_path / "sage")
    assert config.backend_options["company"] == "XYZ"


def test_environment_alone_is_enough(tmp_path):
    env = {
        "LEDGERBRIDGE_AGENT_KEYS": f"hub:{SECRET}",
        "LEDGERBRIDGE_AGENT_JOURNAL": str(tmp_path / "j.db"),
        "LEDGERBRIDGE_AGENT_ROOT": str(tmp_path),
    }
    config = load_config(env=env)
    assert config.backend == "simulator"
    assert config.backend_options == {"root": str(tmp_path)}


def test_secrets_are_never_in_repr_or_describe(tmp_path, keys_file):
    config = load_config(
        env={"LEDGERBRIDGE_AGENT_PASSWORD": "pa55word"},
        overrides={
            "keys_file": str(keys_file),
            "journal": str(tmp_path / "j.db"),
            "backend": "boi",
            "home": "C:\\Sage",
            "company": "ABC",
        },
    )
    shown = repr(config) + json.dumps(config.describe())
    assert SECRET not in shown
    assert "pa55word" not in shown
    assert config.describe()["key_ids"] == ["hub", "old"]
    assert config.describe()["backend_options"]["password"] == "***"


BASE = {"journal": "j.db", "root": "sage"}
GOOD_KEYS = {"LEDGERBRIDGE_AGENT_KEYS": f"hub:{SECRET}"}


@pytest.mark.parametrize(
    ("overrides", "env", "setting"),
    [
        ({"journal": None}, GOOD_KEYS, "journal:"),
        ({}, {}, "keys:"),
        ({}, {"LEDGERBRIDGE_AGENT_KEYS": "hub:short"}, "LEDGERBRIDGE_AGENT_KEYS:"),
        ({}, {"LEDGERBRIDGE_AGENT_KEYS": "no-colon"}, "LEDGERBRIDGE_AGENT_KEYS:"),
        ({"port": "eighty"}, GOOD_KEYS, "port:"),
        ({"port": 70000}, GOOD_KEYS, "port:"),
        ({"backend": "odbc"}, GOOD_KEYS, "backend:"),
        ({"backend": "boi"}, GOOD_KEYS, "backend.home:"),
        ({"root": ""}, GOOD_KEYS, "backend.root:"),
        ({"tls_cert": "agent.crt"}, GOOD_KEYS, "tls_key:"),
        ({"keys_file": "missing.txt"}, {}, "keys_file:"),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(overrides, env, setting):
    with pytest.raises(ConfigError) as caught:
        load_config(env=env, overrides={**BASE, **overrides})
    assert str(caught.value).startswith(setting)
    assert "short" not in str(caught.value)  # a bad secret is never echoed


def test_keys_in_the_config_file_are_refused(tmp_path):
    path = tmp_path / "agent.json"
    path.write_text(json.dumps({"keys": {"hub": SECRET}, "journal": "j.db"}))
    with pytest.raises(ConfigError, match=r"^keys: secrets do not belong"):
        load_config(path, env={})


def test_unknown_setting_in_the_file_is_named(tmp_path):
    path = tmp_path / "agent.ini"
    path.write_text("[agent]\nprot = 80\n")
    with pytest.raises(ConfigError, match=r"^prot: unknown setting"):
        load_config(path, env={})


def test_malformed_json_is_named(tmp_path):
    path = tmp_path / "agent.json"
    path.write_text("{")
    with pytest.raises(ConfigError, match="is not valid JSON"):
        load_config(path, env={})
