"""Clients that carry API keys, for the API tests."""

import pytest
from django.test import Client

from tests.api.helpers import key_client


@pytest.fixture
def reader(db) -> Client:
    return key_client("records:read")


@pytest.fixture
def writer(db) -> Client:
    return key_client("records:read", "records:write")
