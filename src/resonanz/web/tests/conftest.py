"""Fixtures for the web UI tests: logged-in clients per role, a Mastodon channel with cached limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from resonanz.accounts.models import User
from resonanz.channels.models import Channel


@pytest.fixture
def login() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make


@pytest.fixture
def owner_client(owner: User, login: Callable[[User], Client]) -> Client:
    return login(owner)


@pytest.fixture
def mastodon(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")
