"""Time the analytics selectors on N metric points in the current database (``DATABASE_URL``; migrated).

    .venv/bin/python bench/analytics.py                                   # 20,000 points
    RESONANZ_BENCH_POINTS=5000000 .venv/bin/python bench/analytics.py     # more
    RESONANZ_BENCH_KEEP=1 …                                               # keep the bench workspace

A point is one row of the daily rollup ``engagement.MetricDaily`` (a variant's latest counts of one day
and its gains; the per-channel rollup ``MetricChannelDaily`` is summed from them), which is what the
selectors read; the raw ``MetricSample`` rows behind them are not built
(nothing reads them for analytics). The points belong to one bench workspace with 8 channels and
variants published over 180 days, each sampled daily for 30 days after publishing (the sync window), so
a 28-day period touches about 28/180 of them. Prints p50/p95 per selector over ``RESONANZ_BENCH_RUNS``
runs (default 15); no pass/fail.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Sum  # noqa: E402

from resonanz.accounts.models import User, Workspace  # noqa: E402
from resonanz.accounts.services import organisation_create, workspace_create  # noqa: E402
from resonanz.analytics.selectors import (  # noqa: E402
    Period,
    analytics_channels,
    analytics_posts,
    analytics_series,
    analytics_summary,
    analytics_totals,
)
from resonanz.channels.models import Channel  # noqa: E402
from resonanz.engagement.models import FollowerSample, MetricChannelDaily, MetricDaily  # noqa: E402
from resonanz.posts.models import Post, Variant, VariantStatus  # noqa: E402

POINTS = int(os.environ.get("RESONANZ_BENCH_POINTS", "20000"))
RUNS = int(os.environ.get("RESONANZ_BENCH_RUNS", "15"))
KEEP = os.environ.get("RESONANZ_BENCH_KEEP") == "1"
CHANNELS = 8
DAYS_SAMPLED = 30
SPREAD_DAYS = 180
TODAY = date(2026, 12, 3)


def build() -> Workspace:
    owner, _ = User.objects.get_or_create(email="analytics-bench@example.com")
    org = organisation_create(name=f"Analytics bench {time.time_ns()}", owner=owner)
    ws = workspace_create(organisation=org, name="Bench", owner=owner)
    networks = ["mastodon", "bluesky", "x", "linkedin"]
    channels = [
        Channel.objects.create(
            workspace=ws,
            network=networks[i % len(networks)],
            handle=f"bench{i}",
            remote_id=f"bench-{i}",
            base_url="https://bench.example",
            credentials={"access_token": "x"},
        )
        for i in range(CHANNELS)
    ]
    for c in channels:
        FollowerSample.objects.bulk_create(
            FollowerSample(
                channel=c,
                taken_at=datetime.combine(TODAY - timedelta(days=d), datetime.min.time(), UTC),
                followers=10_000 + d,
            )
            for d in range(0, SPREAD_DAYS, 1)
        )
    variants_needed = max(1, POINTS // DAYS_SAMPLED)
    start = datetime.combine(TODAY - timedelta(days=SPREAD_DAYS), datetime.min.time(), UTC)
    made = 0
    batch: list[MetricDaily] = []
    t0 = time.perf_counter()
    while made < variants_needed:
        n = min(2000, variants_needed - made)
        posts = Post.objects.bulk_create(
            Post(workspace=ws, author=owner, text=f"Bench {made + i}") for i in range(n)
        )
        variants = Variant.objects.bulk_create(
            Variant(
                post=p,
                channel=channels[(made + i) % CHANNELS],
                status=VariantStatus.PUBLISHED,
                remote_id=f"b{made + i}",
                published_at=start + timedelta(minutes=(made + i) * SPREAD_DAYS * 1440 // variants_needed),
            )
            for i, p in enumerate(posts)
        )
        for v in variants:
            assert v.published_at is not None
            first = v.published_at.date()
            likes = 0
            for d in range(DAYS_SAMPLED):
                gain = max(0, 20 - d) + v.pk % 5
                likes += gain
                batch.append(
                    MetricDaily(
                        workspace=ws,
                        channel_id=v.channel_id,
                        variant=v,
                        day=first + timedelta(days=d),
                        taken_at=v.published_at + timedelta(days=d),
                        likes=likes,
                        reposts=likes // 10,
                        replies=likes // 20,
                        impressions=likes * 30,
                        gain_likes=gain,
                        gain_reposts=gain // 10,
                        gain_replies=gain // 20,
                        gain_impressions=gain * 30,
                    )
                )
            if len(batch) >= 20_000:
                MetricDaily.objects.bulk_create(batch)
                batch = []
        made += n
    MetricDaily.objects.bulk_create(batch)
    sums = {f"gain_{n}": Sum(f"gain_{n}") for n in ("likes", "reposts", "replies", "impressions")}
    MetricChannelDaily.objects.bulk_create(
        MetricChannelDaily(workspace=ws, channel_id=r.pop("channel_id"), day=r.pop("day"), **r)
        for r in MetricDaily.objects.filter(workspace=ws)
        .values("channel_id", "day")
        .annotate(**sums)
        .order_by()
    )
    print(
        f"built {MetricDaily.objects.filter(workspace=ws).count():,} points for {variants_needed:,} variants "
        f"in {time.perf_counter() - t0:.1f} s on {connection.vendor}"
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE engagement_metricdaily")
            cursor.execute("ANALYZE engagement_metricchanneldaily")
    return ws


def timed(name: str, call: Callable[[], object]) -> None:
    call()  # warm-up
    times = []
    for _ in range(RUNS):
        t = time.perf_counter()
        call()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"{name:<28} p50 {statistics.median(times):8.1f} ms   p95 {p95:8.1f} ms")


def main() -> None:
    ws = build()
    period = Period.last_days(28, today=TODAY)
    try:
        timed("analytics_totals (28 d)", lambda: analytics_totals(workspace=ws, period=period))
        timed("analytics_series (28 d)", lambda: analytics_series(workspace=ws, period=period))
        timed("analytics_channels (28 d)", lambda: analytics_channels(workspace=ws, period=period))
        timed("analytics_posts (28 d)", lambda: analytics_posts(workspace=ws, period=period))
        timed("analytics_summary (28 d)", lambda: analytics_summary(workspace=ws, period=period))
        timed(
            "analytics_summary (90 d)",
            lambda: analytics_summary(workspace=ws, period=Period.last_days(90, today=TODAY)),
        )
    finally:
        if not KEEP:
            org = ws.organisation
            ws.delete()
            org.delete()


if __name__ == "__main__":
    main()
