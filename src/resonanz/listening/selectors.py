"""Reads of listening: queries, mentions, the figures of a query's page, share of voice, alerts."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from resonanz.accounts.models import Workspace

from .errors import ListeningNotFound
from .models import Alert, Mention, Reshare, SavedQuery

# Words that say nothing about a topic (German and English), left out of the top terms.
STOPWORDS = frozenset(
    [
        "der",
        "die",
        "das",
        "und",
        "oder",
        "aber",
        "ist",
        "sind",
        "war",
        "ein",
        "eine",
        "einen",
        "einem",
        "einer",
        "nicht",
        "mit",
        "von",
        "zu",
        "im",
        "in",
        "am",
        "an",
        "auf",
        "für",
        "fur",
        "es",
        "ich",
        "du",
        "er",
        "sie",
        "wir",
        "ihr",
        "den",
        "dem",
        "des",
        "auch",
        "noch",
        "nur",
        "so",
        "wie",
        "was",
        "wer",
        "wenn",
        "dann",
        "als",
        "bei",
        "aus",
        "nach",
        "mir",
        "mich",
        "dich",
        "sich",
        "hat",
        "haben",
        "wird",
        "werden",
        "kann",
        "schon",
        "sehr",
        "mal",
        "ja",
        "nein",
        "hier",
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "it",
        "this",
        "that",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "my",
        "your",
        "our",
        "not",
        "no",
        "so",
        "as",
        "by",
        "from",
        "have",
        "has",
        "had",
        "will",
        "would",
        "can",
        "just",
        "very",
        "do",
        "does",
        "did",
    ]
)
_WORD = re.compile(r"#?\w{3,}", re.UNICODE)


def query_list(*, workspace: Workspace) -> QuerySet[SavedQuery]:
    return SavedQuery.objects.filter(workspace=workspace).annotate(mention_count=Count("mentions"))


def query_get(*, workspace: Workspace, query_id: int) -> SavedQuery:
    query = SavedQuery.objects.filter(workspace=workspace, pk=query_id).first()
    if query is None:
        raise ListeningNotFound(f"query {query_id} is not in workspace {workspace.pk}")
    return query


def mention_get(*, workspace: Workspace, mention_id: int) -> Mention:
    mention = (
        Mention.objects.select_related("query", "source").filter(workspace=workspace, pk=mention_id).first()
    )
    if mention is None:
        raise ListeningNotFound(f"mention {mention_id} is not in workspace {workspace.pk}")
    return mention


def mention_list(*, workspace: Workspace, query: SavedQuery) -> QuerySet[Mention]:
    if query.workspace_id != workspace.pk:
        raise ListeningNotFound(f"query {query.pk} is not in workspace {workspace.pk}")
    return Mention.objects.filter(workspace=workspace, query=query).select_related("source")


def mention_daily(*, workspace: Workspace, query: SavedQuery, days: int = 30) -> list[dict[str, Any]]:
    """Per day of the last ``days`` days: total, positive, neutral, negative (days without any included),
    each with a bar height in percent of the busiest day for the sparkline."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    rows = (
        mention_list(workspace=workspace, query=query)
        .filter(published_at__date__gte=first)
        .annotate(day=TruncDate("published_at"))
        .values("day")
        .annotate(
            total=Count("pk"),
            positive=Count("pk", filter=Q(sentiment="positive")),
            neutral=Count("pk", filter=Q(sentiment="neutral")),
            negative=Count("pk", filter=Q(sentiment="negative")),
        )
    )
    by_day: dict[date, Any] = {row["day"]: row for row in rows}
    out = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = by_day.get(day, {})
        out.append(
            {
                "day": day,
                "total": row.get("total", 0),
                "positive": row.get("positive", 0),
                "neutral": row.get("neutral", 0),
                "negative": row.get("negative", 0),
            }
        )
    peak = max((r["total"] for r in out), default=0) or 1
    for r in out:
        r["height"] = round(100 * r["total"] / peak)
        r["step"] = round(10 * r["total"] / peak)  # the sparkline's CSS class (h0 … h10)
    return out


def mention_top_authors(*, workspace: Workspace, query: SavedQuery, limit: int = 10) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in mention_list(workspace=workspace, query=query)
        .exclude(author="")
        .values("author")
        .annotate(count=Count("pk"), negative=Count("pk", filter=Q(sentiment="negative")))
        .order_by("-count", "author")[:limit]
    ]


def mention_top_terms(*, workspace: Workspace, query: SavedQuery, limit: int = 15) -> list[tuple[str, int]]:
    """The most frequent words of the mentions (the query's own terms and stop words left out)."""
    own = {t.casefold() for t in query.term_list}
    counts: Counter[str] = Counter()
    for text in mention_list(workspace=workspace, query=query).values_list("text", flat=True)[:5000]:
        words = {w.casefold() for w in _WORD.findall(text)}
        counts.update(w for w in words if w not in STOPWORDS and w not in own and not w.isdigit())
    return counts.most_common(limit)


def share_of_voice(*, workspace: Workspace, days: int = 30) -> list[dict[str, Any]]:
    """Mentions per query in the last ``days`` days and each query's share of all of them (own queries
    and competitors' together)."""
    since = timezone.now() - timedelta(days=days)
    rows = list(
        SavedQuery.objects.filter(workspace=workspace)
        .annotate(
            count=Count("mentions", filter=Q(mentions__published_at__gte=since)),
            negative=Count(
                "mentions", filter=Q(mentions__published_at__gte=since, mentions__sentiment="negative")
            ),
        )
        .order_by("-count", "name")
    )
    total = sum(q.count for q in rows)  # type: ignore[attr-defined]
    return [
        {
            "query": q,
            "count": q.count,  # type: ignore[attr-defined]
            "negative": q.negative,  # type: ignore[attr-defined]
            "share": round(100 * q.count / total, 1) if total else 0.0,  # type: ignore[attr-defined]
        }
        for q in rows
    ]


def alert_list(*, workspace: Workspace, limit: int = 50) -> QuerySet[Alert]:
    return Alert.objects.filter(workspace=workspace)[:limit]


def alert_mentions(*, workspace: Workspace, alert: Alert, limit: int = 20) -> QuerySet[Mention]:
    """The negative mentions of the alert's hour, most negative first: what drives the wave."""
    if alert.workspace_id != workspace.pk:
        raise ListeningNotFound(f"alert {alert.pk} is not in workspace {workspace.pk}")
    return Mention.objects.filter(
        workspace=workspace,
        sentiment="negative",
        published_at__gte=alert.hour_start,
        published_at__lt=alert.hour_start + timedelta(hours=1),
    ).order_by("score", "-published_at")[:limit]


def alert_get(*, workspace: Workspace, alert_id: int) -> Alert:
    alert = Alert.objects.filter(workspace=workspace, pk=alert_id).first()
    if alert is None:
        raise ListeningNotFound(f"alert {alert_id} is not in workspace {workspace.pk}")
    return alert


def alert_reshares(*, workspace: Workspace, alert: Alert) -> QuerySet[Reshare]:
    """The reposts and quotes of the alert's driving mentions, oldest first (the cascade)."""
    if alert.workspace_id != workspace.pk:
        raise ListeningNotFound(f"alert {alert.pk} is not in workspace {workspace.pk}")
    return Reshare.objects.filter(
        workspace=workspace,
        mention__published_at__gte=alert.hour_start,
        mention__published_at__lt=alert.hour_start + timedelta(hours=1),
    ).order_by("reshared_at", "pk")


def alert_spread_series(
    *, workspace: Workspace, alert: Alert
) -> tuple[list[tuple[datetime, int]], list[tuple[datetime, float, float, float]]]:
    """The chart's data: the running total of reshares seen (from the first driving mention), and after
    the last projection the projected running totals (expected, 10th and 90th percentile) per horizon."""
    first = (
        Mention.objects.filter(
            workspace=workspace,
            sentiment="negative",
            published_at__gte=alert.hour_start,
            published_at__lt=alert.hour_start + timedelta(hours=1),
        )
        .order_by("published_at")
        .values_list("published_at", flat=True)
        .first()
    )
    observed: list[tuple[datetime, int]] = [(first, 0)] if first else []
    for count, at in enumerate(
        alert_reshares(workspace=workspace, alert=alert).values_list("reshared_at", flat=True), start=1
    ):
        observed.append((timezone.localtime(at), count))
    observed = [(timezone.localtime(at), n) for at, n in observed]
    projected: list[tuple[datetime, float, float, float]] = []
    if alert.projected_at and alert.projection:
        total = alert.projection.get("observed", 0)
        start = timezone.localtime(alert.projected_at)
        observed.append((start, observed[-1][1] if observed else total))
        projected.append((start, float(total), float(total), float(total)))
        for horizon in alert.projection.get("horizons") or []:
            projected.append(
                (
                    start + timedelta(hours=horizon["hours"]),
                    total + horizon["reshares"],
                    total + horizon["low"],
                    total + horizon["high"],
                )
            )
    return observed, projected
