"""Per-token rate limit: 429 JSON with Retry-After, counted in the shared Redis cache."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.api.conftest import errors_of
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db


def test_the_cache_is_the_shared_redis():
    assert isinstance(caches["default"], RedisCache)
    cache.set("probe", "seen", 30)
    # Another process (a second web worker) would see it: read it back over a new connection.
    raw = redis.Redis.from_url(settings.REDIS_URL)
    assert raw.get(cache.make_key("probe")) is not None


def test_too_many_requests_are_a_429_with_retry_after(api, settings):
    settings.API_RATE = "3/min"
    for _ in range(3):
        assert api.get("/api/tags").status_code == 200
    response = api.get("/api/tags")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    (error,) = errors_of(response)
    assert error["path"] == ""
    assert error["message"].startswith("Request was throttled.")


def test_each_token_has_its_own_allowance(api, settings, django_user_model):
    settings.API_RATE = "2/min"
    for _ in range(2):
        api.get("/api/tags")
    assert api.get("/api/tags").status_code == 429
    other = django_user_model.objects.create_user("dora")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=other).key}")
    assert client.get("/api/tags").status_code == 200


def test_the_count_lives_in_redis_not_in_the_process(api, settings, marketer):
    settings.API_RATE = "2/min"
    api.get("/api/tags")
    api.get("/api/tags")
    raw = redis.Redis.from_url(settings.REDIS_URL)
    assert raw.exists(cache.make_key(f"throttle_api_{marketer.pk}"))
    assert api.get("/api/tags").status_code == 429


def test_requests_without_a_token_are_refused_before_any_counting(anonymous, settings):
    settings.API_RATE = "1/min"
    for _ in range(3):
        assert anonymous.get("/api/tags").status_code == 401


@pytest.mark.parametrize("rate", ["lots", "100", "100/fortnight", "0/min", "-5/s"])
def test_a_bad_rate_stops_start_up_naming_the_variable(rate):
    result = run_manage("check", FLOCK_API_RATE=rate, DJANGO_DEBUG="true")
    assert result.returncode != 0
    assert f"FLOCK_API_RATE={rate!r} is not a rate" in result.stderr
