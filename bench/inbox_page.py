"""Server time of the inbox pages with 100,000 conversations and 50 agents at once (issue 10).

    .venv/bin/python bench/inbox_page.py                               # PostgreSQL, 100,000, 50 agents, 30 s
    .venv/bin/python bench/inbox_page.py --conversations 20000 --duration 15
    .venv/bin/python bench/inbox_page.py --profile-only                # no server: SQL and CPU per page

The machinery is bench/page_times.py's (same production server, logins, access log, CPU meter):

1. A fresh PostgreSQL database (``--db-name``, dropped at the end), migrated, filled with the ORM in
   bulk (not measured): one workspace, four channels (two Mastodon, Bluesky, Facebook), ``--users``
   members (the owner and agents) and ``--conversations`` conversations in a realistic mix — 15 % open,
   10 % pending, 75 % closed; 20 % unassigned, the rest spread over the agents; kinds as the channels
   declare them (replies, mentions, direct messages); 1 message (50 %), 2-3 (35 %) or 4-10 (15 %) from
   the network per conversation, German 60 % / English 30 % / other 10 %, sentiment neutral 50 % /
   positive 30 % / negative 20 %, our answer in 40 %; activity over the last 90 days. Then ``ANALYZE``.
2. ``python -m resonanz web`` as production runs it (``RESONANZ_ENV=production``, cores + 1 workers);
   gunicorn's access log gives the server time of every request (``%(D)s``).
3. Every agent logs in through the login form; then ``--users`` threads (one per agent, keep-alive, no
   think time) cycle for ``--duration`` seconds through:

   * ``list_default``   GET /w/<id>/inbox/                                   (open, everyone's)
   * ``list_mine``      GET /w/<id>/inbox/?status=open&assignee=mine
   * ``list_filtered``  GET /w/<id>/inbox/?status=open&assignee=all&sentiment=negative
   * ``list_search``    GET /w/<id>/inbox/?assignee=all&q=<a word>            (any status)
   * ``conversation``   GET /w/<id>/inbox/<conversation id>/                  (one of the 200 newest)
   * ``poll``           GET /w/<id>/inbox/rows/?status=open&assignee=all      (what htmx polls)

   p50/p95/p99 of the server time per page under load, and a one-client baseline with the CPU per
   request of the web workers and of PostgreSQL (the figure that holds on a shared machine).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
for path in (ROOT, SRC):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import httpx  # noqa: E402

from bench.embedded_footprint import free_port  # noqa: E402
from bench.page_times import (  # noqa: E402
    PASSWORD,
    UserClient,
    configure_environment,
    cpu_meter,
    loadavg,
    ms_stats,
    parse_access_log,
    run_parallel,
    start_web,
    wait_ready,
)
from bench.publish_throughput import BenchStopped, Children, recreate_pg_database  # noqa: E402

PAGES = ("list_default", "list_mine", "list_filtered", "list_search", "conversation", "poll")
TARGET_P99_MS = 150.0
WORDS_DE = (
    "Bestellung", "Lieferung", "Rechnung", "kaputt", "danke", "super", "Rückgabe", "Frage", "Termin",
    "Versand", "Kundenservice", "Filiale", "Öffnungszeiten", "Preis",
)  # fmt: skip
WORDS_EN = ("order", "delivery", "invoice", "broken", "thanks", "great", "refund", "question", "price")
SEARCH_WORD = "Gutschein"  # in 0.5 % of the messages, like an order number or a product name
SEARCH_SHARE = 0.005


def create_fixture(ns: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from django.utils import timezone

    from resonanz.accounts.models import Membership, Organisation, Role, User, Workspace
    from resonanz.channels.models import Channel
    from resonanz.engagement.models import Conversation, InboxSettings, Message

    rng = random.Random(10)
    t = time.monotonic()
    org = Organisation.objects.create(name="Bench Agentur", slug="bench-agentur")
    workspace = Workspace.objects.create(
        organisation=org, name="Bench", slug="bench", time_zone="Europe/Berlin"
    )
    InboxSettings.objects.create(workspace=workspace)
    specs = [
        ("mastodon", "brand", "1001", ("replies", "mentions", "direct_messages")),
        ("mastodon", "news", "1002", ("replies", "mentions", "direct_messages")),
        ("bluesky", "brand.bsky.social", "did:plc:benchbrand", ("replies", "mentions")),
        ("facebook", "Brand", "2001", ("replies",)),
    ]
    channels = [
        (
            Channel.objects.create(
                workspace=workspace,
                network=network,
                base_url="https://social.example",
                handle=handle,
                remote_id=remote,
                credentials={"access_token": "bench"},
            ),
            kinds,
        )
        for network, handle, remote, kinds in specs
    ]
    password_hash = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [
            User(email=f"bench-agent-{i:02d}@example.com", name=f"Agent {i:02d}", password=password_hash)
            for i in range(ns.users)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(workspace=workspace, user=u, role=Role.OWNER if i == 0 else Role.AGENT)
            for i, u in enumerate(users)
        ]
    )
    # The search's trigram indexes (migration engagement.0007) are built after the bulk load, as one
    # would for an import: maintaining GIN indexes row by row makes the fill several times slower.
    search_indexes = importlib.import_module("resonanz.engagement.migrations.0007_message_search_trigram")
    with connection.cursor() as cursor:
        for name, _expression in search_indexes.INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
    now = timezone.now()
    made = 0
    batch = 5000
    while made < ns.conversations:
        rows: list[Conversation] = []
        for i in range(made, min(made + batch, ns.conversations)):
            channel, kinds = channels[i % len(channels)]
            r = rng.random()
            status = "open" if r < 0.15 else "pending" if r < 0.25 else "closed"
            last = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
            rows.append(
                Conversation(
                    workspace=workspace,
                    channel=channel,
                    root_remote_id=f"root-{i}",
                    kind=rng.choice(kinds),
                    status=status,
                    assignee=None if rng.random() < 0.2 else rng.choice(users),
                    last_message_at=last,
                    first_response_at=last if status != "open" and rng.random() < 0.8 else None,
                    closed_at=last if status == "closed" else None,
                )
            )
        created = Conversation.objects.bulk_create(rows)
        messages: list[Message] = []
        for conversation in created:
            r = rng.random()
            count = 1 if r < 0.5 else rng.randint(2, 3) if r < 0.85 else rng.randint(4, 10)
            last = conversation.last_message_at
            assert last is not None
            for k in range(count):
                lang = rng.random()
                words = WORDS_DE if lang < 0.6 else WORDS_EN
                senti = rng.random()
                messages.append(
                    Message(
                        conversation=conversation,
                        remote_id=f"{conversation.root_remote_id}-{k}",
                        author_id=str(rng.randint(1, 20000)),
                        author_handle=f"fan{rng.randint(1, 20000)}@social.example",
                        author_name="Fan",
                        text=" ".join(rng.choice(words) for _ in range(rng.randint(5, 25)))
                        + (f" {SEARCH_WORD}code" if rng.random() < SEARCH_SHARE else ""),
                        created_at=last - timedelta(minutes=10 * (count - k)),
                        language="de" if lang < 0.6 else "en" if lang < 0.9 else "other",
                        sentiment="neutral" if senti < 0.5 else "positive" if senti < 0.8 else "negative",
                        routed=True,
                    )
                )
            if rng.random() < 0.4:
                messages.append(
                    Message(
                        conversation=conversation,
                        remote_id=f"{conversation.root_remote_id}-ours",
                        author_id="1001",
                        author_handle="brand",
                        text="Danke für die Nachricht, wir kümmern uns darum.",
                        created_at=last,
                        sent_by=users[0],
                        routed=True,
                    )
                )
        Message.objects.bulk_create(messages, batch_size=5000)
        made += len(created)
    with connection.schema_editor() as editor:
        search_indexes.create(None, editor)
    newest = list(
        Conversation.objects.filter(workspace=workspace)
        .order_by("-last_message_at")
        .values_list("pk", flat=True)[:200]
    )
    return {
        "workspace_id": workspace.pk,
        "emails": [u.email for u in users],
        "conversation_ids": newest,
        "conversations": Conversation.objects.count(),
        "messages": Message.objects.count(),
        "setup_s": round(time.monotonic() - t, 1),
    }


class InboxPages:
    def __init__(self, fx: dict[str, Any]) -> None:
        ws = f"/w/{fx['workspace_id']}/inbox"
        self.paths = {
            "list_default": f"{ws}/",
            "list_mine": f"{ws}/?status=open&assignee=mine",
            "list_filtered": f"{ws}/?status=open&assignee=all&sentiment=negative",
            "list_search": f"{ws}/?assignee=all&q={SEARCH_WORD}",
            "poll": f"{ws}/rows/?status=open&assignee=all",
        }
        self.ws = ws
        self.conversations = fx["conversation_ids"]

    def path(self, page: str, n: int) -> str:
        if page == "conversation":
            return f"{self.ws}/{self.conversations[n % len(self.conversations)]}/"
        return self.paths[page]


def timed(
    pages: InboxPages,
    client: UserClient,
    page: str,
    phase: str,
    n: int,
    etags: dict[str, str] | None = None,
) -> tuple[str, float, int]:
    """One request. With ``etags`` (the realistic phase) a poll revalidates like the browser does with
    the rows' ``ETag`` (``If-None-Match``; views.inbox_rows_view answers 304 when nothing changed)."""
    started = time.perf_counter()
    extra = {"HX-Request": "true"} if page == "poll" else None
    path = pages.path(page, n)
    if extra is not None and etags is not None and path in etags:
        extra["If-None-Match"] = etags[path]
    try:
        response = client.request("GET", path, page=page, phase=phase, extra=extra)
    except httpx.HTTPError:
        return page, -1.0, 0
    if etags is not None and response.headers.get("etag"):
        etags[path] = response.headers["etag"]
    return page, time.perf_counter() - started, response.status_code


def run_load(
    clients: list[UserClient], pages: InboxPages, duration: float
) -> tuple[list[tuple[str, float, int]], float]:
    results: list[list[tuple[str, float, int]]] = [[] for _ in clients]
    barrier = threading.Barrier(len(clients) + 1)
    window: dict[str, float] = {}

    def drive(index: int) -> None:
        barrier.wait()
        n = index
        while time.perf_counter() < window["end"]:
            results[index].append(timed(pages, clients[index], PAGES[n % len(PAGES)], "load", n))
            n += 1

    threads = [threading.Thread(target=drive, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    window["end"] = window["start"] + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    return [s for out in results for s in out], time.perf_counter() - window["start"]


def profile_pages(
    fx: dict[str, Any], pages: InboxPages, repeat: int, cprofile: Sequence[str] = (), sort: str = "cumulative"
) -> dict[str, Any]:
    """Each page in-process through Django's test client: median wall and CPU, SQL statements and time."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from resonanz.accounts.models import User

    client = Client(HTTP_ACCEPT_LANGUAGE="de", HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(email=fx["emails"][1]))
    out: dict[str, Any] = {}
    for page in cprofile:  # our frames by own CPU time, to stderr (figures of a profiled run are not kept)
        import cProfile
        import pstats

        # One request first: the URLconf import and the template compilation are once per worker.
        client.get(pages.path(page, 0), **({"HTTP_HX_REQUEST": "true"} if page == "poll" else {}))
        profile = cProfile.Profile(time.process_time)
        for n in range(repeat):
            profile.runcall(
                client.get, pages.path(page, n), **({"HTTP_HX_REQUEST": "true"} if page == "poll" else {})
            )
        print(f"--- {page}: cumulative CPU over {repeat} requests", file=sys.stderr)
        pstats.Stats(profile, stream=sys.stderr).sort_stats(sort).print_stats(150)
    for page in PAGES:
        walls, cpus, sql_ms, counts = [], [], [], []
        for n in range(repeat + 1):
            extra = {"HTTP_HX_REQUEST": "true"} if page == "poll" else {}
            with CaptureQueriesContext(connection) as queries:
                c0, w0 = time.process_time(), time.perf_counter()
                response = client.get(pages.path(page, n), **extra)
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            if response.status_code != 200:
                raise BenchStopped(f"profile: {page} answered {response.status_code}")
            if n == 0:
                continue  # warm-up
            walls.append(wall * 1000)
            cpus.append(cpu * 1000)
            counts.append(len(queries.captured_queries))
            sql_ms.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
            slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        out[page] = {
            "wall_ms": round(statistics.median(walls), 1),
            "cpu_ms": round(statistics.median(cpus), 1),
            "queries": max(counts),
            "sql_ms": round(statistics.median(sql_ms), 1),
            "slowest_query_ms": round(float(slowest["time"]) * 1000, 1),
            "slowest_query": slowest["sql"][:300],
        }
    return out


def run_agents(
    clients: list[UserClient],
    pages: InboxPages,
    duration: float,
    think: float,
    poll: float,
    on_list: float,
    seed: int = 10,
) -> tuple[list[tuple[str, float, int]], float]:
    """Agents as people: each opens a list page and stays on it ``on_list`` seconds, opens a
    conversation and reads it ``think`` seconds, goes back to a list, … (both uniform 0.5-1.5 x); while
    a list is open its rows are polled every
    ``poll`` seconds (the page's ``hx-trigger="every {{ poll_seconds }}s"``, views.POLL_SECONDS).
    Clicks and polls start at random offsets so the 50 agents do not move in step."""
    results: list[list[tuple[str, float, int]]] = [[] for _ in clients]
    lists = [p for p in PAGES if p.startswith("list_")]
    barrier = threading.Barrier(len(clients) + 1)
    window: dict[str, float] = {}

    def drive(index: int) -> None:
        rng = random.Random(seed + index)
        etags: dict[str, str] = {}  # the agent's browser cache of the polled rows
        barrier.wait()
        now = time.perf_counter()
        next_click, next_poll = now + rng.uniform(0, think), now + rng.uniform(0, poll)
        listing, n = False, index
        while True:
            due = min(next_click, next_poll) if listing else next_click
            if due >= window["end"]:
                return
            time.sleep(max(0.0, due - time.perf_counter()))
            if listing and next_poll <= next_click:
                results[index].append(timed(pages, clients[index], "poll", "real", n, etags))
                next_poll += poll
            else:
                page = "conversation" if listing else lists[n % len(lists)]
                results[index].append(timed(pages, clients[index], page, "real", n))
                listing = page != "conversation"
                stay = on_list if listing else think
                next_click = time.perf_counter() + stay * rng.uniform(0.5, 1.5)
                next_poll = time.perf_counter() + poll
            n += 1

    threads = [threading.Thread(target=drive, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    window["end"] = window["start"] + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    return [s for out in results for s in out], time.perf_counter() - window["start"]


def load_phase(
    result: dict[str, Any],
    key: str,
    samples: list[tuple[str, float, int]],
    span: float,
    cpu_s: dict[str, Any],
) -> None:
    """Requests, rate, statuses, client times and CPU per request of one load phase into ``result``."""
    counts = Counter(page for page, _l, _s in samples)
    client_times: dict[str, list[float]] = defaultdict(list)
    for page, latency, status in samples:
        if status in (200, 304):
            client_times[page].append(latency)
    result[key] = {
        "requests": len(samples),
        "per_s": round(len(samples) / span, 1),
        "per_page": dict(counts),
        "statuses": dict(Counter(status for _p, _l, status in samples)),
        "cpu_s": cpu_s,
        # Mixed pages: the phase's CPU over its requests (the per-page figures are the baseline's).
        "web_cpu_ms_per_request": round(1000 * cpu_s["web"] / max(1, len(samples)), 1),
        "postgres_cpu_ms_per_request": round(1000 * cpu_s["postgres"] / max(1, len(samples)), 1),
        "client": {page: ms_stats(client_times[page]) for page in PAGES if client_times[page]},
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--baseline", type=int, default=10)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--profile-only", action="store_true")
    parser.add_argument("--profile-repeat", type=int, default=5)
    parser.add_argument("--cprofile", action="append", default=[], choices=PAGES, help="page under cProfile")
    parser.add_argument(
        "--cprofile-sort",
        default="cumulative",
        choices=["cumulative", "tottime"],
        help="order of the profile",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=10.0,
        help="realistic phase: seconds an agent reads a conversation (0: skip the phase)",
    )
    parser.add_argument("--on-list", type=float, default=45.0, help="realistic phase: seconds on a list page")
    parser.add_argument("--realistic-duration", type=float, default=120.0)
    parser.add_argument("--db-name", default="inboxscale_bench_inbox")
    parser.add_argument("--keep", action="store_true")
    ns = parser.parse_args()
    ns.backend, ns.redis_url = "postgresql", ""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    web_log = data_dir / "web.log"
    env = configure_environment(ns, data_dir)
    result: dict[str, Any] = {"loadavg_start": loadavg(), "cores": os.cpu_count(), "users": ns.users}
    children = Children()
    clients: list[UserClient] = []
    try:
        recreate_pg_database(ns.db_name)
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, connections

        call_command("migrate", verbosity=0, interactive=False)
        fx = create_fixture(ns)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        result["fixture"] = {k: v for k, v in fx.items() if k not in {"emails", "conversation_ids"}}
        pages = InboxPages(fx)
        result["profile"] = profile_pages(fx, pages, ns.profile_repeat, ns.cprofile, ns.cprofile_sort)
        connections.close_all()
        if not ns.profile_only:
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            master = start_web(ns, children, env, port, web_log)
            wait_ready(base, time.monotonic() + 120, children)
            clients.extend(
                UserClient(base, email, i, bind=True, timeout=ns.request_timeout)
                for i, email in enumerate(fx["emails"])
            )
            errors = run_parallel(clients, lambda c: c.login(time.monotonic() + 300), width=8)
            if errors:
                raise BenchStopped(f"{len(errors)} logins failed: {errors[0]}")
            for i, page in enumerate(PAGES):  # warm-up
                assert timed(pages, clients[0], page, "warm", i)[2] == 200, page
            cpu: dict[str, Any] = {}
            for page in PAGES:
                meter = cpu_meter(ns, master)
                meter.start()
                for n in range(ns.baseline):
                    timed(pages, clients[0], page, "base", n)
                used = meter.stop()
                cpu[page] = {
                    "web_ms": round(1000 * used["web"] / ns.baseline, 1),
                    "postgres_ms": round(1000 * used["postgres"] / ns.baseline, 1),
                }
            result["baseline_cpu_per_request"] = cpu
            meter = cpu_meter(ns, master)
            result["loadavg_load_start"] = loadavg()
            meter.start()
            samples, span = run_load(clients, pages, ns.duration)
            load_phase(result, "saturation", samples, span, meter.stop())
            result["loadavg_load_end"] = loadavg()
            if ns.think > 0:
                from resonanz.engagement.views import POLL_SECONDS

                meter = cpu_meter(ns, master)
                result["loadavg_real_start"] = loadavg()
                meter.start()
                samples, span = run_agents(
                    clients, pages, ns.realistic_duration, ns.think, POLL_SECONDS, ns.on_list
                )
                load_phase(result, "realistic", samples, span, meter.stop())
                result["realistic"].update(think_s=ns.think, on_list_s=ns.on_list, poll_s=POLL_SECONDS)
                result["loadavg_real_end"] = loadavg()
    except BenchStopped as exc:
        result["error"] = str(exc)
    finally:
        for client in clients:
            with contextlib.suppress(Exception):
                client.close()
        result["shutdown"] = children.stop_all()
        server = parse_access_log(web_log)
        if server:
            result["baseline_server"] = {p: ms_stats(server.get("base", {}).get(p, [])) for p in PAGES}
            for phase, key in (("load", "saturation"), ("real", "realistic")):
                if key not in result:
                    continue
                times = {p: ms_stats(server[phase][p]) for p in PAGES if server.get(phase, {}).get(p)}
                worst = max(((v["p99_ms"] or 0) for v in times.values()), default=0)
                result[key].update(
                    server=times, server_worst_p99_ms=worst, target_p99_met=worst <= TARGET_P99_MS
                )
        with contextlib.suppress(Exception):
            from django.db import connections as conns

            conns.close_all()
        if not ns.keep:
            recreate_pg_database(ns.db_name, drop_only=True)
            shutil.rmtree(data_dir, ignore_errors=True)
    result["loadavg_end"] = loadavg()
    print(json.dumps(result, indent=2, default=str))
    return 1 if result.get("error") else 0


if __name__ == "__main__":
    raise SystemExit(main())
