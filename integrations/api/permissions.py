"""What a caller may do: one permission per API-key scope.

Staff members signed in to the admin may use the records API with their session,
so the same buttons work from a browser and a script. A session carries the
scopes its person's role allows (``roles.session_scopes``): an Auditor reads,
Finance staff and Integration admins also resubmit and ignore. API keys keep
exactly the scopes they were given.
"""

from __future__ import annotations

from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from integrations import roles
from integrations.models import ConnectionAPIKey

Scope = ConnectionAPIKey.Scope

# Scopes a staff session may ever carry; inbound is for machines only.
STAFF_SCOPES = frozenset(Scope(scope) for scope in roles.SESSION_SCOPES)


class HasScope(BasePermission):
    """``permission_classes = [HasScope("records:read")]``.

    DRF instantiates each entry of ``permission_classes``; an instance that
    returns itself when called lets the scope be written where it is used.
    Refusals raise, so each says exactly what is missing.
    """

    def __init__(self, scope: str) -> None:
        self.scope = Scope(scope)

    def __call__(self) -> HasScope:
        return self

    def __repr__(self) -> str:
        return f"HasScope({self.scope.value!r})"

    def has_permission(self, request: Request, view) -> bool:
        key = request.auth
        if isinstance(key, ConnectionAPIKey):
            if key.has_scope(self.scope):
                return True
            raise PermissionDenied(
                f"The API key {key.name!r} lacks the {self.scope.value} scope."
            )
        user = request.user
        if user is not None and user.is_authenticated:
            if user.is_staff and self.scope in roles.session_scopes(user):
                return True
            if user.is_staff and self.scope in STAFF_SCOPES:
                raise PermissionDenied(
                    f"Your role does not let you {self.scope.label.lower()} "
                    f"({self.scope.value})."
                )
            if user.is_staff:
                raise PermissionDenied(
                    f"The {self.scope.value} scope needs an API key, not a session."
                )
            raise PermissionDenied(
                "Only staff members may use this API with a session; "
                "external systems need an API key."
            )
        raise NotAuthenticated(
            'Send an API key as "Authorization: Api-Key <key>" or "X-Api-Key: <key>".'
        )
