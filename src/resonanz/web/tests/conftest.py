"""Fixtures for the web UI tests: logged-in clients per role, a Mastodon channel with cached limits."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from resonanz.channels.models import Channel


@pytest.fixture
def mastodon(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")
