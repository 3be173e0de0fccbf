from __future__ import annotations

import functools
import logging
import operator
import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import F, Q, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_account, channel_refresh_credentials, channel_store_account
from resonanz.connectors.base import (
    AuthExpired,
    ConnectorError,
    DirectMessagePage,
    Engagement,
    MentionPage,
    NotSupported,
    OutcomeUnknown,
    PublishedRef,
    PushedActivity,
    RateLimited,
    Rejected,
    RemoteReply,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import InboxAction, InboxKind
from resonanz.connectors.registry import get_connector
from resonanz.core.errors import WorkspaceMismatch, ensure_same_workspace
from resonanz.core.services import audit_log_record
from resonanz.core.sql import array_cursor
from resonanz.core.timezones import zone
from resonanz.notifications.kinds import NotificationKind
from resonanz.notifications.services import notification_send
from resonanz.posts.models import Post, Variant, VariantStatus

from .models import (
    METRIC_FIELDS,
    AssignmentRule,
    AssignMode,
    Conversation,
    ConversationStatus,
    FollowerSample,
    InboxSettings,
    Message,
    MessageLanguage,
    MetricCampaignDaily,
    MetricChannelDaily,
    MetricDaily,
    MetricLatest,
    MetricSample,
    Note,
    OutgoingReply,
    Priority,
    ReplyStatus,
    SavedReply,
    Sentiment,
    SentimentTier,
)
from .rules import MessageFacts, conditions_hold, keyword_list, rule_conditions
from .selectors import SYNC_WINDOW, inbox_member_roles, inbox_members, variants_due_for_sync

if TYPE_CHECKING:
    from resonanz.connectors.base import ChannelAccount, Connector
    from resonanz.language.sentiment import Tier

logger = logging.getLogger(__name__)


@transaction.atomic
def engagement_store(
    *, workspace: Workspace, variant: Variant, engagement: Engagement, taken_at: datetime | None = None
) -> MetricSample:
    """Store one sample (taken now, or at ``taken_at`` when importing history) with the day's rollup row,
    and upsert replies. Re-running with the same data adds no duplicate message."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    now = (taken_at or timezone.now()).replace(microsecond=0)
    values = {name: getattr(engagement, name) for name in METRIC_FIELDS}
    sample, _created = MetricSample.objects.update_or_create(variant=variant, taken_at=now, defaults=values)
    metric_daily_store(workspace=workspace, variant=variant, taken_at=now, values=values)
    # Filed once per channel: a reply the mentions sync already filed as its own conversation stays there
    # (the rule is described above ``engagement_sync_mentions``).
    as_mentions = (
        set(
            Message.objects.filter(
                conversation__channel=variant.channel,
                conversation__kind=InboxKind.MENTIONS.value,
                remote_id__in=[reply.remote_id for reply in engagement.reply_items],
            ).values_list("remote_id", flat=True)
        )
        if engagement.reply_items
        else set()
    )
    replies = [reply for reply in engagement.reply_items if reply.remote_id not in as_mentions]
    if variant.channel.owner_id is not None:
        # A personal channel's replies are the owner's conversation, not the brand's inbox (advocacy:
        # only the counts of an employee's share belong to the brand, docs/advocacy.md).
        replies = []
    if replies:
        conversation, _created = Conversation.objects.get_or_create(
            channel=variant.channel,
            root_remote_id=variant.remote_id,
            defaults={"workspace": workspace, "variant": variant, "kind": InboxKind.REPLIES.value},
        )
        latest = max(filter(None, [conversation.last_message_at, *(r.created_at for r in replies)]))
        # One query for what is there and one insert for what is not (a get_or_create per reply cost
        # four statements each: bench/ingest.py).
        known = set(
            Message.objects.filter(
                conversation=conversation, remote_id__in=[r.remote_id for r in replies]
            ).values_list("remote_id", flat=True)
        )
        fresh = list({r.remote_id: r for r in replies if r.remote_id not in known}.values())
        rows = [_message_row(conversation, r) for r in fresh]
        _first_pass(rows)
        new_ids = [m.pk for m in Message.objects.bulk_create(rows)]
        if new_ids:
            messages_analyse_later(workspace=workspace, message_ids=new_ids)
        if conversation.status == ConversationStatus.CLOSED and latest != conversation.last_message_at:
            # Someone wrote again after it was closed: back into the open queue.
            conversation_set_status(
                workspace=workspace, conversation=conversation, status=ConversationStatus.OPEN
            )
        if latest != conversation.last_message_at:
            conversation.last_message_at = latest
            conversation.save(update_fields=["last_message_at"])
        if new_ids:
            conversation_route(workspace=workspace, conversation=conversation, message_ids=new_ids)
    return sample


def metric_daily_store(
    *, workspace: Workspace, variant: Variant, taken_at: datetime, values: dict[str, int | None]
) -> MetricDaily:
    """Put ``values`` (the latest counts) into the variant's row of the day ``taken_at`` falls on in the
    workspace's time zone, with the gains over the variant's previous day (see ``MetricDaily``)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    day = taken_at.astimezone(zone(workspace.time_zone)).date()
    existing = MetricDaily.objects.filter(variant=variant, day=day).first()
    if existing is not None and existing.taken_at > taken_at:
        return existing  # an older sample never overwrites the day's latest
    before = MetricDaily.objects.filter(variant=variant, day__lt=day).order_by("-day").first()
    gains: dict[str, int | None] = {}
    for name in METRIC_FIELDS:
        value = values.get(name)
        previous = getattr(before, name) if before is not None else None
        gains[f"gain_{name}"] = None if value is None else value - (previous or 0)
    old = {g: getattr(existing, g) for g in gains} if existing is not None else {}
    _channel_day_add(workspace=workspace, channel_id=variant.channel_id, day=day, old=old, new=gains)
    if variant.post.campaign_id is not None:
        _campaign_day_add(
            workspace=workspace, campaign_id=variant.post.campaign_id, day=day, old=old, new=gains
        )
    row, _created = MetricDaily.objects.update_or_create(
        variant=variant,
        day=day,
        defaults={
            "workspace": workspace,
            "channel_id": variant.channel_id,
            "taken_at": taken_at,
            **{name: values.get(name) for name in METRIC_FIELDS},
            **gains,
        },
    )
    _latest_store(workspace=workspace, variant=variant, day=day, values=values)
    return row


def _latest_store(
    *, workspace: Workspace, variant: Variant, day: date, values: dict[str, int | None]
) -> None:
    """Keep ``MetricLatest`` at the variant's highest day: a sample of an earlier day (history import)
    leaves it alone."""
    fields = {
        "workspace": workspace,
        "channel_id": variant.channel_id,
        "published_at": variant.published_at,
        "day": day,
        **{name: values.get(name) for name in METRIC_FIELDS},
    }
    updated = MetricLatest.objects.filter(variant=variant, day__lte=day).update(**fields)
    if not updated and not MetricLatest.objects.filter(variant=variant).exists():
        MetricLatest.objects.get_or_create(variant=variant, defaults=fields)


def _channel_day_add(
    *,
    workspace: Workspace,
    channel_id: int,
    day: date,
    old: dict[str, int | None],
    new: dict[str, int | None],
) -> None:
    """Add what changed in one variant's day to its channel's day (``MetricChannelDaily``), atomically in
    the database (``F`` expressions), so concurrent syncs of one channel add up."""
    changes = _changes(old, new)
    if not changes:
        return
    row, _created = MetricChannelDaily.objects.get_or_create(
        channel_id=channel_id, day=day, defaults={"workspace": workspace}
    )
    MetricChannelDaily.objects.filter(pk=row.pk).update(**changes)


def _changes(old: dict[str, int | None], new: dict[str, int | None]) -> dict[str, Any]:
    changes = {}
    for field, value in new.items():
        before = old.get(field)
        if value is None and before is None:
            continue
        delta = (value or 0) - (before or 0)
        changes[field] = Coalesce(F(field), Value(0)) + Value(delta)
    return changes


def _campaign_day_add(
    *,
    workspace: Workspace,
    campaign_id: int,
    day: date,
    old: dict[str, int | None],
    new: dict[str, int | None],
) -> None:
    """The same for the post's campaign's day (``MetricCampaignDaily``)."""
    changes = _changes(old, new)
    if not changes:
        return
    row, _created = MetricCampaignDaily.objects.get_or_create(
        campaign_id=campaign_id, day=day, defaults={"workspace": workspace}
    )
    MetricCampaignDaily.objects.filter(pk=row.pk).update(**changes)


def metric_daily_rebuild(*, workspace: Workspace) -> int:
    """Rebuild the workspace's rollup from its samples (after a time-zone change or for samples taken
    before the rollup existed); returns the number of rows written. Day by day, oldest first, so each
    day's gains see the day before."""
    MetricDaily.objects.filter(workspace=workspace).delete()
    MetricChannelDaily.objects.filter(workspace=workspace).delete()
    MetricLatest.objects.filter(workspace=workspace).delete()
    MetricCampaignDaily.objects.filter(workspace=workspace).delete()
    samples = (
        MetricSample.objects.filter(variant__post__workspace=workspace)
        .select_related("variant__post")
        .order_by("variant_id", "taken_at")
    )
    written = 0
    for sample in samples.iterator(chunk_size=2000):
        values = {name: getattr(sample, name) for name in METRIC_FIELDS}
        metric_daily_store(
            workspace=workspace, variant=sample.variant, taken_at=sample.taken_at, values=values
        )
        written += 1
    return written


FOLLOWER_INTERVAL = timedelta(hours=23)  # "about once a day", a little less so a daily run never skips


def follower_sample_store(
    *, workspace: Workspace, channel: Channel, followers: int, taken_at: datetime
) -> FollowerSample:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    return FollowerSample.objects.create(channel=channel, taken_at=taken_at, followers=followers)


def follower_sync_channel(*, workspace: Workspace, channel: Channel) -> FollowerSample | None:
    """Ask the channel's network for its follower count unless it was asked less than a day ago or the
    network does not report it (``NetworkSpec.followers``)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    connector = get_connector(channel.network)
    if not connector.spec.followers:
        return None
    now = timezone.now().replace(microsecond=0)
    if FollowerSample.objects.filter(channel=channel, taken_at__gt=now - FOLLOWER_INTERVAL).exists():
        return None
    account = channel_account(channel=channel)
    try:
        try:
            followers = connector.fetch_followers(account=account)
        except AuthExpired as first:
            # The rule of every other call: refresh once; a refusal flags the channel and propagates.
            if not channel_refresh_credentials(channel=channel, account=account, cause=first.network_message):
                raise
            followers = connector.fetch_followers(account=account)
    finally:
        channel_store_account(channel=channel, account=account)
    if followers is None:
        return None
    return follower_sample_store(workspace=workspace, channel=channel, followers=followers, taken_at=now)


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
    """Periodic: the variants published in the last 30 days that are due by their age
    (``selectors.variants_due_for_sync``: under a day every run, up to a week hourly, then daily). One
    failure does not stop the rest.

    The next run is the retry: a temporary error (5xx, 429, no connection) leaves everything as it was
    and the variant is fetched again next time (no new sample, so it stays due). A channel whose login
    the network refused is flagged "reconnect needed" and its variants are left out until it is
    reconnected (asking again with dead credentials cannot succeed)."""
    variants = variants_due_for_sync(now=timezone.now(), limit=limit)
    ok = failed = 0
    for variant in variants:
        try:
            engagement_sync_variant(workspace=variant.post.workspace, variant=variant)
            ok += 1
        except ConnectorError as exc:
            failed += 1
            logger.info("engagement sync of variant %s failed: %s", variant.pk, exc)
    # Mentions after the replies: a mention that answers one of our posts is then already filed under
    # that post (see ``engagement_store_mentions``). Channels the variant sync just flagged "reconnect
    # needed" are no longer active here.
    mentions = mentions_failed = followers = followers_failed = direct = direct_failed = 0
    # Personal channels (advocacy) have no mentions inbox: a person's mentions are not the brand's.
    channels = (
        Channel.objects.filter(status=ChannelStatus.ACTIVE, owner__isnull=True)
        .select_related("workspace")
        .order_by("pk")
    )
    for channel in channels:
        try:
            spec = get_connector(channel.network).spec
        except LookupError:
            continue  # a connector that is no longer installed
        if spec.followers:
            try:
                if follower_sync_channel(workspace=channel.workspace, channel=channel) is not None:
                    followers += 1
            except ConnectorError as exc:
                followers_failed += 1
                logger.info("follower sync of channel %s failed: %s", channel.pk, exc)
        inbox = engagement_sync_channel_inbox(workspace=channel.workspace, channel=channel)
        mentions += inbox.mentions
        mentions_failed += inbox.mentions_failed
        direct += inbox.direct_messages
        direct_failed += inbox.direct_messages_failed
    return {
        "synced": ok,
        "failed": failed,
        "mentions": mentions,
        "mentions_failed": mentions_failed,
        "direct_messages": direct,
        "direct_messages_failed": direct_failed,
        "followers": followers,
        "followers_failed": followers_failed,
    }


@dataclass(frozen=True)
class InboxSyncResult:
    mentions: int = 0
    mentions_failed: int = 0
    direct_messages: int = 0
    direct_messages_failed: int = 0


def engagement_sync_channel_inbox(*, workspace: Workspace, channel: Channel) -> InboxSyncResult:
    """Poll one channel's inbox kinds (mentions, then direct messages) from their cursors. A failure is
    logged and counted, not raised: the next run (or the next push) tries again from the same cursor."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    try:
        spec = get_connector(channel.network).spec
    except LookupError:
        return InboxSyncResult()  # a connector that is no longer installed
    mentions = mentions_failed = direct = direct_failed = 0
    if InboxKind.MENTIONS in spec.inbox:
        try:
            mentions = engagement_sync_mentions(workspace=workspace, channel=channel)
        except ConnectorError as exc:
            logger.info("mentions sync of channel %s failed: %s", channel.pk, exc)
            # The same login and server: the direct messages wait for the next run too.
            return InboxSyncResult(mentions_failed=1)
    if InboxKind.DIRECT_MESSAGES in spec.inbox:
        try:
            direct = engagement_sync_direct_messages(workspace=workspace, channel=channel)
        except ConnectorError as exc:
            direct_failed = 1
            logger.info("direct messages sync of channel %s failed: %s", channel.pk, exc)
    return InboxSyncResult(
        mentions=mentions,
        mentions_failed=mentions_failed,
        direct_messages=direct,
        direct_messages_failed=direct_failed,
    )


# -- what a network pushes (webhooks, streaming) ------------------------------------------------------


def engagement_store_pushed(*, workspace: Workspace, channel: Channel, activity: PushedActivity) -> int:
    """File what a network pushed for ``channel`` (``PushedActivity``); returns how many messages are new.

    Mentions and direct messages go in through the same stores as polled ones (so the same rules, dedup
    and routing apply, and the poll that brings them again adds nothing); the cursors are not moved (the
    poll still reads from where it was, a push may skip items). Posts with new replies get their reply
    sync queued, and ``resync`` queues a poll of the channel's inbox, both after the commit."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    from .tasks import refresh_variant_engagement, sync_channel_inbox

    created = 0
    with transaction.atomic():
        if activity.mentions:
            page = MentionPage(items=list(activity.mentions), cursor=None)
            created += engagement_store_mentions(workspace=workspace, channel=channel, page=page)
        if activity.direct_messages:
            created += engagement_store_direct_messages(
                workspace=workspace,
                channel=channel,
                page=DirectMessagePage(conversations=list(activity.direct_messages), cursor=None),
            )
        if activity.replied_posts:
            variant_ids = list(
                Variant.objects.filter(
                    channel=channel, status=VariantStatus.PUBLISHED, remote_id__in=activity.replied_posts
                ).values_list("pk", flat=True)
            )
            for variant_id in variant_ids:
                transaction.on_commit(
                    functools.partial(refresh_variant_engagement.enqueue, variant_id=variant_id)
                )
        if activity.resync:
            transaction.on_commit(functools.partial(sync_channel_inbox.enqueue, channel_id=channel.pk))
    return created


def engagement_receive_pushed(*, network: str, activities: Sequence[PushedActivity]) -> int:
    """The entry point for a network's push (a verified webhook delivery, a stream's event): each
    activity goes to every active channel of that network connected with its account (one account may be
    connected in several workspaces; each workspace files its own copy). Not scoped to a workspace: the
    network addresses the account, and the channels found decide the workspaces. Returns how many
    messages are new in all."""
    created = 0
    for activity in activities:
        channels = Channel.objects.filter(
            network=network, remote_id=activity.account_remote_id, status=ChannelStatus.ACTIVE
        ).select_related("workspace")
        for channel in channels:
            created += engagement_store_pushed(
                workspace=channel.workspace, channel=channel, activity=activity
            )
    return created


# -- "refresh now" (issue 8, #13) ---------------------------------------------------------------------

REFRESH_INTERVAL = timedelta(seconds=60)  # per post: one network call per variant and minute at most


@dataclass(frozen=True)
class EngagementRefresh:
    """What a "refresh now" did: ``queued`` the syncs of ``variants`` published variants, or (a second
    click within ``REFRESH_INTERVAL``) nothing, and ``requested_at`` is then when the earlier refresh
    was asked for; ``next_at`` is when the next one may be."""

    queued: bool
    variants: int
    requested_at: datetime | None
    next_at: datetime | None


def _refresh_key(post_id: int) -> str:
    return f"rz:engagement-refresh:{post_id}"


def variant_engagement_refresh(*, workspace: Workspace, post: Post) -> EngagementRefresh:
    """Ask the networks for the post's counts and replies now: after commit, one
    ``refresh_variant_engagement`` task per published variant (the same ``engagement_sync_variant`` the
    periodic sync runs). At most once per post and ``REFRESH_INTERVAL``: the slot is taken with one
    atomic ``cache.add`` (the same coalescing as ``publishing.services.publish_wakeup``), so two clicks
    at once make one call. A post with nothing published queues nothing and takes no slot."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    variant_ids = list(
        post.variants.filter(status=VariantStatus.PUBLISHED)
        .exclude(remote_id="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not variant_ids:
        return EngagementRefresh(queued=False, variants=0, requested_at=None, next_at=None)
    now = timezone.now().replace(microsecond=0)
    key = _refresh_key(post.pk)
    if not cache.add(key, now.timestamp(), timeout=int(REFRESH_INTERVAL.total_seconds())):
        stamp = cache.get(key)
        earlier = datetime.fromtimestamp(float(stamp), tz=UTC) if stamp is not None else now
        return EngagementRefresh(
            queued=False, variants=0, requested_at=earlier, next_at=earlier + REFRESH_INTERVAL
        )

    def enqueue() -> None:
        from .tasks import refresh_variant_engagement

        for variant_id in variant_ids:
            refresh_variant_engagement.enqueue(variant_id=variant_id)

    transaction.on_commit(enqueue)
    return EngagementRefresh(
        queued=True, variants=len(variant_ids), requested_at=now, next_at=now + REFRESH_INTERVAL
    )


def engagement_refresh_last(*, workspace: Workspace, post: Post) -> datetime | None:
    """When "refresh now" was last asked for this post, while it still blocks another (else None)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    stamp = cache.get(_refresh_key(post.pk))
    return datetime.fromtimestamp(float(stamp), tz=UTC) if stamp is not None else None


# -- mentions ----------------------------------------------------------------------------------------
#
# Posts of others that name the account (and quotes, where the network reports them), fetched per
# channel from a cursor the connector hands back (kept in the channel's settings). Each becomes its own
# conversation of kind "mentions" whose root is the mentioning post, so answering it replies to that post.
#
# One remote post is filed once per channel. The rule: the reply sync owns replies to our own posts (it
# files them under the post's conversation, with the thread around them), so a mention that answers a
# post we sync, or a message already in one of the channel's conversations, is left out here; and a reply
# the reply sync brings later that is already filed as a mention stays where it is (``engagement_store``).

MENTIONS_CURSOR_SETTING = "inbox_mentions_cursor"


def engagement_sync_mentions(*, workspace: Workspace, channel: Channel) -> int:
    """Fetch the channel's new mentions from its cursor and file them; returns how many are new. The
    cursor moves on only together with what was stored, so a failure fetches the same mentions again."""
    return _inbox_sync_from_cursor(
        workspace=workspace,
        channel=channel,
        kind=InboxKind.MENTIONS,
        cursor_setting=MENTIONS_CURSOR_SETTING,
        fetch=lambda connector, account, cursor: connector.fetch_mentions(account=account, cursor=cursor),
        store=lambda page: engagement_store_mentions(workspace=workspace, channel=channel, page=page),
    )


def _inbox_sync_from_cursor[P: (MentionPage, DirectMessagePage)](
    *,
    workspace: Workspace,
    channel: Channel,
    kind: InboxKind,
    cursor_setting: str,
    fetch: Callable[[Connector, ChannelAccount, str | None], P],
    store: Callable[[P], int],
) -> int:
    """One inbox kind read from the cursor kept in the channel's settings: fetch (refreshing the login
    once when it expired), store, and move the cursor in the same transaction as what was stored."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    connector = get_connector(channel.network)
    if kind not in connector.spec.inbox:
        return 0
    account = channel_account(channel=channel)
    cursor = account.settings.get(cursor_setting) or None
    try:
        try:
            page = fetch(connector, account, cursor)
        except AuthExpired as first:
            if not channel_refresh_credentials(channel=channel, account=account, cause=first.network_message):
                raise
            page = fetch(connector, account, cursor)
    except NotSupported:
        channel_store_account(channel=channel, account=account)
        return 0
    with transaction.atomic():
        created = store(page)
        if page.cursor != cursor:
            account.update_settings(**{cursor_setting: page.cursor})
        channel_store_account(channel=channel, account=account)
    return created


@transaction.atomic
def engagement_store_mentions(*, workspace: Workspace, channel: Channel, page: MentionPage) -> int:
    """File each mention of ``page`` as its own conversation (kind "mentions"); returns how many are new.
    Storing the same page again adds nothing."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    items = [item for item in page.items if item.remote_id and item.author_id != channel.remote_id]
    if not items:
        return 0
    ids = {item.remote_id for item in items}
    parents = {item.in_reply_to_remote_id for item in items if item.in_reply_to_remote_id}
    filed = set(
        Message.objects.filter(conversation__channel=channel, remote_id__in=ids | parents).values_list(
            "remote_id", flat=True
        )
    )
    own_posts: set[str] = set()
    reply_threads: set[str] = set()
    if parents:  # most mentions answer nothing: no queryset to build (it would find nothing)
        own_posts = set(
            Variant.objects.filter(
                channel=channel,
                status=VariantStatus.PUBLISHED,
                published_at__gte=timezone.now() - SYNC_WINDOW,
                remote_id__in=parents,
            ).values_list("remote_id", flat=True)
        )
        reply_threads = set(
            Message.objects.filter(
                conversation__channel=channel,
                conversation__kind=InboxKind.REPLIES.value,
                remote_id__in=parents,
            ).values_list("remote_id", flat=True)
        )
    direct_elsewhere = InboxKind.DIRECT_MESSAGES in get_connector(channel.network).spec.inbox
    answers = own_posts | reply_threads
    todo: dict[str, RemoteReply] = {}
    for item in items:
        if item.remote_id in filed or item.remote_id in todo:
            continue  # already in one of the channel's conversations (as a reply or as a mention)
        if item.direct and direct_elsewhere:
            continue  # a direct message: the direct-messages sync files it under its conversation
        if item.in_reply_to_remote_id and item.in_reply_to_remote_id in answers:
            continue  # an answer to our post: the reply sync files it under that post
        todo[item.remote_id] = item
    if not todo:
        return 0
    # In bulk: one query for conversations rooted there already (a listening mention turned into one),
    # one insert for the new conversations, one for the messages, routing for the page at once.
    conversations = {
        c.root_remote_id: c
        for c in Conversation.objects.filter(channel=channel, root_remote_id__in=list(todo))
    }
    made = [
        _unsaved(
            Conversation,
            {
                "workspace_id": workspace.pk,
                "channel_id": channel.pk,
                "root_remote_id": remote_id,
                "kind": InboxKind.MENTIONS.value,
                "last_message_at": item.created_at,
            },
            workspace=workspace,
            channel=channel,
        )
        for remote_id, item in todo.items()
        if remote_id not in conversations
    ]
    conversations.update((c.root_remote_id, c) for c in made)
    messages = [_message_row(conversations[remote_id], item) for remote_id, item in todo.items()]
    _first_pass(messages)  # language and the fast tier go in with the INSERT: the rules below see them
    fresh = {id(c) for c in made}
    # The new conversations are routed before anything of them is written: the rules decide on what is
    # in memory, the round robin's assignee goes in with the conversations' INSERT (made by the routing)
    # and the messages go in with ``routed`` set (no UPDATE of the page's rows afterwards).
    conversations_route_new(
        workspace=workspace,
        arrived=[(m.conversation, [m]) for m in messages if id(m.conversation) in fresh],
    )
    for message in messages:
        if id(message.conversation) in fresh:
            # Inserted by the routing: the key is there now (the descriptor copies it and keeps the cache).
            message.conversation = message.conversation
    _rows_insert(Message, messages)
    for message in messages:
        if id(message.conversation) not in fresh:
            conversation_route(
                workspace=workspace, conversation=message.conversation, message_ids=[message.pk]
            )
    new_ids = [m.pk for m in messages]
    messages_analyse_later(workspace=workspace, message_ids=new_ids)
    return len(new_ids)


DIRECT_CURSOR_SETTING = "inbox_direct_cursor"


def engagement_sync_direct_messages(*, workspace: Workspace, channel: Channel) -> int:
    """Fetch the channel's direct conversations with new activity since its cursor and file them; returns
    how many messages are new. As for mentions, the cursor moves only together with what was stored."""
    return _inbox_sync_from_cursor(
        workspace=workspace,
        channel=channel,
        kind=InboxKind.DIRECT_MESSAGES,
        cursor_setting=DIRECT_CURSOR_SETTING,
        fetch=lambda connector, account, cursor: connector.fetch_direct_messages(
            account=account, cursor=cursor
        ),
        store=lambda page: engagement_store_direct_messages(workspace=workspace, channel=channel, page=page),
    )


@transaction.atomic
def engagement_store_direct_messages(
    *, workspace: Workspace, channel: Channel, page: DirectMessagePage
) -> int:
    """File each direct conversation of ``page`` as one conversation of kind "direct_messages" (its
    ``root_remote_id`` is the network's conversation id); returns how many messages are new. Storing the
    same page again adds nothing. A message the channel already has (filed as a mention before this kind
    existed) takes its conversation along: that conversation becomes the direct one, so one conversation
    on the network stays one in the inbox."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    entries = [
        (entry, [m for m in entry.messages if m.remote_id and m.author_id != channel.remote_id])
        for entry in page.conversations
        if entry.remote_id
    ]
    entries = [(entry, items) for entry, items in entries if items]
    if not entries:
        return 0
    existing = {
        c.root_remote_id: c
        for c in Conversation.objects.filter(
            channel=channel, root_remote_id__in=[e.remote_id for e, _ in entries]
        )
    }
    filed: dict[str, int] = dict(
        Message.objects.filter(
            conversation__channel=channel, remote_id__in=[m.remote_id for _, items in entries for m in items]
        ).values_list("remote_id", "conversation_id")
    )
    new_total = 0
    for entry, items in entries:
        conversation = existing.get(entry.remote_id)
        if conversation is None:
            earlier = Conversation.objects.filter(
                pk__in=[filed[m.remote_id] for m in items if m.remote_id in filed],
                kind=InboxKind.MENTIONS.value,
            ).first()
            if earlier is not None:
                # Filed as a mention before: it becomes the conversation's (a direct answer filed under
                # our public post stays there, with the post's other replies, and is skipped below).
                conversation = earlier
                conversation.kind = InboxKind.DIRECT_MESSAGES.value
                conversation.root_remote_id = entry.remote_id[:500]
                conversation.save(update_fields=["kind", "root_remote_id"])
        fresh = [m for m in items if m.remote_id not in filed]
        if not fresh:
            continue
        if conversation is None:
            conversation = Conversation.objects.create(
                workspace=workspace,
                channel=channel,
                root_remote_id=entry.remote_id[:500],
                kind=InboxKind.DIRECT_MESSAGES.value,
                last_message_at=max(m.created_at for m in fresh),
            )
        rows = [_message_row(conversation, m) for m in fresh]
        _first_pass(rows)
        created = Message.objects.bulk_create(rows)
        new_ids = [m.pk for m in created]
        filed.update((m.remote_id, conversation.pk) for m in fresh)
        new_total += len(new_ids)
        latest = max(filter(None, [conversation.last_message_at, *(m.created_at for m in fresh)]))
        if conversation.status == ConversationStatus.CLOSED:
            conversation_set_status(
                workspace=workspace, conversation=conversation, status=ConversationStatus.OPEN
            )
        if latest != conversation.last_message_at:
            conversation.last_message_at = latest
            conversation.save(update_fields=["last_message_at"])
        messages_analyse_later(workspace=workspace, message_ids=new_ids)
        conversation_route(workspace=workspace, conversation=conversation, message_ids=new_ids)
    return new_total


def _message_row(conversation: Conversation, item: RemoteReply) -> Message:
    return _unsaved(
        Message,
        {
            "conversation_id": conversation.pk,
            "remote_id": item.remote_id[:500],
            "url": item.url[:1000],
            "author_id": item.author_id[:300],
            "author_handle": item.author_handle[:300],
            "author_name": item.author_name[:300],
            "text": item.text,
            "in_reply_to_remote_id": item.in_reply_to_remote_id[:500],
            "created_at": item.created_at,
        },
        conversation=conversation,
    )


@functools.cache
def _defaults(model: type[models.Model]) -> tuple[tuple[str, ...], tuple[Any, ...]] | None:
    """The concrete columns' attribute names and defaults, or None when a default is callable (it must
    be called for each object, so such a model goes through the keyword constructor)."""
    fields = model._meta.concrete_fields
    if any(f.has_default() and callable(f.default) for f in fields):
        return None
    return tuple(f.attname for f in fields), tuple(f.get_default() for f in fields)


def _unsaved[M: models.Model](model: type[M], values: dict[str, Any], **related: models.Model) -> M:
    """``model(**values)`` by attribute name, built positionally: Django's constructor takes a fast path
    for positional values (one ``setattr`` each) where keywords look up every field and its default
    (the constructor was a sixth of the ingest's CPU, bench/ingest.py --profile). ``related``: the
    objects behind foreign keys given by id, cached on the object as ``model(fk=obj)`` would."""
    plan = _defaults(model)
    if plan is None:
        obj = model(**values)
    else:
        names, defaults = plan
        obj = model(*[values.get(name, default) for name, default in zip(names, defaults, strict=True)])
    for name, other in related.items():
        cast("models.ForeignKey[Any, Any]", model._meta.get_field(name)).set_cached_value(obj, other)
    return obj


# -- language and sentiment -------------------------------------------------------------------------
#
# Each message from the network gets its language and sentiment, with the words that weighed most, from
# resonanz.language (offline; docs/language.md), in two passes:
#
# 1. **First pass, at ingest** (``_first_pass``): language + the fast tier (pure Python, ~0.07 ms a text)
#    on the page's new rows before their INSERT — no extra query, and the inbox and the rules see a
#    language and a sentiment at once (``sentiment_tier = "fast"``).
# 2. **Refinement** (``messages_analyse``, tier "combined": fast + e5 embedding, tens of ms a text) in a
#    low-priority task after commit (``tasks.refine_messages``); it sets ``sentiment_tier = "full"`` and
#    skips what is "full" already, so a repeated task does nothing. A lost task (a crash) is caught up by
#    the periodic sync (``messages_analyse_pending``).
#
# Rules and the refinement: a conversation is routed once, on the first pass. When the full model changes
# a message's label (language or sentiment), its conversation goes through the rules again only if some
# enabled rule looks at language or sentiment *and* nobody has touched the conversation: unassigned, still
# open, no note, no answer (``_untouched``). Rules never undo: a priority a rule set on the first pass's
# label stays (a person sees it and can change it); we do not take a conversation away from anyone.

ANALYSE_BATCH = 64  # the embedding tier's throughput grows with the batch up to about this size
REASONS_SHOWN = 5


def _reasons(reasons: list[tuple[str, float]]) -> list[dict[str, Any]]:
    return [{"word": word, "weight": round(weight, 3)} for word, weight in reasons[:REASONS_SHOWN]]


def _first_pass(rows: Sequence[Message]) -> None:
    """Language and the fast sentiment tier on unsaved rows (set on the objects, written by their INSERT)."""
    from resonanz.language import texts_analyse  # py3langid and the fast tier load on first use

    if not rows:
        return
    for message, result in zip(rows, texts_analyse(texts=[m.text for m in rows], tier="fast"), strict=True):
        message.language = result.language
        message.sentiment = result.sentiment
        message.sentiment_reasons = _reasons(result.reasons)
        message.sentiment_tier = SentimentTier.FAST


def messages_analyse_later(*, workspace: Workspace, message_ids: list[int]) -> None:
    """The full model's refinement of ``message_ids``, queued after commit at low priority."""
    from .tasks import refine_messages  # tasks imports services: imported when used

    ids = list(message_ids)
    transaction.on_commit(lambda: refine_messages.enqueue(workspace_id=workspace.pk, message_ids=ids))


def _untouched(workspace: Workspace, conversation_ids: list[int]) -> list[Conversation]:
    """The conversations nobody has worked on yet: unassigned, open, no note, no answer of ours."""
    return list(
        Conversation.objects.filter(
            pk__in=conversation_ids,
            workspace=workspace,
            assignee__isnull=True,
            status=ConversationStatus.OPEN,
        )
        .exclude(notes__isnull=False)
        .exclude(outgoing__isnull=False)
        .distinct()
    )


def messages_analyse(
    *,
    workspace: Workspace,
    message_ids: list[int] | None = None,
    limit: int = 500,
    tier: Tier = "combined",
) -> int:
    """Judge the workspace's messages (of ``message_ids``, or any) that this tier has left to do; returns
    how many. tier "fast": those not judged at all (the first pass); "combined": those not judged by the
    full model yet (the refinement, ``sentiment_tier = "full"``). Our own answers (``sent_by``) are not
    judged. Idempotent: a message judged "full" is skipped. Routing afterwards: see above."""
    from resonanz.language import texts_analyse  # the models load only in the processes that judge

    full = tier != "fast"
    qs = Message.objects.filter(conversation__workspace=workspace, sent_by__isnull=True)
    qs = qs.exclude(sentiment_tier=SentimentTier.FULL) if full else qs.filter(sentiment__isnull=True)
    if message_ids is not None:
        qs = qs.filter(pk__in=message_ids)
    messages = list(qs.order_by("pk")[:limit])
    changed: set[int] = set()  # conversations with a message whose label the refinement changed
    for start in range(0, len(messages), ANALYSE_BATCH):
        batch = messages[start : start + ANALYSE_BATCH]
        results = texts_analyse(texts=[m.text for m in batch], tier=tier)
        for message, result in zip(batch, results, strict=True):
            label = (result.language, result.sentiment)
            if (
                full
                and message.routed
                and message.sentiment is not None
                and ((message.language, message.sentiment) != label)
            ):
                changed.add(message.conversation_id)
            message.language = result.language
            message.sentiment = result.sentiment
            message.sentiment_reasons = _reasons(result.reasons)
            message.sentiment_tier = SentimentTier.FULL if full else SentimentTier.FAST
        _rows_update(Message, batch, ["language", "sentiment", "sentiment_reasons", "sentiment_tier"])
    # Now that they are judged, the rules that waited for language or sentiment can decide.
    waiting: dict[int, list[int]] = {}
    for message in messages:
        if not message.routed:
            waiting.setdefault(message.conversation_id, []).append(message.pk)
    for conversation in Conversation.objects.filter(pk__in=list(waiting), workspace=workspace):
        conversation_route(
            workspace=workspace, conversation=conversation, message_ids=waiting[conversation.pk]
        )
    if changed and any(
        rule_conditions(rule).needs_analysis
        for rule in AssignmentRule.objects.filter(workspace=workspace, enabled=True)
    ):
        # The refined label may make a rule on language or sentiment hold (or not): the conversation's
        # messages go through the rules again — only where nobody has touched the conversation.
        for conversation in _untouched(workspace, sorted(changed)):
            ids = list(
                Message.objects.filter(conversation=conversation, sent_by__isnull=True).values_list(
                    "pk", flat=True
                )
            )
            Message.objects.filter(pk__in=ids).update(routed=False)
            conversation_route(workspace=workspace, conversation=conversation, message_ids=ids)
    return len(messages)


INSERT_BATCH = 500
_PASSED_AS_IS = (models.CharField, models.TextField, models.BooleanField, models.IntegerField)


def _insert_plan(model: type[models.Model]) -> tuple[list[models.Field[Any, Any]], list[bool], list[Any]]:
    """The columns ``_rows_insert`` writes, which of them go as they are, and those stamped at insert."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    stamped = [f for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    plain = [
        isinstance(f, _PASSED_AS_IS)
        or (isinstance(f, models.ForeignKey) and isinstance(f.target_field, models.AutoField))
        for f in fields
    ]
    return fields, plain, stamped


def _array_type(field: models.Field[Any, Any]) -> str:
    # The column's type without its length (varchar[] rather than varchar(500)[]), as Django's own
    # UNNEST bulk insert does (django/db/backends/postgresql/compiler.py): no truncation in the cast.
    return f"{str(field.db_type(connection)).split('(')[0]}[]"


def _rows_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """``bulk_create`` for the ingest's hot path, setting each object's primary key. The values of plain
    text, number and foreign-key columns go as they are (``bulk_create``'s compiler prepared each value
    through the field: a third of the ingest's Django CPU, bench/ingest.py --profile); others (dates,
    JSON) through ``get_db_prep_save``; ``auto_now_add`` is filled like ``save`` does. No signals, like
    ``bulk_create``.

    PostgreSQL: ``COPY … FROM STDIN`` (``_rows_copy``). SQLite (the embedded form): one multi-row INSERT
    … VALUES … RETURNING the keys per batch (SQLite's limit on bound parameters), rows returned in
    VALUES order."""
    if not objs:
        return
    meta = model._meta
    fields, plain, stamped = _insert_plan(model)
    for obj in objs:
        for f in stamped:
            f.pre_save(obj, add=True)
    pk = meta.pk
    if pk is None:  # every concrete model has one; for the type checker
        raise TypeError(f"{model.__name__} has no primary key")
    if connection.vendor == "postgresql":
        keys = _rows_copy(model, objs, fields, plain)
    else:
        keys = []
        quote = connection.ops.quote_name
        columns = ", ".join(quote(str(f.column)) for f in fields)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for start in range(0, len(objs), INSERT_BATCH):
            batch = objs[start : start + INSERT_BATCH]
            sql = (
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
                f"VALUES {', '.join([row] * len(batch))} RETURNING {quote(str(pk.column))}"
            )
            params = []
            for obj in batch:
                for f, as_is in zip(fields, plain, strict=True):
                    value = getattr(obj, f.attname)
                    params.append(value if as_is or value is None else f.get_db_prep_save(value, connection))
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                keys += [key for (key,) in cursor.fetchall()]
    alias = connection.alias
    for obj, key in zip(objs, keys, strict=True):
        setattr(obj, pk.attname, key)
        obj._state.adding = False
        obj._state.db = alias


def _copy_prep(field: models.Field[Any, Any]) -> Callable[[Any, Any], Any]:
    """How a value of ``field`` goes to COPY. An aware datetime as it is: what ``get_db_prep_save`` makes
    of it on PostgreSQL (``adapt_datetimefield_value`` returns it unchanged), without the field's checks
    that cost a tenth of the insert; a naive one (a warning and the default zone) through the field."""
    prep = field.get_db_prep_save
    if not isinstance(field, models.DateTimeField):
        return prep
    return lambda value, conn: value if isinstance(value, datetime) and value.tzinfo else prep(value, conn)


def _rows_copy(
    model: type[models.Model], objs: Sequence[models.Model], fields: list[Any], plain: list[bool]
) -> list[int]:
    """PostgreSQL: the keys drawn from the table's sequence in one query (``nextval`` over
    ``generate_series``; the identity column takes explicit values, it is GENERATED BY DEFAULT), then the
    rows in one ``COPY … FROM STDIN`` (psycopg 3's ``cursor.copy``, https://www.psycopg.org/psycopg3/docs/
    basic/copy.html: rows formatted by its C extension, no SQL to parse). A multi-row VALUES with
    thousands of ``%s`` cost psycopg a fifth of the ingest's CPU in ``_split_query`` on every page, and
    PostgreSQL the planning of it (bench/ingest.py --profile). COPY does not go through Django's
    execute wrappers: ``CaptureQueriesContext`` counts the ``nextval`` query only."""
    meta = model._meta
    quote = connection.ops.quote_name
    pk = meta.pk
    if pk is None:  # every concrete model has one; for the type checker
        raise TypeError(f"{model.__name__} has no primary key")
    table, key = quote(meta.db_table), quote(str(pk.column))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, str(pk.column), len(objs)],
        )
        keys = sorted(int(k) for (k,) in cursor.fetchall())
        # All the row's attributes in one C call (``attrgetter``), then the few columns that need
        # preparing (dates, JSON) in place: the per-attribute Python loop was most of this function.
        values = operator.attrgetter(*(f.attname for f in fields))
        preps = [
            (n + 1, _copy_prep(f))
            for n, (f, as_is) in enumerate(zip(fields, plain, strict=True))
            if not as_is
        ]
        columns = ", ".join(quote(str(f.column)) for f in fields)
        with cursor.cursor.copy(f"COPY {table} ({key}, {columns}) FROM STDIN") as copy:
            write = copy.write_row
            for number, obj in zip(keys, objs, strict=True):
                got = values(obj)
                row: list[Any] = [number, *got] if len(fields) > 1 else [number, got]
                for n, prep in preps:
                    if row[n] is not None:
                        row[n] = prep(row[n], connection)
                write(row)
    return keys


def _rows_update(model: type[models.Model], objs: Sequence[models.Model], names: Sequence[str]) -> None:
    """``bulk_update`` for the hot paths (``bulk_update`` builds a CASE over the batch for each column,
    and building those expressions cost more CPU than judging the texts: bench/ingest.py, profile).
    PostgreSQL: one ``UPDATE … FROM unnest(%s::type[], …)`` joined on the primary key, one statement for
    all rows; SQLite: one UPDATE per row by primary key with ``executemany`` (one call)."""
    if not objs:
        return
    meta = model._meta
    fields = [cast(models.Field[Any, Any], meta.get_field(name)) for name in names]
    quote = connection.ops.quote_name
    pk = meta.pk
    if pk is None:  # every concrete model has one; for the type checker
        raise TypeError(f"{model.__name__} has no primary key")
    table, key = quote(meta.db_table), quote(str(pk.column))
    values = [[f.get_db_prep_save(getattr(o, f.attname), connection) for o in objs] for f in fields]
    if connection.vendor == "postgresql":
        names_sql = ", ".join(f"c{n}" for n in range(len(fields)))
        sql = (
            f"UPDATE {table} SET "  # noqa: S608
            + ", ".join(f"{quote(str(f.column))} = v.c{n}" for n, f in enumerate(fields))
            + f" FROM unnest(%b::{_array_type(pk)}, "
            + ", ".join(f"%b::{_array_type(f)}" for f in fields)
            + f") AS v(k, {names_sql}) WHERE {table}.{key} = v.k"
        )
        with array_cursor() as cursor:  # whole columns in binary (core/sql.py)
            cursor.execute(sql, [[o.pk for o in objs], *values])
        return
    columns = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    sql = f"UPDATE {table} SET {columns} WHERE {key} = %s"  # noqa: S608
    rows = [[*(column[i] for column in values), o.pk] for i, o in enumerate(objs)]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def messages_analyse_pending(*, limit: int = 500) -> int:
    """Periodic catch-up: every workspace's messages not judged by the full model yet (a refinement task
    lost in a crash, or still queued: judging twice is skipped)."""
    workspace_ids = (
        Message.objects.filter(sent_by__isnull=True)
        .exclude(sentiment_tier=SentimentTier.FULL)
        .values_list("conversation__workspace_id", flat=True)
        .distinct()
    )
    done = 0
    for workspace in Workspace.objects.filter(pk__in=list(workspace_ids)):
        done += messages_analyse(workspace=workspace, limit=limit)
    return done


# -- the inbox ------------------------------------------------------------------------------------
#
# Every write of the inbox goes through these functions with the workspace; an object of another
# workspace raises WorkspaceMismatch (a 404) before anything is changed.

REPLY_LEASE = timedelta(minutes=2)
REPLY_MAX_ATTEMPTS = 8
REPLY_RETRY_BASE_SECONDS = 15.0
PRESENCE_SECONDS = 20  # a viewer who stops sending heartbeats (every 10 s) is gone after this
MENTION = re.compile(r"(?<![\w.])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)", re.UNICODE)


def _ensure_conversation(workspace: Workspace, conversation: Conversation) -> None:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=conversation.workspace_id)


def inbox_settings_get(*, workspace: Workspace) -> InboxSettings:
    found, _created = InboxSettings.objects.get_or_create(workspace=workspace)
    return found


def inbox_settings_update(
    *, workspace: Workspace, round_robin: bool, first_response_minutes: int
) -> InboxSettings:
    found = inbox_settings_get(workspace=workspace)
    found.round_robin = round_robin
    found.first_response_minutes = max(1, first_response_minutes)
    found.save(update_fields=["round_robin", "first_response_minutes"])
    return found


def _ensure_inbox_member(workspace: Workspace, user: User) -> None:
    if user.pk not in {u.pk for u in inbox_members(workspace=workspace)}:
        raise ValidationError(_("%(user)s cannot work in this workspace's inbox.") % {"user": user})


def conversation_assign(
    *, workspace: Workspace, conversation: Conversation, assignee: User | None, actor: User | None = None
) -> Conversation:
    """Give the conversation to ``assignee`` (a member with inbox rights) or to nobody (``None``)."""
    _ensure_conversation(workspace, conversation)
    if assignee is not None:
        _ensure_inbox_member(workspace, assignee)
    conversation.assignee = assignee
    conversation.save(update_fields=["assignee"])
    return conversation


def conversation_set_status(
    *, workspace: Workspace, conversation: Conversation, status: str, actor: User | None = None
) -> Conversation:
    """Open, pending or closed. Closing records ``closed_at`` (the handling time ends there); reopening
    clears it, so a conversation closed twice counts until its last close."""
    _ensure_conversation(workspace, conversation)
    if status not in ConversationStatus.values:
        raise ValidationError(_("Unknown status: %(status)s") % {"status": status})
    conversation.status = status
    conversation.closed_at = timezone.now() if status == ConversationStatus.CLOSED else None
    conversation.save(update_fields=["status", "closed_at"])
    return conversation


BULK_ACTIONS = ("assign", "status", "close")


def conversation_bulk(
    *,
    workspace: Workspace,
    conversation_ids: list[int],
    action: str,
    assignee: User | None = None,
    status: str = "",
    actor: User | None = None,
) -> int:
    """``action`` "assign" (to ``assignee``; None = unassign), "status" (to ``status``) or "close" for
    each conversation. Every one is checked before anything changes: one id of another workspace refuses
    the whole batch (404), and the actor must hold inbox rights; all of it is one transaction and one
    audit entry (which conversations, what was done)."""
    if action not in BULK_ACTIONS:
        raise ValidationError(_("Unknown action: %(action)s") % {"action": action})
    if action == "status" and status not in ConversationStatus.values:
        raise ValidationError(_("Unknown status: %(status)s") % {"status": status})
    if actor is not None:
        ensure_allowed(membership_role(workspace=workspace, user=actor), Action.USE_INBOX)
    if assignee is not None:
        _ensure_inbox_member(workspace, assignee)
    conversations = list(Conversation.objects.filter(pk__in=conversation_ids))
    if len(conversations) != len(set(conversation_ids)):
        raise WorkspaceMismatch(workspace_id=workspace.pk, obj_workspace_id=None)
    for conversation in conversations:
        _ensure_conversation(workspace, conversation)
    with transaction.atomic():
        for conversation in conversations:
            if action == "assign":
                conversation_assign(
                    workspace=workspace, conversation=conversation, assignee=assignee, actor=actor
                )
            else:
                conversation_set_status(
                    workspace=workspace,
                    conversation=conversation,
                    status=ConversationStatus.CLOSED if action == "close" else status,
                    actor=actor,
                )
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="inbox.bulk",
            data={
                "action": action,
                "conversations": sorted(c.pk for c in conversations),
                **({"assignee": assignee.pk if assignee else None} if action == "assign" else {}),
                **({"status": status} if action == "status" else {}),
            },
        )
    return len(conversations)


def conversation_auto_assign(*, workspace: Workspace, conversation: Conversation) -> User | None:
    """Round robin (when the workspace turned it on): the next member in turn after the one who got the
    last conversation. The pool is the workspace's agents, or, in a team without agents, everyone with
    inbox rights; the settings row is locked so two new conversations never go to the same turn."""
    _ensure_conversation(workspace, conversation)
    if conversation.assignee_id is not None:
        return conversation.assignee
    with transaction.atomic():
        inbox_settings_get(workspace=workspace)
        found = InboxSettings.objects.select_for_update().get(workspace=workspace)
        if not found.round_robin:
            return None
        members = inbox_members(workspace=workspace)
        pool = [u for u, role in members.items() if role == Role.AGENT] or list(members)
        if not pool:
            return None
        pool.sort(key=lambda u: u.pk)
        after = found.last_assignee_id or 0
        chosen = next((u for u in pool if u.pk > after), pool[0])
        found.last_assignee = chosen
        found.save(update_fields=["last_assignee"])
        conversation.assignee = chosen
        conversation.save(update_fields=["assignee"])
    return chosen


def note_add(*, workspace: Workspace, conversation: Conversation, author: User, text: str) -> Note:
    """An internal note; colleagues named as ``@name`` (their name without spaces, the part of their
    e-mail before the @, or the whole address) get a notification."""
    _ensure_conversation(workspace, conversation)
    text = text.strip()
    if not text:
        raise ValidationError(_("A note needs a text."))
    note = Note.objects.create(conversation=conversation, author=author, text=text)
    mentioned = note_mentions(workspace=workspace, text=text)
    mentioned = [u for u in mentioned if u.pk != author.pk]
    if mentioned:
        note.mentions.set(mentioned)
        first = conversation.messages.filter(sent_by__isnull=True).first()
        notification_send(
            workspace=workspace,
            recipients=mentioned,
            kind=NotificationKind.INBOX_MENTION,
            params={
                "actor": author.name or author.email,
                "workspace": workspace.name,
                "conversation": (first.author_name or first.author_handle) if first else "",
                "note": text[:300],
            },
            url=reverse("engagement:thread", args=[workspace.pk, conversation.pk]),
        )
    return note


def note_mentions(*, workspace: Workspace, text: str) -> list[User]:
    """The members of ``workspace`` that ``text`` mentions (``@name``), in the order of the text."""
    words = [w.lower().rstrip(".") for w in MENTION.findall(text)]
    if not words:
        return []
    found: list[User] = []
    for user in User.objects.filter(memberships__workspace=workspace, is_active=True).order_by("pk"):
        names = {
            user.email.lower(),
            user.email.split("@")[0].lower(),
            user.name.replace(" ", "").lower(),
            user.name.split(" ")[0].lower() if user.name else "",
        } - {""}
        if names.intersection(words) and user not in found:
            found.append(user)
    return found


def saved_reply_create(*, workspace: Workspace, title: str, text: str) -> SavedReply:
    title, text = title.strip(), text.strip()
    if not title or not text:
        raise ValidationError(_("A saved reply needs a title and a text."))
    if SavedReply.objects.filter(workspace=workspace, title=title).exists():
        raise ValidationError(_("A saved reply with this title exists already."))
    return SavedReply.objects.create(workspace=workspace, title=title, text=text)


def saved_reply_delete(*, workspace: Workspace, saved_reply: SavedReply) -> None:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=saved_reply.workspace_id)
    saved_reply.delete()


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # an unknown variable stays visible for the agent to fix


def saved_reply_render(
    *, workspace: Workspace, saved_reply: SavedReply, conversation: Conversation, agent: User
) -> str:
    """The saved reply's text with ``{author_name}`` (who wrote to us, their name or else their
    handle), ``{channel_name}`` (our channel) and ``{agent_name}`` (the person answering)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=saved_reply.workspace_id)
    _ensure_conversation(workspace, conversation)
    last = conversation.messages.filter(sent_by__isnull=True).order_by("-created_at").first()
    channel = conversation.channel
    values = _Blank(
        author_name=(last.author_name or last.author_handle) if last else "",
        channel_name=channel.display_name or channel.handle,
        agent_name=agent.name or agent.email.split("@")[0],
    )
    return saved_reply.text.format_map(values)


# -- replying ---------------------------------------------------------------------------------------


def reply_create(
    *,
    workspace: Workspace,
    conversation: Conversation,
    author: User,
    text: str,
    in_reply_to: Message | None = None,
) -> OutgoingReply:
    """Queue an answer. The idempotency key is committed with the row, before any network call; the
    task that sends it runs after the commit and takes only the id."""
    _ensure_conversation(workspace, conversation)
    text = text.strip()
    if not text:
        raise ValidationError(_("A reply needs a text."))
    if in_reply_to is None:
        in_reply_to = conversation.messages.filter(sent_by__isnull=True).order_by("-created_at").first()
    elif in_reply_to.conversation_id != conversation.pk:
        raise WorkspaceMismatch(workspace_id=workspace.pk, obj_workspace_id=None)
    if in_reply_to is None:
        raise ValidationError(_("There is no message to answer in this conversation."))
    with transaction.atomic():
        reply = OutgoingReply.objects.create(
            conversation=conversation,
            in_reply_to=in_reply_to,
            author=author,
            text=text,
            key=f"rz-reply-{uuid.uuid4().hex}",
            key_created_at=timezone.now(),
        )
        transaction.on_commit(lambda: reply_enqueue(reply_id=reply.pk))
    return reply


def reply_enqueue(*, reply_id: int, delay: float = 0.0) -> None:
    from .tasks import send_reply

    if delay > 0:
        send_reply.using(run_after=timezone.now() + timedelta(seconds=delay)).enqueue(reply_id=reply_id)
    else:
        send_reply.enqueue(reply_id=reply_id)


def _reply_retry(
    reply: OutgoingReply, exc: ConnectorError, *, status: str, delay: float | None = None
) -> str:
    if reply.attempts >= REPLY_MAX_ATTEMPTS:
        return _reply_fail(reply, exc)
    reply.status = status
    reply.last_error = exc.network_message
    reply.lease_until = None
    reply.save(update_fields=["status", "last_error", "lease_until"])
    wait = delay if delay is not None else REPLY_RETRY_BASE_SECONDS * 2 ** max(0, reply.attempts - 1)
    transaction.on_commit(lambda: reply_enqueue(reply_id=reply.pk, delay=wait))
    return "retry"


def _reply_fail(reply: OutgoingReply, exc: ConnectorError) -> str:
    reply.status = ReplyStatus.FAILED
    reply.last_error = exc.network_message
    reply.lease_until = None
    reply.save(update_fields=["status", "last_error", "lease_until"])
    return "failed"


def _reply_settle(reply: OutgoingReply, ref: PublishedRef, channel_handle: str) -> str:
    now = timezone.now()
    conversation = reply.conversation
    channel = conversation.channel
    with transaction.atomic():
        reply.status = ReplyStatus.SENT
        reply.remote_id = ref.remote_id
        reply.url = ref.url
        reply.sent_at = now
        reply.lease_until = None
        reply.last_error = ""
        reply.save(update_fields=["status", "remote_id", "url", "sent_at", "lease_until", "last_error"])
        # The next sync brings the same message back from the network: the unique remote id makes it
        # the same row (dedup), now marked as ours.
        message, _created = Message.objects.get_or_create(
            conversation=conversation,
            remote_id=ref.remote_id,
            defaults={
                "url": ref.url,
                "author_id": channel.remote_id,
                "author_handle": channel_handle,
                "author_name": channel.display_name,
                "text": reply.text,
                "in_reply_to_remote_id": reply.in_reply_to.remote_id if reply.in_reply_to else "",
                "created_at": now,
            },
        )
        Message.objects.filter(pk=message.pk).update(sent_by=reply.author)
        Conversation.objects.filter(pk=conversation.pk, first_response_at__isnull=True).update(
            first_response_at=now
        )
        Conversation.objects.filter(pk=conversation.pk).update(last_message_at=now)
    return "sent"


def reply_send(*, workspace: Workspace, reply_id: int) -> str:
    """Send one queued answer, exactly once (the publishing engine's rules, for one part):

    1. claim the reply with one conditional UPDATE and a lease, so two workers never both send it;
    2. a reply whose earlier attempt ended unknown (timeout) or never settled (crash) is reconciled
       first: the connector says whether the network has it, and it is sent only if certainly not;
    3. the call carries the key committed before it (the connector's idempotency);
    4. a timeout is reconciled at once; temporary errors retry later with backoff, refusals fail."""
    now = timezone.now()
    claimed = (
        OutgoingReply.objects.filter(
            pk=reply_id,
            conversation__workspace=workspace,
            status__in=[ReplyStatus.PENDING, ReplyStatus.UNKNOWN],
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + REPLY_LEASE)
    )
    if not claimed:
        return "skipped"
    reply = OutgoingReply.objects.select_related("conversation__channel", "in_reply_to", "author").get(
        pk=reply_id
    )
    conversation = reply.conversation
    _ensure_conversation(workspace, conversation)
    channel = conversation.channel
    connector = get_connector(channel.network)
    account = channel_account(channel=channel)
    key = PublishKey(key=reply.key, created_at=reply.key_created_at)
    target = reply.in_reply_to
    reply_to = PublishedRef(remote_id=target.remote_id if target else conversation.root_remote_id, url="")
    root = PublishedRef(remote_id=conversation.root_remote_id, url="")
    try:
        if reply.status == ReplyStatus.UNKNOWN or reply.attempts > 0:
            try:
                found = connector.find_reply(account=account, text=reply.text, key=key, reply_to=reply_to)
            except NotSupported:
                found = None  # the connector's create is idempotent for the key: sending again is safe
            except TemporaryError as exc:
                return _reply_retry(reply, exc, status=reply.status)
            if found is not None:
                return _reply_settle(reply, found, channel.handle)
        reply.attempts += 1
        reply.save(update_fields=["attempts"])
        refreshed = False
        while True:
            try:
                ref = connector.reply(account=account, text=reply.text, key=key, reply_to=reply_to, root=root)
                break
            except AuthExpired as exc:
                if not refreshed and channel_refresh_credentials(
                    channel=channel, account=account, cause=exc.network_message
                ):
                    refreshed = True
                    continue
                return _reply_fail(reply, exc)
            except OutcomeUnknown as exc:
                try:
                    found = connector.find_reply(account=account, text=reply.text, key=key, reply_to=reply_to)
                except ConnectorError:
                    found = None
                if found is not None:
                    return _reply_settle(reply, found, channel.handle)
                return _reply_retry(reply, exc, status=ReplyStatus.UNKNOWN)
            except RateLimited as exc:
                return _reply_retry(reply, exc, status=ReplyStatus.PENDING, delay=exc.retry_after)
            except TemporaryError as exc:
                return _reply_retry(reply, exc, status=ReplyStatus.PENDING)
            except (Rejected, NotSupported) as exc:
                return _reply_fail(reply, exc)
        return _reply_settle(reply, ref, channel.handle)
    finally:
        channel_store_account(channel=channel, account=account)


# -- presence (the collision warning) ---------------------------------------------------------------


def _presence_key(conversation_id: int) -> str:
    return f"inbox:presence:{conversation_id}"


def presence_touch(
    *, workspace: Workspace, conversation: Conversation, user: User, typing: bool
) -> list[tuple[str, bool]]:
    """Record that ``user`` has the conversation open (and whether they are typing) for a few seconds;
    return the others who have it open as (name, typing). Kept in the cache: it is short-lived by
    nature, and a lost entry only hides a warning for one heartbeat."""
    _ensure_conversation(workspace, conversation)
    now = time.time()
    key = _presence_key(conversation.pk)
    seen: dict[str, list[Any]] = cache.get(key) or {}
    seen = {k: v for k, v in seen.items() if v[1] > now}
    seen[str(user.pk)] = [user.name or user.email, now + PRESENCE_SECONDS, typing]
    cache.set(key, seen, PRESENCE_SECONDS * 2)
    return sorted((str(v[0]), bool(v[2])) for k, v in seen.items() if k != str(user.pk))


@transaction.atomic
def conversation_create_from_mention(
    *,
    workspace: Workspace,
    channel_id: int,
    remote_id: str,
    url: str,
    author: str,
    text: str,
    created_at: Any,
    language: str | None = None,
    sentiment: str | None = None,
) -> Conversation:
    """An inbox conversation for a mention found by listening, on one of the workspace's channels (the one
    the team answers from). Idempotent: the same mention on the same channel gives the same conversation."""
    from resonanz.channels.models import Channel

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise WorkspaceMismatch(workspace_id=workspace.pk, obj_workspace_id=None)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    conversation, _created = Conversation.objects.get_or_create(
        channel=channel,
        root_remote_id=remote_id[:500],
        defaults={"workspace": workspace, "kind": InboxKind.MENTIONS.value, "last_message_at": created_at},
    )
    row = Message(text=text, language=language, sentiment=sentiment)
    if sentiment is None:
        _first_pass([row])
    else:
        row.sentiment_tier = SentimentTier.FULL  # listening judged it with the combined tier
    message, message_created = Message.objects.get_or_create(
        conversation=conversation,
        remote_id=remote_id[:500],
        defaults={
            "url": url[:1000],
            "author_id": author[:300] or "-",
            "author_handle": author[:300] or "-",
            "text": text,
            "created_at": created_at,
            "language": row.language,
            "sentiment": row.sentiment,
            "sentiment_reasons": row.sentiment_reasons,
            "sentiment_tier": row.sentiment_tier,
        },
    )
    if message_created:
        conversation_route(workspace=workspace, conversation=conversation, message_ids=[message.pk])
    if message_created and sentiment is None:
        messages_analyse_later(workspace=workspace, message_ids=[message.pk])
    return conversation


# -- assignment rules ---------------------------------------------------------------------------------
#
# A workspace's rules are tried in order on an unassigned conversation when it arrives or gets a new
# message; the first whose conditions hold is applied (assign to a person or in turn among a group,
# and/or set status and priority). Without a matching rule a new conversation goes to the round robin
# (when it is on). Conditions on language or sentiment need the classifier, which runs after commit: the
# rules are tried at arrival up to the first rule that needs it, and once more when the messages are
# judged (``messages_analyse``); each message is routed once (``Message.routed``).

RULE_FIELDS = (
    "name",
    "enabled",
    "channel",
    "kind",
    "language",
    "sentiment",
    "keywords",
    "assign_mode",
    "assignee",
    "set_status",
    "set_priority",
)


def _require_rules_manager(workspace: Workspace, actor: User | None) -> None:
    if actor is None:  # system actions carry no user
        return
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.MANAGE_WORKSPACE)


def rule_clean(*, workspace: Workspace, rule: AssignmentRule, pool: list[User]) -> None:
    """Refuse (ValidationError per field, in the user's language) what a rule may not be: a channel of
    another workspace, people without inbox rights, an action that does nothing."""
    errors: dict[str, str] = {}
    rule.name = " ".join(rule.name.split())
    rule.keywords = "\n".join(keyword_list(rule.keywords))
    if not rule.name:
        errors["name"] = _("Give the rule a name.")
    if rule.channel is not None and rule.channel.workspace_id != workspace.pk:
        raise WorkspaceMismatch(workspace_id=workspace.pk, obj_workspace_id=rule.channel.workspace_id)
    if rule.language and rule.language not in MessageLanguage.values:
        errors["language"] = _("Unknown language.")
    if rule.sentiment and rule.sentiment not in Sentiment.values:
        errors["sentiment"] = _("Unknown sentiment.")
    members = {u.pk for u in inbox_members(workspace=workspace)}
    if rule.assign_mode == AssignMode.PERSON:
        if rule.assignee_id is None:
            errors["assignee"] = _("Choose the person who gets the conversations.")
        elif rule.assignee_id not in members:
            errors["assignee"] = _("This person cannot work in this workspace's inbox.")
    elif rule.assign_mode == AssignMode.ROUND_ROBIN:
        if not pool:
            errors["pool"] = _("Choose the people who get the conversations in turn.")
        elif any(u.pk not in members for u in pool):
            errors["pool"] = _("Everyone in the group must be able to work in this workspace's inbox.")
        rule.assignee = None
    elif rule.assign_mode:
        errors["assign_mode"] = _("Unknown assignment.")
    else:
        rule.assignee = None
    if rule.set_status and rule.set_status not in ConversationStatus.values:
        errors["set_status"] = _("Unknown status: %(status)s") % {"status": rule.set_status}
    if rule.set_priority and rule.set_priority not in Priority.values:
        errors["set_priority"] = _("Unknown priority.")
    if not (rule.assign_mode or rule.set_status or rule.set_priority) and "assign_mode" not in errors:
        errors["assign_mode"] = _("A rule needs an action: assign, set a status or set a priority.")
    if errors:
        raise ValidationError(errors)


def _rule_audit(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "channel": rule.channel_id,
        "kind": rule.kind,
        "language": rule.language,
        "sentiment": rule.sentiment,
        "keywords": keyword_list(rule.keywords),
        "assign_mode": rule.assign_mode,
        "assignee": rule.assignee_id,
        "pool": sorted(rule.pool.values_list("pk", flat=True)),
        "set_status": rule.set_status,
        "set_priority": rule.set_priority,
        "position": rule.position,
    }


@transaction.atomic
def rule_create(
    *, workspace: Workspace, actor: User | None, values: dict[str, Any], pool: list[User] | None = None
) -> AssignmentRule:
    """A new rule, last in the order. ``values`` holds fields of ``RULE_FIELDS`` (channel and assignee
    as objects or None)."""
    _require_rules_manager(workspace, actor)
    rule = AssignmentRule(workspace=workspace, **{k: v for k, v in values.items() if k in RULE_FIELDS})
    pool = list(pool or [])
    rule_clean(workspace=workspace, rule=rule, pool=pool)
    last = AssignmentRule.objects.filter(workspace=workspace).order_by("-position").first()
    rule.position = (last.position + 1) if last else 0
    rule.save()
    rule.pool.set(pool if rule.assign_mode == AssignMode.ROUND_ROBIN else [])
    audit_log_record(
        workspace=workspace, actor=actor, action="inbox.rule.create", target=rule, data=_rule_audit(rule)
    )
    return rule


@transaction.atomic
def rule_update(
    *,
    workspace: Workspace,
    rule: AssignmentRule,
    actor: User | None,
    values: dict[str, Any],
    pool: list[User] | None = None,
) -> AssignmentRule:
    """Change the fields in ``values`` (``pool`` None: the group stays as it is)."""
    _require_rules_manager(workspace, actor)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=rule.workspace_id)
    for key, value in values.items():
        if key in RULE_FIELDS:
            setattr(rule, key, value)
    members = list(rule.pool.all()) if pool is None else list(pool)
    rule_clean(workspace=workspace, rule=rule, pool=members)
    rule.save()
    rule.pool.set(members if rule.assign_mode == AssignMode.ROUND_ROBIN else [])
    audit_log_record(
        workspace=workspace, actor=actor, action="inbox.rule.update", target=rule, data=_rule_audit(rule)
    )
    return rule


@transaction.atomic
def rule_delete(*, workspace: Workspace, rule: AssignmentRule, actor: User | None) -> None:
    _require_rules_manager(workspace, actor)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=rule.workspace_id)
    audit_log_record(
        workspace=workspace, actor=actor, action="inbox.rule.delete", target=rule, data={"name": rule.name}
    )
    rule.delete()


@transaction.atomic
def rule_move(*, workspace: Workspace, rule: AssignmentRule, actor: User | None, offset: int) -> list[int]:
    """Move the rule ``offset`` places (-1: up, 1: down); returns the new order of rule ids."""
    _require_rules_manager(workspace, actor)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=rule.workspace_id)
    rules = list(
        AssignmentRule.objects.select_for_update().filter(workspace=workspace).order_by("position", "pk")
    )
    index = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    target = max(0, min(len(rules) - 1, index + offset))
    rules.insert(target, rules.pop(index))
    for position, item in enumerate(rules):
        item.position = position
    AssignmentRule.objects.bulk_update(rules, ["position"])
    order = [r.pk for r in rules]
    audit_log_record(
        workspace=workspace, actor=actor, action="inbox.rule.move", target=rule, data={"order": order}
    )
    return order


def _rule_pick_in_turn(*, workspace: Workspace, rule: AssignmentRule) -> User | None:
    """The next member of the rule's group after the one it gave the last conversation (the rule's row
    is locked, so two conversations never get the same turn); members who lost inbox rights are skipped."""
    locked = AssignmentRule.objects.select_for_update().get(pk=rule.pk)
    members = {u.pk for u in inbox_members(workspace=workspace)}
    pool = sorted((u for u in locked.pool.all() if u.pk in members), key=lambda u: u.pk)
    if not pool:
        return None
    after = locked.last_assignee_id or 0
    chosen = next((u for u in pool if u.pk > after), pool[0])
    locked.last_assignee = chosen
    locked.save(update_fields=["last_assignee"])
    return chosen


def rule_apply(*, workspace: Workspace, rule: AssignmentRule, conversation: Conversation) -> dict[str, Any]:
    """Do what the rule says to the conversation; returns what changed (also written to the audit log)."""
    _ensure_conversation(workspace, conversation)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=rule.workspace_id)
    done: dict[str, Any] = {"rule": rule.pk, "name": rule.name}
    with transaction.atomic():
        assignee: User | None = None
        if rule.assign_mode == AssignMode.PERSON and rule.assignee is not None:
            if rule.assignee.pk in {u.pk for u in inbox_members(workspace=workspace)}:
                assignee = rule.assignee
        elif rule.assign_mode == AssignMode.ROUND_ROBIN:
            assignee = _rule_pick_in_turn(workspace=workspace, rule=rule)
        if assignee is not None:
            conversation_assign(workspace=workspace, conversation=conversation, assignee=assignee)
            done["assignee"] = assignee.pk
        if rule.set_status and rule.set_status != conversation.status:
            conversation_set_status(workspace=workspace, conversation=conversation, status=rule.set_status)
            done["status"] = rule.set_status
        if rule.set_priority and rule.set_priority != conversation.priority:
            conversation.priority = rule.set_priority
            conversation.save(update_fields=["priority"])
            done["priority"] = rule.set_priority
        audit_log_record(
            workspace=workspace, actor=None, action="inbox.rule.applied", target=conversation, data=done
        )
    return done


def conversation_route(
    *, workspace: Workspace, conversation: Conversation, message_ids: list[int]
) -> AssignmentRule | None:
    """Try the rules on the conversation's new messages ``message_ids`` (those not routed yet); returns
    the rule applied. Waits (returns None, messages stay unrouted) when a rule before any match needs
    language or sentiment that is not judged yet: ``messages_analyse`` routes them again."""
    _ensure_conversation(workspace, conversation)
    # No savepoint: called inside the ingest's transaction (an error fails it as a whole anyway), and
    # this runs once per conversation with new messages, on the ingest's hot path.
    with transaction.atomic(savepoint=False):
        fresh = list(
            Message.objects.filter(
                conversation=conversation, pk__in=message_ids, sent_by__isnull=True, routed=False
            )
        )
        if not fresh:
            return None
        rules = list(
            AssignmentRule.objects.filter(workspace=workspace, enabled=True).select_related(
                "assignee", "channel"
            )
        )
        if rules:
            # Locked while the rules decide, so a person assigning it by hand meanwhile is not overridden.
            conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        applied: AssignmentRule | None = None
        if conversation.assignee_id is None:
            facts = [MessageFacts(text=m.text, language=m.language, sentiment=m.sentiment) for m in fresh]
            unjudged = any(m.sentiment is None for m in fresh)
            for rule in rules:
                conditions = rule_conditions(rule)
                if conditions.needs_analysis and unjudged:
                    return None  # this rule may match once the messages are judged: wait for that
                if conditions_hold(
                    conditions=conditions,
                    channel_id=conversation.channel_id,
                    kind=conversation.kind,
                    messages=facts,
                ):
                    rule_apply(workspace=workspace, rule=rule, conversation=conversation)
                    applied = rule
                    break
            if (
                applied is None
                and not Message.objects.filter(conversation=conversation, sent_by__isnull=True)
                .exclude(pk__in=[m.pk for m in fresh])
                .exists()
            ):
                # A new conversation (all its messages are these) that no rule took: the round robin.
                conversation_auto_assign(workspace=workspace, conversation=conversation)
        Message.objects.filter(pk__in=[m.pk for m in fresh]).update(routed=True)
    return applied


def conversations_route_new(
    *, workspace: Workspace, arrived: list[tuple[Conversation, list[Message]]]
) -> None:
    """``conversation_route`` for many conversations made in this transaction with these messages (and no
    others): the same decisions in the same order, with the rules read once and the round robin's row
    locked once for all of them. Nobody else can see these conversations yet, so none is locked, and none
    is assigned yet. The messages may be unsaved yet (the ingest routes before their INSERT): the rules
    read them in memory, and ``routed`` is set on the objects (and in the table for those saved). So may
    the conversations: those unsaved are inserted here, after the round robin has set their assignee and
    before a rule's actions (which save and audit the conversation): one INSERT with the assignee instead
    of an UPDATE of each row of the page after it (a new version of every row and of its index entries
    for PostgreSQL). The ingest's hot path: bench/ingest.py."""
    if not arrived:
        return
    for conversation, _messages in arrived:
        _ensure_conversation(workspace, conversation)
    with transaction.atomic(savepoint=False):
        # The rules alone: their conditions need no related row; the assignees of those that match are
        # read below, in one query (building the joined users and channels on every page cost more than
        # the rules' matching, bench/ingest.py --profile).
        rules = list(AssignmentRule.objects.filter(workspace=workspace, enabled=True))
        conditions = [(rule, rule_conditions(rule)) for rule in rules]
        routed: list[Message] = []
        in_turn: list[Conversation] = []
        hits: list[tuple[AssignmentRule, Conversation]] = []
        for conversation, messages in arrived:
            facts = [MessageFacts(text=m.text, language=m.language, sentiment=m.sentiment) for m in messages]
            unjudged = any(m.sentiment is None for m in messages)
            outcome: AssignmentRule | bool | None = None  # a rule, None (round robin) or False (wait)
            for rule, condition in conditions:
                if condition.needs_analysis and unjudged:
                    outcome = False
                    break
                if conditions_hold(
                    conditions=condition,
                    channel_id=conversation.channel_id,
                    kind=conversation.kind,
                    messages=facts,
                ):
                    outcome = rule
                    break
            if outcome is False:
                continue  # messages stay unrouted: ``messages_analyse`` routes them once judged
            if isinstance(outcome, AssignmentRule):
                hits.append((outcome, conversation))
            else:
                in_turn.append(conversation)
            routed += messages
        if in_turn:
            # Independent of the rules' actions (a rule's own turn is kept on its row, not on this one).
            _round_robin_many(workspace=workspace, conversations=in_turn)
        _rows_insert(Conversation, [c for c, _messages in arrived if c.pk is None])
        prefetch_related_objects(list({rule.pk: rule for rule, _conversation in hits}.values()), "assignee")
        for rule, conversation in hits:
            rule_apply(workspace=workspace, rule=rule, conversation=conversation)
        saved = [m.pk for m in routed if m.pk is not None]
        if saved:
            Message.objects.filter(pk__in=saved).update(routed=True)
        for message in routed:
            message.routed = True


def _round_robin_many(*, workspace: Workspace, conversations: list[Conversation]) -> None:
    """``conversation_auto_assign`` for several unassigned conversations in turn, the settings row locked
    once (one query when the row exists, as it does after the first page)."""
    found = InboxSettings.objects.select_for_update().filter(workspace=workspace).first()
    if found is None:
        inbox_settings_get(workspace=workspace)
        found = InboxSettings.objects.select_for_update().get(workspace=workspace)
    if not found.round_robin:
        return
    # By id, as ``conversation_auto_assign`` chooses among the users (the same order, the same turn).
    members = inbox_member_roles(workspace=workspace)
    pool = sorted([pk for pk, role in members.items() if role == Role.AGENT] or list(members))
    if not pool:
        return
    after = found.last_assignee_id or 0
    for conversation in conversations:
        after = next((pk for pk in pool if pk > after), pool[0])
        conversation.assignee_id = after
    found.last_assignee_id = after
    found.save(update_fields=["last_assignee"])
    # Unsaved ones (the ingest's new conversations) take the assignee with their INSERT.
    _rows_update(Conversation, [c for c in conversations if c.pk is not None], ["assignee"])


# -- GDPR: retention, erasure and export of one person's messages -------------------------------------
#
# Retention deletes what was closed long enough ago (Art. 5(1)(e) GDPR, storage limitation); erasure
# removes one person's messages on request (Art. 17) and export hands them over (Art. 15/20). The audit
# log records that it happened and how much, never whose data it was (that would keep what was erased).

RETENTION_BATCH = 500
ERASED_TEXT = "[…]"  # what stands in a note where it quoted an erased message (no language: stored)


def inbox_settings_set_retention(
    *, workspace: Workspace, actor: User | None, days: int | None
) -> InboxSettings:
    """Keep closed conversations ``days`` days after closing (None: until deleted by hand)."""
    _require_rules_manager(workspace, actor)
    if days is not None and days < 1:
        raise ValidationError(
            {"retention_days": _("Keep conversations at least one day, or leave it empty.")}
        )
    found = inbox_settings_get(workspace=workspace)
    found.retention_days = days
    found.save(update_fields=["retention_days"])
    audit_log_record(
        workspace=workspace, actor=actor, action="inbox.retention.set", target=found, data={"days": days}
    )
    return found


def inbox_retention_apply(
    *, workspace: Workspace, now: datetime | None = None, batch: int = RETENTION_BATCH
) -> dict[str, int]:
    """Delete the workspace's conversations closed longer ago than its retention, with their messages,
    notes and answers, ``batch`` conversations per transaction (a short lock each, however many there
    are). Returns the counts; one audit entry when anything was deleted."""
    settings_row = inbox_settings_get(workspace=workspace)
    if not settings_row.retention_days:
        return {"conversations": 0, "messages": 0}
    cutoff = (now or timezone.now()) - timedelta(days=settings_row.retention_days)
    conversations = messages = 0
    while True:
        with transaction.atomic():
            ids = list(
                Conversation.objects.filter(
                    workspace=workspace, status=ConversationStatus.CLOSED, closed_at__lt=cutoff
                )
                .order_by("closed_at", "pk")
                .values_list("pk", flat=True)[:batch]
            )
            if not ids:
                break
            messages += Message.objects.filter(conversation_id__in=ids).count()
            Conversation.objects.filter(pk__in=ids).delete()
            conversations += len(ids)
    if conversations:
        audit_log_record(
            workspace=workspace,
            actor=None,
            action="inbox.retention.applied",
            data={"days": settings_row.retention_days, "conversations": conversations, "messages": messages},
        )
    return {"conversations": conversations, "messages": messages}


def inbox_retention_apply_all() -> dict[str, int]:
    """Periodic: every workspace with a retention set."""
    total = {"conversations": 0, "messages": 0}
    for settings_row in InboxSettings.objects.filter(retention_days__isnull=False).select_related(
        "workspace"
    ):
        done = inbox_retention_apply(workspace=settings_row.workspace)
        total = {k: total[k] + done[k] for k in total}
    return total


def _redact_note(text: str, quoted: list[str]) -> str:
    """``text`` with every erased message it quotes taken out: the whole text where it appears, and
    quoted lines (``> …``) whose words come from an erased message."""
    for original in sorted(quoted, key=len, reverse=True):
        if len(original.strip()) >= 3:
            text = text.replace(original.strip(), ERASED_TEXT)
    lines = []
    for line in text.splitlines():
        body = line.lstrip()
        quote = body.lstrip("> ").strip() if body.startswith(">") else ""
        if quote and any(quote in original for original in quoted):
            lines.append(line[: len(line) - len(body)] + "> " + ERASED_TEXT)
        else:
            lines.append(line)
    return "\n".join(lines)


@transaction.atomic
def person_erase(*, workspace: Workspace, actor: User | None, person: str) -> dict[str, int]:
    """Erase every message from the network by ``person`` (a handle, with or without @, or the
    network's account id) in the workspace. Notes stay, but the text they quote from those messages is
    removed; a conversation left with nothing (no message, no note) goes too. Our own answers stay."""
    _require_rules_manager(workspace, actor)
    from .selectors import person_messages

    found = list(person_messages(workspace=workspace, person=person))
    if not found:
        return {"messages": 0, "notes": 0, "conversations": 0}
    by_conversation: dict[int, list[str]] = {}
    for message in found:
        by_conversation.setdefault(message.conversation_id, []).append(message.text)
    notes = 0
    for note in Note.objects.filter(conversation_id__in=list(by_conversation)):
        redacted = _redact_note(note.text, by_conversation[note.conversation_id])
        if redacted != note.text:
            note.text = redacted
            note.save(update_fields=["text"])
            notes += 1
    Message.objects.filter(pk__in=[m.pk for m in found]).delete()
    empty = Conversation.objects.filter(
        pk__in=list(by_conversation), messages__isnull=True, notes__isnull=True
    )
    conversations = empty.count()
    empty.delete()
    done = {"messages": len(found), "notes": notes, "conversations": conversations}
    # How much, never whose: the entry must not keep what was erased.
    audit_log_record(workspace=workspace, actor=actor, action="inbox.person.erased", data=done)
    return done


def person_export(*, workspace: Workspace, actor: User | None, person: str) -> dict[str, Any]:
    """Everything the inbox holds from ``person`` as JSON-ready data (Art. 15/20 GDPR)."""
    _require_rules_manager(workspace, actor)
    from resonanz.connectors.registry import find_spec

    from .selectors import person_messages

    items = []
    for m in person_messages(workspace=workspace, person=person):
        channel = m.conversation.channel
        spec = find_spec(channel.network)
        items.append(
            {
                "network": spec.display_name if spec else channel.network,
                "channel": channel.display_name or channel.handle,
                "conversation": m.conversation_id,
                "remote_id": m.remote_id,
                "url": m.url,
                "author_id": m.author_id,
                "author_handle": m.author_handle,
                "author_name": m.author_name,
                "text": m.text,
                "created_at": m.created_at.isoformat(),
                "language": m.language,
                "sentiment": m.sentiment,
            }
        )
    audit_log_record(
        workspace=workspace, actor=actor, action="inbox.person.exported", data={"messages": len(items)}
    )
    return {"workspace": workspace.name, "exported_at": timezone.now().isoformat(), "messages": items}


# -- like, hide, delete on the network ---------------------------------------------------------------------
#
# Only what the channel's connector declares (``NetworkSpec.inbox_actions``). Called while the agent waits
# (one short request, like the channel check), outside any transaction, and recorded after the network
# said yes: every one of them is idempotent on the network (a like stays one like, a deleted status
# answers 404 which the connector takes as done), so a retry after an error is safe.


def message_actions(*, conversation: Conversation, message: Message) -> list[str]:
    """What the inbox may offer for ``message``: like and hide for theirs, delete for ours."""
    try:
        declared = get_connector(conversation.channel.network).spec.inbox_actions
    except LookupError:
        return []
    if message.sent_by_id is not None:
        wanted = [InboxAction.DELETE_REPLY]
    else:
        wanted = [a for a in (InboxAction.LIKE, InboxAction.HIDE) if not _action_done(message, a)]
    return [a.value for a in wanted if a in declared]


def _action_done(message: Message, action: InboxAction) -> bool:
    return (action == InboxAction.LIKE and message.liked_at is not None) or (
        action == InboxAction.HIDE and message.hidden_at is not None
    )


def message_act(*, workspace: Workspace, message: Message, action: str, actor: User | None) -> Message | None:
    """Like, hide (someone else's message) or delete (our answer) on the network; returns the message as
    recorded (None once deleted). Refused in the user's language when the network does not allow it."""
    conversation = message.conversation
    _ensure_conversation(workspace, conversation)
    if actor is not None:
        ensure_allowed(membership_role(workspace=workspace, user=actor), Action.USE_INBOX)
    if action not in message_actions(conversation=conversation, message=message):
        raise ValidationError(_("This cannot be done with this message on this network."))
    channel = conversation.channel
    connector = get_connector(channel.network)
    account = channel_account(channel=channel)
    ref = PublishedRef(remote_id=message.remote_id, url=message.url)
    call = {
        InboxAction.LIKE.value: connector.like,
        InboxAction.HIDE.value: connector.hide,
        InboxAction.DELETE_REPLY.value: connector.delete_reply,
    }[action]
    try:
        try:
            call(account=account, ref=ref)
        except AuthExpired as first:
            if not channel_refresh_credentials(channel=channel, account=account, cause=first.network_message):
                raise
            call(account=account, ref=ref)
    except TemporaryError as exc:
        raise ValidationError(
            _("The network did not answer (%(reason)s). Please try again in a moment.")
            % {"reason": exc.network_message}
        ) from exc
    except ConnectorError as exc:
        raise ValidationError(_("The network refused: %(reason)s") % {"reason": exc.network_message}) from exc
    finally:
        channel_store_account(channel=channel, account=account)
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action=f"inbox.message.{action}",
        target=conversation,
        data={"message": message.pk},
    )
    now = timezone.now()
    if action == InboxAction.DELETE_REPLY:
        message.delete()
        return None
    field = "liked_at" if action == InboxAction.LIKE else "hidden_at"
    setattr(message, field, now)
    message.save(update_fields=[field])
    return message
