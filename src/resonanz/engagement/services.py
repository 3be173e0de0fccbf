from __future__ import annotations

import logging
import re
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import Role, User, Workspace
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_account, channel_refresh_credentials, channel_store_account
from resonanz.connectors.base import (
    AuthExpired,
    ConnectorError,
    Engagement,
    MentionPage,
    NotSupported,
    OutcomeUnknown,
    PublishedRef,
    RateLimited,
    Rejected,
    RemoteReply,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import InboxKind
from resonanz.connectors.registry import get_connector
from resonanz.core.errors import WorkspaceMismatch, ensure_same_workspace
from resonanz.core.timezones import zone
from resonanz.notifications.kinds import NotificationKind
from resonanz.notifications.services import notification_send
from resonanz.posts.models import Variant, VariantStatus

from .models import (
    METRIC_FIELDS,
    Conversation,
    ConversationStatus,
    FollowerSample,
    InboxSettings,
    Message,
    MetricChannelDaily,
    MetricDaily,
    MetricSample,
    Note,
    OutgoingReply,
    ReplyStatus,
    SavedReply,
)
from .selectors import inbox_members

logger = logging.getLogger(__name__)
SYNC_WINDOW = timedelta(days=30)


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
    if replies:
        conversation, created = Conversation.objects.get_or_create(
            channel=variant.channel,
            root_remote_id=variant.remote_id,
            defaults={"workspace": workspace, "variant": variant, "kind": InboxKind.REPLIES.value},
        )
        if created:
            conversation_auto_assign(workspace=workspace, conversation=conversation)
        latest = conversation.last_message_at
        new_ids: list[int] = []
        for reply in replies:
            message, message_created = Message.objects.get_or_create(
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
            if message_created:
                new_ids.append(message.pk)
            latest = max(filter(None, [latest, reply.created_at]))
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
    _channel_day_add(
        workspace=workspace,
        channel_id=variant.channel_id,
        day=day,
        old={g: getattr(existing, g) for g in gains} if existing is not None else {},
        new=gains,
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
    return row


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
    changes = {}
    for field, value in new.items():
        before = old.get(field)
        if value is None and before is None:
            continue
        delta = (value or 0) - (before or 0)
        changes[field] = Coalesce(F(field), Value(0)) + Value(delta)
    if not changes:
        return
    row, _created = MetricChannelDaily.objects.get_or_create(
        channel_id=channel_id, day=day, defaults={"workspace": workspace}
    )
    MetricChannelDaily.objects.filter(pk=row.pk).update(**changes)


def metric_daily_rebuild(*, workspace: Workspace) -> int:
    """Rebuild the workspace's rollup from its samples (after a time-zone change or for samples taken
    before the rollup existed); returns the number of rows written. Day by day, oldest first, so each
    day's gains see the day before."""
    MetricDaily.objects.filter(workspace=workspace).delete()
    MetricChannelDaily.objects.filter(workspace=workspace).delete()
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
    # Mentions after the replies: a mention that answers one of our posts is then already filed under
    # that post (see ``engagement_store_mentions``). Channels the variant sync just flagged "reconnect
    # needed" are no longer active here.
    mentions = mentions_failed = followers = followers_failed = 0
    channels = Channel.objects.filter(status=ChannelStatus.ACTIVE).select_related("workspace").order_by("pk")
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
        if InboxKind.MENTIONS not in spec.inbox:
            continue
        try:
            mentions += engagement_sync_mentions(workspace=channel.workspace, channel=channel)
        except ConnectorError as exc:
            mentions_failed += 1
            logger.info("mentions sync of channel %s failed: %s", channel.pk, exc)
    return {
        "synced": ok,
        "failed": failed,
        "mentions": mentions,
        "mentions_failed": mentions_failed,
        "followers": followers,
        "followers_failed": followers_failed,
    }


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
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    connector = get_connector(channel.network)
    if InboxKind.MENTIONS not in connector.spec.inbox:
        return 0
    account = channel_account(channel=channel)
    cursor = account.settings.get(MENTIONS_CURSOR_SETTING) or None
    try:
        try:
            page = connector.fetch_mentions(account=account, cursor=cursor)
        except AuthExpired as first:
            if not channel_refresh_credentials(channel=channel, account=account, cause=first.network_message):
                raise
            page = connector.fetch_mentions(account=account, cursor=cursor)
    except NotSupported:
        channel_store_account(channel=channel, account=account)
        return 0
    with transaction.atomic():
        created = engagement_store_mentions(workspace=workspace, channel=channel, page=page)
        if page.cursor != cursor:
            account.update_settings(**{MENTIONS_CURSOR_SETTING: page.cursor})
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
            conversation__channel=channel, conversation__kind=InboxKind.REPLIES.value, remote_id__in=parents
        ).values_list("remote_id", flat=True)
    )
    new_ids: list[int] = []
    for item in items:
        if item.remote_id in filed:
            continue  # already in one of the channel's conversations (as a reply or as a mention)
        if item.in_reply_to_remote_id and item.in_reply_to_remote_id in own_posts | reply_threads:
            continue  # an answer to our post: the reply sync files it under that post
        message = _store_mention(workspace=workspace, channel=channel, item=item)
        if message is not None:
            new_ids.append(message.pk)
            filed.add(item.remote_id)
    if new_ids:
        messages_analyse_later(workspace=workspace, message_ids=new_ids)
    return len(new_ids)


def _store_mention(*, workspace: Workspace, channel: Channel, item: RemoteReply) -> Message | None:
    conversation, created = Conversation.objects.get_or_create(
        channel=channel,
        root_remote_id=item.remote_id,
        defaults={
            "workspace": workspace,
            "kind": InboxKind.MENTIONS.value,
            "last_message_at": item.created_at,
        },
    )
    message, message_created = Message.objects.get_or_create(
        conversation=conversation,
        remote_id=item.remote_id,
        defaults={
            "url": item.url,
            "author_id": item.author_id,
            "author_handle": item.author_handle,
            "author_name": item.author_name,
            "text": item.text,
            "in_reply_to_remote_id": item.in_reply_to_remote_id,
            "created_at": item.created_at,
        },
    )
    if created:
        conversation_auto_assign(workspace=workspace, conversation=conversation)
    return message if message_created else None


# -- language and sentiment -------------------------------------------------------------------------
#
# Each message from the network gets its language and sentiment, with the words that weighed most, from
# resonanz.language (offline; docs/language.md). Not inline: the embedding tier takes tens of
# milliseconds per text, so after commit a task judges the new messages in one batch; a lost task (a
# crash) leaves them NULL and the periodic sync judges what is still NULL (``messages_analyse_pending``).

ANALYSE_BATCH = 64  # the embedding tier's throughput grows with the batch up to about this size
REASONS_SHOWN = 5


def messages_analyse_later(*, workspace: Workspace, message_ids: list[int]) -> None:
    from .tasks import analyse_messages  # tasks imports services: imported when used

    ids = list(message_ids)
    transaction.on_commit(lambda: analyse_messages.enqueue(workspace_id=workspace.pk, message_ids=ids))


def messages_analyse(*, workspace: Workspace, message_ids: list[int] | None = None, limit: int = 500) -> int:
    """Judge the workspace's messages that are not judged yet (of ``message_ids``, or any); returns how
    many. Our own answers (``sent_by``) are not judged. Idempotent: a message judged once is skipped."""
    from resonanz.language import texts_analyse  # the models load only in the processes that judge

    qs = Message.objects.filter(
        conversation__workspace=workspace, sentiment__isnull=True, sent_by__isnull=True
    )
    if message_ids is not None:
        qs = qs.filter(pk__in=message_ids)
    messages = list(qs.order_by("pk")[:limit])
    for start in range(0, len(messages), ANALYSE_BATCH):
        batch = messages[start : start + ANALYSE_BATCH]
        for message, result in zip(batch, texts_analyse(texts=[m.text for m in batch]), strict=True):
            message.language = result.language
            message.sentiment = result.sentiment
            message.sentiment_reasons = [
                {"word": word, "weight": round(weight, 3)} for word, weight in result.reasons[:REASONS_SHOWN]
            ]
        Message.objects.bulk_update(batch, ["language", "sentiment", "sentiment_reasons"])
    return len(messages)


def messages_analyse_pending(*, limit: int = 500) -> int:
    """Periodic catch-up: every workspace's messages still without a sentiment (a task lost in a crash)."""
    workspace_ids = (
        Message.objects.filter(sentiment__isnull=True, sent_by__isnull=True)
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


def conversation_bulk(
    *,
    workspace: Workspace,
    conversation_ids: list[int],
    action: str,
    assignee: User | None = None,
    actor: User | None = None,
) -> int:
    """``action`` "assign" (to ``assignee``; None = unassign) or "close" for each conversation. All of
    them must belong to ``workspace``: one id of another workspace refuses the whole batch (404)."""
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
            elif action == "close":
                conversation_set_status(
                    workspace=workspace,
                    conversation=conversation,
                    status=ConversationStatus.CLOSED,
                    actor=actor,
                )
            else:
                raise ValidationError(_("Unknown action: %(action)s") % {"action": action})
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
    conversation, created = Conversation.objects.get_or_create(
        channel=channel,
        root_remote_id=remote_id[:500],
        defaults={"workspace": workspace, "kind": InboxKind.MENTIONS.value, "last_message_at": created_at},
    )
    message, message_created = Message.objects.get_or_create(
        conversation=conversation,
        remote_id=remote_id[:500],
        defaults={
            "url": url[:1000],
            "author_id": author[:300] or "-",
            "author_handle": author[:300] or "-",
            "text": text,
            "created_at": created_at,
            "language": language,
            "sentiment": sentiment,
        },
    )
    if created:
        conversation_auto_assign(workspace=workspace, conversation=conversation)
    if message_created and sentiment is None:
        messages_analyse_later(workspace=workspace, message_ids=[message.pk])
    return conversation
