"""Conversations as the sync stores them: a published variant, replies through ``engagement_store``."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.base import Engagement, RemoteReply
from resonanz.engagement.models import Conversation
from resonanz.engagement.services import engagement_store
from resonanz.posts.models import Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create


def published_variant(
    workspace: Workspace, channel: Channel, text: str = "Frühlingsaktion ab Montag"
) -> Variant:
    author = workspace.memberships.order_by("pk").first().user  # type: ignore[union-attr]
    post = post_create(
        workspace=workspace, author=author, data=PostInput(text=text, channel_ids=[channel.pk])
    )
    n = Variant.objects.count()
    Variant.objects.filter(post=post).update(
        status=VariantStatus.PUBLISHED,
        remote_id=f"1100{n}",
        remote_url=f"https://social.example/@brand/1100{n}",
        published_at=timezone.now(),
    )
    return Variant.objects.select_related("post", "channel").get(post=post)


def reply(
    n: int, text: str, *, at: datetime | None = None, parent: str = "", author: str = "kundin"
) -> RemoteReply:
    return RemoteReply(
        remote_id=f"r{n}",
        url=f"https://social.example/@{author}/r{n}",
        author_id=f"id-{author}",
        author_handle=f"{author}@social.example",
        author_name=author.title(),
        text=text,
        created_at=at or timezone.now() - timedelta(minutes=90),
        in_reply_to_remote_id=parent,
    )


def conversation_with(
    workspace: Workspace, channel: Channel, *texts: str, author: str = "kundin"
) -> Conversation:
    variant = published_variant(workspace, channel)
    base = timezone.now() - timedelta(minutes=90)
    items = [
        reply(i, t, at=base + timedelta(minutes=i), parent=variant.remote_id, author=author)
        for i, t in enumerate(texts)
    ]
    # Unique remote ids per variant, so two conversations never share one.
    items = [RemoteReply(**{**r.__dict__, "remote_id": f"{variant.pk}-{r.remote_id}"}) for r in items]
    engagement_store(
        workspace=workspace, variant=variant, engagement=Engagement(replies=len(items), reply_items=items)
    )
    return Conversation.objects.get(variant=variant)
