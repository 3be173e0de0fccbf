"""Fixtures of the link tests: a channel, a campaign, a post, links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.campaigns.models import Campaign
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel
from resonanz.links import services
from resonanz.links.models import ShortLink
from resonanz.posts.models import Post


@pytest.fixture(autouse=True)
def _fresh_salt_memo():
    # The salt memo is per process; each test starts without one (its database has no salt either).
    services._salt_memo.clear()
    yield
    services._salt_memo.clear()


@pytest.fixture
def channel(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")


@pytest.fixture
def campaign(workspace: Workspace, owner: User) -> Campaign:
    return campaign_create(workspace=workspace, actor=owner, name="Sommer Aktion 2026", goal="traffic")


@pytest.fixture
def post(workspace: Workspace, owner: User, campaign: Campaign) -> Post:
    return Post.objects.create(workspace=workspace, author=owner, text="Neu: https://shop.example/sommer")


@pytest.fixture
def make_link(workspace: Workspace, owner: User) -> Callable[..., ShortLink]:
    def make(target_url: str = "https://shop.example/a?ref=1", **extra: Any) -> ShortLink:
        return services.link_create(workspace=workspace, actor=owner, target_url=target_url, **extra)

    return make
