"""django-rq's pages can empty queues: only Integration admins may open them."""

import pytest
from django.contrib.auth.models import Group, User

from integrations import roles

pytestmark = pytest.mark.django_db


def _user(name: str, group: str | None) -> User:
    user = User.objects.create_user(name, password="a-long-password-1", is_staff=True)
    if group:
        user.groups.add(Group.objects.get_or_create(name=group)[0])
    return user


@pytest.mark.parametrize(
    ("group", "status"),
    [(roles.FINANCE, 403), (roles.AUDITOR, 403), (roles.INTEGRATION_ADMIN, 200)],
)
def test_only_integration_admins_open_the_job_queue_pages(client, group, status):
    client.force_login(_user("someone", group))

    response = client.get("/admin/django-rq/")

    assert response.status_code == status


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/admin/django-rq/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
