"""Publishing throughput: N posts due at once, published by real worker processes to the sink network.

    .venv/bin/python bench/publish_throughput.py                       # 20,000 posts, PostgreSQL scaled form
    .venv/bin/python bench/publish_throughput.py --posts 100000        # the full figure
    .venv/bin/python bench/publish_throughput.py --posts 100000 --spread 60   # 100k due within one minute
    .venv/bin/python bench/publish_throughput.py --backend sqlite --posts 5000 # embedded form, 1 process

What happens (everything on 127.0.0.1, bounded by ``--timeout``, every child stopped at the end):

1. A fresh database (PostgreSQL ``resonanz_bench``, dropped again afterwards; or SQLite in a temp dir),
   its own Redis key prefix (deleted afterwards), the sink network in its own process.
2. Setup (not measured): workspace, a ``sink`` channel and N posts with one variant and one part each,
   written with ``bulk_create``. One extra post is published in-process to count the SQL statements of
   one publish.
3. W worker processes (``python -m resonanz worker --threads T --no-ticker``) start and are warmed up.
4. Bare phase: N no-op tasks (``bench.tasks.noop``, queue ``publish``) are enqueued deferred to one
   instant T, then timed from T until the last has finished: the task backend's own ceiling.
5. Publish phase: the variants are scheduled at T' (or spread over ``--spread`` seconds after T'), and
   for each one the scheduler's own after-commit call (``variant_enqueue``: a wake-up ``publish_due`` for
   its second, coalesced) is made while the workers idle; then timed until every variant is PUBLISHED
   (or FAILED, or the timeout). Each ``publish_due`` claims due variants in batches.

Both phases therefore measure the same thing — "N items due at once, workers already running" — and the
ratio publish/bare says how much of the backend's capacity our publishing code leaves.
Lateness is ``published_at - scheduled_at`` per variant. Duplicates are counted twice: by the sink (the
same post text created twice) and in our database (a variant with more than one successful attempt).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.sink.server import SinkProcess, start_sink  # noqa: E402

ARTIFACTS = Path(os.environ.get("RESONANZ_ARTIFACTS", ROOT / "artifacts")) / "bench"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PLACEHOLDER = datetime(2099, 1, 1, tzinfo=UTC)
TARGETS = {"posts_per_s": 500, "p99_lateness_s": 5.0, "ratio": 0.5, "duplicates": 0}


class BenchStopped(Exception):
    """A phase could not finish; its figures so far are still reported."""


class BenchTimeout(BenchStopped):
    pass


class ChildDied(BenchStopped):
    pass


# -- processes and /proc ---------------------------------------------------------------------------


class Children:
    """Every process we start, each in its own session; stopped (TERM, then KILL) by pid only."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.helpers: set[str] = set()  # may exit by themselves (profilers)

    def start(self, name: str, cmd: list[str], env: dict[str, str], log: Path, *, helper: bool = False
              ) -> subprocess.Popen[bytes]:
        if helper:
            self.helpers.add(name)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as fh:
            proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if name not in self.helpers and proc.poll() is not None:
                raise ChildDied(f"{name} (pid {proc.pid}) exited with code {proc.returncode}")

    def kill(self, name: str) -> None:
        """SIGKILL one child by its pid (the kill run's crashed worker); it may stay dead from now on."""
        self.helpers.add(name)
        for child, proc in self.procs:
            if child == name and proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()

    def stop_all(self, grace: float = 15.0) -> dict[str, Any]:
        started = time.monotonic()
        for _name, proc in self.procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the group is the child's own session
        killed = []
        for name, proc in self.procs:
            try:
                proc.wait(max(0.1, grace - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                killed.append(name)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        return {"stopped_in_s": round(time.monotonic() - started, 2), "killed": killed}


def proc_cpu(pid: int, *, reaped: bool = False) -> float:
    """user+system CPU seconds of a process (all threads) plus that of its reaped children.

    The children part matters for PostgreSQL: backends come and go (CONN_MAX_AGE), and the CPU of one
    that exited is only found in the postmaster's cutime/cstime.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return 0.0
    return sum(int(v) for v in fields[11:15 if reaped else 13]) / os.sysconf("SC_CLK_TCK")


def pids_by_comm(names: Iterable[str]) -> list[int]:
    wanted, found = set(names), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() in wanted:
                    found.append(int(entry.name))
    return found


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = values[3] + values[4]
    return float(sum(values) - idle), float(sum(values))


class CpuMeter:
    """CPU seconds spent per component between start() and stop()."""

    def __init__(self, groups: dict[str, Callable[[], list[int]]], *, reaped: Iterable[str] = ()) -> None:
        self.groups = groups
        self.reaped = set(reaped)  # groups whose reaped children count too (server processes)
        self.before: dict[str, dict[int, float]] = {}
        self.machine_before = (0.0, 0.0)

    def _snap(self) -> dict[str, dict[int, float]]:
        return {name: {pid: proc_cpu(pid, reaped=name in self.reaped) for pid in pids()}
                for name, pids in self.groups.items()}

    def start(self) -> None:
        self.before = self._snap()
        self.machine_before = machine_cpu()

    def stop(self) -> dict[str, float]:
        after = self._snap()
        busy, total = machine_cpu()
        result = {
            name: round(sum(cpu - self.before[name].get(pid, 0.0) for pid, cpu in procs.items()), 2)
            for name, procs in after.items()
        }
        span = total - self.machine_before[1]
        busy_s = (busy - self.machine_before[0]) / os.sysconf("SC_CLK_TCK")
        result["unaccounted"] = round(busy_s - sum(result.values()), 2)  # kernel, other processes
        result["machine_busy_pct"] = round(100.0 * (busy - self.machine_before[0]) / span, 1) if span else 0.0
        return result


# -- small helpers ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def rates(start: float, finish_times: Sequence[float]) -> dict[str, float | None]:
    """Overall rate from the due time to the last finish, and the steady rate between 10 % and 90 %."""
    if not finish_times:
        return {"per_s": None, "per_s_10_90": None, "drain_s": None}
    ordered = sorted(finish_times)
    n = len(ordered)
    drain = max(ordered[-1] - start, 1e-6)
    lo, hi = ordered[int(n * 0.1)], ordered[min(n - 1, int(n * 0.9))]
    steady = (0.8 * n / (hi - lo)) if hi > lo else None
    return {"per_s": round(n / drain, 1), "per_s_10_90": round(steady, 1) if steady else None,
            "drain_s": round(drain, 2)}


def r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def wait_until(predicate: Callable[[], bool], deadline: float, what: str, children: Children,
               interval: float = 0.5) -> None:
    while not predicate():
        children.check_alive()
        if time.monotonic() > deadline:
            raise BenchTimeout(f"timed out waiting for {what}")
        time.sleep(interval)


def sleep_until(when: datetime) -> None:
    delay = (when - datetime.now(UTC)).total_seconds()
    if delay > 0:
        time.sleep(delay)


# -- database --------------------------------------------------------------------------------------


def recreate_pg_database(name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_tenant(sink_url: str) -> tuple[Any, dict[str, Any]]:
    from resonanz.accounts.models import Organisation, Workspace
    from resonanz.channels.models import Channel

    org = Organisation.objects.create(name="Bench", slug=f"bench-{uuid.uuid4().hex[:8]}")
    workspace = Workspace.objects.create(organisation=org, name="Bench", slug="bench", time_zone="UTC")
    channels = {
        role: Channel.objects.create(workspace=workspace, network="sink", base_url=sink_url, remote_id=role,
                                     handle=f"{role}@sink", credentials={"token": "bench"})
        for role in ("bench", "warmup", "profile")
    }
    return workspace, channels


def create_posts(workspace: Any, channel: Any, n: int, label: str, scheduled_at: datetime) -> list[int]:
    """N scheduled posts with one variant and one part each; returns the variant ids (ascending)."""
    from django.db import transaction

    from resonanz.posts.models import Post, PostStatus, Variant, VariantPart, VariantStatus

    variant_ids: list[int] = []
    batch = 5000
    for start in range(0, n, batch):
        with transaction.atomic():
            posts = Post.objects.bulk_create([
                Post(workspace=workspace, text=f"{label} post {i}", status=PostStatus.SCHEDULED,
                     scheduled_at=scheduled_at)
                for i in range(start, min(n, start + batch))
            ])
            variants = Variant.objects.bulk_create([
                Variant(post=p, channel=channel, status=VariantStatus.SCHEDULED, scheduled_at=scheduled_at,
                        schedule_version=1)
                for p in posts
            ])
            VariantPart.objects.bulk_create([
                VariantPart(variant=v, index=0, text=p.text) for p, v in zip(posts, variants, strict=True)
            ])
        variant_ids.extend(v.pk for v in variants)
    return sorted(variant_ids)


def schedule_buckets(variant_ids: list[int], due: datetime, spread: float
                     ) -> list[tuple[datetime, list[int]]]:
    """Split the variants into groups sharing one due time: one group, or 0.1 s steps over ``spread``."""
    buckets = max(1, int(spread * 10))
    groups: list[tuple[datetime, list[int]]] = []
    n = len(variant_ids)
    for b in range(buckets):
        ids = variant_ids[b * n // buckets:(b + 1) * n // buckets]
        if ids:
            groups.append((due + timedelta(seconds=spread * b / buckets), ids))
    return groups


def enqueue_many(task: Any, items: Iterable[tuple[datetime | None, dict[str, Any]]]) -> list[str]:
    """Enqueue through the public Task API; batched in transactions (matters for the DB backend only)."""
    from django.db import transaction

    ids: list[str] = []
    by_time: dict[datetime | None, Any] = {}
    pending = list(items)
    for start in range(0, len(pending), 1000):
        with transaction.atomic():
            for when, kwargs in pending[start:start + 1000]:
                bound = by_time.get(when)
                if bound is None:
                    bound = by_time[when] = task.using(run_after=when) if when else task
                ids.append(bound.enqueue(**kwargs).id)
    return ids


# -- the task backend, seen from outside ---------------------------------------------------------------


class BackendProbe:
    def __init__(self, kind: str) -> None:
        from django.tasks import task_backends

        self.kind = kind
        self.backend: Any = task_backends["default"]

    def outstanding(self, queue: str) -> int:
        """Tasks of ``queue`` not yet finished (ready, deferred, or running)."""
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult.objects.filter(queue_name=queue, status__in=["READY", "RUNNING"]).count()

    def finished(self, ids: list[str]) -> tuple[list[float], dict[str, int]]:
        """Finish times (Unix seconds) of the given task ids, and a count per status."""
        times: list[float] = []
        statuses: dict[str, int] = {}
        from django_tasks_db.models import DBTaskResult

        for start in range(0, len(ids), 5000):
            for status, finished in DBTaskResult.objects.filter(pk__in=ids[start:start + 5000]).values_list(
                "status", "finished_at"
            ):
                statuses[status] = statuses.get(status, 0) + 1
                if finished:
                    times.append(finished.timestamp())
        return times, statuses


def calibrate_enqueue(samples: int = 500) -> float:
    """Seconds per enqueue, measured on the 'bench' queue that no worker serves."""
    from bench.tasks import noop

    task = noop.using(queue_name="bench")
    started = time.perf_counter()
    enqueue_many(task, [(None, {})] * samples)
    return (time.perf_counter() - started) / samples


# -- phases ----------------------------------------------------------------------------------------


def due_time(n: int, enqueue_cost: float, extra_per_item: float = 0.0) -> datetime:
    margin = 2.0 + n * (enqueue_cost * 1.5 + extra_per_item)
    return datetime.now(UTC) + timedelta(seconds=margin)


def run_bare(probe: BackendProbe, n: int, enqueue_cost: float, deadline: float, children: Children,
             cpu: CpuMeter) -> dict[str, Any]:
    from bench.tasks import noop

    due = due_time(n, enqueue_cost)
    ids = enqueue_many(noop, [(due, {})] * n)
    enqueued_at = datetime.now(UTC)
    overrun = (enqueued_at - due).total_seconds()
    sleep_until(due)
    cpu.start()
    stopped = ""
    try:
        wait_until(lambda: probe.outstanding("publish") == 0, deadline, "the no-op tasks", children)
    except BenchStopped as exc:
        stopped = str(exc)
    usage = cpu.stop()
    finish_times, statuses = probe.finished(ids)
    t0 = due.timestamp()
    lateness = [t - t0 for t in finish_times]
    return {
        "tasks": n,
        "done": len(finish_times),
        "statuses": statuses,
        **rates(t0, finish_times),
        "lateness_p50_s": r(percentile(lateness, 50)),
        "lateness_p99_s": r(percentile(lateness, 99)),
        "enqueue_ms_per_task": round(enqueue_cost * 1000, 3),
        "enqueue_overran_due_s": round(overrun, 2) if overrun > 0 else 0.0,
        "cpu_s": usage,
        "stopped": stopped,
    }


def run_publish(channel: Any, variant_ids: list[int], spread: float, enqueue_cost: float, deadline: float,
                children: Children, cpu: CpuMeter,
                on_progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    from django.db.models import Count

    from resonanz.posts.models import Post, Variant, VariantStatus
    from resonanz.publishing.models import AttemptOutcome, PublishAttempt
    from resonanz.publishing.services import variant_enqueue

    n = len(variant_ids)
    due = due_time(n, enqueue_cost, extra_per_item=60e-6)
    groups = schedule_buckets(variant_ids, due, spread)
    for when, ids in groups:  # the DB says "due at <when>" before any task exists
        Variant.objects.filter(pk__gte=ids[0], pk__lte=ids[-1], channel=channel).update(scheduled_at=when)
        Post.objects.filter(variants__channel=channel, variants__pk__gte=ids[0],
                            variants__pk__lte=ids[-1]).update(scheduled_at=when)
    # What scheduling does after commit for each variant (posts.services._arm): its wake-up call.
    for when, ids in groups:
        for vid in ids:
            variant_enqueue(variant_id=vid, schedule_version=1, run_after=when)
    enqueued_at = datetime.now(UTC)
    Variant.objects.filter(channel=channel).update(enqueued_at=enqueued_at)  # what _arm records
    overrun = (enqueued_at - due).total_seconds()
    sleep_until(due)
    cpu.start()
    stopped = ""
    progress: list[tuple[float, int]] = []

    def settled() -> bool:
        done = Variant.objects.filter(
            channel=channel, status__in=[VariantStatus.PUBLISHED, VariantStatus.FAILED]
        ).count()
        progress.append((round(time.time() - due.timestamp(), 1), done))
        if on_progress is not None:
            on_progress(done)
        return done >= n

    try:
        wait_until(settled, deadline, "the variants to be published", children)
    except BenchStopped as exc:
        stopped = str(exc)
    usage = cpu.stop()

    rows = [(p, s) for p, s in Variant.objects.filter(channel=channel, status=VariantStatus.PUBLISHED)
            .values_list("published_at", "scheduled_at") if p is not None and s is not None]
    finish_times = [p.timestamp() for p, _s in rows]
    lateness = [(p - s).total_seconds() for p, s in rows]
    statuses = dict(Variant.objects.filter(channel=channel).values_list("status").annotate(c=Count("pk")))
    attempts = dict(PublishAttempt.objects.filter(variant__channel=channel).values_list("outcome")
                    .annotate(c=Count("pk")))
    db_duplicates = (
        PublishAttempt.objects.filter(variant__channel=channel,
                                      outcome__in=[AttemptOutcome.SUCCESS, AttemptOutcome.RECOVERED])
        .values("variant_id", "part_index").annotate(c=Count("pk")).filter(c__gt=1).count()
    )
    retried = Variant.objects.filter(channel=channel, attempt_count__gt=1).count()
    published = len(rows)
    return {
        "posts": n,
        "published": published,
        "lost": n - published,
        "statuses": statuses,
        "attempts": attempts,
        "variants_retried": retried,
        "db_duplicates": db_duplicates,
        **rates(due.timestamp(), finish_times),
        "lateness_p50_s": r(percentile(lateness, 50)),
        "lateness_p99_s": r(percentile(lateness, 99)),
        "lateness_max_s": r(max(lateness) if lateness else None),
        "spread_s": spread,
        "enqueue_ms_per_task": round(enqueue_cost * 1000, 3),
        "enqueue_overran_due_s": round(overrun, 2) if overrun > 0 else 0.0,
        "cpu_s": usage,
        "progress": progress[:: max(1, len(progress) // 60)],
        "stopped": stopped,
    }


def profile_one_publish(workspace: Any, channel: Any, repeats: int = 50) -> dict[str, Any]:
    """Publish in this process, one at a time: SQL statements per publish and single-thread latency."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from resonanz.posts.models import Variant
    from resonanz.publishing.tasks import publish_variant

    now = datetime.now(UTC) - timedelta(seconds=5)
    ids = create_posts(workspace, channel, repeats + 2, "profile", now)
    publish_variant.call(variant_id=ids[0], schedule_version=1)  # warm: imports, HTTP connection
    with CaptureQueriesContext(connection) as ctx:
        outcome = publish_variant.call(variant_id=ids[1], schedule_version=1)
    statements = [q["sql"] for q in ctx.captured_queries]
    kinds: dict[str, int] = {}
    for sql in statements:
        word = sql.split(None, 1)[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
    started = time.perf_counter()
    for vid in ids[2:]:
        publish_variant.call(variant_id=vid, schedule_version=1)
    per_publish = (time.perf_counter() - started) / repeats
    assert Variant.objects.get(pk=ids[1]).status == "published", outcome
    return {
        "outcome": outcome,
        "sql_statements": len(statements),
        "by_kind": kinds,
        "writes": sum(v for k, v in kinds.items() if k in {"INSERT", "UPDATE", "DELETE"}),
        "single_thread_ms_per_publish": round(per_publish * 1000, 2),
        "statements": [s[:160] for s in statements],
    }


def profile_batches(workspace: Any, channel: Any, size: int = 100, batches: int = 5) -> dict[str, Any]:
    """One batch of ``size`` due variants in this process: SQL statements, wall and CPU ms per post."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from resonanz.publishing.batch import variants_publish_batch

    create_posts(workspace, channel, size * (batches + 1), "batch", datetime.now(UTC) - timedelta(seconds=5))
    variants_publish_batch(limit=size)  # warm
    with CaptureQueriesContext(connection) as ctx:
        results = variants_publish_batch(limit=size)
    kinds: dict[str, int] = {}
    for q in ctx.captured_queries:
        word = q["sql"].split(None, 1)[0].upper()
        kinds[word] = kinds.get(word, 0) + 1
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches - 1):
        variants_publish_batch(limit=size)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    posts = size * (batches - 1)
    return {
        "batch_size": size,
        "published_in_profiled_batch": sum(1 for r in results.values() if r.outcome == "published"),
        "sql_statements_per_batch": len(ctx.captured_queries),
        "by_kind": kinds,
        "wall_ms_per_post": round(wall * 1000 / posts, 3),
        "driver_cpu_ms_per_post": round(cpu * 1000 / posts, 3),
    }


# -- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres",
                        help="postgres = PostgreSQL + django_tasks_db, Redis cache and slots (scaled); "
                             "sqlite = SQLite + django_tasks_db (embedded)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default 2; sqlite: 1)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default 4; sqlite: 2)")
    parser.add_argument("--spread", type=float, default=0.0,
                        help="due times spread evenly over this many seconds (0 = all due at once)")
    parser.add_argument("--timeout", type=float, default=600.0, help="hard limit for the whole run, seconds")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="sink: simulated latency per create")
    parser.add_argument("--fault-rate", type=float, default=0.0,
                        help="sink: share of creates answered 503 or dropped after creating")
    parser.add_argument("--skip-bare", action="store_true", help="skip the bare task-backend phase")
    parser.add_argument("--kill", action="store_true",
                        help="kill run: 3 workers (with the periodic ticker, so the sweeper and the reaper "
                             "run), one SIGKILLed when a third of the posts are out, then restarted")
    parser.add_argument("--db-name", default="resonanz_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--keep", action="store_true", help="keep the database and data dir for inspection")
    parser.add_argument("--py-spy", type=float, default=0.0, metavar="SECONDS",
                        help="record each worker with py-spy for this long during the publish phase")
    parser.add_argument("--py-spy-gil", action="store_true",
                        help="with --py-spy: sample only the GIL holder (CPU profile instead of wall time)")
    parser.add_argument("--json", type=Path, default=ARTIFACTS / "publish_throughput.json")
    ns = parser.parse_args(argv)
    sqlite = ns.backend == "sqlite"
    ns.workers = ns.workers or (1 if sqlite else 3 if ns.kill else 2)
    # The worker's own default (``resonanz worker --threads``, RESONANZ_WORKER_THREADS=4): on 2 cores, 2 x 4
    # published about as fast as 2 x 8 with less CPU per post (fewer threads contending for the GIL).
    ns.threads = ns.threads or (2 if sqlite else 4)
    return ns


def configure_environment(ns: argparse.Namespace, data_dir: Path, prefix: str) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "bench.settings_bench",
        "RESONANZ_ENV": "test",
        "RESONANZ_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(SRC)]),
        "PYTHONUNBUFFERED": "1",
    }
    if ns.backend == "postgres":
        env |= {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{ns.db_name}", "REDIS_URL": ns.redis_url,
                "RESONANZ_REDIS_PREFIX": prefix}
    os.environ.update(env)
    if ns.backend == "sqlite":
        for name in ("DATABASE_URL", "REDIS_URL", "RESONANZ_REDIS_PREFIX"):
            os.environ.pop(name, None)
    return dict(os.environ)


def start_py_spy(pids: list[int], seconds: float, children: Children, *, gil: bool) -> list[Path]:
    """Sample each worker (``gil``: only the thread holding the GIL, i.e. where the CPU goes)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy not found; skipping the profile", file=sys.stderr)
        return []
    outputs = []
    for i, pid in enumerate(pids):
        out = ARTIFACTS / f"py-spy-worker-{i}{'-gil' if gil else ''}.txt"
        cmd = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--format", "raw",
               "--rate", "50", "--output", str(out), "--nonblocking", *(["--gil"] if gil else [])]
        children.start(f"py-spy-{i}", cmd, dict(os.environ), ARTIFACTS / "logs" / f"py-spy-{i}.log",
                       helper=True)
        outputs.append(out)
    return outputs


def run(ns: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + ns.timeout
    data_dir = Path(tempfile.mkdtemp(prefix="resonanz-bench-"))
    prefix = f"rzbench{os.getpid()}"
    env = configure_environment(ns, data_dir, prefix)
    children = Children()
    sink: SinkProcess | None = None
    result: dict[str, Any] = {
        "backend": ns.backend, "posts": ns.posts, "workers": ns.workers, "threads": ns.threads,
        "spread_s": ns.spread, "cpus": os.cpu_count(), "latency_ms": ns.latency_ms,
        "fault_rate": ns.fault_rate,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    django_ready = False
    try:
        if ns.backend == "postgres":
            recreate_pg_database(ns.db_name)
        import django

        django.setup()
        django_ready = True
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        sink = start_sink(max_seconds=ns.timeout + 60, latency_ms=ns.latency_ms, fault_rate=ns.fault_rate,
                          log=ARTIFACTS / "logs" / "sink.log")
        workspace, channels = setup_tenant(sink.url)
        t = time.monotonic()
        variant_ids = create_posts(workspace, channels["bench"], ns.posts, "bench", PLACEHOLDER)
        result["setup_s_posts"] = round(time.monotonic() - t, 2)
        if ns.backend == "postgres":
            # Planner statistics as a live database has them (autovacuum would analyze a table that
            # grew by N rows within a minute); without them PostgreSQL sorts every due row per claim.
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        result["sql_per_publish"] = profile_one_publish(workspace, channels["profile"])
        result["batch_profile"] = profile_batches(workspace, channels["profile"])

        # The kill run needs the ticker: recovery is the sweeper's and the reaper's work.
        worker_cmd = [sys.executable, "-m", "resonanz", "worker", "--threads", str(ns.threads),
                      *([] if ns.kill else ["--no-ticker"])]
        worker_procs = [
            children.start(f"worker-{i}", worker_cmd, env, ARTIFACTS / "logs" / f"worker-{i}.log")
            for i in range(ns.workers)
        ]
        probe = BackendProbe(ns.backend)
        # Warm up: tasks and publishes through the queue (imports, DB/HTTP connections) before measuring.
        from bench.tasks import noop
        from resonanz.publishing.services import publish_wakeup

        warm = ns.workers * ns.threads * 4
        enqueue_many(noop, [(None, {})] * warm)
        # Several small waves, so that every worker process publishes (pool threads, HTTP connections).
        for wave in range(ns.workers * 2):
            create_posts(workspace, channels["warmup"], 50, f"warmup{wave}", datetime.now(UTC))
            for _ in range(ns.workers * ns.threads):
                publish_wakeup(at=None)
            wait_until(lambda: probe.outstanding("publish") == 0, deadline, "the warm-up", children)

        worker_pids = [p.pid for p in worker_procs]
        cpu = CpuMeter({
            "workers": lambda: worker_pids,
            "postgres": lambda: pids_by_comm(["postgres"]) if ns.backend == "postgres" else [],
            "redis": lambda: pids_by_comm(["redis-server"]) if ns.backend == "postgres" else [],
            "sink": lambda: [sink.process.pid] if sink else [],
            "driver": lambda: [os.getpid()],
        }, reaped=["postgres", "redis"])
        enqueue_cost = calibrate_enqueue()
        if not ns.skip_bare:
            result["bare"] = run_bare(probe, ns.posts, enqueue_cost, deadline, children, cpu)
        if ns.py_spy:
            outputs = start_py_spy(worker_pids, ns.py_spy, children, gil=ns.py_spy_gil)
            result["py_spy"] = [str(p) for p in outputs]
        kill_log: dict[str, Any] = {}

        def kill_mid_burst(done: int) -> None:
            if ns.kill and not kill_log and done >= ns.posts // 3:
                children.kill("worker-0")
                kill_log.update(killed_at_done=done, killed_at=time.time())
                restarted = children.start("worker-0-restarted", worker_cmd, env,
                                           ARTIFACTS / "logs" / "worker-0b.log")
                # The killed worker's CPU is lost to the meter (it cannot be read after death), so the
                # kill run's worker CPU per post is not a figure; count the new process from here on.
                worker_pids.append(restarted.pid)

        result["publish"] = run_publish(channels["bench"], variant_ids, ns.spread, enqueue_cost, deadline,
                                        children, cpu, on_progress=kill_mid_burst)
        if ns.kill:
            result["kill"] = kill_log
        result["sink"] = sink.stats()
    except BenchStopped as exc:
        result["error"] = str(exc)
    finally:
        # Bounded (≤ ~20 s) and not interruptible: a second Ctrl-C must not leave workers, keys or the
        # database behind. Each step runs even if another failed.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            steps: list[tuple[str, Callable[[], object]]] = [
                ("children", lambda: result.__setitem__("shutdown", children.stop_all())),
                ("sink", lambda: sink.stop() if sink is not None else None),
                ("connections", lambda: close_django_connections() if django_ready else None),
                ("cleanup", lambda: cleanup(ns, prefix, data_dir)),
            ]
            for name, step in steps:
                try:
                    step()
                except Exception as exc:  # noqa: BLE001 - report and go on with the next step
                    print(f"cleanup step {name} failed: {exc!r}", file=sys.stderr)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        result["total_s"] = round(time.monotonic() - started, 1)
    return result


def close_django_connections() -> None:
    from django.db import connections

    connections.close_all()


def cleanup(ns: argparse.Namespace, prefix: str, data_dir: Path) -> None:
    if ns.backend == "postgres":
        import redis

        client = redis.Redis.from_url(ns.redis_url)
        batch = []
        for key in client.scan_iter(match=f"{prefix}:*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
        if not ns.keep:
            recreate_pg_database(ns.db_name, drop_only=True)
    if not ns.keep:
        shutil.rmtree(data_dir, ignore_errors=True)


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    publish, bare, sink = result.get("publish", {}), result.get("bare", {}), result.get("sink", {})
    ratio = None
    if publish.get("per_s") and bare.get("per_s"):
        ratio = round(publish["per_s"] / bare["per_s"], 3)
    duplicates = (sink.get("duplicate_posts") or 0) + (publish.get("db_duplicates") or 0)
    summary = {
        "posts_per_s": publish.get("per_s"),
        "posts_per_s_10_90": publish.get("per_s_10_90"),
        "lateness_p50_s": publish.get("lateness_p50_s"),
        "lateness_p99_s": publish.get("lateness_p99_s"),
        "duplicates": duplicates,
        "lost": publish.get("lost"),
        "bare_tasks_per_s": bare.get("per_s"),
        "ratio_publish_to_bare": ratio,
    }
    summary["targets"] = {
        "posts_per_s>=500": bool(summary["posts_per_s"] and summary["posts_per_s"] >= TARGETS["posts_per_s"]),
        "p99_lateness<=5s": bool(summary["lateness_p99_s"] is not None
                                 and summary["lateness_p99_s"] <= TARGETS["p99_lateness_s"]),
        "ratio>=0.5": bool(ratio is not None and ratio >= TARGETS["ratio"]),
        "duplicates==0": duplicates == 0 and bool(publish),
    }
    return summary


def print_table(result: dict[str, Any]) -> None:
    s, p, b = result["summary"], result.get("publish", {}), result.get("bare", {})
    q = result.get("sql_per_publish", {})
    title = (f"Publish throughput — {result['backend']}, {result['posts']} posts, "
             f"{result['workers']}x{result['threads']} worker threads, {result['cpus']} CPUs"
             + (f", spread {result['spread_s']} s" if result["spread_s"] else ""))
    rows = [
        ("posts/s (due → last published)", s["posts_per_s"], "≥ 500"),
        ("posts/s (steady, 10-90 %)", s["posts_per_s_10_90"], ""),
        ("lateness p50 (s)", s["lateness_p50_s"], ""),
        ("lateness p99 (s)", s["lateness_p99_s"], "≤ 5"),
        ("lateness max (s)", p.get("lateness_max_s"), ""),
        ("drain time (s)", p.get("drain_s"), ""),
        ("duplicates (sink + DB)", s["duplicates"], "0"),
        ("lost (not PUBLISHED)", s["lost"], "0"),
        ("variants retried", p.get("variants_retried"), ""),
        ("kill run: worker-0 SIGKILLed at published", result.get("kill", {}).get("killed_at_done"), ""),
        ("bare no-op tasks/s", s["bare_tasks_per_s"], ""),
        ("bare tasks/s (steady, 10-90 %)", b.get("per_s_10_90"), ""),
        ("ratio publish / bare", s["ratio_publish_to_bare"], "≥ 0.5"),
        ("SQL statements per publish", q.get("sql_statements"), ""),
        ("  of which writes", q.get("writes"), ""),
        ("single-thread ms per publish", q.get("single_thread_ms_per_publish"), ""),
        ("SQL statements per batch of " + str(result.get("batch_profile", {}).get("batch_size")),
         result.get("batch_profile", {}).get("sql_statements_per_batch"), ""),
        ("batch path: wall / CPU ms per post (1 thread)",
         (f"{result.get('batch_profile', {}).get('wall_ms_per_post')} / "
          f"{result.get('batch_profile', {}).get('driver_cpu_ms_per_post')}"), ""),
        ("enqueue ms per task", p.get("enqueue_ms_per_task"), ""),
    ]
    for phase, data in (("publish", p), ("bare", b)):
        cpu = data.get("cpu_s") or {}
        done = data.get("published") or data.get("done") or 0
        if cpu and done:
            parts = ", ".join(f"{k} {1000 * v / done:.2f}" for k, v in cpu.items() if k != "machine_busy_pct")
            rows.append((f"CPU ms per item ({phase})", parts, ""))
            rows.append((f"machine CPU busy ({phase})", f"{cpu.get('machine_busy_pct')} %", ""))
    width = max(len(label) for label, _v, _t in rows) + 2
    print()
    print(title)
    print("-" * len(title))
    for label, value, target in rows:
        shown = "—" if value is None else value
        print(f"{label:<{width}}{shown!s:<12}{('target ' + target) if target else ''}")
    if p.get("enqueue_overran_due_s"):
        print(f"note: enqueueing finished {p['enqueue_overran_due_s']} s after the due time")
    for where, data in (("run", result), ("bare", b), ("publish", p)):
        message = data.get("error") or data.get("stopped")
        if message:
            print(f"stopped early ({where}): {message}")
    print("targets:", ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in s["targets"].items()))


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(ValueError):
            data = json.loads(path.read_text())
    spread = f"-spread{result['spread_s']:g}" if result["spread_s"] else ""
    key = f"{result['backend']}-{result['posts']}{spread}"
    data[key] = result
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through run()'s finally: children stopped, data cleaned up

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)  # also when started with SIGINT ignored (background job)
    try:
        result = run(ns)
    except KeyboardInterrupt:
        print("interrupted; child processes stopped", file=sys.stderr)
        return 130
    result["summary"] = summarise(result)
    print_table(result)
    write_json(ns.json, result)
    print(f"written to {ns.json}")
    stopped = result.get("error") or any(result.get(k, {}).get("stopped") for k in ("bare", "publish"))
    return 1 if stopped else 0


if __name__ == "__main__":
    raise SystemExit(main())
