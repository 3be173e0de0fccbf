"""Fixtures of the report tests: published variants with metric samples, short links with clicks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.engagement.models import MetricSample
from resonanz.links.models import Click, ShortLink
from resonanz.links.services import link_create
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def channel(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")


@pytest.fixture
def second_channel(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="zweit@social.example", base_url="https://other.example")


@pytest.fixture
def publish(workspace: Workspace, owner: User) -> Callable[..., Variant]:
    """A post published on ``channel`` at ``at`` (UTC), as the engine leaves it."""

    def make(channel: Channel, at: datetime, *, title: str = "", text: str = "Hallo", **post: Any) -> Variant:
        p = Post.objects.create(
            workspace=channel.workspace,
            author=owner,
            title=title,
            text=text,
            status=PostStatus.PUBLISHED,
            **post,
        )
        return Variant.objects.create(
            post=p, channel=channel, status=VariantStatus.PUBLISHED, published_at=at, remote_id=f"r{p.pk}"
        )

    return make


@pytest.fixture
def sample() -> Callable[..., MetricSample]:
    def make(
        variant: Variant, at: datetime, likes: int = 0, reposts: int = 0, replies: int = 0, **extra: Any
    ) -> MetricSample:
        return MetricSample.objects.create(
            variant=variant, taken_at=at, likes=likes, reposts=reposts, replies=replies, **extra
        )

    return make


@pytest.fixture
def clicks() -> Callable[..., ShortLink]:
    """A short link of ``variant``'s post and channel with one click per given instant."""

    def make(variant: Variant, *instants: datetime, visitor: str = "") -> ShortLink:
        link = link_create(
            workspace=variant.post.workspace,
            actor=None,
            target_url="https://shop.example/sommer",
            post=variant.post,
            channel=variant.channel,
        )
        Click.objects.bulk_create(
            [
                Click(link=link, at=at, day=at.date(), visitor=visitor or f"v{i}")
                for i, at in enumerate(instants)
            ]
        )
        return link

    return make
