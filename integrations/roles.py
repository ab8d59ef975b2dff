"""The three roles people sign in with, as data, and the questions pages ask.

Each role is a Django group whose permissions are spelled out here; migration
0005 creates the groups, and after every ``migrate`` each group gets any
permission it lacks (a new model's "view" for the Auditor, say). The
admin and the API then ask Django's ordinary ``user.has_perm``, so a
superuser, a role member and a hand-made group are all judged the same way.

Finance staff may add and correct cross-references and customer-match
decisions: fixing "item WIDGET-9 is unknown" from the record page is data
work, not configuration. Field mappings, flows, connections (and their
secrets), alert rules and API keys stay with the Integration admin.
"""

from __future__ import annotations

from dataclasses import dataclass

FINANCE = "Finance staff"
INTEGRATION_ADMIN = "Integration admin"
AUDITOR = "Auditor"

APP = "integrations"
GROUPS_MIGRATION = "0005_groups"
ACTIONS = ("add", "change", "delete", "view")


@dataclass(frozen=True)
class Role:
    """A group name, what it is for, and its permissions.

    ``models`` maps a model name (lower case, as in permission codenames) of
    the integrations app to the actions allowed on it; ``all_models`` grants
    those actions on every integrations model, present and future; ``extra``
    holds other apps' permissions as "app_label.codename".
    """

    name: str
    description: str
    models: tuple[tuple[str, tuple[str, ...]], ...] = ()
    all_models: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()


def _view(*names: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    return tuple((name, ("view",)) for name in names)


ROLES: tuple[Role, ...] = (
    Role(
        name=FINANCE,
        description="Works the queue: sees records and why they failed, corrects "
        "payloads, cross-references and customer matches, resubmits, ignores and "
        "assigns records. Never sees connection secrets; cannot change mappings, "
        "flows or connections.",
        models=(
            ("syncrecord", ("view", "change")),
            ("crossreference", ("view", "add", "change")),
            ("matchdecision", ("view", "add", "change")),
            *_view(
                "syncattempt",
                "inboundevent",
                "flowconfig",
                "fieldmapping",
                "connection",
                "currencyrate",
                "alert",
                # Their pages' "History" (who did what, when).
                "historicalsyncrecord",
                "historicalcrossreference",
                "historicalmatchdecision",
                "historicalflowconfig",
                "historicalfieldmapping",
                "historicalconnection",
                "historicalcurrencyrate",
            ),
        ),
    ),
    Role(
        name=INTEGRATION_ADMIN,
        description="Runs the integrations: connections and their secrets, flows, "
        "mappings, cross-references, alerts, API keys, and everything Finance "
        "staff do. Sees who the users are and may lift a sign-in lockout.",
        all_models=ACTIONS,
        extra=(
            "auth.view_user",
            "auth.view_group",
            "axes.view_accessattempt",
            "axes.delete_accessattempt",
            "axes.view_accesslog",
            "axes.view_accessfailurelog",
        ),
    ),
    Role(
        name=AUDITOR,
        description="Reads everything, history included; changes nothing.",
        all_models=("view",),
    ),
)
BY_NAME = {role.name: role for role in ROLES}

# What a signed-in person's session may do in the API, by model permission.
# Inbound events and credit checks are for machines with API keys only.
SESSION_SCOPES = {
    "records:read": f"{APP}.view_syncrecord",
    "records:write": f"{APP}.change_syncrecord",
}


def codenames(role: Role, model_names: list[str]) -> set[str]:
    """The role's permissions as "app_label.codename", given the app's models."""
    wanted = {
        f"{APP}.{action}_{model}" for model, acts in role.models for action in acts
    }
    wanted |= {
        f"{APP}.{action}_{model}" for model in model_names for action in role.all_models
    }
    return wanted | set(role.extra)


def apply(apps, *, exact: bool, using: str = "default") -> dict[str, int]:
    """Make each role group (if missing) and give it its permissions.

    ``apps`` is a migration's app registry (or ``django.apps.apps``). A group
    made here gets exactly its role's permissions. An existing group gains the
    ones it lacks; with ``exact`` it also loses those its role does not list,
    otherwise permissions an operator added by hand are kept. Permissions that
    do not exist yet (an app not migrated) are skipped and picked up later.
    Returns how many permissions each group has.
    """
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    model_names = [m._meta.model_name for m in apps.get_app_config(APP).get_models()]
    counts = {}
    for role in ROLES:
        group, made = group_model.objects.using(using).get_or_create(name=role.name)
        wanted = _permissions(
            permission_model.objects.using(using), codenames(role, model_names)
        )
        if made or exact:
            group.permissions.set(wanted)
        else:
            group.permissions.add(*wanted)
        counts[role.name] = group.permissions.count()
    return counts


def _permissions(permissions, names: set[str]) -> list:
    by_app: dict[str, set[str]] = {}
    for name in names:
        app_label, _, codename = name.partition(".")
        by_app.setdefault(app_label, set()).add(codename)
    found = []
    for app_label, codes in by_app.items():
        found.extend(
            permissions.filter(content_type__app_label=app_label, codename__in=codes)
        )
    return found


def refresh_after_migrate(sender, apps=None, using="default", **kwargs) -> None:
    """``post_migrate`` receiver: the role groups exist, with their permissions,
    whenever migration 0005 is applied; new models' rights are added.

    Also after a test database is flushed. Migrating back before 0005 leaves
    the groups removed.
    """
    from django.apps import apps as global_apps
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    registry = apps or global_apps
    try:
        registry.get_model("auth", "Group")
        registry.get_app_config(APP)
    except LookupError:
        return
    applied = MigrationRecorder(connections[using]).applied_migrations()
    if (APP, GROUPS_MIGRATION) in applied:
        apply(registry, exact=False, using=using)


# -- questions pages ask ----------------------------------------------------------


def role_names(user) -> frozenset[str]:
    """The role groups the user belongs to (cached on the user object)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_ledgerbridge_roles", None)
    if cached is None:
        cached = frozenset(
            user.groups.filter(name__in=BY_NAME).values_list("name", flat=True)
        )
        user._ledgerbridge_roles = cached
    return cached


def is_finance(user) -> bool:
    """Finance staff land on the work queue."""
    return FINANCE in role_names(user)


def is_auditor(user) -> bool:
    return AUDITOR in role_names(user)


def is_integration_admin(user) -> bool:
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    return INTEGRATION_ADMIN in role_names(user)


def can_work_records(user) -> bool:
    """Resubmit, ignore, assign, correct the payload."""
    return _has(user, "change_syncrecord")


def can_change_mappings(user) -> bool:
    return _has(user, "change_fieldmapping")


def can_change_flows(user) -> bool:
    return _has(user, "change_flowconfig")


def can_edit_cross_references(user) -> bool:
    return _has(user, "change_crossreference")


def can_replace_secrets(user) -> bool:
    """Secrets are never shown to anyone; changing a connection replaces them."""
    return _has(user, "change_connection")


def session_scopes(user) -> frozenset[str]:
    """The API scopes a signed-in staff member's session carries."""
    if user is None or not user.is_authenticated or not user.is_staff:
        return frozenset()
    return frozenset(
        scope for scope, perm in SESSION_SCOPES.items() if user.has_perm(perm)
    )


def _has(user, codename: str) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(f"{APP}.{codename}")
    )
