"""Time the analytics dashboards on N metric points, on PostgreSQL (and DuckDB beside it).

    .venv/bin/python bench/analytics.py --server postgresql://postgres@127.0.0.1 --points 1000000
    .venv/bin/python bench/analytics.py --server postgresql://postgres@127.0.0.1 --points 50000000 \\
        --duckdb                                   # the figure run (docs/analytics.md)
    … --drop                                       # drop the cached database afterwards

A *point* is one raw ``engagement.MetricSample`` row (one sample of a post on a channel, with every
metric its network reports). The data set is an agency (one organisation) with ``--workspaces``
workspaces of 8 channels (each network once or twice), posts spread over ``--span-days`` days ending on
2026-12-03, a third of them in one of 12 campaigns per workspace, 1-3 channels per post, each variant
sampled 100 times over 30 days (every 30 min on the first day, hourly on the second, then daily: the
sync's cadence gets sparser as a post ages), counts growing on a saturating curve towards a per-variant
random final value (log-normal, so there are clear best and worst posts), and one follower sample a day
for the networks that report followers. 50 M points = 500,000 variants = 250,000 posts, about 3,000
posts a month per workspace at 6 workspaces.

How it is built (and why this way): everything is generated **inside PostgreSQL** with
``INSERT … SELECT … generate_series`` (no row crosses the wire, the fastest way to write 50 M rows; the
indexes are dropped during the load and built afterwards); the three rollups are then built from the
raw samples with ``INSERT … SELECT`` (``DISTINCT ON`` the day's latest sample, ``lag()`` for the gain over
the variant's previous sampled day, ``GROUP BY`` channel and day) — the rule ``metric_daily_store``
applies per sample. The sync's own code does ~6 queries per sample (days for 50 M samples), so it is
used only to prove the SQL right: ``--check`` builds a small data set both ways (the SQL, and
``metric_daily_rebuild`` on a copy of the samples) and compares every rollup row.

The built database is the cache: its name is ``<--cache-prefix><key>`` with the key a hash of the
parameters and ``BUILD_VERSION``; a re-run with the same parameters finds it complete (a marker table)
and only times. The DuckDB file (``--duckdb``) is written next to it under ``--duckdb-dir``
(default ``/tmp/resonanz-bench``), also keyed, exported from PostgreSQL with psycopg ``COPY … TO STDOUT``
(CSV) and loaded with DuckDB's ``read_csv``.

Prints the build time, the sizes (points, rollup rows, table and index sizes), then p50/p95 wall and CPU
time per selector over ``--runs`` runs (default 25) at 28 and 90 days and for the agency overview, the
1-minute load average before and after, and with ``--duckdb`` the same dashboard figures in DuckDB over
the same rollups and over the raw points. No pass/fail.
"""

# The SQL below is built from constants of this file (table and column names, numbers), never from
# input; the lambdas in loops are called at once by ``step``/``timed``.
# ruff: noqa: S608, B023

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUILD_VERSION = 1
TODAY = date(2026, 12, 3)
CHANNELS = 8
CAMPAIGNS = 12
SAMPLES_PER_VARIANT = 100
NETWORKS = ["mastodon", "bluesky", "x", "linkedin", "instagram", "facebook", "threads", "x"]
ZONES = [
    "Europe/Berlin",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/London",
    "America/New_York",
]
METRICS = ("likes", "reposts", "replies", "quotes", "impressions", "reach", "saves", "clicks", "video_views")
BIG_TABLES = ("engagement_metricsample", "engagement_metricdaily", "engagement_metricchanneldaily")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--server", default=os.environ.get("RESONANZ_BENCH_SERVER", "postgresql://postgres@127.0.0.1")
    )
    p.add_argument("--points", type=int, default=1_000_000)
    p.add_argument("--workspaces", type=int, default=6)
    p.add_argument("--span-days", type=int, default=420)
    p.add_argument("--runs", type=int, default=25)
    p.add_argument("--cache-prefix", default="resonanz_bench_")
    p.add_argument("--duckdb", action="store_true", help="also time the dashboards in DuckDB")
    p.add_argument("--duckdb-dir", default=str(Path(tempfile.gettempdir()) / "resonanz-bench"))
    p.add_argument("--parallel", action="store_true", help="leave PostgreSQL's parallel workers on")
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the ranking queries")
    p.add_argument("--check", action="store_true", help="small data set: SQL rollups == the sync's code")
    p.add_argument("--build-only", action="store_true", help="build (or find) the cache, print sizes, stop")
    p.add_argument("--drop", action="store_true", help="drop the cached database at the end")
    return p.parse_args()


ARGS = parse_args()
if ARGS.check:
    ARGS.points = min(ARGS.points, 6_000)
    ARGS.workspaces = min(ARGS.workspaces, 2)
    ARGS.span_days = min(ARGS.span_days, 60)
PARAMS = {
    "points": ARGS.points,
    "workspaces": ARGS.workspaces,
    "span_days": ARGS.span_days,
    "version": BUILD_VERSION,
    "check": ARGS.check,
}
KEY = hashlib.sha256(json.dumps(PARAMS, sort_keys=True).encode()).hexdigest()[:10]
DB_NAME = f"{ARGS.cache_prefix}{ARGS.points // 1000}k_{KEY}"

import psycopg  # noqa: E402

with psycopg.connect(f"{ARGS.server}/postgres", autocommit=True) as admin:
    if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')

os.environ["DATABASE_URL"] = f"{ARGS.server}/{DB_NAME}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.base")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from resonanz.accounts.models import Organisation, User, Workspace  # noqa: E402
from resonanz.accounts.services import organisation_create, workspace_create  # noqa: E402
from resonanz.analytics import selectors as sel  # noqa: E402
from resonanz.campaigns.models import Campaign, Goal  # noqa: E402
from resonanz.channels.models import Channel  # noqa: E402
from resonanz.connectors.registry import get_connector  # noqa: E402
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus  # noqa: E402


def sql(statement: str, params: Any = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def one(statement: str, params: Any = None) -> Any:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
        return row[0] if row else None


def step(name: str, call: Callable[[], object]) -> None:
    t = time.perf_counter()
    out = call()
    print(
        f"  {name:<52} {time.perf_counter() - t:7.1f} s"
        + (f"  ({out:,} rows)" if isinstance(out, int) else "")
    )
    sys.stdout.flush()


# ---------------------------------------------------------------------------------------------- build


def build() -> float:
    t0 = time.perf_counter()
    print(f"building {DB_NAME}: {PARAMS}")
    sql("SET work_mem = '256MB'")
    sql("SET maintenance_work_mem = '512MB'")
    sql("SET synchronous_commit = off")
    owner, _ = User.objects.get_or_create(email="analytics-bench@example.com")
    org = organisation_create(name="Analytics bench agency", owner=owner)
    # The last month's variants are not fully sampled yet on the last day: a few more of them.
    variants_needed = max(
        1, round(ARGS.points / SAMPLES_PER_VARIANT * ARGS.span_days / (ARGS.span_days - 14))
    )
    posts_needed = max(1, variants_needed // 2)  # 1-3 channels a post, 2 on average
    per_ws = max(1, posts_needed // ARGS.workspaces)
    start = TODAY - timedelta(days=ARGS.span_days)
    # The indexes of the big tables are dropped for the load and built afterwards (the same definitions).
    indexes = [
        (name, definition)
        for table in (*BIG_TABLES, "posts_post", "posts_variant", "engagement_metriclatest")
        for name, definition in connection.cursor()
        .execute(
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE tablename = %s AND indexname NOT LIKE '%%_pkey'",
            [table],
        )
        .fetchall()
    ]
    constraints = [
        (table, name, one("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = %s", [name]))
        for table in (*BIG_TABLES, "posts_post", "posts_variant")
        for (name,) in connection.cursor()
        .execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype IN ('u', 'f')",
            [table],
        )
        .fetchall()
    ]
    owned = {name for _table, name, _definition in constraints}
    indexes = [(name, definition) for name, definition in indexes if name not in owned]
    for table, name, _definition in constraints:
        sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        sql(f'DROP INDEX IF EXISTS "{name}"')
    for w in range(ARGS.workspaces):
        ws = workspace_create(organisation=org, name=f"Brand {w + 1}", owner=owner)
        ws.time_zone = ZONES[w % len(ZONES)]
        ws.save(update_fields=["time_zone"])
        channels = [
            Channel.objects.create(
                workspace=ws,
                network=NETWORKS[i],
                handle=f"brand{w}-{i}",
                remote_id=f"bench-{w}-{i}",
                base_url="https://bench.example",
                credentials={"access_token": "x"},
            )
            for i in range(CHANNELS)
        ]
        campaigns = [
            Campaign.objects.create(
                workspace=ws, name=f"Campaign {c + 1}", goal=list(Goal)[c % len(Goal)], kpi_target=100_000
            )
            for c in range(CAMPAIGNS)
        ]
        template = Post.objects.create(
            workspace=ws, author=owner, text="template", status=PostStatus.PUBLISHED
        )
        step(f"workspace {w + 1}: posts", lambda: _posts(ws, template, campaigns, per_ws, start))
        step(f"workspace {w + 1}: variants", lambda: _variants(ws, template, channels, start))
        template.delete()
    step("follower samples", lambda: _followers(start))
    step("samples (the points)", _samples)
    for table, name, definition in constraints:
        if table == "engagement_metricsample":
            step(
                f"constraint {name}", lambda: sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            )
    for name, definition in indexes:
        if "engagement_metricsample" in definition:
            step(f"index {name}", lambda: sql(definition))
    step("rollup MetricDaily (latest per day, lag() gains)", rollup_daily)
    step("rollup MetricChannelDaily (GROUP BY channel, day)", rollup_channel_daily)
    step("rollup MetricLatest (DISTINCT ON variant)", rollup_latest)
    step("rollup MetricCampaignDaily (GROUP BY campaign, day)", rollup_campaign_daily)
    for table, name, definition in constraints:
        if table != "engagement_metricsample":
            step(
                f"constraint {name}", lambda: sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            )
    for name, definition in indexes:
        if "engagement_metricsample" not in definition:
            step(f"index {name}", lambda: sql(definition))
    step("ANALYZE", lambda: sql("ANALYZE"))
    built = time.perf_counter() - t0
    sql("CREATE TABLE bench_built (params jsonb, seconds float, at timestamptz DEFAULT now())")
    sql("INSERT INTO bench_built (params, seconds) VALUES (%s, %s)", [json.dumps(PARAMS), built])
    return built


def _posts(ws: Workspace, template: Post, campaigns: list[Campaign], n: int, start: date) -> int:
    cols = [f.column for f in Post._meta.concrete_fields if f.column != "id"]
    override = {
        "text": "'Beitrag ' || g || ': Neu im Shop, jetzt entdecken'",
        "title": "''",
        "campaign_id": f"CASE WHEN mod(g, 3) = 0 THEN (ARRAY{[c.pk for c in campaigns]})"
        f"[1 + mod(g / 3, {CAMPAIGNS})] END",
        # The post's publishing time, spread evenly over the span with some jitter (scheduled_at = it).
        "scheduled_at": f"(%(start)s::timestamptz + (g::float8 / {n} * {ARGS.span_days} * 86400 "
        "+ random() * 3600) * interval '1 second')",
        "created_at": "%(start)s::timestamptz",
        "updated_at": "%(start)s::timestamptz",
    }
    select = ", ".join(override.get(c, f"t.{c}") for c in cols)
    return sql(
        f"INSERT INTO posts_post ({', '.join(cols)}) SELECT {select} FROM posts_post t, "
        f"generate_series(1, {n}) g WHERE t.id = %(template)s",
        {"template": template.pk, "start": start.isoformat()},
    )


def _variants(ws: Workspace, template: Post, channels: list[Channel], start: date) -> int:
    proto = Variant.objects.create(
        post=template, channel=channels[0], status=VariantStatus.PUBLISHED, remote_id="template"
    )
    cols = [f.column for f in Variant._meta.concrete_fields if f.column != "id"]
    override = {
        "post_id": "p.id",
        "channel_id": f"(ARRAY{[c.pk for c in channels]})[1 + mod(p.id * 7 + j * 3, {CHANNELS})]",
        "remote_id": "'b' || p.id || '-' || j",
        "published_at": "p.scheduled_at + j * interval '1 minute'",
        "scheduled_at": "p.scheduled_at",
        "created_at": "p.created_at",
        "updated_at": "p.scheduled_at",
    }
    select = ", ".join(override.get(c, f"t.{c}") for c in cols)
    n = sql(
        f"INSERT INTO posts_variant ({', '.join(cols)}) SELECT {select} FROM posts_variant t, posts_post p, "
        "generate_series(0, 2) j WHERE t.id = %(proto)s AND p.workspace_id = %(ws)s AND p.id <> %(template)s "
        "AND j <= mod(p.id, 3)",
        {"proto": proto.pk, "ws": ws.pk, "template": template.pk},
    )
    proto.delete()
    return n


def _followers(start: date) -> int:
    reporting = [c.pk for c in Channel.objects.all() if get_connector(c.network).spec.followers]
    return sql(
        "INSERT INTO engagement_followersample (channel_id, taken_at, followers) "
        "SELECT c, %(start)s::timestamptz + d * interval '1 day' + interval '6 hours', "
        "5000 + c * 100 + d * (3 + mod(c, 5)) "
        "FROM unnest(%(ids)s::bigint[]) c, generate_series(0, %(days)s) d",
        {"start": start.isoformat(), "ids": reporting, "days": ARGS.span_days},
    )


def _offsets() -> str:
    """The sample times after publishing, in minutes: every 30 min on day 1, hourly on day 2, then daily."""
    minutes = [30 * i for i in range(1, 49)] + [1440 + 60 * i for i in range(1, 25)]
    minutes += [2880 + 1440 * i for i in range(1, SAMPLES_PER_VARIANT - len(minutes) + 1)]
    assert len(minutes) == SAMPLES_PER_VARIANT
    return "VALUES " + ", ".join(f"({m})" for m in minutes)


def _samples() -> int:
    # Per channel: which metrics its network reports (the others stay NULL, like the connectors').
    reports = []
    for c in Channel.objects.all():
        reported = {m.value for m in get_connector(c.network).spec.metrics}
        reports.append(f"({c.pk}, " + ", ".join("true" if m in reported else "false" for m in METRICS) + ")")
    flags = ", ".join(f"r_{m}" for m in METRICS)
    sql("SELECT setseed(0.42)")

    def value(metric: str, scale: str) -> str:
        expr = f"round(v.final * {scale} * (1 - exp(-o.m / v.tau)))::int"
        return (
            expr if metric in {"likes", "reposts", "replies"} else f"CASE WHEN r.r_{metric} THEN {expr} END"
        )

    cols = {
        "likes": "1",
        "reposts": "0.15",
        "replies": "0.08",
        "quotes": "0.03",
        "impressions": "v.views",
        "reach": "v.views * 0.7",
        "saves": "0.05",
        "clicks": "0.1",
        "video_views": "0",
    }
    return sql(
        f"""
        INSERT INTO engagement_metricsample (variant_id, taken_at, {", ".join(METRICS)})
        SELECT v.id, v.published_at + o.m * interval '1 minute',
            {", ".join(value(m, s) for m, s in cols.items())}
        FROM (
            SELECT id, channel_id, published_at,
                   -- log-normal final likes (median ~40), views per like 15-75, saturation 2-30 h
                   exp(3.7 + 1.1 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())) AS final,
                   15 + 60 * random() AS views,
                   120 + 1680 * random() AS tau
            FROM posts_variant WHERE remote_id <> 'template'
        ) v
        JOIN (VALUES {", ".join(reports)}) AS r (channel_id, {flags}) ON r.channel_id = v.channel_id
        CROSS JOIN ({_offsets()}) AS o (m)
        WHERE v.published_at + o.m * interval '1 minute' <= %(now)s::timestamptz
        """,
        {"now": f"{TODAY.isoformat()} 23:59:59+00"},
    )


def rollup_daily() -> int:
    """``metric_daily_store``'s rule for every sample at once: the day (in the workspace's zone) keeps
    its latest sample's counts; the gain is that minus the previous sampled day's latest (the first
    day's gain is its value; a metric the sample does not report has no gain)."""
    latest = ", ".join(f"s.{m}" for m in METRICS)
    gains = ", ".join(
        f"{m} - coalesce(lag({m}) OVER w, 0)"
        if m in {"likes", "reposts", "replies"}
        else f"CASE WHEN {m} IS NOT NULL THEN {m} - coalesce(lag({m}) OVER w, 0) END"
        for m in METRICS
    )
    return sql(
        f"""
        INSERT INTO engagement_metricdaily (workspace_id, channel_id, variant_id, day, taken_at,
            {", ".join(METRICS)}, {", ".join("gain_" + m for m in METRICS)})
        SELECT workspace_id, channel_id, variant_id, day, taken_at, {", ".join(METRICS)}, {gains}
        FROM (
            SELECT DISTINCT ON (s.variant_id, (s.taken_at AT TIME ZONE w.time_zone)::date)
                   w.id AS workspace_id, v.channel_id, s.variant_id,
                   (s.taken_at AT TIME ZONE w.time_zone)::date AS day, s.taken_at, {latest}
            FROM engagement_metricsample s
            JOIN posts_variant v ON v.id = s.variant_id
            JOIN channels_channel c ON c.id = v.channel_id
            JOIN accounts_workspace w ON w.id = c.workspace_id
            ORDER BY s.variant_id, (s.taken_at AT TIME ZONE w.time_zone)::date, s.taken_at DESC
        ) d
        WINDOW w AS (PARTITION BY variant_id ORDER BY day)
        """
    )


def rollup_channel_daily() -> int:
    sums = ", ".join(f"sum(gain_{m})" for m in METRICS)
    return sql(
        f"""INSERT INTO engagement_metricchanneldaily (workspace_id, channel_id, day,
            {", ".join("gain_" + m for m in METRICS)})
        SELECT workspace_id, channel_id, day, {sums} FROM engagement_metricdaily GROUP BY 1, 2, 3"""
    )


def rollup_campaign_daily() -> int:
    sums = ", ".join(f"sum(d.gain_{m})" for m in METRICS)
    return sql(
        f"""INSERT INTO engagement_metriccampaigndaily (workspace_id, campaign_id, day,
            {", ".join("gain_" + m for m in METRICS)})
        SELECT d.workspace_id, p.campaign_id, d.day, {sums} FROM engagement_metricdaily d
        JOIN posts_variant v ON v.id = d.variant_id JOIN posts_post p ON p.id = v.post_id
        WHERE p.campaign_id IS NOT NULL GROUP BY 1, 2, 3"""
    )


def rollup_latest() -> int:
    return sql(
        f"""INSERT INTO engagement_metriclatest (variant_id, workspace_id, channel_id, published_at, day,
            {", ".join(METRICS)})
        SELECT DISTINCT ON (d.variant_id) d.variant_id, d.workspace_id, d.channel_id, v.published_at, d.day,
            {", ".join("d." + m for m in METRICS)}
        FROM engagement_metricdaily d JOIN posts_variant v ON v.id = d.variant_id
        ORDER BY d.variant_id, d.day DESC"""
    )


def check() -> None:
    """The SQL rollups equal what the sync's code (``metric_daily_rebuild``) writes from the same samples."""
    from resonanz.engagement.models import MetricCampaignDaily, MetricChannelDaily, MetricDaily, MetricLatest
    from resonanz.engagement.services import metric_daily_rebuild

    def snapshot() -> tuple[set[tuple[Any, ...]], ...]:
        gains = [f"gain_{m}" for m in METRICS]
        return (
            set(MetricDaily.objects.values_list("variant_id", "day", "taken_at", *METRICS, *gains)),
            set(MetricChannelDaily.objects.values_list("channel_id", "day", *gains)),
            set(MetricLatest.objects.values_list("variant_id", "day", "published_at", *METRICS)),
            set(MetricCampaignDaily.objects.values_list("campaign_id", "day", *gains)),
        )

    by_sql = snapshot()
    names = ("MetricDaily", "MetricChannelDaily", "MetricLatest", "MetricCampaignDaily")
    for ws in Workspace.objects.all():
        metric_daily_rebuild(workspace=ws)
    by_sync = snapshot()
    for name, a, b in zip(names, by_sql, by_sync, strict=True):
        print(f"check {name}: {len(a):,} rows by SQL, {len(b):,} by the sync's code, equal: {a == b}")
        if a != b:
            print("  only SQL:", sorted(a - b)[:3], "\n  only sync:", sorted(b - a)[:3])
            raise SystemExit(1)


# ---------------------------------------------------------------------------------------------- sizes


def sizes() -> None:
    print(f"\ndatabase {DB_NAME}: {one('SELECT pg_size_pretty(pg_database_size(current_database()))')}")
    tables = (
        *BIG_TABLES,
        "engagement_metriclatest",
        "posts_post",
        "posts_variant",
        "engagement_followersample",
    )
    for table in tables:
        rows = one(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'")
        heap = one(f"SELECT pg_size_pretty(pg_table_size('{table}'))")
        index = one(f"SELECT pg_size_pretty(pg_indexes_size('{table}'))")
        print(f"  {table:<34} ~{rows:>12,} rows   table {heap:>8}   indexes {index:>8}")


# ---------------------------------------------------------------------------------------------- timing


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def timed(
    name: str, call: Callable[[], object], results: dict[str, tuple[float, float, float]], server: bool = True
) -> None:
    call()  # warm-up
    wall, cpu = [], []
    backend = backend_cpu_ms() if server else 0.0
    for _ in range(ARGS.runs):
        c = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        call()
        wall.append((time.perf_counter() - t) * 1000)
        d = resource.getrusage(resource.RUSAGE_SELF)
        cpu.append((d.ru_utime + d.ru_stime - c.ru_utime - c.ru_stime) * 1000)
    wall.sort()
    p95 = wall[min(len(wall) - 1, int(len(wall) * 0.95))]
    p50 = statistics.median(wall)
    results[name] = (p50, p95, statistics.median(cpu))
    # The database's CPU per call: this connection's backend over the runs (parallel workers are off).
    db_cpu = f"   server CPU {(backend_cpu_ms() - backend) / ARGS.runs:7.1f} ms" if server else ""
    client = statistics.median(cpu)
    print(f"{name:<46} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  client CPU {client:6.1f} ms{db_cpu}")
    sys.stdout.flush()


def backend_cpu_ms() -> float:
    """CPU time used so far by this connection's PostgreSQL backend (/proc/<pid>/stat, same machine)."""
    pid = one("SELECT pg_backend_pid()")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def local_today(ws: Workspace) -> date:
    """The workspace's today when the last sample was taken (23:59 UTC on TODAY: 4 December in Berlin)."""
    from datetime import UTC, datetime

    return sel.workspace_today(
        workspace=ws, now=datetime(TODAY.year, TODAY.month, TODAY.day, 23, 59, tzinfo=UTC)
    )


def time_postgres() -> dict[str, tuple[float, float, float]]:
    results: dict[str, tuple[float, float, float]] = {}
    org = Organisation.objects.get(name="Analytics bench agency")
    workspaces = list(Workspace.objects.filter(organisation=org).order_by("pk"))
    ws = workspaces[0]
    if not ARGS.parallel:
        # Parallel workers cost more than they save on these 10-20 ms scans of a loaded 2-core machine
        # (their start shows as waiting in Gather), and their CPU would escape the backend's figure.
        sql("SET max_parallel_workers_per_gather = 0")
    today = local_today(ws)
    print(
        f"\nPostgreSQL, workspace '{ws.name}' of {len(workspaces)} ({ws.time_zone}, today {today}), "
        f"{ARGS.runs} runs each, parallel workers {'on' if ARGS.parallel else 'off'}; load {load()}"
    )
    for days in (28, 90):
        period = sel.Period.last_days(days, today=today)
        posts = Variant.objects.filter(
            post__workspace=ws, published_at__gte=period.bounds(ws.time_zone)[0]
        ).count()
        print(f"-- {days} days ({posts:,} posts on channels published in the period)")
        cpu0 = backend_cpu_ms()
        for name, call in (
            ("analytics_totals", lambda: sel.analytics_totals(workspace=ws, period=period)),
            ("analytics_series", lambda: sel.analytics_series(workspace=ws, period=period)),
            ("analytics_channels", lambda: sel.analytics_channels(workspace=ws, period=period)),
            ("analytics_campaigns", lambda: sel.analytics_campaigns(workspace=ws, period=period)),
            ("analytics_best_worst", lambda: sel.analytics_best_worst(workspace=ws, period=period)),
            ("analytics_posts (top 25 by rate)", lambda: sel.analytics_posts(workspace=ws, period=period)),
            (
                "analytics_summary (the whole page)",
                lambda: sel.analytics_summary(workspace=ws, period=period),
            ),
        ):
            timed(f"{name} ({days} d)", call, results)
        print(f"   PostgreSQL backend CPU for the {days}-day block: {backend_cpu_ms() - cpu0:,.0f} ms")
    closed = sel.Period.month_of(date(TODAY.year, TODAY.month, 1) - timedelta(days=1))
    # A closed month: its last weeks' posts have days after its end, read from MetricDaily as of then.
    timed(
        f"analytics_best_worst ({closed.start:%B}, closed)",
        lambda: sel.analytics_best_worst(workspace=ws, period=closed),
        results,
    )
    for days in (28, 90):
        period = sel.Period.last_days(days, today=today)
        timed(
            f"analytics_across_workspaces ({days} d, {len(workspaces)} ws)",
            lambda: sel.analytics_across_workspaces(workspaces=workspaces, period=period),
            results,
        )
    print(f"load after: {load()}")
    return results


def explain() -> None:
    """EXPLAIN ANALYZE of every query the 90-day page runs that takes more than a millisecond (captured
    from the selectors themselves, so the plans are of the SQL the ORM writes)."""
    from django.test.utils import CaptureQueriesContext

    ws = Workspace.objects.filter(organisation__name="Analytics bench agency").order_by("pk").first()
    assert ws is not None
    if not ARGS.parallel:
        sql("SET max_parallel_workers_per_gather = 0")
    period = sel.Period.last_days(90, today=local_today(ws))
    sel.analytics_summary(workspace=ws, period=period)
    with CaptureQueriesContext(connection) as captured:
        sel.analytics_summary(workspace=ws, period=period)
    total = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    count = len(captured.captured_queries)
    print(f"\nanalytics_summary (90 d): {count} queries, {total:.0f} ms in the database")
    for query in captured.captured_queries:
        if float(query["time"]) < 0.001:
            continue
        print(f"\n-- {float(query['time']) * 1000:.1f} ms: {query['sql'][:300]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            for (line,) in cursor.fetchall():
                print("   ", line)


# ---------------------------------------------------------------------------------------------- DuckDB


DUCK_TABLES = {
    "sample": f"SELECT variant_id, taken_at, {', '.join(METRICS)} FROM engagement_metricsample",
    "daily": "SELECT * FROM engagement_metricdaily",
    "channel_daily": "SELECT * FROM engagement_metricchanneldaily",
    "campaign_daily": "SELECT * FROM engagement_metriccampaigndaily",
    "latest": "SELECT * FROM engagement_metriclatest",
    "variant": "SELECT v.id, v.channel_id, v.published_at, p.workspace_id, p.campaign_id "
    "FROM posts_variant v JOIN posts_post p ON p.id = v.post_id",
    "channel": "SELECT id, workspace_id, network FROM channels_channel",
}


def duck_types(query: str) -> dict[str, str]:
    """The columns' types as PostgreSQL has them (a CSV column that is all NULL would be read as text)."""
    names = {"int2": "INTEGER", "int4": "INTEGER", "int8": "BIGINT", "date": "DATE", "bool": "BOOLEAN"}
    names |= {"timestamptz": "TIMESTAMPTZ", "float8": "DOUBLE"}
    with connection.connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM ({query}) q LIMIT 0")
        described = cursor.description or []
    out = {}
    for column in described:
        info = psycopg.postgres.types.get(column.type_code)
        out[column.name] = names.get(info.name if info else "", "VARCHAR")
    return out


def duckdb_file() -> Path:
    """The DuckDB copy of the cached database (exported once with psycopg ``COPY … TO STDOUT``)."""
    import duckdb

    folder = Path(ARGS.duckdb_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DB_NAME}.duckdb"
    if path.exists():
        return path
    t = time.perf_counter()
    part = path.with_suffix(".part")
    part.unlink(missing_ok=True)
    db = duckdb.connect(str(part))
    for table, query in DUCK_TABLES.items():
        csv_path = folder / f"{DB_NAME}.{table}.csv"
        raw = connection.connection  # psycopg 3: COPY … TO STDOUT, streamed into a file
        copy_sql = f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER)"
        with raw.cursor() as cursor, csv_path.open("wb") as out, cursor.copy(copy_sql) as copy:
            for chunk in copy:
                out.write(chunk)
        types = duck_types(query)
        db.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv('{csv_path}', header = true, types = {types})"
        )
        csv_path.unlink()
        print(f"  DuckDB table {table} in {time.perf_counter() - t:.0f} s")
    db.close()
    part.rename(path)
    print(f"DuckDB file {path}: {time.perf_counter() - t:.0f} s, {path.stat().st_size / 1e9:.1f} GB")
    return path


def rate_sql(ws: Workspace, end: Any) -> str:
    """The selectors' rate per network (from the connectors' ``EngagementRate``) as DuckDB SQL over ``l``."""
    followers = sel._followers_at(Channel.objects.filter(workspace=ws).values_list("pk", flat=True), end)
    whens = []
    for c in Channel.objects.filter(workspace=ws):
        rule = get_connector(c.network).spec.engagement_rate
        if rule is None:
            continue
        top = " + ".join(f"coalesce(l.{m.value}, 0)" for m in rule.counted)
        if rule.base.value == "followers":
            base = str(followers[c.pk]) if followers.get(c.pk) else "NULL"
        else:
            base = f"nullif(l.{rule.base.value}, 0)"
        whens.append(f"WHEN l.channel_id = {c.pk} THEN ({top})::double / {base}")
    return f"CASE {' '.join(whens)} END"


def duckdb_queries(ws: Workspace, period: Any) -> dict[str, str]:
    """The dashboard's figures as bare SQL (DuckDB dialect), over the rollups and over the raw points."""
    gains = ", ".join(f"sum(gain_{m})" for m in METRICS)
    rate = rate_sql(ws, period.bounds(ws.time_zone)[1])
    in_period = "l.workspace_id = $ws AND l.published_at >= $t0 AND l.published_at < $t1"
    ranked = f"SELECT l.variant_id, {rate} AS r FROM latest l WHERE {in_period} AND r IS NOT NULL"
    return {
        "analytics_totals": f"SELECT {gains} FROM channel_daily "
        "WHERE workspace_id = $ws AND day BETWEEN $s AND $e",
        "analytics_series": f"SELECT day, {gains} FROM channel_daily "
        "WHERE workspace_id = $ws AND day BETWEEN $s AND $e GROUP BY day",
        "analytics_channels": f"SELECT channel_id, day >= $s AS cur, {gains} FROM channel_daily "
        "WHERE workspace_id = $ws AND day BETWEEN $ps AND $e GROUP BY ALL",
        "analytics_campaigns": f"SELECT campaign_id, {gains} FROM campaign_daily "
        "WHERE workspace_id = $ws AND day BETWEEN $s AND $e GROUP BY 1",
        # The campaigns without their rollup: every variant-day of the period joined to its post.
        "campaigns from MetricDaily (no rollup)": f"SELECT v.campaign_id, {gains} "
        "FROM daily d JOIN variant v ON v.id = d.variant_id "
        "WHERE d.workspace_id = $ws AND d.day BETWEEN $s AND $e AND v.campaign_id IS NOT NULL GROUP BY 1",
        "analytics_best_worst": f"({ranked} ORDER BY r DESC, variant_id LIMIT 5) "
        f"UNION ALL ({ranked} ORDER BY r, variant_id LIMIT 5)",
        # What the rollups save: the same figures straight from the raw points.
        "raw points: totals": "WITH s AS (SELECT s.* FROM sample s JOIN variant v ON v.id = s.variant_id "
        "WHERE v.workspace_id = $ws AND s.taken_at < $t1), "
        "a AS (SELECT variant_id, arg_max(likes, taken_at) AS l, arg_max(impressions, taken_at) AS i "
        "FROM s GROUP BY 1), "
        "b AS (SELECT variant_id, arg_max(likes, taken_at) AS l, arg_max(impressions, taken_at) AS i "
        "FROM s WHERE taken_at < $t0 GROUP BY 1) "
        "SELECT sum(a.l - coalesce(b.l, 0)), sum(a.i - coalesce(b.i, 0)) "
        "FROM a LEFT JOIN b USING (variant_id)",
        "raw points: best/worst": "WITH l AS (SELECT s.variant_id, any_value(v.channel_id) AS channel_id, "
        + ", ".join(f"arg_max(s.{m}, s.taken_at) AS {m}" for m in METRICS)
        + " FROM sample s JOIN variant v ON v.id = s.variant_id WHERE v.workspace_id = $ws "
        "AND v.published_at >= $t0 AND v.published_at < $t1 AND s.taken_at < $t1 GROUP BY 1), "
        f"rated AS (SELECT l.variant_id, {rate} AS r FROM l) "
        "(SELECT * FROM rated WHERE r IS NOT NULL ORDER BY r DESC, variant_id LIMIT 5) "
        "UNION ALL (SELECT * FROM rated WHERE r IS NOT NULL ORDER BY r, variant_id LIMIT 5)",
    }


def duckdb_compare(pg: dict[str, tuple[float, float, float]]) -> None:
    import duckdb

    db = duckdb.connect(str(duckdb_file()), read_only=True)
    ws = Workspace.objects.filter(organisation__name="Analytics bench agency").order_by("pk").first()
    assert ws is not None
    threads = db.execute("SELECT current_setting('threads')").fetchone()
    print(f"\nDuckDB {duckdb.__version__}, {threads[0] if threads else '?'} threads; load {load()}")
    results: dict[str, tuple[float, float, float]] = {}
    for days in (28, 90):
        period = sel.Period.last_days(days, today=local_today(ws))
        start, end = period.bounds(ws.time_zone)
        p = {
            "ws": ws.pk,
            "s": period.start,
            "e": period.end,
            "ps": period.previous().start,
            "t0": start,
            "t1": end,
        }
        for name, query in duckdb_queries(ws, period).items():
            used = {k: v for k, v in p.items() if f"${k}" in query}
            timed(
                f"duckdb {name} ({days} d)",
                lambda q=query, u=used: db.execute(q, u).fetchall(),
                results,
                False,
            )
        # Same answer as the selector (the ranking), so the two engines are compared on the same work.
        best, worst = sel.analytics_best_worst(workspace=ws, period=period)
        rows = db.execute(
            duckdb_queries(ws, period)["analytics_best_worst"], {k: p[k] for k in ("ws", "t0", "t1")}
        )
        duck = [r[0] for r in rows.fetchall()]
        print(
            f"   best/worst agree with PostgreSQL: {duck[:5] == [b.variant_id for b in best]}"
            f" / {duck[5:] == [w.variant_id for w in worst]}"
        )
    print("\nside by side, p95 wall ms (PostgreSQL = the selector with Django; DuckDB = the bare query):")
    for key, (_p50, p95, _cpu) in results.items():
        name = key.removeprefix("duckdb ")
        other = pg.get(name)
        pg_text = f"{other[1]:8.1f}" if other else "       -"
        print(f"  {name:<44} DuckDB {p95:8.1f}   PostgreSQL {pg_text}")


def main() -> None:
    call_command("migrate", verbosity=0)
    done = (
        connection.cursor()
        .execute(
            "SELECT seconds, at FROM bench_built"
            if one("SELECT to_regclass('bench_built')")
            else "SELECT NULL, NULL"
        )
        .fetchone()
    )
    if done and done[0] is not None:
        print(f"cached: {DB_NAME} (built {done[1]:%Y-%m-%d %H:%M} in {done[0]:.0f} s), not rebuilt")
    else:
        print(f"built in {build():.0f} s")
        if ARGS.check:
            check()
    sizes()
    if ARGS.build_only:
        return
    if ARGS.explain:
        explain()
    pg = time_postgres()
    if ARGS.duckdb:
        duckdb_compare(pg)
    if ARGS.drop:
        connection.close()
        with psycopg.connect(f"{ARGS.server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{DB_NAME}"')
        print(f"dropped {DB_NAME}")


if __name__ == "__main__":
    main()
