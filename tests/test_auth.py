from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_login_page_renders_for_strangers(stranger_client):
    response = stranger_client.get(reverse("login"))
    assert response.status_code == 200
    assert b"Log in to Flock" in response.content


def test_login_then_lands_on_contacts(stranger_client, marketer):
    response = stranger_client.post(
        reverse("login"), {"username": "alice", "password": "alice-password"}
    )
    assert response.status_code == 302
    assert response.url == reverse("contacts:list")


def test_wrong_password_is_explained(stranger_client, marketer):
    response = stranger_client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"enter a correct username and password" in response.content


def test_logout_needs_post_and_ends_the_session(marketer_client):
    response = marketer_client.post(reverse("logout"))
    assert response.status_code == 302
    assert marketer_client.get(reverse("contacts:list")).status_code == 302


def test_pages_show_navigation_and_htmx(marketer_client):
    body = marketer_client.get(reverse("contacts:list")).content.decode()
    assert 'aria-current="page">Contacts<' in body
    assert "htmx" in body
    assert 'hx-headers=\'{"X-CSRFToken"' in body
