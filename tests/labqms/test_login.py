"""Sign-in: throttled after repeated failures; security headers on every page."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory


@pytest.mark.django_db
def test_login_is_locked_after_five_failures_even_with_the_right_password(client):
    UserFactory(username="tech9", password="right-password-1")
    url = reverse("login")
    statuses = [
        client.post(url, {"username": "tech9", "password": "wrong"}).status_code for _ in range(5)
    ]
    # The fifth failure reaches AXES_FAILURE_LIMIT and is answered with the lockout page.
    assert statuses == [200, 200, 200, 200, 429]
    locked = client.post(url, {"username": "tech9", "password": "right-password-1"})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_other_users_are_not_locked_by_someone_elses_failures(client):
    UserFactory(username="tech9", password="right-password-1")
    UserFactory(username="tech8", password="right-password-2")
    for _ in range(5):
        client.post(reverse("login"), {"username": "tech9", "password": "wrong"})
    response = client.post(reverse("login"), {"username": "tech8", "password": "right-password-2"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(client):
    response = client.get(reverse("login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert response["X-Frame-Options"] == "DENY"
