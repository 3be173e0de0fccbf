"""Reads of short links and their clicks. Every function takes the workspace; other workspaces' links do
not exist. The daily counts are one grouped query each (the ``click_link_day`` index)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from resonanz.accounts.models import Workspace

from .models import Click, LinkSettings, ShortLink


def link_list(*, workspace: Workspace) -> QuerySet[ShortLink]:
    """The workspace's links, newest first, each with ``click_count`` and ``unique_count`` (all time)."""
    return (
        ShortLink.objects.filter(workspace=workspace)
        .select_related("post", "channel", "campaign")
        .annotate(
            click_count=Count("clicks"),
            unique_count=Count("clicks__visitor", distinct=True, filter=~Q(clicks__visitor="")),
        )
        .order_by("-created_at", "-pk")
    )


def link_get(*, workspace: Workspace, link_id: int) -> ShortLink:
    """Raises ``ShortLink.DoesNotExist`` for an unknown id or another workspace's link."""
    return link_list(workspace=workspace).get(pk=link_id)


def link_base_url(*, workspace: Workspace) -> str:
    row = LinkSettings.objects.filter(workspace=workspace).first()
    return (row.base_url if row is not None and row.base_url else settings.BASE_URL).rstrip("/")


@dataclass(frozen=True)
class DailyClicks:
    day: date
    clicks: int
    unique: int


def click_daily(
    *,
    workspace: Workspace,
    link_id: int | None = None,
    post_id: int | None = None,
    channel_id: int | None = None,
    campaign_id: int | None = None,
    days: int = 30,
    today: date | None = None,
) -> list[DailyClicks]:
    """Clicks and unique clicks per UTC day over the last ``days`` days (days without clicks omitted),
    for one link, post, channel or campaign, or the whole workspace. Unique clicks count distinct daily
    visitor hashes (so a visitor clicking two links of a campaign on one day counts once for it)."""
    today = today or timezone.now().date()
    qs = Click.objects.filter(link__workspace=workspace, day__gt=today - timedelta(days=days))
    if link_id is not None:
        qs = qs.filter(link_id=link_id)
    if post_id is not None:
        qs = qs.filter(link__post_id=post_id)
    if channel_id is not None:
        qs = qs.filter(link__channel_id=channel_id)
    if campaign_id is not None:
        qs = qs.filter(link__campaign_id=campaign_id)
    rows = (
        qs.values("day")
        .annotate(clicks=Count("pk"), unique=Count("visitor", distinct=True, filter=~Q(visitor="")))
        .order_by("day")
    )
    return [DailyClicks(day=r["day"], clicks=r["clicks"], unique=r["unique"]) for r in rows]


@dataclass(frozen=True)
class GroupClicks:
    key: int | None
    clicks: int
    unique: int


def click_totals_by(
    *, workspace: Workspace, group: str, days: int = 30, post_id: int | None = None
) -> list[GroupClicks]:
    """Clicks and unique clicks of the last ``days`` days per ``post``, ``channel`` or ``campaign`` (one
    grouped query; unique = distinct (day, visitor) pairs are not summed but counted per group)."""
    if group not in {"post", "channel", "campaign"}:
        raise ValueError(group)
    since = timezone.now().date() - timedelta(days=days)
    field = f"link__{group}_id"
    qs = Click.objects.filter(link__workspace=workspace, day__gt=since)
    if post_id is not None:
        qs = qs.filter(link__post_id=post_id)
    rows = (
        qs.values(field)
        .annotate(clicks=Count("pk"), unique=Count("visitor", distinct=True, filter=~Q(visitor="")))
        .order_by("-clicks")
    )
    return [GroupClicks(key=r[field], clicks=r["clicks"], unique=r["unique"]) for r in rows]
