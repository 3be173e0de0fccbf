"""Fixtures of the calendar tests: logged-in clients, channels, scheduled posts (service-made or bulk)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule_local

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def mastodon(make_channel: Callable[..., Channel]) -> Channel:
    channel = make_channel("mastodon", handle="brand@social.example")
    channel.color = "#d9480f"
    channel.save(update_fields=["color"])
    return channel


@pytest.fixture
def schedule(workspace: Workspace, owner: User, mastodon: Channel) -> Callable[..., Post]:
    """A post scheduled through the services at a wall-clock time in the workspace's zone."""

    def make(
        local: datetime,
        text: str = "Hallo Welt",
        *,
        channels: list[Channel] | None = None,
        author: User | None = None,
        fold: int | None = None,
    ) -> Post:
        post = post_create(
            workspace=workspace,
            author=author or owner,
            data=PostInput(text=text, channel_ids=[c.pk for c in channels or [mastodon]]),
        )
        return post_schedule_local(workspace=workspace, post=post, actor=owner, local=local, fold=fold)

    return make


@pytest.fixture
def bulk_posts(workspace: Workspace, owner: User, mastodon: Channel) -> Callable[..., list[Post]]:
    """Many variants fast (bulk_create, no services): ``instants`` are aware datetimes."""

    def make(
        instants: list[datetime],
        *,
        status: str = VariantStatus.SCHEDULED,
        channel: Channel | None = None,
        text: str = "Bulk post",
    ) -> list[Post]:
        posts = Post.objects.bulk_create(
            [
                Post(
                    workspace=workspace,
                    author=owner,
                    text=f"{text} {i}\nsecond line",
                    status=PostStatus.SCHEDULED,
                    scheduled_at=at,
                )
                for i, at in enumerate(instants)
            ]
        )
        Variant.objects.bulk_create(
            [
                Variant(
                    post=post,
                    channel=channel or mastodon,
                    status=status,
                    scheduled_at=at,
                    published_at=at if status == VariantStatus.PUBLISHED else None,
                    schedule_version=1,
                )
                for post, at in zip(posts, instants, strict=True)
            ]
        )
        return posts

    return make
