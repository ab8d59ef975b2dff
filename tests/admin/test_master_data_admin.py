"""Field owners and master data links in the admin: the Integration admin's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import MasterDataFieldRule, MasterDataLink, System
from integrations.roles import AUDITOR, FINANCE, INTEGRATION_ADMIN
from tests.factories import ConnectionFactory
from tests.support.roles import member, signed_in

pytestmark = pytest.mark.django_db
RULES = "admin:integrations_masterdatafieldrule"


@pytest.fixture
def pair():
    return (
        ConnectionFactory(name="Sage ABC", system=System.SAGE100),
        ConnectionFactory(name="Xero books", system=System.XERO),
    )


def _rule(pair, **values) -> dict:
    sage, xero = pair
    return {
        "kind": "customer",
        "sage_connection": sage.pk,
        "xero_connection": xero.pk,
        "field": "email",
        "owner": "sage100",
        "note": "",
        **values,
    }


def test_the_integration_admin_chooses_who_wins_a_field(pair):
    client = signed_in(member(INTEGRATION_ADMIN))
    page = client.get(reverse(f"{RULES}_add")).content.decode()

    assert "Customers: name (name: ask), email (email address: Xero wins)" in page
    response = client.post(reverse(f"{RULES}_add"), _rule(pair))

    assert response.status_code == 302
    rule = MasterDataFieldRule.objects.get()
    assert (rule.kind, rule.field, rule.owner) == ("customer", "email", "sage100")


def test_a_field_the_kind_does_not_have_is_refused_in_words(admin_client, pair):
    response = admin_client.post(
        reverse(f"{RULES}_add"), _rule(pair, kind="item", field="email")
    )

    assert response.status_code == 200
    assert (
        "Items have no field &#x27;email&#x27;: choose one of name, sales_price, "
        "purchase_cost." in response.content.decode()
    )
    assert not MasterDataFieldRule.objects.exists()


def test_a_second_rule_for_the_same_field_is_refused_in_words(admin_client, pair):
    admin_client.post(reverse(f"{RULES}_add"), _rule(pair))

    response = admin_client.post(reverse(f"{RULES}_add"), _rule(pair, owner="xero"))

    assert "Customers already have a rule for email" in response.content.decode()
    assert MasterDataFieldRule.objects.get().owner == "sage100"


def test_finance_staff_cannot_change_field_owners(pair):
    client = signed_in(member(FINANCE))

    assert client.get(reverse(f"{RULES}_changelist")).status_code == 403
    assert client.post(reverse(f"{RULES}_add"), _rule(pair)).status_code == 403


def test_a_link_shows_what_both_sides_agreed_on_and_what_waits(pair):
    sage, xero = pair
    link = MasterDataLink.objects.create(
        kind="customer",
        sage_connection=sage,
        xero_connection=xero,
        sage_key="01-ABF",
        xero_id="8a1e4c1a-0000-4000-8000-000000000001",
        sage_values={"email": "ap@abf.test"},
        xero_values={"email": "ap@abf.test"},
        conflicts={
            "name": {"label": "name", "sage": "ABF Inc", "xero": "ABF LLC"},
        },
    )
    client = signed_in(member(AUDITOR))

    listing = client.get(reverse("admin:integrations_masterdatalink_changelist"))
    page = client.get(
        reverse("admin:integrations_masterdatalink_change", args=[link.pk])
    )

    assert "01-ABF" in listing.content.decode()
    html = page.content.decode()
    assert "<td>email</td><td>&quot;ap@abf.test&quot;</td>" in html
    assert "name: Sage 100 has &quot;ABF Inc&quot;, Xero has &quot;ABF LLC&quot;." in (
        html
    )
