from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from resonanz.accounts.models import Membership, User, Workspace
from resonanz.accounts.permissions import Action, role_allows
from resonanz.channels.models import ChannelStatus
from resonanz.core.errors import ensure_same_workspace
from resonanz.posts.models import Post, Variant, VariantStatus

from .models import AssignmentRule, Conversation, Message, MetricSample, OutgoingReply, SavedReply
from .rules import MessageFacts, conditions_hold, rule_conditions

ASSIGNEE_FILTERS = ("all", "mine", "unassigned")

# -- the periodic sync's cadence (issue 8, #13) -------------------------------------------------------
#
# Counts move fast in a post's first day and hardly at all after a week, so the periodic sync (every
# ``RESONANZ_ENGAGEMENT_INTERVAL_SECONDS``, 15 minutes by default) asks the network about a variant by
# its age (``published_at``) and the time of its last stored sample:
#   younger than 24 hours        every run
#   1 to 7 days old              when the last sample is an hour old or older
#   7 to 30 days old             when the last sample is a day old or older
#   older than 30 days           no more (``SYNC_WINDOW``)
# A variant without any sample is always due. ``CADENCE_SLACK`` lets a run that starts a few seconds
# before the full hour after the last sample take it (else the hourly posts would slip to 75 minutes).
SYNC_WINDOW = timedelta(days=30)
CADENCE_YOUNG = timedelta(hours=24)
CADENCE_WEEK = timedelta(days=7)
CADENCE_HOURLY = timedelta(hours=1)
CADENCE_DAILY = timedelta(days=1)
CADENCE_SLACK = timedelta(minutes=5)


def variants_due_for_sync(*, now: datetime, limit: int = 500) -> QuerySet[Variant]:
    """The published variants (active channels, last 30 days) the periodic sync asks about now, by the
    cadence above; the longest-waiting first (never sampled, then the oldest last sample), so a limit
    that cuts the list leaves out those asked most recently. Across workspaces: the sync is the system's."""
    last_sample = MetricSample.objects.filter(variant=OuterRef("pk")).order_by("-taken_at").values("taken_at")
    due = (
        Q(last_sample__isnull=True)
        | Q(published_at__gt=now - CADENCE_YOUNG)
        | Q(published_at__gt=now - CADENCE_WEEK, last_sample__lte=now - CADENCE_HOURLY + CADENCE_SLACK)
        | Q(last_sample__lte=now - CADENCE_DAILY + CADENCE_SLACK)
    )
    return (
        Variant.objects.filter(
            status=VariantStatus.PUBLISHED,
            published_at__gte=now - SYNC_WINDOW,
            channel__status=ChannelStatus.ACTIVE,
        )
        .annotate(last_sample=Subquery(last_sample[:1]))
        .filter(due)
        .select_related("post__workspace", "channel")
        .order_by(F("last_sample").asc(nulls_first=True), "published_at", "pk")[:limit]
    )


def post_last_sample_at(*, workspace: Workspace, post: Post) -> datetime | None:
    """When the newest sample of any of the post's variants was taken (None: never)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    newest = MetricSample.objects.filter(variant__post=post).order_by("-taken_at").first()
    return newest.taken_at if newest else None


def variant_replies(*, workspace: Workspace, variant: Variant, limit: int = 20) -> list[Message]:
    """The replies others wrote under one of our published variants (its conversations' messages not
    sent by us), newest first, with their conversation (for the link into the inbox)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    return list(
        Message.objects.filter(
            conversation__workspace=workspace, conversation__variant=variant, sent_by__isnull=True
        )
        .select_related("conversation")
        .order_by("-created_at", "-pk")[:limit]
    )


def metric_series(*, workspace: Workspace, variant: Variant) -> QuerySet[MetricSample]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=variant.post.workspace_id)
    return MetricSample.objects.filter(variant=variant)


def conversation_list(
    *,
    workspace: Workspace,
    status: str | None = None,
    channel_id: int | None = None,
    assignee: str = "all",
    user: User | None = None,
    kind: str | None = None,
    language: str | None = None,
    sentiment: str | None = None,
    search: str | None = None,
) -> QuerySet[Conversation]:
    """The inbox's list, newest activity first. ``assignee`` is "mine" (``user``'s), "unassigned" or
    "all"; ``language`` and ``sentiment`` match conversations with at least one such message from the
    network. Each row carries its latest message from the network (``last_text``, ``last_author``,
    ``last_language``, ``last_sentiment``) and when it started (``started_at``) for the timer.
    ``search`` finds conversations with a message whose text or author handle contains it (any case)."""
    qs = Conversation.objects.filter(workspace=workspace).select_related("channel", "assignee")
    if status:
        qs = qs.filter(status=status)
    if channel_id:
        qs = qs.filter(channel_id=channel_id)
    if assignee == "mine" and user is not None:
        qs = qs.filter(assignee=user)
    elif assignee == "unassigned":
        qs = qs.filter(assignee__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    inbound = Message.objects.filter(conversation=OuterRef("pk"), sent_by__isnull=True)
    if language:
        qs = qs.filter(
            pk__in=Message.objects.filter(
                language=language, sent_by__isnull=True, conversation__workspace=workspace
            ).values("conversation")
        )
    if sentiment:
        qs = qs.filter(
            pk__in=Message.objects.filter(
                sentiment=sentiment, sent_by__isnull=True, conversation__workspace=workspace
            ).values("conversation")
        )
    if search:
        qs = qs.filter(
            pk__in=Message.objects.filter(conversation__workspace=workspace)
            .filter(Q(text__icontains=search) | Q(author_handle__icontains=search))
            .values("conversation")
        )
    latest = inbound.order_by("-created_at")
    return qs.annotate(
        last_text=Subquery(latest.values("text")[:1]),
        last_author=Subquery(latest.values("author_name")[:1]),
        last_handle=Subquery(latest.values("author_handle")[:1]),
        last_language=Subquery(latest.values("language")[:1]),
        last_sentiment=Subquery(latest.values("sentiment")[:1]),
        # A correlated subquery, not an aggregate: evaluated for the page's rows only (no GROUP BY over
        # every conversation of the workspace before the LIMIT).
        started_at=Subquery(inbound.order_by("created_at").values("created_at")[:1]),
    )


ROW_FIELDS = (
    "pk",
    "kind",
    "status",
    "priority",
    "created_at",
    "first_response_at",
    "last_text",
    "last_author",
    "last_handle",
    "last_language",
    "last_sentiment",
    "started_at",
    "channel__display_name",
    "channel__handle",
    "assignee_id",
    "assignee__name",
    "assignee__email",
)


def conversation_rows(*, conversations: QuerySet[Conversation], limit: int) -> list[dict[str, Any]]:
    """The first ``limit`` rows of ``conversation_list`` as plain values, for the list page: one query,
    no model instances for the conversation, its channel and its assignee (the list's hot path renders
    50 of them on every page and every poll)."""
    return list(conversations.values(*ROW_FIELDS)[:limit])


def conversation_get(*, workspace: Workspace, conversation_id: int) -> Conversation:
    """One conversation; another workspace's raises ``WorkspaceMismatch`` (404), a missing one
    ``Conversation.DoesNotExist``."""
    inbound = Message.objects.filter(conversation=OuterRef("pk"), sent_by__isnull=True)
    conversation = (
        Conversation.objects.select_related("channel", "assignee", "variant__post")
        .annotate(started_at=Subquery(inbound.order_by("created_at").values("created_at")[:1]))
        .get(pk=conversation_id)
    )
    ensure_same_workspace(workspace=workspace, obj_workspace_id=conversation.workspace_id)
    return conversation


def conversation_thread(*, workspace: Workspace, conversation: Conversation) -> list[Message]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=conversation.workspace_id)
    return list(conversation.messages.select_related("sent_by").order_by("created_at", "pk"))


def conversation_outgoing(*, workspace: Workspace, conversation: Conversation) -> QuerySet[OutgoingReply]:
    """Answers still on their way or failed (a sent one is a message of the thread)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=conversation.workspace_id)
    return conversation.outgoing.exclude(status="sent").select_related("author")


def inbox_members(*, workspace: Workspace) -> dict[User, str]:
    """Active members whose role may work in the inbox, with their role (stable order)."""
    memberships = (
        Membership.objects.filter(workspace=workspace, user__is_active=True)
        .select_related("user")
        .order_by("user__pk")
    )
    return {m.user: m.role for m in memberships if role_allows(m.role, Action.USE_INBOX)}


def inbox_member_roles(*, workspace: Workspace) -> dict[int, str]:
    """``inbox_members`` by user id, without the users (the round robin of the ingest needs only the
    ids: no user rows to build on every page, bench/ingest.py)."""
    memberships = (
        Membership.objects.filter(workspace=workspace, user__is_active=True)
        .order_by("user_id")
        .values_list("user_id", "role")
    )
    return {user_id: role for user_id, role in memberships if role_allows(role, Action.USE_INBOX)}


def saved_reply_list(*, workspace: Workspace) -> QuerySet[SavedReply]:
    return SavedReply.objects.filter(workspace=workspace)


def saved_reply_get(*, workspace: Workspace, saved_reply_id: int) -> SavedReply:
    found = SavedReply.objects.get(pk=saved_reply_id)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=found.workspace_id)
    return found


def first_response_due(*, conversation: Conversation, target_minutes: int) -> datetime | None:
    """When the first answer is due (None once answered or without a message from the network)."""
    started = getattr(conversation, "started_at", None) or conversation.created_at
    if conversation.first_response_at is not None or started is None:
        return None
    return started + timedelta(minutes=target_minutes)


@dataclass(frozen=True)
class ReportRow:
    label: str
    conversations: int
    median_first_response: timedelta | None
    median_handling: timedelta | None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


def response_report(*, workspace: Workspace, since: datetime | None = None) -> dict[str, list[ReportRow]]:
    """Median first-response time (first message from the network -> our first answer) and handling
    time (-> closed) per person (the assignee), channel and ISO week of the first message."""
    since = since or timezone.now() - timedelta(weeks=12)
    rows = (
        Conversation.objects.filter(workspace=workspace)
        .annotate(started=Min("messages__created_at", filter=Q(messages__sent_by__isnull=True)))
        .filter(started__gte=since)
        .select_related("channel", "assignee")
    )
    groups: dict[str, dict[str, tuple[list[timedelta], list[timedelta], list[int]]]] = {
        "person": defaultdict(lambda: ([], [], [])),
        "channel": defaultdict(lambda: ([], [], [])),
        "week": defaultdict(lambda: ([], [], [])),
    }
    for c in rows:
        started = c.started  # type: ignore[attr-defined]
        year, week, _day = started.isocalendar()
        labels = {
            "person": (c.assignee.name or c.assignee.email) if c.assignee else "—",
            "channel": c.channel.display_name or c.channel.handle,
            "week": f"{year}-W{week:02d}",
        }
        for group, label in labels.items():
            first, handling, count = groups[group][label]
            count.append(1)
            if c.first_response_at:
                first.append(c.first_response_at - started)
            if c.closed_at:
                handling.append(c.closed_at - started)
    return {
        group: [
            ReportRow(label, len(count), _median(first), _median(handling))
            for label, (first, handling, count) in sorted(found.items())
        ]
        for group, found in groups.items()
    }


def rule_list(*, workspace: Workspace) -> QuerySet[AssignmentRule]:
    """The workspace's assignment rules in the order they are tried."""
    return (
        AssignmentRule.objects.filter(workspace=workspace)
        .select_related("channel", "assignee")
        .prefetch_related("pool")
        .order_by("position", "pk")
    )


def rule_get(*, workspace: Workspace, rule_id: int) -> AssignmentRule:
    found = AssignmentRule.objects.select_related("channel", "assignee").get(pk=rule_id)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=found.workspace_id)
    return found


PREVIEW_CONVERSATIONS = 50


@dataclass(frozen=True)
class PreviewRow:
    conversation: Conversation
    text: str  # the newest message from the network
    rule: AssignmentRule | None  # the first rule that holds, None: no rule


def rule_preview(
    *, workspace: Workspace, rules: Sequence[AssignmentRule], limit: int = PREVIEW_CONVERSATIONS
) -> list[PreviewRow]:
    """Which of the workspace's last ``limit`` conversations each rule (tried in the given order, saved
    or not) would take, judged on all of their messages from the network. Two queries; nothing changes."""
    for rule in rules:
        ensure_same_workspace(workspace=workspace, obj_workspace_id=rule.workspace_id)
    conversations = list(
        Conversation.objects.filter(workspace=workspace)
        .select_related("channel", "assignee")
        .order_by(F("last_message_at").desc(nulls_last=True), "-pk")[:limit]
    )
    texts: dict[int, list[Message]] = defaultdict(list)
    for message in Message.objects.filter(conversation__in=conversations, sent_by__isnull=True).order_by(
        "created_at", "pk"
    ):
        texts[message.conversation_id].append(message)
    conditions = [(rule, rule_conditions(rule)) for rule in rules]
    rows = []
    for conversation in conversations:
        inbound = texts.get(conversation.pk, [])
        facts = [MessageFacts(text=m.text, language=m.language, sentiment=m.sentiment) for m in inbound]
        hit = next(
            (
                rule
                for rule, c in conditions
                if conditions_hold(
                    conditions=c, channel_id=conversation.channel_id, kind=conversation.kind, messages=facts
                )
            ),
            None,
        )
        rows.append(PreviewRow(conversation=conversation, text=inbound[-1].text if inbound else "", rule=hit))
    return rows


def _person_variants(person: str) -> tuple[str, set[str]]:
    raw = person.strip()
    handle = raw.lstrip("@")
    return raw, {handle.casefold(), ("@" + handle).casefold()} - {"", "@"}


def person_messages(*, workspace: Workspace, person: str) -> QuerySet[Message]:
    """The messages from the network by ``person`` across the workspace's channels: an author handle
    (any case, with or without a leading @) or the network's account id, exactly. Our own answers are
    not theirs. Empty input finds nothing (never "everyone")."""
    raw, handles = _person_variants(person)
    if not handles:
        return Message.objects.none()
    match = Q(author_id=raw)
    for handle in handles:
        match |= Q(author_handle__iexact=handle)
    return (
        Message.objects.filter(match, conversation__workspace=workspace, sent_by__isnull=True)
        .select_related("conversation__channel")
        .order_by("created_at", "pk")
    )
