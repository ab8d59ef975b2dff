"""Login throttling, session cookies, CSRF and the security settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import RecordStatus
from tests.factories import SyncRecordFactory

ROOT = Path(__file__).resolve().parents[2]
LOGIN = reverse("admin:login")
PASSWORD = "the-right-password-42"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Throttling counts attempts; it does not need a slow hash to do it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clerk(django_user_model):
    return django_user_model.objects.create_user(
        "clerk", password=PASSWORD, is_staff=True
    )


def sign_in(client: Client, password: str, username: str = "clerk"):
    return client.post(
        LOGIN, {"username": username, "password": password, "next": "/admin/"}
    )


# --- login throttling -------------------------------------------------------------


@pytest.mark.django_db
def test_five_wrong_passwords_pause_signing_in_with_a_plain_message(client, clerk):
    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200  # the form again

    fifth = sign_in(client, "wrong")
    even_right = sign_in(client, PASSWORD)

    for response in (fifth, even_right):
        html = response.content.decode()
        assert response.status_code == 429
        assert "5 wrong passwords in a row" in html
        assert "signing in is paused for 15 minutes" in html
        assert "ask an Integration admin" in html
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_right_password_before_the_limit_clears_the_count(client, clerk):
    for _ in range(4):
        sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()

    for _ in range(4):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_another_user_name_from_the_same_address_is_not_locked_out(
    client, clerk, django_user_model
):
    django_user_model.objects.create_user("other", password=PASSWORD, is_staff=True)
    for _ in range(5):
        sign_in(client, "wrong")

    assert sign_in(client, PASSWORD, username="other").status_code == 302


@pytest.mark.django_db
def test_authenticate_without_a_request_still_works_for_scripts(clerk):
    from django.contrib.auth import authenticate

    assert authenticate(username="clerk", password=PASSWORD) == clerk


# --- session and CSRF -------------------------------------------------------------


@pytest.mark.django_db
def test_session_cookie_is_http_only_same_site_and_ends_with_the_browser(client, clerk):
    response = sign_in(client, PASSWORD)

    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["expires"] == "" and cookie["max-age"] == ""


@pytest.mark.django_db
def test_admin_pages_refuse_to_be_framed(admin_client):
    response = admin_client.get(reverse("admin:index"), follow=True)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_admin_posts_without_the_csrf_token_are_refused(admin_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)
    record = SyncRecordFactory(
        status=RecordStatus.NEEDS_ATTENTION, attempts=1, error_category="validation"
    )

    response = browser.post(
        reverse(
            "admin:integrations_syncrecord_actions",
            kwargs={"pk": record.pk, "tool": "resubmit"},
        )
    )

    assert response.status_code == 403
    record.refresh_from_db()
    assert record.status == RecordStatus.NEEDS_ATTENTION


# --- settings from the environment ------------------------------------------------

SHOW = (
    "import json, portal.settings as s; print(json.dumps({"
    "'session_secure': s.SESSION_COOKIE_SECURE, 'csrf_secure': s.CSRF_COOKIE_SECURE,"
    "'cooloff': s.AXES_COOLOFF_TIME.total_seconds(), 'limit': s.AXES_FAILURE_LIMIT,"
    "'age': s.SESSION_COOKIE_AGE, 'hsts': s.SECURE_HSTS_SECONDS,"
    "'redirect': s.SECURE_SSL_REDIRECT,"
    "'first_backend': s.AUTHENTICATION_BACKENDS[0],"
    "'last_middleware': s.MIDDLEWARE[-1]}))"
)


def settings_with(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS", "DEBUG"}
    }
    clean.update(LEDGERBRIDGE_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def loaded(result: subprocess.CompletedProcess) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_default_on_loopback_keeps_plain_http_cookies(tmp_path):
    shown = loaded(settings_with(tmp_path))

    assert (shown["session_secure"], shown["csrf_secure"]) == (False, False)
    assert shown["limit"] == 5 and shown["cooloff"] == 15 * 60
    assert shown["age"] == 8 * 3600
    assert shown["first_backend"] == "portal.login_throttle.LoginThrottleBackend"
    assert shown["last_middleware"] == "axes.middleware.AxesMiddleware"
    assert (shown["hsts"], shown["redirect"]) == (0, False)


def test_a_real_host_name_gets_https_only_cookies(tmp_path):
    shown = loaded(settings_with(tmp_path, ALLOWED_HOSTS="ledger.example.com"))

    assert (shown["session_secure"], shown["csrf_secure"]) == (True, True)


def test_debug_on_a_real_host_keeps_plain_cookies_unless_asked(tmp_path):
    plain = loaded(
        settings_with(tmp_path, ALLOWED_HOSTS="ledger.example.com", DEBUG="true")
    )
    forced = loaded(
        settings_with(
            tmp_path,
            ALLOWED_HOSTS="ledger.example.com",
            DEBUG="true",
            SESSION_COOKIE_SECURE="true",
        )
    )

    assert plain["session_secure"] is False
    assert (forced["session_secure"], forced["csrf_secure"]) == (True, True)


def test_lockout_hsts_and_session_length_come_from_the_environment(tmp_path):
    shown = loaded(
        settings_with(
            tmp_path,
            LOGIN_FAILURE_LIMIT="3",
            LOGIN_LOCKOUT_MINUTES="60",
            SESSION_HOURS="1",
            SECURE_HSTS_SECONDS="31536000",
            SECURE_SSL_REDIRECT="yes",
        )
    )

    assert (shown["limit"], shown["cooloff"], shown["age"]) == (3, 3600, 3600)
    assert (shown["hsts"], shown["redirect"]) == (31536000, True)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LOGIN_LOCKOUT_MINUTES", "0"),
        ("LOGIN_FAILURE_LIMIT", "five"),
        ("SESSION_HOURS", "-1"),
        ("SECURE_SSL_REDIRECT", "maybe"),
    ],
)
def test_malformed_security_variable_stops_startup_naming_it(tmp_path, name, value):
    result = settings_with(tmp_path, **{name: value})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr
