"""Fixtures shared by every app: a marketer, an admin and a stranger; no custom
field index left behind by a test that committed its rows."""

from __future__ import annotations

import pytest
from django.test import Client

from contacts.db import CUSTOM_INDEX_PREFIX, own_connection
from tests.browser import (  # noqa: F401 (the browser tests' fixtures, for every module)
    browser_user_fixture,
    chromium_fixture,
    logged_in_page_fixture,
    page_fixture,
)


@pytest.fixture(autouse=True)
def _no_custom_field_index_left(request):
    """A test with committed rows (transaction=True, a live server) that registers a
    custom field leaves its index behind when the tables are flushed; the next test
    would find it stale and drop it while its own transaction holds the table."""
    yield
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(request.fixturenames)
    )
    if not transactional:
        return
    with own_connection() as conn:
        conn.execute("SET lock_timeout = '10s'")
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'contacts_contact' "
            "AND starts_with(indexname, %s)",
            [CUSTOM_INDEX_PREFIX],
        ).fetchall()
        for (name,) in rows:
            conn.execute(f'DROP INDEX IF EXISTS "{name}"')


@pytest.fixture
def marketer(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password")


@pytest.fixture
def admin(django_user_model):
    return django_user_model.objects.create_superuser("bob", "bob@example.com", "bob-password")


@pytest.fixture
def marketer_client(marketer) -> Client:
    client = Client()
    client.force_login(marketer)
    return client


@pytest.fixture
def admin_client_(admin) -> Client:
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def stranger_client() -> Client:
    """Not logged in (healthchecks' charlie)."""
    return Client()
