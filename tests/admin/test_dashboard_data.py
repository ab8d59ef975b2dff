"""The dashboard's charts and their JSON refresh."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations.engine import clients
from integrations.models import RecordStatus
from tests.factories import ConnectionFactory, FlowConfigFactory, SyncRecordFactory

pytestmark = pytest.mark.django_db

DATA = reverse("admin:dashboard-data")
INDEX = reverse("admin:index")


def test_dashboard_json_has_the_figures_the_page_shows(admin_client, redis_conn):
    scripted = FlowConfigFactory(flow="test_scripted")
    SyncRecordFactory(flow_config=scripted, status=RecordStatus.SUCCEEDED)
    SyncRecordFactory(
        flow_config=scripted,
        status=RecordStatus.NEEDS_ATTENTION,
        error_category="validation",
    )

    data = admin_client.get(DATA).json()

    counts = {s["value"]: s["count"] for s in data["statuses"]}
    assert counts["needs_attention"] == 1 and counts["succeeded"] == 1
    assert sum(data["activity"]["by_hour"]["needs_attention"]) == 1
    assert sum(data["activity"]["by_day"]["succeeded"]) == 1
    (flow,) = data["flows_24h"]
    assert (flow["name"], flow["total"]) == ("test_scripted", 2)
    assert data["oldest"]["url"].startswith("/admin/integrations/syncrecord/")
    assert data["retries"]["scheduled"] == 0


def test_dashboard_json_shows_each_connections_calls_today(admin_client, redis_conn):
    shop = ConnectionFactory(name="Shop", calls_per_day=5000)
    for _ in range(2):
        clients.throttle_for(shop).take()

    (row,) = admin_client.get(DATA).json()["connections"]

    assert (row["name"], row["calls_today"], row["state"]) == (
        "Shop",
        "2 of 5,000",
        "unknown",
    )


def test_dashboard_json_is_only_for_people_who_may_see_records(
    client, django_user_model
):
    clerk = django_user_model.objects.create_user("clerk", password="pw", is_staff=True)
    client.force_login(clerk)

    assert client.get(DATA).status_code == 403

    clerk.user_permissions.add(Permission.objects.get(codename="view_syncrecord"))
    assert client.get(DATA).status_code == 200


def test_dashboard_json_needs_a_login(client):
    response = client.get(DATA)

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_dashboard_page_loads_its_script_and_initial_figures(admin_client, redis_conn):
    html = admin_client.get(INDEX).content.decode()

    assert 'src="/static/integrations/dashboard.js"' in html
    assert 'id="lb-dashboard-data"' in html
    assert f'data-url="{DATA}"' in html
    assert 'data-refresh="30"' in html
    assert 'data-chart="by_hour"' in html
    assert 'data-chart="by_day"' in html
    assert 'data-chart="succeeded_by_hour"' in html
