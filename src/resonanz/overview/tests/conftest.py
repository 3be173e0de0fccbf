from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus


@pytest.fixture
def make_post() -> Callable[..., Post]:
    """A post with one variant on ``channel`` in the given state (rows only: the overview reads them)."""

    def make(
        channel: Channel,
        *,
        status: str = PostStatus.SCHEDULED,
        at: datetime | None = None,
        variant_status: str | None = None,
        error: str = "",
        **extra: Any,
    ) -> Post:
        ws: Workspace = channel.workspace
        post = Post.objects.create(
            workspace=ws, text=extra.pop("text", "Hallo"), status=status, scheduled_at=at, **extra
        )
        Variant.objects.create(
            post=post,
            channel=channel,
            status=variant_status
            or (VariantStatus.SCHEDULED if status == PostStatus.SCHEDULED else VariantStatus.DRAFT),
            scheduled_at=at,
            last_error=error,
        )
        return post

    return make
