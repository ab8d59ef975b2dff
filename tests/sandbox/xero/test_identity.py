"""The simulated Xero's OAuth 2.0 and /connections, over HTTPS."""

from __future__ import annotations

import base64

import pytest

from tests.sandbox.xero.fake_books import Clock, FakeBooks
from tests.support.xero import CALLBACK, running_xero


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def xero(tmp_path, clock):
    with running_xero(tmp_path, books_factory=FakeBooks, clock=clock) as running:
        yield running


def token(xero, **form):
    return xero.session().post(xero.token_url, data=form, timeout=10)


def with_client(xero, **form):
    return {"client_id": xero.client_id, "client_secret": xero.client_secret, **form}


def contacts(xero, access_token, tenant_id):
    return xero.session().get(
        xero.accounting_url + "/Contacts",
        headers={
            "Authorization": f"Bearer {access_token}",
            "xero-tenant-id": tenant_id,
        },
        timeout=10,
    )


def connections(xero, access_token):
    return xero.session().get(
        xero.url + "/connections",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )


def test_consent_page_lists_the_organisations_to_choose(xero):
    page = xero.session().get(
        xero.login_url,
        params={
            "response_type": "code",
            "client_id": xero.client_id,
            "redirect_uri": CALLBACK,
            "scope": "openid accounting.transactions offline_access",
            "state": "s1",
        },
        timeout=10,
    )
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    for tenant_id, name in xero.tenants:
        assert f'type="checkbox" name="tenant" value="{tenant_id}"' in page.text
        assert name in page.text
    assert 'value="allow"' in page.text and 'value="deny"' in page.text


def test_allow_redirects_with_a_code_and_deny_with_access_denied(xero):
    assert xero.authorise(CALLBACK, "state-1")
    assert xero.authorise(CALLBACK, "state-2", allow=False) == "access_denied"


@pytest.mark.parametrize(
    ("change", "shown"),
    [
        ({"response_type": "token"}, "response_type must be &#x27;code&#x27;"),
        ({"client_id": "NOPE"}, "client_id is not a registered app"),
        ({"redirect_uri": "https://evil.example/cb"}, "Invalid redirect_uri"),
        ({"scope": "accounting.everything"}, "unknown scope accounting.everything"),
    ],
)
def test_a_bad_authorise_request_shows_an_error_naming_the_parameter(
    xero, change, shown
):
    params = {
        "response_type": "code",
        "client_id": xero.client_id,
        "redirect_uri": CALLBACK,
        "scope": "openid accounting.transactions",
        "state": "s",
        **change,
    }
    page = xero.session().get(xero.login_url, params=params, timeout=10)
    assert page.status_code == 400
    assert shown in page.text


def test_a_code_is_exchanged_once_for_the_same_redirect_uri(xero, clock):
    code = xero.authorise(CALLBACK, "s")
    wrong = token(
        xero,
        **with_client(
            xero, grant_type="authorization_code", code=code, redirect_uri="https://x"
        ),
    )
    assert (wrong.status_code, wrong.json()) == (400, {"error": "invalid_grant"})
    issued = xero.exchange(code)
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 1800
    assert issued["expires_at"] == clock() + 1800
    assert {"access_token", "refresh_token", "id_token"} <= set(issued)
    again = token(
        xero,
        **with_client(
            xero, grant_type="authorization_code", code=code, redirect_uri=CALLBACK
        ),
    )
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})


def test_a_code_expires_after_five_minutes(xero, clock):
    code = xero.authorise(CALLBACK, "s")
    clock.advance(301)
    late = token(
        xero,
        **with_client(
            xero, grant_type="authorization_code", code=code, redirect_uri=CALLBACK
        ),
    )
    assert late.json() == {"error": "invalid_grant"}


def test_no_refresh_token_without_offline_access(xero):
    code = xero.authorise(CALLBACK, "s", scopes=("openid", "accounting.contacts"))
    assert "refresh_token" not in xero.exchange(code)


def test_client_authentication_by_basic_or_form_and_invalid_client(xero):
    code = xero.authorise(CALLBACK, "s")
    basic = base64.b64encode(f"{xero.client_id}:{xero.client_secret}".encode())
    answer = xero.session().post(
        xero.token_url,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
        },
        headers={"Authorization": f"Basic {basic.decode()}"},
        timeout=10,
    )
    assert answer.status_code == 200
    refresh = answer.json()["refresh_token"]
    bad = token(
        xero,
        grant_type="refresh_token",
        refresh_token=refresh,
        client_id=xero.client_id,
        client_secret="wrong",
    )
    assert (bad.status_code, bad.json()) == (401, {"error": "invalid_client"})
    odd = token(xero, **with_client(xero, grant_type="password"))
    assert (odd.status_code, odd.json()) == (400, {"error": "unsupported_grant_type"})


def test_an_access_token_works_for_thirty_minutes(xero, clock):
    settings, credentials = xero.connection()
    access = credentials["token_set"]["access_token"]
    clock.advance(1799)
    assert contacts(xero, access, settings["tenant_id"]).status_code == 200
    clock.advance(1)
    expired = contacts(xero, access, settings["tenant_id"])
    assert expired.status_code == 401
    assert expired.json()["Title"] == "Unauthorized"
    assert expired.json()["Detail"].startswith("TokenExpired: token expired at ")


def test_refresh_tokens_rotate_with_a_grace_period_for_the_old_one(xero, clock):
    _, credentials = xero.connection()
    first = credentials["token_set"]["refresh_token"]
    rotated = token(
        xero, **with_client(xero, grant_type="refresh_token", refresh_token=first)
    ).json()
    assert rotated["refresh_token"] != first
    clock.advance(1799)
    # A client that lost the answer retries with the old token: same new pair.
    retried = token(
        xero, **with_client(xero, grant_type="refresh_token", refresh_token=first)
    )
    assert retried.json() == rotated
    clock.advance(2)
    late = token(
        xero, **with_client(xero, grant_type="refresh_token", refresh_token=first)
    )
    assert (late.status_code, late.json()) == (400, {"error": "invalid_grant"})
    newest = token(
        xero,
        **with_client(
            xero, grant_type="refresh_token", refresh_token=rotated["refresh_token"]
        ),
    )
    assert newest.status_code == 200


def test_an_unused_refresh_token_expires_after_sixty_days(xero, clock):
    _, credentials = xero.connection()
    clock.advance(60 * 86400 + 1)
    answer = token(
        xero,
        **with_client(
            xero,
            grant_type="refresh_token",
            refresh_token=credentials["token_set"]["refresh_token"],
        ),
    )
    assert (answer.status_code, answer.json()) == (400, {"error": "invalid_grant"})


def test_revocation_ends_the_grant_its_tokens_and_connections(xero):
    settings, credentials = xero.connection()
    token_set = credentials["token_set"]
    answer = xero.session().post(
        xero.revocation_url,
        data=with_client(xero, token=token_set["refresh_token"]),
        timeout=10,
    )
    assert (answer.status_code, answer.content) == (200, b"")
    assert (
        contacts(xero, token_set["access_token"], settings["tenant_id"]).status_code
        == 401
    )
    again = token(
        xero,
        **with_client(
            xero, grant_type="refresh_token", refresh_token=token_set["refresh_token"]
        ),
    )
    assert again.json() == {"error": "invalid_grant"}
    assert xero.identity.connections == {}


def test_connections_list_every_organisation_the_user_chose(xero):
    (first, first_name), (second, second_name) = xero.tenants
    code = xero.authorise(CALLBACK, "s", tenant_ids=[first, second])
    access = xero.exchange(code)["access_token"]
    listed = connections(xero, access)
    assert listed.status_code == 200
    assert {
        (c["tenantId"], c["tenantName"], c["tenantType"]) for c in listed.json()
    } == {
        (first, first_name, "ORGANISATION"),
        (second, second_name, "ORGANISATION"),
    }
    event_id = listed.json()[0]["authEventId"]
    filtered = xero.session().get(
        xero.url + "/connections",
        params={"authEventId": event_id},
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    assert len(filtered.json()) == 2
    assert xero.problems == []


def test_deleting_a_connection_disconnects_that_organisation(xero):
    (first, _), (second, _) = xero.tenants
    access = xero.exchange(xero.authorise(CALLBACK, "s", tenant_ids=[first, second]))[
        "access_token"
    ]
    gone = next(c for c in connections(xero, access).json() if c["tenantId"] == second)
    session = xero.session()
    headers = {"Authorization": f"Bearer {access}"}
    deleted = session.delete(f"{xero.url}/connections/{gone['id']}", headers=headers)
    assert (deleted.status_code, deleted.content) == (204, b"")
    again = session.delete(f"{xero.url}/connections/{gone['id']}", headers=headers)
    assert again.status_code == 404
    assert contacts(xero, access, first).status_code == 200
    refused = contacts(xero, access, second)
    assert refused.status_code == 403
    assert refused.json()["Detail"] == "AuthenticationUnsuccessful"
    assert xero.problems == []


def test_a_custom_connection_needs_no_refresh_token_and_no_tenant_header(xero):
    (tenant, name), (other, _) = xero.tenants
    settings, credentials = xero.connection(tenant, grant="client_credentials")
    assert settings["grant"] == "client_credentials"
    token_set = credentials["token_set"]
    assert "refresh_token" not in token_set
    access = token_set["access_token"]
    assert contacts(xero, access, "").status_code == 200
    assert contacts(xero, access, tenant).status_code == 200
    assert contacts(xero, access, other).status_code == 403
    listed = connections(xero, access).json()
    assert [(c["tenantId"], c["tenantName"]) for c in listed] == [(tenant, name)]
    # The standard app cannot use the client-credentials grant.
    refused = token(xero, **with_client(xero, grant_type="client_credentials"))
    assert refused.json() == {"error": "unauthorized_client"}


def test_a_token_without_the_scope_an_operation_needs_is_refused(xero):
    (tenant, _), _ = xero.tenants
    code = xero.authorise(
        CALLBACK, "s", tenant_ids=[tenant], scopes=("openid", "accounting.settings")
    )
    access = xero.exchange(code)["access_token"]
    refused = contacts(xero, access, tenant)
    assert refused.status_code == 401
    assert refused.json()["Detail"] == "AuthorizationUnsuccessful"


def test_a_missing_or_unknown_bearer_token_gets_xeros_401(xero):
    (tenant, _), _ = xero.tenants
    for headers in ({}, {"Authorization": "Bearer nope"}):
        answer = xero.session().get(
            xero.accounting_url + "/Contacts",
            headers={**headers, "xero-tenant-id": tenant},
            timeout=10,
        )
        assert answer.status_code == 401
        body = answer.json()
        assert body["Type"] is None
        assert (body["Title"], body["Status"], body["Detail"]) == (
            "Unauthorized",
            401,
            "AuthenticationUnsuccessful",
        )
        assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
