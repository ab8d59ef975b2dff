"""People who sign in to the portal in the browser tests, one per role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

PASSWORD = "a-long-browser-password"


def person(username: str, role: str | None = None):
    """A staff login in a role's group (the groups come from migration 0005)."""
    user = get_user_model().objects.create_user(
        username,
        password=PASSWORD,
        is_staff=True,
        first_name=username.capitalize(),
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def sign_in(page, user) -> None:
    """Through the login form, as a person would."""
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", user.get_username())
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
