from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db.models import Count, Prefetch, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.core.errors import ensure_same_workspace

from .models import Post, PostEvent, Variant, VariantPart, VariantStatus

if TYPE_CHECKING:
    from resonanz.channels.models import Channel


def post_list(
    *,
    workspace: Workspace,
    status: str | None = None,
    channel_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign_id: int | None = None,
    without_campaign: bool = False,
) -> QuerySet[Post]:
    """The workspace's posts, with author, campaign, variants (and their channels) and parts.
    ``campaign_id``: only that campaign's posts; ``without_campaign``: only posts in no campaign."""
    # Shares on employees' personal channels (advocacy) are theirs, not the brand's posts: they count in
    # their campaign's figures but are listed on the advocacy pages only.
    qs = Post.objects.filter(workspace=workspace).exclude(variants__channel__owner__isnull=False)
    if status:
        qs = qs.filter(status=status)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    elif without_campaign:
        qs = qs.filter(campaign__isnull=True)
    if channel_id:
        qs = qs.filter(variants__channel_id=channel_id)
    if start:
        qs = qs.filter(scheduled_at__gte=start)
    if end:
        qs = qs.filter(scheduled_at__lt=end)
    return (
        qs.select_related("author", "campaign")
        .prefetch_related(
            Prefetch(
                "variants",
                queryset=Variant.objects.select_related("channel", "first_comment_step").order_by(
                    "channel_id"
                ),
            ),
            Prefetch("variants__parts", queryset=VariantPart.objects.order_by("index")),
        )
        .distinct()
    )


def post_get(*, workspace: Workspace, post_id: int) -> Post:
    return post_list(workspace=workspace).get(pk=post_id)


def post_events(*, workspace: Workspace, post: Post) -> QuerySet[PostEvent]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    return PostEvent.objects.filter(post=post).select_related("actor", "variant__channel")


def variant_get(*, workspace: Workspace, variant_id: int) -> Variant:
    return Variant.objects.select_related("post", "channel").get(
        post__workspace=workspace, pk=variant_id, channel__owner__isnull=True
    )


# The window a daily cap counts in: X's limit is per rolling 24 hours (x-user-limit-24hour-*), so what is
# scheduled within the next 24 hours comes out of the same budget as what went out in the last 24.
DAILY_CAP_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class DailyCapNotice:
    """How many more posts one channel with a daily cap can take now (composer, beside the schedule)."""

    channel_id: int
    network: str
    handle: str
    left: int  # after what is already scheduled in the window
    scheduled: int  # posts (thread parts and first comments) already scheduled in the window


def channels_daily_caps(
    *,
    workspace: Workspace,
    channels: Iterable[Channel],
    exclude_post_id: int | None = None,
    now: datetime | None = None,
) -> list[DailyCapNotice]:
    """For each of ``channels`` whose connector declares a daily cap (``spec.daily_cap``) and knows it:
    the connector's posts left in its window (``posts_left_today``: what went out, from what it cached
    on the account; no network call) minus what is already scheduled for the channel in the next
    ``DAILY_CAP_WINDOW`` (each thread part and first comment is a post), the post being edited excluded."""
    from resonanz.channels.services import channel_account
    from resonanz.connectors.registry import find_spec, get_connector

    now = now or timezone.now()
    capped = [
        c
        for c in channels
        if c.workspace_id == workspace.pk and (spec := find_spec(c.network)) is not None and spec.daily_cap
    ]
    if not capped:
        return []
    upcoming = (
        Variant.objects.filter(
            channel__in=capped, status__in=[VariantStatus.SCHEDULED, VariantStatus.PUBLISHING]
        )
        .annotate(due=Coalesce("next_attempt_at", "scheduled_at"))
        .filter(due__lt=now + DAILY_CAP_WINDOW)
    )
    if exclude_post_id is not None:
        upcoming = upcoming.exclude(post_id=exclude_post_id)
    scheduled: dict[int, int] = {}
    for row in upcoming.annotate(n=Count("parts")).values("channel_id", "n", "first_comment"):
        extra = 1 if str(row["first_comment"]).strip() else 0
        scheduled[row["channel_id"]] = scheduled.get(row["channel_id"], 0) + row["n"] + extra
    notices = []
    for channel in capped:
        left = get_connector(channel.network).posts_left_today(account=channel_account(channel=channel))
        if left is None:
            continue
        taken = scheduled.get(channel.pk, 0)
        notices.append(
            DailyCapNotice(
                channel_id=channel.pk,
                network=channel.network,
                handle=channel.handle,
                left=max(0, left - taken),
                scheduled=taken,
            )
        )
    return notices
