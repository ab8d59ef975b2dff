"""The role groups: made by migration 0005, kept up to date, used by the demo."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from integrations import roles
from tests.support.roles import member

pytestmark = pytest.mark.django_db


def permissions_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def integrations_models() -> list[str]:
    return [
        m._meta.model_name for m in apps.get_app_config("integrations").get_models()
    ]


def test_migration_made_the_three_groups():
    names = set(Group.objects.values_list("name", flat=True))

    assert {"Finance staff", "Integration admin", "Auditor"} <= names


def test_finance_staff_work_records_and_fix_data_but_not_configuration():
    granted = permissions_of(roles.FINANCE)

    assert {
        "integrations.view_syncrecord",
        "integrations.change_syncrecord",
        "integrations.view_syncattempt",
        "integrations.view_inboundevent",
        "integrations.view_connection",
        "integrations.view_fieldmapping",
        "integrations.view_flowconfig",
        "integrations.add_crossreference",
        "integrations.change_crossreference",
        "integrations.add_matchdecision",
        "integrations.change_matchdecision",
        "integrations.view_historicalsyncrecord",
    } <= granted
    for refused in (
        "integrations.change_connection",
        "integrations.change_fieldmapping",
        "integrations.add_fieldmapping",
        "integrations.change_flowconfig",
        "integrations.change_alertrule",
        "integrations.view_connectionapikey",
        "integrations.add_syncrecord",
    ):
        assert refused not in granted
    assert not any(".delete_" in name for name in granted)


def test_auditor_may_view_every_integrations_model_and_nothing_else():
    granted = permissions_of(roles.AUDITOR)

    assert granted == {f"integrations.view_{m}" for m in integrations_models()}
    assert "integrations.view_historicalsyncrecord" in granted


def test_integration_admin_has_every_integrations_permission_and_sees_users():
    granted = permissions_of(roles.INTEGRATION_ADMIN)
    everything = {
        f"integrations.{p.codename}"
        for p in Permission.objects.filter(content_type__app_label="integrations")
    }

    assert everything <= granted
    assert {"auth.view_user", "axes.delete_accessattempt"} <= granted
    assert "auth.change_user" not in granted


def test_ensure_roles_restores_a_deleted_group_and_changes_nothing_when_run_again():
    Group.objects.filter(name=roles.FINANCE).delete()

    call_command("ensure_roles", verbosity=0)
    first = permissions_of(roles.FINANCE)
    call_command("ensure_roles", verbosity=0)

    assert permissions_of(roles.FINANCE) == first
    assert Group.objects.filter(name=roles.FINANCE).count() == 1
    assert "integrations.change_syncrecord" in first


def test_ensure_roles_keeps_hand_added_permissions_unless_asked_to_be_exact():
    auditor = Group.objects.get(name=roles.AUDITOR)
    extra = Permission.objects.get(codename="change_crossreference")
    auditor.permissions.add(extra)

    call_command("ensure_roles", verbosity=0)
    assert "integrations.change_crossreference" in permissions_of(roles.AUDITOR)

    call_command("ensure_roles", "--exact", verbosity=0)
    assert "integrations.change_crossreference" not in permissions_of(roles.AUDITOR)


def test_migrate_gives_the_groups_permissions_they_lack():
    """What happens when a later migration adds a model: its "view" is added."""
    auditor = Group.objects.get(name=roles.AUDITOR)
    auditor.permissions.remove(Permission.objects.get(codename="view_streamcursor"))

    call_command("migrate", verbosity=0)

    assert "integrations.view_streamcursor" in permissions_of(roles.AUDITOR)


@pytest.mark.django_db(transaction=True)
def test_migration_reverses_by_removing_the_groups_and_applies_again():
    call_command("migrate", "integrations", "0004", verbosity=0)
    assert not Group.objects.filter(name__in=roles.BY_NAME).exists()

    call_command("migrate", "integrations", verbosity=0)
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.BY_NAME)
    assert "integrations.change_syncrecord" in permissions_of(roles.FINANCE)


def test_demo_data_makes_a_login_per_role():
    call_command("load_demo_data", password="pw-for-test-123")
    call_command("load_demo_data", password="pw-for-test-123")

    finance = authenticate(username="finance", password="pw-for-test-123")
    auditor = authenticate(username="auditor", password="pw-for-test-123")
    assert finance is not None and auditor is not None
    assert roles.is_finance(finance) and not finance.is_superuser
    assert roles.is_auditor(auditor) and not auditor.is_superuser
    assert finance.is_staff and auditor.is_staff
    assert [g.name for g in finance.groups.all()] == [roles.FINANCE]


@pytest.mark.parametrize(
    ("role", "works_records", "changes_mappings", "edits_xrefs", "scopes"),
    [
        (roles.FINANCE, True, False, True, {"records:read", "records:write"}),
        (roles.AUDITOR, False, False, False, {"records:read"}),
        (
            roles.INTEGRATION_ADMIN,
            True,
            True,
            True,
            {"records:read", "records:write"},
        ),
        (None, False, False, False, set()),
    ],
)
def test_role_helpers_answer_from_the_groups(
    role, works_records, changes_mappings, edits_xrefs, scopes
):
    user = member(role)

    assert roles.can_work_records(user) is works_records
    assert roles.can_change_mappings(user) is changes_mappings
    assert roles.can_change_flows(user) is changes_mappings
    assert roles.can_edit_cross_references(user) is edits_xrefs
    assert roles.can_replace_secrets(user) is changes_mappings
    assert roles.session_scopes(user) == scopes
    assert roles.is_finance(user) is (role == roles.FINANCE)
    assert roles.is_integration_admin(user) is (role == roles.INTEGRATION_ADMIN)


def test_superuser_counts_as_integration_admin_but_not_as_finance(admin_user):
    assert roles.is_integration_admin(admin_user)
    assert not roles.is_finance(admin_user)
    assert roles.session_scopes(admin_user) == {"records:read", "records:write"}
