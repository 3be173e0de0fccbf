from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.channels.models import ChannelStatus
from resonanz.channels.services import channel_account, channel_refresh_credentials, channel_store_account
from resonanz.connectors.base import AuthExpired, ConnectorError, Engagement, NotSupported, PublishedRef
from resonanz.connectors.registry import get_connector
from resonanz.core.errors import ensure_same_workspace
from resonanz.posts.models import Variant, VariantStatus

from .models import Conversation, Message, MetricSample

logger = logging.getLogger(__name__)
SYNC_WINDOW = timedelta(days=30)


@transaction.atomic
def engagement_store(*, workspace: Workspace, variant: Variant, engagement: Engagement) -> MetricSample:
    """Store one sample and upsert replies. Re-running with the same data adds no duplicate message."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    now = timezone.now().replace(microsecond=0)
    sample, _ = MetricSample.objects.update_or_create(
        variant=variant,
        taken_at=now,
        defaults={
            "likes": engagement.likes,
            "reposts": engagement.reposts,
            "replies": engagement.replies,
            "quotes": engagement.quotes,
            "impressions": engagement.impressions,
        },
    )
    if engagement.reply_items:
        conversation, _ = Conversation.objects.get_or_create(
            channel=variant.channel,
            root_remote_id=variant.remote_id,
            defaults={"workspace": workspace, "variant": variant},
        )
        latest = conversation.last_message_at
        for reply in engagement.reply_items:
            Message.objects.get_or_create(
                conversation=conversation,
                remote_id=reply.remote_id,
                defaults={
                    "url": reply.url,
                    "author_id": reply.author_id,
                    "author_handle": reply.author_handle,
                    "author_name": reply.author_name,
                    "text": reply.text,
                    "in_reply_to_remote_id": reply.in_reply_to_remote_id,
                    "created_at": reply.created_at,
                },
            )
            latest = max(filter(None, [latest, reply.created_at]))
        if latest != conversation.last_message_at:
            conversation.last_message_at = latest
            conversation.save(update_fields=["last_message_at"])
    return sample


def engagement_sync_variant(*, workspace: Workspace, variant: Variant) -> MetricSample | None:
    if variant.status != VariantStatus.PUBLISHED or not variant.remote_id:
        return None
    connector = get_connector(variant.channel.network)
    account = channel_account(channel=variant.channel)
    part = variant.parts.order_by("index").first()
    ref = PublishedRef(
        remote_id=variant.remote_id, url=variant.remote_url, cid=part.remote_cid if part else ""
    )
    try:
        try:
            engagement = connector.fetch_engagement(account=account, ref=ref)
        except AuthExpired as first:
            # The same rule as publishing and the channel check: refresh once; if the network refuses,
            # the channels service flags the channel "reconnect needed" and the error propagates.
            if not channel_refresh_credentials(
                channel=variant.channel, account=account, cause=first.network_message
            ):
                raise
            engagement = connector.fetch_engagement(account=account, ref=ref)
    except NotSupported:
        return None
    finally:
        channel_store_account(channel=variant.channel, account=account)
    return engagement_store(workspace=workspace, variant=variant, engagement=engagement)


def engagement_sync_all(*, limit: int = 500) -> dict[str, int]:
    """Periodic: every variant published in the last 30 days. One failure does not stop the rest.

    The next run is the retry: a temporary error (5xx, 429, no connection) leaves everything as it was
    and the variant is fetched again next time. A channel whose login the network refused is flagged
    "reconnect needed" and its variants are left out until it is reconnected (asking again with dead
    credentials cannot succeed)."""
    since = timezone.now() - SYNC_WINDOW
    variants = (
        Variant.objects.filter(
            status=VariantStatus.PUBLISHED,
            published_at__gte=since,
            channel__status=ChannelStatus.ACTIVE,
        )
        .select_related("post__workspace", "channel")
        .order_by("published_at")[:limit]
    )
    ok = failed = 0
    for variant in variants:
        try:
            engagement_sync_variant(workspace=variant.post.workspace, variant=variant)
            ok += 1
        except ConnectorError as exc:
            failed += 1
            logger.info("engagement sync of variant %s failed: %s", variant.pk, exc)
    return {"synced": ok, "failed": failed}
