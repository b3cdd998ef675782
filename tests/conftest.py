"""Fixtures shared by every app: a marketer, an admin and a stranger."""

from __future__ import annotations

import pytest
from django.test import Client


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
