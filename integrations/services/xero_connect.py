"""Connect to Xero: the authorisation-code flow an Integration admin runs.

1. ``start``: a ``state`` signed by us, bound to the admin's session (a one-use
   nonce kept there) and to the connection, valid for ten minutes; the browser
   goes to Xero's consent page.
2. ``finish``: Xero sends the browser back with ``code`` and ``state`` (or an
   ``error``); the code becomes a token set, saved in the connection's
   encrypted credentials, and ``/connections`` lists the organisations it
   reaches.
3. ``choose_tenant``: the admin picks one; its id and name go in the settings,
   and the connection is active again (waiting records wake up).
``disconnect`` undoes it: ``DELETE /connections/{id}``, revoke the refresh
token, forget the token set. Every step is in the connection's history (the
credentials never are).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.core import signing
from django.db import transaction
from simple_history.utils import update_change_reason

from integrations.connectors.xero import auth
from integrations.connectors.xero.settings import XeroSettings
from integrations.engine import clients
from integrations.engine.errors import SyncError
from integrations.models import Connection, ConnectionStatus, System

SESSION_KEY = "xero_connect"
STATE_SALT = "integrations.xero.connect"
STATE_MAX_AGE = 600  # seconds the admin has to consent at Xero


class ConnectFailed(Exception):
    """Connect to Xero did not finish; the message is for the admin."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Tenant:
    connection_id: str  # the /connections entry's id, for DELETE /connections/{id}
    tenant_id: str
    name: str
    tenant_type: str

    @classmethod
    def from_api(cls, item: dict) -> Tenant:
        return cls(
            connection_id=str(item.get("id") or ""),
            tenant_id=str(item.get("tenantId") or ""),
            name=str(item.get("tenantName") or item.get("tenantId") or "?"),
            tenant_type=str(item.get("tenantType") or "ORGANISATION"),
        )


def settings_for(connection: Connection) -> XeroSettings:
    if connection.system != System.XERO:
        raise ConnectFailed(f"{connection.name} is not a Xero connection.")
    try:
        return XeroSettings.from_connection(
            connection.settings or {}, connection.credentials or {}
        )
    except SyncError as exc:
        raise ConnectFailed(f"Fix the connection first: {exc}") from exc


def start(session, connection: Connection, *, redirect_uri: str) -> str:
    """The consent page address to send the admin's browser to."""
    conf = settings_for(connection)
    if conf.is_custom_connection:
        raise ConnectFailed(
            f"{connection.name} is a custom connection (client credentials): it "
            "needs no consent in Xero. Press Test connection to check it."
        )
    redirect_uri = conf.redirect_uri or redirect_uri
    nonce = secrets.token_urlsafe(24)
    session[SESSION_KEY] = {
        "nonce": nonce,
        "connection": connection.pk,
        "redirect_uri": redirect_uri,
    }
    state = signing.dumps({"c": connection.pk, "n": nonce}, salt=STATE_SALT)
    return auth.authorisation_url(conf, redirect_uri=redirect_uri, state=state)


def finish(
    session, *, state: str, code: str = "", error: str = "", error_description=""
) -> tuple[Connection, list[Tenant]]:
    """Check the state, turn the code into a token set, list the tenants."""
    pending = session.pop(SESSION_KEY, None)
    try:
        signed = signing.loads(state or "", salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.SignatureExpired:
        raise ConnectFailed(
            "Connect to Xero took longer than ten minutes; press Connect to Xero again."
        ) from None
    except signing.BadSignature:
        raise ConnectFailed(
            "Xero sent back a request this portal did not start (its state does "
            "not match); press Connect to Xero again."
        ) from None
    if (
        not pending
        or pending.get("nonce") != signed.get("n")
        or (pending.get("connection") != signed.get("c"))
    ):
        raise ConnectFailed(
            "This Connect to Xero was started in another browser session, or was "
            "already finished; press Connect to Xero again."
        )
    connection = Connection.objects.filter(pk=signed["c"]).first()
    if connection is None:
        raise ConnectFailed("The connection was deleted while Xero was asking.")
    if error:
        raise ConnectFailed(_refusal(error, error_description))
    if not code:
        raise ConnectFailed("Xero sent the browser back without a code; try again.")
    conf = settings_for(connection)
    try:
        tokens = auth.exchange_code(conf, code, pending["redirect_uri"])
        tenants = [Tenant.from_api(t) for t in auth.connections_with(conf, tokens)]
    except SyncError as exc:
        raise ConnectFailed(f"Xero did not finish the connection: {exc}") from exc
    _save_tokens(connection, tokens, reason="Authorised in Xero (Connect to Xero)")
    if not tenants:
        raise ConnectFailed(
            "Xero authorised the app but no organisation was shared with it; "
            "press Connect to Xero again and tick an organisation."
        )
    return connection, tenants


def _refusal(error: str, description: str) -> str:
    if error == "access_denied":
        return (
            "Xero was not given access: the consent was declined in Xero. Press "
            "Connect to Xero again and choose Allow access."
        )
    said = f"{error}: {description}" if description else error
    return f"Xero refused to authorise the app ({said}); check the app's set-up."


def tenants(connection: Connection) -> list[Tenant]:
    """The organisations the stored login reaches (renewing it if needed)."""
    try:
        return [Tenant.from_api(t) for t in clients.build(connection).connections()]
    except SyncError as exc:
        raise ConnectFailed(f"Cannot list the Xero organisations: {exc}") from exc


def choose_tenant(connection: Connection, tenant_id: str, *, user=None) -> int:
    """Use this organisation; returns how many waiting records wake up."""
    from integrations.services.connections import reauthorised

    found = {t.tenant_id: t for t in tenants(connection)}
    chosen = found.get(tenant_id)
    if chosen is None:
        raise ConnectFailed(
            "That organisation is not shared with the app any more; choose one "
            "from the list."
        )
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        connection.settings = {
            **(connection.settings or {}),
            "tenant_id": chosen.tenant_id,
            "tenant_name": chosen.name,
            "xero_connection_id": chosen.connection_id,
        }
        connection._change_reason = f"Connected to Xero organisation {chosen.name}"
        woken = reauthorised(connection)
    return woken


def disconnect(connection: Connection) -> str:
    """Disconnect the organisation and revoke the login; says what was done."""
    conf = settings_for(connection)
    done = []
    if conf.token_set and not conf.is_custom_connection:
        client = clients.build(connection)
        entry = str((connection.settings or {}).get("xero_connection_id") or "")
        try:
            if not entry:
                entry = next(
                    (
                        t.connection_id
                        for t in tenants(connection)
                        if t.tenant_id == conf.tenant_id
                    ),
                    "",
                )
            if entry:
                client.disconnect_tenant(entry)
                done.append("the organisation is disconnected in Xero")
            current = client.tokens.load() or conf.token_set
            if current.get("refresh_token"):
                auth.revoke(conf, current["refresh_token"])
                done.append("the app's login is revoked")
        except (SyncError, ConnectFailed) as exc:
            message = exc.message if isinstance(exc, ConnectFailed) else str(exc)
            raise ConnectFailed(
                f"Xero did not accept the disconnection: {message}"
            ) from exc
    with transaction.atomic():
        connection = Connection.objects.select_for_update().get(pk=connection.pk)
        credentials = dict(connection.credentials or {})
        credentials.pop("token_set", None)
        connection.credentials = credentials
        connection.settings = {
            k: v
            for k, v in (connection.settings or {}).items()
            if k != "xero_connection_id"
        }
        connection.status = ConnectionStatus.NEEDS_REAUTH
        connection.status_message = (
            "Disconnected from Xero; press Connect to Xero to connect again."
        )
        connection._change_reason = "Disconnected from Xero"
        connection.save()
    return "; ".join(done) or "the stored login is forgotten"


def _save_tokens(connection: Connection, tokens: dict, *, reason: str) -> None:
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        row.credentials = {**(row.credentials or {}), "token_set": tokens}
        row.save()
        update_change_reason(row, reason)
    connection.credentials = row.credentials
