"""Ingest throughput of the inbox: messages per second per core through the real ingest path.

    .venv/bin/python bench/ingest.py                          # PostgreSQL, 4,000 mentions
    .venv/bin/python bench/ingest.py --messages 8000 --full-texts 512
    .venv/bin/python bench/ingest.py --backend sqlite         # the embedded database

What is measured (issue 10: "≥ 2,000 messages/s per core for the first pass"):

1. A fresh database (PostgreSQL ``<--db-name>``, dropped again at the end; or SQLite in a temp dir),
   migrated; one workspace with four agents, the round robin on and one keyword rule (the realistic
   case: routing does its work on every new conversation), one Mastodon channel (no network is called:
   the bench hands the pages to the service as the connector would return them).
2. **ingest** (the figure): ``engagement_store_mentions`` with pages of 80 mentions (the connector's page
   size), each page also carrying 8 mentions of the page before (the network delivering again: the dedup
   path), through the service as the periodic sync calls it: dedup, the first pass (py3langid + the fast
   sentiment tier, stored with the INSERT, ``sentiment_tier = "fast"``), routing, the refinement task
   enqueued after commit in the database task queue.
3. **first pass alone**: the same language + fast tier without the database, its share of the ingest's CPU.
4. **full model**: ``texts_analyse(tier="combined")`` in batches of 64 (what the low-priority
   ``refine_messages`` task runs: fast tier + e5 embedding), without the database.
5. The refine queue's backlog at 100 mentions/s: arrival 100/s for 10 minutes against the measured
   full-model rate (the inbox and the rules do not wait for it: they have the first pass).

CPU time is the driver's own (``resource.getrusage``: all its threads, OpenMP's included) plus the
PostgreSQL backend serving it (``/proc/<pid>/stat``); "per core" = messages / (CPU seconds), so a
shared machine changes wall times but much less the per-core figure. Queries per message are counted on
one page with ``CaptureQueriesContext``. The load average at start and end is printed.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import resource
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
for path in (ROOT, SRC):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench.publish_throughput import CpuMeter, recreate_pg_database  # noqa: E402

PAGE = 80  # MENTION_PAGE_SIZE of the Mastodon connector
REDELIVERED = 8  # per page, mentions of the previous page delivered again
ARRIVAL_PER_S = 100.0
BACKLOG_WINDOW_S = 600.0
TARGET_PER_CORE = 2000.0


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def configure(ns: argparse.Namespace, data_dir: Path) -> None:
    from cryptography.fernet import Fernet

    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
            "RESONANZ_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "RESONANZ_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "DEBUG": "0",
            "EMAIL_HOST": "127.0.0.1",
            "RESONANZ_DATA_DIR": str(data_dir),
            "LOG_LEVEL": "WARNING",
        }
    )
    if ns.backend == "postgresql":
        os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{ns.db_name}"
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)


def texts() -> list[str]:
    from resonanz.language.sentiment import MODEL_PATH

    out = []
    for name in ("train_de.jsonl", "train_en.jsonl"):
        for line in (MODEL_PATH.parent / name).read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["text"])
    return out


def setup() -> tuple[Any, Any]:
    from resonanz.accounts.models import Role, User
    from resonanz.accounts.services import membership_set, organisation_create, workspace_create
    from resonanz.channels.models import Channel
    from resonanz.engagement.models import AssignmentRule, InboxSettings

    owner = User.objects.create_user(email="owner@bench.example", password=secrets.token_urlsafe(12))
    org = organisation_create(name="Bench", owner=owner)
    workspace = workspace_create(organisation=org, name="Ingest", owner=owner)
    for n in range(4):
        agent = User.objects.create_user(email=f"agent{n}@bench.example", password=secrets.token_urlsafe(12))
        membership_set(workspace=workspace, user=agent, role=Role.AGENT)
    InboxSettings.objects.update_or_create(workspace=workspace, defaults={"round_robin": True})
    AssignmentRule.objects.create(
        workspace=workspace, name="Rechnungen", position=0, keywords="Rechnung, invoice", assignee=owner
    )
    channel = Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        base_url="https://mastodon.example",
        remote_id="1",
        handle="brand@mastodon.example",
        credentials={"access_token": "unused"},
    )
    return workspace, channel


def pages(sample: list[str], count: int) -> list[Any]:
    from resonanz.connectors.base import MentionPage, RemoteReply

    start = datetime(2026, 12, 1, tzinfo=UTC)
    items = [
        RemoteReply(
            remote_id=str(10_000_000 + i),
            url=f"https://mastodon.example/@fan{i % 997}/{10_000_000 + i}",
            author_id=str(500 + i % 997),
            author_handle=f"fan{i % 997}@social.example",
            author_name=f"Fan {i % 997}",
            text=f"@brand {sample[i % len(sample)]}",
            created_at=start + timedelta(seconds=i),
            in_reply_to_remote_id="",
        )
        for i in range(count)
    ]
    out = []
    for first in range(0, count, PAGE):
        again = items[max(0, first - REDELIVERED) : first]
        out.append(MentionPage(items=[*again, *items[first : first + PAGE]], cursor=str(first)))
    return out


@contextlib.contextmanager
def profiled(ns: argparse.Namespace, name: str) -> Iterator[None]:
    """``--profile``: the phase under cProfile with a CPU clock; the top functions go to stderr (the
    figures of a profiled run are not the benchmark's)."""
    if not ns.profile:
        yield
        return
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    try:
        yield
    finally:
        profile.disable()
        print(f"--- {name}: top functions by own CPU time", file=sys.stderr)
        pstats.Stats(profile, stream=sys.stderr).sort_stats(ns.sort).print_stats(ns.top)


def measure(ns: argparse.Namespace, db_pids: list[int]) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from resonanz.engagement.models import Conversation, Message
    from resonanz.engagement.services import engagement_store_mentions
    from resonanz.language import texts_analyse

    sample = texts()
    workspace, channel = setup()
    todo = pages(sample, ns.messages)
    texts_analyse(texts=sample[:8], tier="fast")  # load the fast tier and py3langid before timing
    connection.ensure_connection()
    groups = {"postgres": (lambda: db_pids)} if db_pids else {}
    result: dict[str, Any] = {}

    # -- ingest: store + dedup + first pass (language + fast tier in the INSERT) + routing
    with CaptureQueriesContext(connection) as captured:
        first = engagement_store_mentions(workspace=workspace, channel=channel, page=todo[0])
    queries_per_message = len(captured.captured_queries) / max(1, first)
    meter = CpuMeter(groups)
    meter.start()
    cpu0, wall0 = own_cpu(), time.perf_counter()
    stored = first
    with profiled(ns, "ingest"):
        for page in todo[1:]:
            stored += engagement_store_mentions(workspace=workspace, channel=channel, page=page)
    wall, cpu = time.perf_counter() - wall0, own_cpu() - cpu0
    pg = meter.stop().get("postgres", 0.0)
    timed = stored - first
    tiers = {
        row["sentiment_tier"]: row["n"]
        for row in Message.objects.values("sentiment_tier").annotate(n=Count("pk")).order_by()
    }
    ingest_cpu_per_message = (cpu + pg) / timed
    per_core = round(timed / (cpu + pg))
    result["ingest"] = {
        "what": "store + dedup + language + fast sentiment (first pass) + routing, one transaction per page",
        "messages": timed,
        "conversations": Conversation.objects.count(),
        "messages_by_tier": tiers,
        "queries_per_new_message": round(queries_per_message, 2),
        "wall_s": round(wall, 2),
        "cpu_driver_s": round(cpu, 2),
        "cpu_postgres_s": pg,
        "per_s_wall": round(timed / wall),
        "per_core_s": per_core,
        "target_per_core_s": TARGET_PER_CORE,
        "target_met": per_core >= TARGET_PER_CORE,
    }
    # The first pass alone (no database): what of the ingest's CPU is language + fast tier.
    alone = [f"@brand {t}" for t in sample[: min(len(sample), timed)]]
    cpu0 = own_cpu()
    for start in range(0, len(alone), PAGE):
        texts_analyse(texts=alone[start : start + PAGE], tier="fast")
    cpu = own_cpu() - cpu0
    result["first_pass_alone"] = {
        "texts": len(alone),
        "cpu_s": round(cpu, 2),
        "per_core_s": round(len(alone) / cpu) if cpu else None,
        "share_of_ingest_cpu": round(cpu / len(alone) / ingest_cpu_per_message, 2),
    }

    # -- the full model (what the background task runs), no database
    full = sample[: ns.full_texts]
    texts_analyse(texts=full[:8])  # load e5
    cpu0, wall0 = own_cpu(), time.perf_counter()
    for start in range(0, len(full), 64):
        texts_analyse(texts=full[start : start + 64])
    wall, cpu = time.perf_counter() - wall0, own_cpu() - cpu0
    rate = len(full) / wall
    result["full_model"] = {
        "texts": len(full),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "per_s_wall": round(rate, 1),
        "per_core_s": round(len(full) / cpu, 1),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS", "unset"),
    }
    # The refine queue (``refine_messages``, low priority) at 100 mentions/s: arrival 100/s, one worker
    # serving at the measured full-model rate, so it grows by (100 - rate) per second. The inbox and the
    # rules do not wait for it (they have the first pass); only the "full" label comes this late.
    growth = max(0.0, ARRIVAL_PER_S - rate)
    backlog = growth * BACKLOG_WINDOW_S
    result["refine_backlog_at_100_per_s"] = {
        "arrival_per_s": ARRIVAL_PER_S,
        "first_pass_waits_s": 0,
        "service_per_s": round(rate, 1),
        "after_10_min": round(backlog),
        "oldest_waits_s_after_10_min": round(backlog / rate) if rate else None,
        "workers_needed": int(-(-ARRIVAL_PER_S // rate)) if rate else None,
        "cores_needed_at_cpu_rate": round(ARRIVAL_PER_S / (len(full) / cpu), 1) if cpu else None,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--db-name", default="ingestfast_bench_ingest")
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--full-texts", type=int, default=256)
    parser.add_argument("--profile", action="store_true", help="cProfile the ingest (store + first pass)")
    parser.add_argument("--sort", default="tottime", help="--profile: pstats order (tottime, cumulative)")
    parser.add_argument("--top", type=int, default=25, help="--profile: how many functions to print")
    ns = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    load_start = os.getloadavg()
    try:
        if ns.backend == "postgresql":
            recreate_pg_database(ns.db_name)
        configure(ns, data_dir)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0, interactive=False)
        db_pids: list[int] = []
        if ns.backend == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                db_pids = [int(cursor.fetchone()[0])]
        result = measure(ns, db_pids)
        result["machine"] = {
            "cores": os.cpu_count(),
            "load_average_start": round(load_start[0], 2),
            "load_average_end": round(os.getloadavg()[0], 2),
            "backend": ns.backend,
        }
        print(json.dumps(result, indent=2))
        connection.close()
    finally:
        if ns.backend == "postgresql":
            recreate_pg_database(ns.db_name, drop_only=True)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
