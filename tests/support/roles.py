"""Signed-in clients for each role, as the groups from migration 0005 define it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client


def member(role: str | None, username: str | None = None):
    """A staff user in the role's group (no group when ``role`` is None)."""
    user = get_user_model().objects.create_user(
        username or (role or "nobody").lower().replace(" ", "-"),
        password="a-long-test-password",
        is_staff=True,
    )
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    return user


def signed_in(user, **client_options) -> Client:
    client = Client(**client_options)
    client.force_login(user)
    return client
