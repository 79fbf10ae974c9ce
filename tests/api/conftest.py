import pytest
from rest_framework.test import APIClient

from units.models import ApiToken, TokenScope


@pytest.fixture
def api():
    """An API client authenticated by a real (knox) token of `user`. An API-client account
    gets the `scope` asked for — records by default, so the jurisdiction tests can reach
    every endpoint; the statistics scope is tested on its own."""

    def _client(user=None, scope=TokenScope.RECORDS):
        client = APIClient()
        if user is not None:
            _token, raw = ApiToken.objects.create(user=user, scope=scope)
            client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
        return client

    return _client
