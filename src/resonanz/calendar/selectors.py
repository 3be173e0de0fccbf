"""Reads of the calendar: one entry per variant with a time, in the workspace's time zone.

Built for many posts in view: one query (``values()`` over Variant ⋈ Post ⋈ Channel ⋈ User), no model
instances, the post text cut in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, CharField, F, Q, QuerySet, When
from django.db.models.functions import Coalesce, Substr

from resonanz.accounts.models import Membership, User, Workspace
from resonanz.channels.models import Channel
from resonanz.core.timezones import zone
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus

DEFAULT_COLOR = "#3b82f6"
_HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
TITLE_CHARS = 120  # enough for one line in any view; the text is cut in the database
# A draft variant of a post that waits for (or has) approval shows the post's state.
_POST_STATES_SHOWN = [PostStatus.IN_REVIEW, PostStatus.APPROVED]


def calendar_statuses() -> list[tuple[str, str]]:
    """The states an entry can show (the variant's, or the post's while it is in review/approved)."""
    post_labels = dict(PostStatus.choices)
    return [
        (VariantStatus.DRAFT.value, str(VariantStatus.DRAFT.label)),
        *[(s.value, str(post_labels[s])) for s in _POST_STATES_SHOWN],
        *[(v, str(label)) for v, label in VariantStatus.choices if v != VariantStatus.DRAFT],
    ]


def safe_color(value: str) -> str:
    """A channel colour fit for an SVG ``fill`` attribute (anything else falls back to the default)."""
    return value if _HEX_COLOR.match(value or "") else DEFAULT_COLOR


@dataclass(frozen=True, slots=True)
class Entry:
    variant_id: int
    post_id: int
    channel_id: int
    network: str
    handle: str
    color: str
    status: str
    status_label: str
    when: datetime  # aware, in the workspace's time zone
    title: str
    author_id: int | None
    author: str

    @property
    def is_scheduled(self) -> bool:
        return self.status == VariantStatus.SCHEDULED

    @property
    def local_date(self) -> str:
        return self.when.date().isoformat()

    @property
    def local_time(self) -> str:
        """Wall-clock time of day as HH:MM (what a drop keeps)."""
        return self.when.strftime("%H:%M")


def _first_line(title: str, text: str) -> str:
    if title.strip():
        return title.strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _ids(values: Iterable[int] | None) -> list[int] | None:
    return None if values is None else list(values)


def calendar_entries(
    *,
    workspace: Workspace,
    start: datetime,
    end: datetime,
    channel_ids: Iterable[int] | None = None,
    author_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = None,
) -> list[Entry]:
    """Variants whose time (published_at, else scheduled_at) lies in ``[start, end)``, ordered by time.

    ``start``/``end`` are aware instants. Filters are "any of"; ``None`` means no filter, an empty list
    matches nothing. One query.
    """
    tz = zone(workspace.time_zone)
    qs = (
        Variant.objects.filter(post__workspace=workspace)
        .annotate(
            when=Coalesce("published_at", "scheduled_at"),
            shown_status=Case(
                When(status=VariantStatus.DRAFT, post__status__in=_POST_STATES_SHOWN, then=F("post__status")),
                default=F("status"),
                output_field=CharField(),
            ),
            text_start=Substr("post__text", 1, TITLE_CHARS * 2),
        )
        .filter(when__gte=start, when__lt=end)
    )
    if (channels := _ids(channel_ids)) is not None:
        qs = qs.filter(channel_id__in=channels)
    if (authors := _ids(author_ids)) is not None:
        qs = qs.filter(post__author_id__in=authors)
    if statuses is not None:
        qs = qs.filter(shown_status__in=list(statuses))
    rows = qs.order_by("when", "post_id", "channel__network", "channel__handle").values_list(
        "pk",
        "post_id",
        "channel_id",
        "channel__network",
        "channel__handle",
        "channel__color",
        "shown_status",
        "when",
        "post__title",
        "text_start",
        "post__author_id",
        "post__author__name",
        "post__author__email",
    )
    labels = dict(calendar_statuses())
    return [
        Entry(
            variant_id=pk,
            post_id=post_id,
            channel_id=channel_id,
            network=network,
            handle=handle,
            color=safe_color(color),
            status=status,
            status_label=str(labels.get(status, status)),
            when=when.astimezone(tz),
            title=_first_line(title, text or "")[:TITLE_CHARS],
            author_id=author_id,
            author=(name or email or ""),
        )
        for (
            pk,
            post_id,
            channel_id,
            network,
            handle,
            color,
            status,
            when,
            title,
            text,
            author_id,
            name,
            email,
        ) in rows
    ]


def calendar_channels(*, workspace: Workspace) -> QuerySet[Channel]:
    """The workspace's channels for the filter and the legend."""
    return Channel.objects.filter(workspace=workspace).only("pk", "network", "handle", "color")


def calendar_authors(*, workspace: Workspace) -> QuerySet[User]:
    """Members of the workspace and anyone who wrote one of its posts (former members too)."""
    members = Membership.objects.filter(workspace=workspace).values("user_id")
    authors = Post.objects.filter(workspace=workspace, author__isnull=False).values("author_id")
    return (
        User.objects.filter(Q(pk__in=members) | Q(pk__in=authors))
        .only("pk", "name", "email")
        .order_by("name", "email")
    )


__all__ = [
    "DEFAULT_COLOR",
    "Entry",
    "calendar_authors",
    "calendar_channels",
    "calendar_entries",
    "calendar_statuses",
    "safe_color",
]
