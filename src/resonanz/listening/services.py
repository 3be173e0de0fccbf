"""Writes of listening: queries and sources, polling, judging mentions, and the early warning.

Polling stores what matched (dedup by (source, remote id)); language and sentiment are judged after
commit in batches by a task (``tasks.analyse_mentions``), and each judged batch checks the early warning
for the hours it touched. An alert is unique per (workspace, hour): a second check of the same hour finds
it and sends nothing again. E-mail goes through notifications, the webhook after commit by a task.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import httpx
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import Role, Workspace
from resonanz.language import texts_analyse
from resonanz.notifications.kinds import NotificationKind
from resonanz.notifications.services import notification_recipients, notification_send

from .errors import ListeningNotFound
from .models import Alert, ListeningSettings, Mention, Reshare, SavedQuery, Source
from .projection import CascadeEvent, Projection, cascade_project
from .sources import REGISTRY, SourceError
from .sources.network import network_reshares

logger = logging.getLogger(__name__)

ANALYSE_BATCH = 64
WEBHOOK_TIMEOUT_SECONDS = 5.0
# The spread is the MAD scaled by 1.4826 (a standard deviation for normal data). Four weeks give only four
# values, so the spread has floors: counts of independent mentions vary by about the square root of their
# mean (Poisson), and a share by at least 5 points; without them a calm history (the same count every
# week: MAD 0) would make one extra mention an alarm.
MAD_TO_SD = 1.4826
MIN_SD_SHARE = 0.05


# -- queries and sources --------------------------------------------------------------------------------


def query_create(
    *, workspace: Workspace, name: str, terms: str, exclusions: str = "", competitor: bool = False
) -> SavedQuery:
    query = SavedQuery(
        workspace=workspace, name=name, terms=terms, exclusions=exclusions, competitor=competitor
    )
    if not query.term_list:
        raise ValidationError({"terms": _("Enter at least one term.")})
    query.save()
    return query


def query_update(*, workspace: Workspace, query_id: int, **fields: Any) -> SavedQuery:
    query = _query(workspace=workspace, query_id=query_id)
    for name in ("name", "terms", "exclusions", "competitor"):
        if name in fields:
            setattr(query, name, fields[name])
    if not query.term_list:
        raise ValidationError({"terms": _("Enter at least one term.")})
    query.save()
    return query


def query_delete(*, workspace: Workspace, query_id: int) -> None:
    _query(workspace=workspace, query_id=query_id).delete()


def source_add(
    *,
    workspace: Workspace,
    query_id: int,
    kind: str,
    target: str,
    credentials: Mapping[str, str] | None = None,
) -> Source:
    """Add a place to poll. ``credentials`` (e.g. a private forum's API key and user name) are stored
    encrypted and handed to the source's plugin at each poll; empty values are left out."""
    query = _query(workspace=workspace, query_id=query_id)
    if kind not in REGISTRY:
        raise ValidationError({"kind": _("Unknown kind of source.")})
    if not target.strip():
        raise ValidationError({"target": _("Enter the source's address.")})
    secrets = {key: value.strip() for key, value in (credentials or {}).items() if value and value.strip()}
    return Source.objects.create(query=query, kind=kind, target=target.strip(), credentials=secrets)


def source_remove(*, workspace: Workspace, source_id: int) -> None:
    _source(workspace=workspace, source_id=source_id).delete()


def _query(*, workspace: Workspace, query_id: int) -> SavedQuery:
    query = SavedQuery.objects.filter(pk=query_id, workspace=workspace).first()
    if query is None:
        raise ListeningNotFound(f"query {query_id} is not in workspace {workspace.pk}")
    return query


def _source(*, workspace: Workspace, source_id: int) -> Source:
    source = Source.objects.select_related("query").filter(pk=source_id, query__workspace=workspace).first()
    if source is None:
        raise ListeningNotFound(f"source {source_id} is not in workspace {workspace.pk}")
    return source


# -- matching and polling -------------------------------------------------------------------------------


def _term_pattern(term: str) -> re.Pattern[str]:
    # Whole words, case-insensitive: "Acme" matches "acme's" but not "Acmeville"; a #hashtag as written.
    return re.compile(r"(?<!\w)" + re.escape(term) + r"(?!\w)", re.IGNORECASE)


def mention_matches(*, text: str, terms: list[str], exclusions: list[str]) -> bool:
    """A text matches when it contains one of the terms and none of the exclusions (whole words)."""
    if any(_term_pattern(word).search(text) for word in exclusions):
        return False
    return any(_term_pattern(term).search(text) for term in terms)


def source_poll(*, workspace: Workspace, source_id: int, now: datetime | None = None) -> int:
    """Fetch one source from its cursor, store the new matching mentions; return how many were new."""
    source = _source(workspace=workspace, source_id=source_id)
    query = source.query
    plugin = REGISTRY.get(source.kind)
    now = now or timezone.now()
    if plugin is None:
        Source.objects.filter(pk=source.pk).update(
            last_polled_at=now, last_error=f"unknown kind {source.kind}"
        )
        return 0
    try:
        result = plugin.fetch(
            workspace=workspace,
            target=source.target,
            terms=query.term_list,
            cursor=source.cursor,
            credentials=dict(source.credentials or {}),
        )
    except SourceError as exc:
        Source.objects.filter(pk=source.pk).update(last_polled_at=now, last_error=str(exc)[:2000])
        return 0
    terms, exclusions = query.term_list, query.exclusion_list
    wanted = [
        Mention(
            workspace=workspace,
            query=query,
            source=source,
            remote_id=item.remote_id[:1000],
            url=item.url[:1000],
            author=item.author[:300],
            text=item.text,
            published_at=item.published_at,
        )
        for item in result.items
        if mention_matches(text=item.text, terms=terms, exclusions=exclusions)
    ]
    with transaction.atomic():
        known = set(
            Mention.objects.filter(source=source, remote_id__in=[m.remote_id for m in wanted]).values_list(
                "remote_id", flat=True
            )
        )
        fresh, seen = [], set(known)
        for mention in wanted:
            if mention.remote_id not in seen:
                seen.add(mention.remote_id)
                fresh.append(mention)
        Mention.objects.bulk_create(fresh, ignore_conflicts=True)
        Source.objects.filter(pk=source.pk).update(cursor=result.cursor, last_polled_at=now, last_error="")
        ids = list(
            Mention.objects.filter(source=source, remote_id__in=[m.remote_id for m in fresh]).values_list(
                "pk", flat=True
            )
        )
        if ids:
            from .tasks import analyse_mentions

            transaction.on_commit(
                lambda: analyse_mentions.enqueue(workspace_id=workspace.pk, mention_ids=ids)
            )
    return len(ids)


def listening_poll_all(*, now: datetime | None = None) -> dict[str, int]:
    """Every source of every workspace once (the periodic job); one failing source stops no other.
    ``now`` (default: the clock) dates the poll, the reshares first seen and the projection: a
    simulation runs the job on its own clock."""
    polled = found = 0
    for source in Source.objects.select_related("query__workspace").order_by("pk"):
        workspace = source.query.workspace
        if workspace.archived_at is not None:
            continue
        polled += 1
        try:
            found += source_poll(workspace=workspace, source_id=source.pk, now=now)
        except Exception:
            logger.exception("listening: polling source %s failed", source.pk)
    analysed = mentions_analyse_pending(now=now)
    return {
        "polled": polled,
        "found": found,
        "analysed": analysed,
        "projected": alerts_project_recent(now=now),
    }


# -- language and sentiment -----------------------------------------------------------------------------


def mentions_analyse(*, workspace: Workspace, mention_ids: list[int], now: datetime | None = None) -> int:
    """Judge language and sentiment of the workspace's unjudged mentions among ``mention_ids`` in
    batches, then check the early warning for each hour they fall in."""
    pending = list(
        Mention.objects.filter(workspace=workspace, pk__in=mention_ids, sentiment__isnull=True).order_by("pk")
    )
    hours: set[datetime] = set()
    for start in range(0, len(pending), ANALYSE_BATCH):
        batch = pending[start : start + ANALYSE_BATCH]
        results = texts_analyse(texts=[m.text for m in batch])
        for mention, result in zip(batch, results, strict=True):
            mention.language = result.language
            mention.sentiment = result.sentiment
            mention.score = result.score
            hours.add(hour_floor(mention.published_at))
        Mention.objects.bulk_update(batch, ["language", "sentiment", "score"])
    for hour in sorted(hours):
        early_warning_check(workspace=workspace, hour_start=hour, now=now)
    return len(pending)


def mentions_analyse_pending(*, limit: int = 1000, now: datetime | None = None) -> int:
    """Catch up the mentions a lost task left unjudged."""
    done = 0
    rows = Mention.objects.filter(sentiment__isnull=True).values_list("workspace_id", "pk")[:limit]
    by_workspace: dict[int, list[int]] = {}
    for workspace_id, pk in rows:
        by_workspace.setdefault(workspace_id, []).append(pk)
    for workspace in Workspace.objects.filter(pk__in=by_workspace):
        done += mentions_analyse(workspace=workspace, mention_ids=by_workspace[workspace.pk], now=now)
    return done


# -- early warning --------------------------------------------------------------------------------------


def hour_floor(when: datetime) -> datetime:
    return when.replace(minute=0, second=0, microsecond=0)


def listening_settings_get(*, workspace: Workspace) -> ListeningSettings:
    settings, _created = ListeningSettings.objects.get_or_create(workspace=workspace)
    return settings


def listening_settings_update(
    *, workspace: Workspace, weeks: int, margin: float, min_negative: int, webhook_url: str
) -> ListeningSettings:
    settings = listening_settings_get(workspace=workspace)
    settings.weeks, settings.margin, settings.min_negative = weeks, margin, min_negative
    settings.webhook_url = webhook_url
    settings.full_clean()
    settings.save()
    return settings


def _hour_counts(*, workspace: Workspace, hour_start: datetime) -> tuple[int, int]:
    rows = Mention.objects.filter(
        workspace=workspace,
        published_at__gte=hour_start,
        published_at__lt=hour_start + timedelta(hours=1),
        sentiment__isnull=False,
    )
    return rows.filter(sentiment="negative").count(), rows.count()


def _median_mad(values: list[float]) -> tuple[float, float]:
    median = statistics.median(values)
    return median, statistics.median(abs(v - median) for v in values)


def early_warning_baseline(*, workspace: Workspace, hour_start: datetime, weeks: int) -> dict[str, float]:
    """The same hour of the week over the last ``weeks`` weeks: median and MAD of the negative count and
    of the negative share (a robust baseline: one past wave does not raise it much)."""
    counts: list[float] = []
    shares: list[float] = []
    for back in range(1, weeks + 1):
        negative, total = _hour_counts(workspace=workspace, hour_start=hour_start - timedelta(weeks=back))
        counts.append(float(negative))
        shares.append(negative / total if total else 0.0)
    count_median, count_mad = _median_mad(counts)
    share_median, share_mad = _median_mad(shares)
    return {"count": count_median, "count_mad": count_mad, "share": share_median, "share_mad": share_mad}


def early_warning_check(
    *, workspace: Workspace, hour_start: datetime, now: datetime | None = None
) -> Alert | None:
    """Alert (once) when the negative mentions of ``hour_start``'s hour leave the baseline by the margin:
    in count (and at least ``min_negative``) and in share. Return the new alert, or None."""
    hour_start = hour_floor(hour_start)
    settings = listening_settings_get(workspace=workspace)
    negative, total = _hour_counts(workspace=workspace, hour_start=hour_start)
    if (
        negative < settings.min_negative
        or Alert.objects.filter(workspace=workspace, hour_start=hour_start).exists()
    ):
        return None
    base = early_warning_baseline(workspace=workspace, hour_start=hour_start, weeks=max(settings.weeks, 1))
    count_sd = max(MAD_TO_SD * base["count_mad"], math.sqrt(max(base["count"], 1.0)))
    share_sd = max(MAD_TO_SD * base["share_mad"], MIN_SD_SHARE)
    count_limit = base["count"] + settings.margin * count_sd
    share_limit = base["share"] + settings.margin * share_sd
    share = negative / total if total else 0.0
    # Both must leave the baseline: more negative mentions than usual, and a larger part of all mentions
    # (a campaign that doubles all traffic doubles the negatives too without being a negative wave).
    if negative <= count_limit or share <= min(share_limit, 0.99):
        return None
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                workspace=workspace,
                hour_start=hour_start,
                negative_count=negative,
                total_count=total,
                baseline_count=base["count"],
                baseline_share=base["share"],
            )
    except IntegrityError:
        return None  # a concurrent check of the same hour won
    # The spread is read before anyone is told, so the e-mail and the webhook carry its projection; a
    # network that cannot be read leaves it empty and the alert still goes out.
    try:
        alert_project(workspace=workspace, alert_id=alert.pk, now=now)
        alert.refresh_from_db()
    except Exception:
        logger.exception("listening: projecting the spread of alert %s failed", alert.pk)
    _alert_announce(workspace=workspace, alert=alert)
    return alert


def _alert_announce(*, workspace: Workspace, alert: Alert) -> None:
    from django.urls import reverse

    notification_send(
        workspace=workspace,
        recipients=notification_recipients(workspace=workspace, roles={Role.OWNER, Role.ADMIN, Role.EDITOR}),
        kind=NotificationKind.LISTENING_ALERT,
        params={
            "workspace": workspace.name,
            "hour": timezone.localtime(alert.hour_start).strftime("%Y-%m-%d %H:00"),
            "count": str(alert.negative_count),
            "baseline": f"{alert.baseline_count:g}",
            **_projection_params(alert.projection),
        },
        url=reverse("listening:alerts", args=[workspace.pk]),
    )
    if listening_settings_get(workspace=workspace).webhook_url:
        from .tasks import send_alert_webhook

        transaction.on_commit(lambda: send_alert_webhook.enqueue(alert_id=alert.pk))


def alert_payload(*, alert: Alert) -> dict[str, Any]:
    mentions = Mention.objects.filter(
        workspace_id=alert.workspace_id,
        sentiment="negative",
        published_at__gte=alert.hour_start,
        published_at__lt=alert.hour_start + timedelta(hours=1),
    ).order_by("score", "-published_at")[:10]
    return {
        "event": "listening.alert",
        "workspace": alert.workspace_id,
        "hour_start": alert.hour_start.isoformat(),
        "negative_count": alert.negative_count,
        "total_count": alert.total_count,
        "negative_share": round(alert.negative_share, 4),
        "baseline_count": alert.baseline_count,
        "baseline_share": round(alert.baseline_share, 4),
        "mentions": [{"url": m.url, "author": m.author, "text": m.text[:500]} for m in mentions],
        # ``listening.projection.Projection.as_dict()``: R, the interval, "grows", and per horizon (1, 3,
        # 6, 12 h) the expected further reshares and reach with their 10th/90th percentiles.
        "projection": alert.projection or None,
        "projected_at": alert.projected_at.isoformat() if alert.projected_at else None,
    }


def alert_webhook_send(*, workspace: Workspace, alert_id: int) -> str:
    """POST the alert as JSON to the workspace's webhook (a timeout; the outcome is kept on the alert)."""
    alert = Alert.objects.filter(pk=alert_id, workspace=workspace).first()
    if alert is None:
        raise ListeningNotFound(f"alert {alert_id} is not in workspace {workspace.pk}")
    url = listening_settings_get(workspace=workspace).webhook_url
    if not url or alert.webhook_sent_at is not None:
        return "skipped"
    try:
        response = httpx.post(url, json=alert_payload(alert=alert), timeout=WEBHOOK_TIMEOUT_SECONDS)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        Alert.objects.filter(pk=alert.pk).update(webhook_error=f"{type(exc).__name__}: {exc}"[:2000])
        return "failed"
    Alert.objects.filter(pk=alert.pk).update(webhook_sent_at=timezone.now(), webhook_error="")
    return "sent"


# -- the spread: reshare cascades and their projection ------------------------------------------------

# How many of an alert's driving mentions have their reshares read, and how many posts in all (quotes of
# them are read too, to QUOTE_DEPTH levels): a bound on the network calls of one refresh.
CASCADE_MENTIONS = 20
CASCADE_POSTS = 60
QUOTE_DEPTH = 2
# An alert's projection is refreshed by the periodic poll while the wave is this young.
PROJECTION_REFRESH_HOURS = 12


def _projection_params(projection: dict[str, Any]) -> dict[str, str]:
    horizons = {h["hours"]: h for h in projection.get("horizons") or []}
    twelve = horizons.get(12, {})
    return {
        "r": f"{projection.get('r', 0):.2f}",
        "reshares": str(projection.get("observed", 0)),
        "reshares_12h": f"{twelve.get('reshares', 0):g}",
        "low_12h": f"{twelve.get('low', 0):g}",
        "high_12h": f"{twelve.get('high', 0):g}",
        "reach_12h": f"{twelve.get('reach', 0):g}",
    }


def alert_driving_mentions(
    *, workspace: Workspace, alert: Alert, limit: int = CASCADE_MENTIONS
) -> list[Mention]:
    return list(
        Mention.objects.select_related("source")
        .filter(
            workspace=workspace,
            sentiment="negative",
            published_at__gte=alert.hour_start,
            published_at__lt=alert.hour_start + timedelta(hours=1),
        )
        .order_by("score", "-published_at")[:limit]
    )


def cascade_refresh(
    *, workspace: Workspace, mention: Mention, now: datetime, since: datetime | None = None
) -> int:
    """Read the reposts and quotes of ``mention`` (and of its quotes, ``QUOTE_DEPTH`` deep) through its
    source and store the new ones; return how many were new. Reshares without a reported time are dated
    evenly between the previous look ``since`` (or the post) and ``now``, in the order the network lists
    them (newest first): first seen is all we know, and piling them all on ``now`` would make the cascade
    look younger than it is."""
    if mention.workspace_id != workspace.pk:
        raise ListeningNotFound(f"mention {mention.pk} is not in workspace {workspace.pk}")
    known = {r.remote_id: r for r in Reshare.objects.filter(mention=mention)}
    last_look = since or mention.published_at
    posts: list[tuple[str, datetime, int]] = [(mention.remote_id, mention.published_at, 0)]
    seen_posts: set[str] = set()
    fresh: list[Reshare] = []
    while posts and len(seen_posts) < CASCADE_POSTS:
        post_id, post_at, depth = posts.pop(0)
        if post_id in seen_posts:
            continue
        seen_posts.add(post_id)
        found = network_reshares(workspace=workspace, source=mention.source, remote_id=post_id)
        if found is None:
            return 0  # this source cannot tell who reshared (a feed, a wiki, a network without it)
        undated = [r for r in found if r.created_at is None and r.remote_id not in known]
        start = max(last_look, post_at)
        step = (now - start) / (len(undated) + 1) if now > start else timedelta(0)
        for index, item in enumerate(reversed(undated), start=1):
            known_at = start + step * index
            fresh.append(_reshare(workspace, mention, item, at=known_at, now=now, reported=False))
            known[item.remote_id] = fresh[-1]
        for item in found:
            if item.created_at is not None and item.remote_id not in known:
                fresh.append(_reshare(workspace, mention, item, at=item.created_at, now=now, reported=True))
                known[item.remote_id] = fresh[-1]
            if item.kind == Reshare.QUOTE and depth < QUOTE_DEPTH:
                posts.append((item.remote_id, item.created_at or now, depth + 1))
    Reshare.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def _reshare(
    workspace: Workspace, mention: Mention, item: Any, *, at: datetime, now: datetime, reported: bool
) -> Reshare:
    return Reshare(
        workspace=workspace,
        mention=mention,
        remote_id=item.remote_id[:1000],
        subject_remote_id=item.subject_remote_id[:1000],
        kind=item.kind,
        author=item.author_handle[:300],
        followers=item.followers,
        url=item.url[:1000],
        text=item.text,
        reshared_at=at,
        first_seen_at=now,
        time_reported=reported,
    )


def cascade_events(*, mentions: list[Mention], now: datetime) -> tuple[list[CascadeEvent], float]:
    """The cascade of ``mentions`` as events in hours since the first of them (the projection's input),
    and ``now`` on that clock. Each mention and each quote starts a tree; a reshare belongs to the tree
    of the post it reshares."""
    if not mentions:
        return [], 0.0
    origin = min(m.published_at for m in mentions)

    def hours(when: datetime) -> float:
        return (when - origin).total_seconds() / 3600

    events = [CascadeEvent(at=hours(m.published_at), tree=m.remote_id, root=True) for m in mentions]
    for reshare in Reshare.objects.filter(mention__in=mentions, reshared_at__lte=now):
        events.append(
            CascadeEvent(
                at=hours(reshare.reshared_at), tree=reshare.subject_remote_id, reach=reshare.followers
            )
        )
        if reshare.kind == Reshare.QUOTE:
            events.append(CascadeEvent(at=hours(reshare.reshared_at), tree=reshare.remote_id, root=True))
    return events, hours(now)


def alert_project(*, workspace: Workspace, alert_id: int, now: datetime | None = None) -> Projection | None:
    """Refresh the cascades of the alert's driving mentions and store the projection of their spread on
    the alert. ``None`` (and nothing stored) when no driving mention comes from a source that reports
    reshares."""
    alert = Alert.objects.filter(pk=alert_id, workspace=workspace).first()
    if alert is None:
        raise ListeningNotFound(f"alert {alert_id} is not in workspace {workspace.pk}")
    now = now or timezone.now()
    mentions = [
        m for m in alert_driving_mentions(workspace=workspace, alert=alert) if m.source.kind == "network"
    ]
    readable: list[Mention] = []
    for mention in mentions:
        try:
            cascade_refresh(workspace=workspace, mention=mention, now=now, since=alert.projected_at)
        except SourceError as exc:
            logger.warning("listening: reshares of mention %s unreadable: %s", mention.pk, exc)
            continue
        readable.append(mention)
    if not readable:
        return None
    events, clock = cascade_events(mentions=readable, now=now)
    projection = cascade_project(events=events, now=clock)
    Alert.objects.filter(pk=alert.pk).update(projection=projection.as_dict(), projected_at=now)
    return projection


def alerts_project_recent(*, now: datetime | None = None) -> int:
    """The periodic poll refreshes the projections of the young alerts (the spread is fastest early)."""
    now = now or timezone.now()
    done = 0
    recent = Alert.objects.select_related("workspace").filter(
        hour_start__gte=now - timedelta(hours=PROJECTION_REFRESH_HOURS)
    )
    for alert in recent:
        if alert.workspace.archived_at is not None:
            continue
        try:
            if alert_project(workspace=alert.workspace, alert_id=alert.pk, now=now) is not None:
                done += 1
        except Exception:
            logger.exception("listening: refreshing the projection of alert %s failed", alert.pk)
    return done
