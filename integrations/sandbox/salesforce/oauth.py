"""``/services/oauth2/*``: the token endpoint's three server-to-server flows,
revocation and userinfo, answering exactly the way Salesforce words it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt

from integrations.sandbox.salesforce.identity import ConnectedApp, User

LOGIN_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MAX_EXP_AHEAD = 180  # seconds: Salesforce wants a short-lived assertion


def _error(error: str, description: str, status: int = 400) -> tuple[int, dict]:
    return status, {"error": error, "error_description": description}


def _bad_client_id():
    return _error("invalid_client_id", "client identifier invalid")


def _bad_client():
    return _error("invalid_client", "invalid client credentials")


def _auth_failure():
    return _error("invalid_grant", "authentication failure")


def token(org, form: dict, authorization: str = "") -> tuple[int, dict]:
    """Answer a token request (``form``: the decoded form fields)."""
    grant = form.get("grant_type", "")
    if grant == "password":
        return _password(org, form)
    if grant == JWT_GRANT:
        return _jwt_bearer(org, form)
    if grant == "client_credentials":
        return _client_credentials(org, form, authorization)
    return _error("unsupported_grant_type", "grant type not supported")


def _app(org, client_id: str) -> ConnectedApp | None:
    return org.identity.apps.get(client_id or "")


def _password(org, form: dict):
    app = _app(org, form.get("client_id", ""))
    if app is None:
        return _bad_client_id()
    if not hmac.compare_digest(form.get("client_secret", ""), app.client_secret):
        return _bad_client()
    user = org.identity.user(form.get("username", ""))
    if user is None or not user.active:
        return _auth_failure()
    expected = user.password + user.security_token
    if not hmac.compare_digest(form.get("password", ""), expected):
        return _auth_failure()
    return _issue(org, app, user)


def _jwt_bearer(org, form: dict):
    assertion = form.get("assertion", "")
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        return _error("invalid_grant", "invalid assertion")
    app = _app(org, str(claims.get("iss", "")))
    if app is None:
        return _bad_client_id()
    if header.get("alg") != "RS256" or not app.public_key_pem:
        return _error("invalid_grant", "invalid assertion")
    audiences = (*LOGIN_AUDIENCES, org.instance_url.rstrip("/"))
    try:
        claims = jwt.decode(
            assertion,
            app.public_key_pem,
            algorithms=["RS256"],
            audience=list(audiences) + [a + "/" for a in audiences],
            options={"require": ["exp", "iss", "sub", "aud"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError:
        return _error("invalid_grant", "expired authorization code")
    except jwt.InvalidAudienceError:
        return _error("invalid_grant", "audience is invalid")
    except jwt.PyJWTError:
        return _error("invalid_grant", "invalid assertion")
    if claims["exp"] > time.time() + MAX_EXP_AHEAD + 5:
        return _error("invalid_grant", "invalid assertion")
    user = org.identity.user(str(claims["sub"]))
    if user is None or not user.active:
        return _error("invalid_grant", "user hasn't approved this consumer")
    return _issue(org, app, user)


def _client_credentials(org, form: dict, authorization: str):
    client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    if authorization.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(authorization[6:].strip()).decode()
            client_id, _, secret = decoded.partition(":")
        except (ValueError, UnicodeDecodeError):
            return _bad_client()
    app = _app(org, client_id)
    if app is None:
        return _bad_client_id()
    if not hmac.compare_digest(secret, app.client_secret):
        return _bad_client()
    user = org.identity.user(app.run_as_username) if app.run_as_username else None
    if user is None or not user.active:
        return _error("invalid_grant", "no client credentials user enabled")
    return _issue(org, app, user)


def identity_url(org, user: User) -> str:
    return f"{org.instance_url}/id/{org.org_id}/{user.id}"


def _issue(org, app: ConnectedApp, user: User) -> tuple[int, dict]:
    with org.reading():
        session = org.identity.open_session(user, app.client_id)
    issued_at = str(int(session.issued_at * 1000))
    user_url = identity_url(org, user)
    signature = base64.b64encode(
        hmac.new(
            app.client_secret.encode(), (user_url + issued_at).encode(), hashlib.sha256
        ).digest()
    ).decode()
    return 200, {
        "access_token": session.token,
        "instance_url": org.instance_url,
        "id": user_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "signature": signature,
        "scope": app.scope,
    }


def revoke(org, form: dict) -> tuple[int, dict | None]:
    if org.revoke(form.get("token", "")):
        return 200, None
    return _error("unsupported_token_type", "this token type is not supported")


def userinfo(org, session) -> dict:
    user = org.identity.user_by_id(session.user_id)
    return {
        "sub": identity_url(org, user),
        "user_id": user.id,
        "organization_id": org.org_id,
        "preferred_username": user.username,
        "nickname": user.username.split("@")[0],
        "name": f"{user.first_name} {user.last_name}".strip(),
        "email": user.email,
        "email_verified": True,
        "given_name": user.first_name,
        "family_name": user.last_name,
        "zoneinfo": "America/Los_Angeles",
        "active": user.active,
        "user_type": "STANDARD",
        "language": "en_US",
        "locale": "en_US",
        "utcOffset": -28800000,
        "urls": {
            "rest": f"{org.instance_url}/services/data/v{{version}}/",
            "sobjects": f"{org.instance_url}/services/data/v{{version}}/sobjects/",
            "query": f"{org.instance_url}/services/data/v{{version}}/query/",
        },
        "is_app_installed": True,
        "updated_at": "2026-01-01T00:00:00Z",
    }
