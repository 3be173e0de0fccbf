"""Fixtures of the analytics tests: channels, published posts, and samples stored the way the sync stores
them (``engagement_store``, at a chosen time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.base import Engagement
from resonanz.engagement.services import engagement_store
from resonanz.posts.models import Post, Variant, VariantStatus


@pytest.fixture
def channel(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")


@pytest.fixture
def publish(workspace: Workspace, owner: User) -> Callable[..., Variant]:
    """A post published on ``channel`` at ``at`` (its variant as the publishing engine leaves it)."""
    counter = {"n": 0}

    def make(channel: Channel, at: datetime, text: str = "Neu im Shop", **post_fields: Any) -> Variant:
        counter["n"] += 1
        ws = channel.workspace
        author = owner if ws == workspace else None
        post = Post.objects.create(workspace=ws, author=author, text=text, **post_fields)
        return Variant.objects.create(
            post=post,
            channel=channel,
            status=VariantStatus.PUBLISHED,
            remote_id=f"remote-{counter['n']}",
            published_at=at,
        )

    return make


@pytest.fixture
def sample() -> Callable[..., None]:
    def store(variant: Variant, at: datetime, **counts: Any) -> None:
        variant = Variant.objects.select_related("post__workspace", "channel").get(pk=variant.pk)
        engagement_store(
            workspace=variant.post.workspace, variant=variant, engagement=Engagement(**counts), taken_at=at
        )

    return store
