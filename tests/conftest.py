"""Test wiring: real Redis (the embedded one, or REDIS_URL), real database."""

from __future__ import annotations

import pytest
from django.conf import settings

from integrations.flows import registry


@pytest.fixture(scope="session", autouse=True)
def _embedded_redis():
    """Start the test run's private redis-server when REDIS_URL is not set."""
    from portal import embedded

    started = False
    if settings.REDIS_IS_EMBEDDED:
        started = embedded.ensure_redis(settings.EMBEDDED_REDIS_DIR)
    yield
    if started:
        embedded.stop_redis(settings.EMBEDDED_REDIS_DIR)


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    """Pages render ``{% static %}``; tests run without collectstatic's manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(scope="session", autouse=True)
def _test_flows():
    import tests.support.flows  # noqa: F401 - registers the flows tests use

    assert "test_effect" in registry.names()


@pytest.fixture
def redis_conn():
    """The queue's Redis, emptied before the test."""
    from integrations.engine.dispatch import queue

    conn = queue().connection
    conn.flushdb()
    yield conn
    conn.flushdb()


@pytest.fixture
def queue(redis_conn):
    from integrations.engine.dispatch import queue as get_queue

    return get_queue()
