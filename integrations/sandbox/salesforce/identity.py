"""Who may call the org: users, connected apps and the sessions they hold."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field


@dataclass
class User:
    id: str
    username: str
    password: str
    security_token: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    profile: str = "System Administrator"
    active: bool = True


@dataclass
class ConnectedApp:
    name: str
    client_id: str
    client_secret: str
    public_key_pem: str = ""  # the certificate/public key uploaded for JWT
    run_as_username: str = ""  # client-credentials flow's execution user
    scope: str = "api"


@dataclass
class Session:
    token: str
    user_id: str
    client_id: str
    expires_at: float
    issued_at: float = field(default_factory=time.time)


class Identity:
    """Users, apps and sessions; guarded by the org's lock."""

    def __init__(self, org_id: str, *, session_seconds: float = 7200) -> None:
        self.org_id = org_id
        self.session_seconds = session_seconds
        self.users: dict[str, User] = {}  # by lower-case username
        self.apps: dict[str, ConnectedApp] = {}  # by client id
        self.sessions: dict[str, Session] = {}

    def user(self, username: str) -> User | None:
        return self.users.get((username or "").lower())

    def user_by_id(self, user_id: str) -> User | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def open_session(self, user: User, client_id: str) -> Session:
        token = f"{self.org_id[:15]}!AQ{secrets.token_urlsafe(72)[:96]}"
        now = time.time()
        session = Session(token, user.id, client_id, now + self.session_seconds, now)
        self.sessions[token] = session
        return session

    def session(self, token: str) -> Session | None:
        session = self.sessions.get(token)
        if session is None:
            return None
        if session.expires_at <= time.time():
            del self.sessions[token]
            return None
        user = self.user_by_id(session.user_id)
        if user is None or not user.active:
            return None
        return session
