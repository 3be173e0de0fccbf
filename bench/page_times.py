"""Server time per page under load: the calendar with 5,000 posts in view and the composer, 50 users.

    .venv/bin/python bench/page_times.py                        # PostgreSQL, 50 users, 30 s
    .venv/bin/python bench/page_times.py --duration 60 --py-spy 15
    .venv/bin/python bench/page_times.py --backend sqlite       # the embedded database
    .venv/bin/python bench/page_times.py --profile-only --cprofile calendar_week   # no server, no load

What happens (everything on 127.0.0.1, bounded by ``--timeout``, every child stopped at the end):

1. A fresh database (PostgreSQL ``resonanz_bench_pages``, recreated and dropped again; or SQLite in a temp
   dir), migrated. Made with the ORM (not measured): one workspace (Europe/Berlin), three channels (two
   Mastodon with cached instance settings, one Bluesky: validation needs no network), ``--users`` members
   (one owner, the rest editors) and ``--posts`` scheduled posts spread over next month (``bulk_create``);
   then ``ANALYZE`` (the statistics autovacuum would gather in production).
2. The web server as production runs it: ``python -m resonanz web --bind 127.0.0.1:<port> --workers W
   --threads T`` (defaults as ``resonanz web``: cores + 1 processes, 1 thread each) with
   ``RESONANZ_ENV=production``, its secrets, ``ALLOWED_HOSTS=127.0.0.1`` and ``DEBUG=0``.
   There is no ``Server-Timing`` header, so gunicorn's access log carries the server-side time: the bench
   passes ``--access-logformat`` (with ``%(D)s``/``%(M)s``) through ``GUNICORN_CMD_ARGS``, which gunicorn
   reads by itself — ``resonanz web`` is started unchanged.
3. Every user logs in through the allauth form (GET for the CSRF token, POST, session cookie kept). Each
   user's client connects from its own loopback address (127.0.0.10, .11, …) so that allauth's per-IP
   login limit (30/min) sees 50 people, not one. Production sets ``Secure`` cookies, which an HTTP client
   must not send over http; the bench keeps the cookies itself and sends them in a ``Cookie`` header.
4. Baseline: one client, sequential requests per page (no queueing: the intrinsic time of a page).
5. Load: ``--users`` threads (httpx, keep-alive, no think time unless ``--think-ms``) for ``--duration``
   seconds, each cycling through the four pages:

   * ``calendar_month``  GET  /w/<id>/calendar/?view=month&date=<15th of next month>  (all posts in view)
   * ``calendar_week``   GET  /w/<id>/calendar/?view=week&date=<15th>
   * ``composer``        GET  /w/<id>/posts/new/
   * ``composer_check``  POST /w/<id>/posts/check/  (text + the three channels, as htmx sends it)

   Per page: client latency on loopback (includes waiting for a free server thread) and gunicorn's own
   request time (``%(D)s``: from the parsed request to the last byte written; excludes that queueing),
   p50/p95/p99/max and requests/s; the target p99 ≤ 150 ms is marked met / not met for both.
   The baseline also gives the CPU per request of the web workers and of PostgreSQL for each page, and
   so the most requests per second the machine's cores could serve of that page — a figure that holds
   even when other work shares the machine, unlike the latencies.
6. Profile (after the server stopped; ``--profile-only``: instead of steps 2-5): each page once more
   in-process through Django's test client
   (same settings, ``DEBUG`` off): median wall and CPU time, SQL statements and SQL time per request; the
   page with the most CPU under cProfile with a CPU-time clock (top functions, CPU per package; the whole
   listing in ``page_times_profile-<backend>.txt``). ``--py-spy S`` also samples the gunicorn workers for
   S seconds during the load phase (our frames, inclusive share of the samples).

The machine may be shared: the load average at start and end is printed, and the CPU used during the
load phase by the web workers, the PostgreSQL backends of our database, this driver and everything else.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import re
import secrets
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.embedded_footprint import free_port, process_tree  # noqa: E402
from bench.publish_throughput import (  # noqa: E402
    PG_ADMIN_URL,
    BenchStopped,
    BenchTimeout,
    Children,
    CpuMeter,
    percentile,
    recreate_pg_database,
)

ARTIFACTS = Path(os.environ.get("RESONANZ_ARTIFACTS", ROOT / "artifacts")) / "bench"
PAGES = ("calendar_month", "calendar_week", "composer", "composer_check")
TARGET_P99_MS = 150.0
TIME_ZONE = "Europe/Berlin"
PASSWORD = "bench-pages-password-2026"  # noqa: S105 - a throwaway user in a throwaway database
FIRST_CLIENT_IP = 10  # 127.0.0.10, .11, … one loopback address per user
LOG_MARK = "BENCHLOG"
# gunicorn access-log atoms: request headers as %({name}i)s, status, request time in µs and in ms, bytes.
ACCESS_FORMAT = f"{LOG_MARK} %({{x-bench-page}}i)s %({{x-bench-phase}}i)s %(s)s %(D)s %(M)s %(B)s"
CHECK_TEXTS = (
    (
        "Neu im Blog: Wie wir unsere Redaktionsplanung für 2027 aufstellen. #Marketing #Planung "
        "https://example.com/blog/redaktionsplanung-2027"
    ),
    (
        "Danke an alle, die gestern beim Community-Treffen in Hamburg dabei waren! 🎉\n\n"
        "Die Folien gibt es nächste Woche. #Community"
    ),
    "Kurzer Hinweis: Unser Support ist am Feiertag nicht erreichbar. Ab Montag sind wir wieder da.",
)


class LoginFailed(BenchStopped):
    pass


# -- setup -----------------------------------------------------------------------------------------


@dataclass
class Fixture:
    workspace_id: int
    channel_ids: list[int]
    emails: list[str]
    month_anchor: date
    week_anchor: date
    entries_in_month: int
    entries_in_week: int
    setup_s: dict[str, float] = field(default_factory=dict)


def configure_environment(ns: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    """Production settings for the server and for this process (which migrates, fills and profiles)."""
    from cryptography.fernet import Fernet

    env = {
        "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
        "RESONANZ_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "RESONANZ_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "0",
        # Plain http on loopback, no proxy in front: no redirect to https; no mail is sent.
        "RESONANZ_SSL_REDIRECT": "0",
        "RESONANZ_BEHIND_PROXY": "0",
        "EMAIL_HOST": "127.0.0.1",
        "RESONANZ_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(SRC),
    }
    if ns.backend == "postgresql":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{ns.db_name}"
    if ns.redis_url:
        env["REDIS_URL"] = ns.redis_url
    os.environ.update(env)
    for name in ("DATABASE_URL", "REDIS_URL", "RESONANZ_REDIS_PREFIX", "CSRF_TRUSTED_ORIGINS"):
        if name not in env:
            os.environ.pop(name, None)
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    server_env = dict(os.environ)
    # gunicorn 27 opens a control socket at a fixed per-user path (~/.gunicorn/gunicorn.ctl) by default;
    # without it the bench does not take that path away from another server running on this machine.
    server_env["GUNICORN_CMD_ARGS"] = shlex.join(["--access-logformat", ACCESS_FORMAT, "--no-control-socket"])
    return server_env


def _month_after(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _post_text(i: int, rng: Any) -> str:
    topics = ("Produktneuheit", "Veranstaltungstipp", "Blogartikel", "Kundenstimme", "Stellenanzeige")
    lines = [
        f"{topics[i % len(topics)]} Nr. {i}: {rng.choice(['Heute', 'Morgen', 'Diese Woche'])} bei uns.",
        "Mehr dazu im Profil. #Marketing #DACH" if i % 2 else "Wir freuen uns auf euch!",
    ]
    if i % 3 == 0:
        lines.append(f"https://example.com/beitrag/{i}")
    return "\n\n".join(lines)


def create_fixture(ns: argparse.Namespace) -> Fixture:
    import copy
    import random

    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from resonanz.accounts.models import Membership, Organisation, Role, User, Workspace
    from resonanz.channels.models import Channel
    from resonanz.conftest import MASTODON_INSTANCE_SETTINGS
    from resonanz.posts.models import Post, PostStatus, Variant, VariantPart, VariantStatus

    timings: dict[str, float] = {}
    t = time.monotonic()
    org = Organisation.objects.create(name="Bench Agentur", slug="bench-agentur")
    workspace = Workspace.objects.create(organisation=org, name="Bench", slug="bench", time_zone=TIME_ZONE)
    channels = [
        Channel.objects.create(
            workspace=workspace,
            network="mastodon",
            base_url="https://social.example",
            handle="brand",
            remote_id="1001",
            credentials={"access_token": "bench"},
            color="#6364ff",
            settings=copy.deepcopy(MASTODON_INSTANCE_SETTINGS),
        ),
        Channel.objects.create(
            workspace=workspace,
            network="mastodon",
            base_url="https://mastodon.example",
            handle="news",
            remote_id="1002",
            credentials={"access_token": "bench"},
            color="#2b90d9",
            settings=copy.deepcopy(MASTODON_INSTANCE_SETTINGS),
        ),
        Channel.objects.create(
            workspace=workspace,
            network="bluesky",
            base_url="https://bsky.social",
            handle="brand.bsky.social",
            remote_id="did:plc:benchbrand",
            credentials={"access_jwt": "bench", "refresh_jwt": "bench"},
            color="#0085ff",
        ),
    ]
    password_hash = make_password(PASSWORD)  # one hash for all: hashing 50 times would take a minute
    users = User.objects.bulk_create(
        [
            User(email=f"bench-user-{i:02d}@example.com", name=f"Bench User {i:02d}", password=password_hash)
            for i in range(ns.users)
        ]
    )
    Membership.objects.bulk_create(
        [
            Membership(workspace=workspace, user=u, role=Role.OWNER if i == 0 else Role.EDITOR)
            for i, u in enumerate(users)
        ]
    )
    timings["tenant"] = round(time.monotonic() - t, 2)

    tz = ZoneInfo(TIME_ZONE)
    month = _month_after(datetime.now(tz).date())
    month_start = datetime.combine(month, datetime.min.time(), tzinfo=tz)
    month_seconds = (
        datetime.combine(_month_after(month), datetime.min.time(), tzinfo=tz) - month_start
    ).total_seconds()
    rng = random.Random(20261122)
    t = time.monotonic()
    batch = 2500
    for start in range(0, ns.posts, batch):
        with transaction.atomic():
            posts = []
            for i in range(start, min(ns.posts, start + batch)):
                # Local wall-clock times in 5-minute steps (what people pick), spread over the month.
                offset = int(rng.uniform(0, month_seconds) // 300 * 300)
                when = (month_start + timedelta(seconds=offset)).astimezone(UTC)
                posts.append(
                    Post(
                        workspace=workspace,
                        author=users[i % len(users)],
                        title=f"Kampagne {i // 100}" if i % 7 == 0 else "",
                        text=_post_text(i, rng),
                        status=PostStatus.SCHEDULED,
                        scheduled_at=when,
                    )
                )
            posts = Post.objects.bulk_create(posts)
            variants = Variant.objects.bulk_create(
                [
                    Variant(
                        post=p,
                        channel=channels[(i + k) % len(channels)],
                        status=VariantStatus.SCHEDULED,
                        scheduled_at=p.scheduled_at,
                        schedule_version=1,
                        visibility="public",
                        language="de",
                    )
                    for i, p in enumerate(posts, start=start)
                    for k in range(ns.variants_per_post)
                ]
            )
            by_post = {p.pk: p for p in posts}
            VariantPart.objects.bulk_create(
                [VariantPart(variant=v, index=0, text=by_post[v.post_id].text) for v in variants]
            )
    timings["posts"] = round(time.monotonic() - t, 2)

    week_anchor = month.replace(day=15)
    monday = week_anchor - timedelta(days=week_anchor.weekday())
    week_start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    in_week = Variant.objects.filter(
        post__workspace=workspace,
        scheduled_at__gte=week_start,
        scheduled_at__lt=week_start + timedelta(days=7),
    ).count()
    return Fixture(
        workspace_id=workspace.pk,
        channel_ids=[c.pk for c in channels],
        emails=[u.email for u in users],
        month_anchor=month.replace(day=15),
        week_anchor=week_anchor,
        entries_in_month=ns.posts * ns.variants_per_post,
        entries_in_week=in_week,
        setup_s=timings,
    )


# -- the server ------------------------------------------------------------------------------------


def start_web(ns: argparse.Namespace, children: Children, env: dict[str, str], port: int, log: Path) -> int:
    proc = children.start(
        "web",
        [
            sys.executable,
            "-m",
            "resonanz",
            "web",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(ns.workers),
            "--threads",
            str(ns.threads),
        ],
        env,
        log,
    )
    return proc.pid


def wait_ready(base: str, deadline: float, children: Children) -> float:
    started = time.monotonic()
    while time.monotonic() < deadline:
        children.check_alive()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/accounts/login/", timeout=5).status_code == 200:
                return round(time.monotonic() - started, 2)
        time.sleep(0.2)
    raise BenchTimeout("the web server did not answer /accounts/login/")


def web_worker_pids(master: int) -> list[int]:
    return [pid for pid in process_tree(master) if pid != master]


# -- the clients -----------------------------------------------------------------------------------

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Sample:
    page: str
    start: float  # perf_counter
    latency: float  # seconds, -1 for a transport error
    status: int  # 0 for a transport error
    size: int


class UserClient:
    """One signed-in user: its own keep-alive connection from its own loopback address, its own cookies."""

    def __init__(self, base: str, email: str, index: int, *, bind: bool, timeout: float) -> None:
        self.base, self.email = base, email
        address = f"127.0.0.{FIRST_CLIENT_IP + index}" if bind else None
        transport = httpx.HTTPTransport(local_address=address) if address else httpx.HTTPTransport()
        self.http = httpx.Client(base_url=base, transport=transport, timeout=timeout, follow_redirects=False)
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        self.http.close()

    def _remember(self, response: httpx.Response) -> None:
        for header in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.http.cookies.clear()  # httpx's jar would not send Secure cookies over http anyway

    def request(
        self,
        method: str,
        path: str,
        *,
        page: str,
        phase: str,
        data: dict[str, Any] | None = None,
        extra: dict[str, str] | None = None,
    ) -> httpx.Response:
        headers = {"X-Bench-Page": page, "X-Bench-Phase": phase, "Accept-Language": "de"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        headers |= extra or {}
        response = self.http.request(method, path, headers=headers, data=data)
        self._remember(response)
        return response

    def login(self, deadline: float) -> None:
        while True:
            page = self.request("GET", "/accounts/login/", page="login", phase="setup")
            match = _CSRF_INPUT.search(page.text)
            if page.status_code != 200 or match is None:
                raise LoginFailed(f"{self.email}: login page answered {page.status_code}")
            answer = self.request(
                "POST",
                "/accounts/login/",
                page="login",
                phase="setup",
                data={"login": self.email, "password": PASSWORD, "csrfmiddlewaretoken": match.group(1)},
            )
            if answer.status_code == 429 and time.monotonic() < deadline:  # allauth's per-IP limit
                time.sleep(2)
                continue
            if answer.status_code != 302 or "sessionid" not in self.cookies:
                raise LoginFailed(
                    f"{self.email}: login answered {answer.status_code}, cookies {sorted(self.cookies)}"
                )
            return


class PageSet:
    """The four requests of one round, as (page, method, path, data, extra headers)."""

    def __init__(self, fx: Fixture) -> None:
        ws = f"/w/{fx.workspace_id}"
        self.month = f"{ws}/calendar/?view=month&date={fx.month_anchor.isoformat()}"
        self.week = f"{ws}/calendar/?view=week&date={fx.week_anchor.isoformat()}"
        self.composer = f"{ws}/posts/new/"
        self.check = f"{ws}/posts/check/"
        self.channels = [str(c) for c in fx.channel_ids]

    def call(self, client: UserClient, page: str, phase: str, n: int) -> httpx.Response:
        if page == "calendar_month":
            return client.request("GET", self.month, page=page, phase=phase)
        if page == "calendar_week":
            return client.request("GET", self.week, page=page, phase=phase)
        if page == "composer":
            return client.request("GET", self.composer, page=page, phase=phase)
        data = {
            "text": CHECK_TEXTS[n % len(CHECK_TEXTS)],
            "title": "",
            "channels": self.channels,
            "action": "draft",
            "schedule_at": "",
        }
        return client.request(
            "POST",
            self.check,
            page=page,
            phase=phase,
            data=data,
            extra={"HX-Request": "true", "HX-Trigger": "composer-form"},
        )


def timed(pages: PageSet, client: UserClient, page: str, phase: str, n: int) -> Sample:
    started = time.perf_counter()
    try:
        response = pages.call(client, page, phase, n)
    except httpx.HTTPError:
        return Sample(page, started, -1.0, 0, 0)
    return Sample(page, started, time.perf_counter() - started, response.status_code, len(response.content))


def run_parallel(items: Sequence[Any], fn: Callable[[Any], None], width: int) -> list[BaseException]:
    """Run ``fn`` over ``items`` with ``width`` threads; returns the exceptions raised."""
    errors: list[BaseException] = []
    todo = list(items)
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not todo:
                    return
                item = todo.pop()
            try:
                fn(item)
            except Exception as exc:  # noqa: BLE001 - collected and reported by the caller
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=work, daemon=True) for _ in range(min(width, len(items)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def run_load(
    clients: list[UserClient], pages: PageSet, duration: float, think: float, stop: threading.Event
) -> tuple[list[Sample], float]:
    barrier = threading.Barrier(len(clients) + 1)
    results: list[list[Sample]] = [[] for _ in clients]
    window: dict[str, float] = {}

    def drive(index: int) -> None:
        client, out = clients[index], results[index]
        barrier.wait()
        end = window["end"]
        n = index
        while not stop.is_set() and time.perf_counter() < end:
            out.append(timed(pages, client, PAGES[n % len(PAGES)], "load", n))
            n += 1
            if think:
                time.sleep(think)

    threads = [threading.Thread(target=drive, args=(i,), daemon=True) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    window["start"] = time.perf_counter()
    window["end"] = window["start"] + duration
    barrier.wait()
    for thread in threads:
        thread.join()
    samples = [s for out in results for s in out]
    last = max((s.start + max(s.latency, 0) for s in samples), default=window["end"])
    return samples, max(last - window["start"], 1e-6)


# -- figures ---------------------------------------------------------------------------------------


def ms_stats(values_s: Sequence[float]) -> dict[str, float | int | None]:
    ms = [v * 1000 for v in values_s]

    def q(p: float) -> float | None:
        value = percentile(ms, p)
        return None if value is None else round(value, 1)

    return {
        "n": len(ms),
        "p50_ms": q(50),
        "p95_ms": q(95),
        "p99_ms": q(99),
        "max_ms": round(max(ms), 1) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 1) if ms else None,
    }


def parse_access_log(path: Path) -> dict[str, dict[str, list[float]]]:
    """Server-side request time (seconds) per phase and page, from the ``BENCHLOG`` access-log lines."""
    times: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    if not path.exists():
        return times
    for line in path.read_text(errors="replace").splitlines():
        at = line.find(LOG_MARK + " ")
        if at < 0:
            continue
        parts = line[at:].split()
        if len(parts) < 6:
            continue
        _mark, page, phase, _status, micros = parts[:5]
        with contextlib.suppress(ValueError):
            times[phase][page].append(int(micros) / 1e6)
    return times


def summarise_samples(samples: list[Sample], span: float) -> dict[str, dict[str, Any]]:
    by_page: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_page[s.page].append(s)
    out: dict[str, dict[str, Any]] = {}
    for page in PAGES:
        rows = by_page.get(page, [])
        ok = [s.latency for s in rows if s.status == 200]
        statuses = Counter(str(s.status) for s in rows if s.status != 200)
        out[page] = {
            **ms_stats(ok),
            "requests": len(rows),
            "per_s": round(len(rows) / span, 1),
            "errors": sum(statuses.values()),
            "error_statuses": dict(statuses),
            "kb_per_response": round(statistics.fmean(s.size for s in rows if s.status == 200) / 1024, 1)
            if ok
            else None,
        }
    return out


# -- profiling (in-process, after the server stopped) ----------------------------------------------


def _short(path: str) -> str:
    for marker in ("/site-packages/", "/src/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path.replace(str(ROOT) + "/", "")


def _area(path: str) -> str:
    if path == "~" or path.startswith("<"):
        return "builtins (C: I/O, str, re, …)"
    short = _short(path)
    parts = short.split("/")
    if parts[0] == "django" and len(parts) > 2:
        return f"django.{parts[1]}"
    if parts[0] == "resonanz" and len(parts) > 2:
        return f"resonanz.{parts[1]}"
    if "/lib/python3" in path and "/site-packages/" not in path:
        return "stdlib"
    return parts[0].removesuffix(".py")


def profile_pages(
    fx: Fixture, pages: PageSet, repeat: int, out_file: Path, cprofile: Sequence[str] = ()
) -> dict[str, Any]:
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from resonanz.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1", HTTP_ACCEPT_LANGUAGE="de")
    user = User.objects.get(email=fx.emails[0])
    client.force_login(user)

    def call(page: str, n: int) -> Any:
        if page == "composer_check":
            data = {
                "text": CHECK_TEXTS[n % len(CHECK_TEXTS)],
                "title": "",
                "channels": pages.channels,
                "action": "draft",
                "schedule_at": "",
            }
            return client.post(pages.check, data, HTTP_HX_REQUEST="true")
        path = {"calendar_month": pages.month, "calendar_week": pages.week, "composer": pages.composer}[page]
        return client.get(path)

    per_page: dict[str, Any] = {}
    for page in PAGES:
        for n in range(2):  # warm: imports, template cache, connection
            call(page, n)
        times, cpu, queries, sql_ms, size = [], [], 0, 0.0, 0
        for n in range(repeat):
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = call(page, n)
                times.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
            if response.status_code != 200:
                raise BenchStopped(f"in-process {page} answered {response.status_code}")
            queries = len(captured.captured_queries)
            sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
            size = len(response.content)
        per_page[page] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "min_ms": round(min(times) * 1000, 1),
            "cpu_ms": round(statistics.median(cpu) * 1000, 1),
            "sql_statements": queries,
            "sql_ms": round(sql_ms, 1),
            "kb": round(size / 1024, 1),
            "statements": [q["sql"][:200] for q in captured.captured_queries],
        }
    slowest = max(PAGES, key=lambda p: per_page[p]["cpu_ms"])
    chosen = [p for p in cprofile if p in PAGES] or [slowest]
    result = _cprofile_page(chosen[0], call, repeat, out_file)
    result["pages"] = per_page
    result["slowest"] = chosen[0]
    result["repeat"] = repeat
    result["others"] = {
        page: _cprofile_page(page, call, repeat, out_file.with_stem(f"{out_file.stem}-{page}"))
        for page in chosen[1:]
    }
    return result


def _cprofile_page(page: str, call: Callable[[str, int], Any], repeat: int, out_file: Path) -> dict[str, Any]:
    # CPU time, not wall time: the machine may be shared, and waits for PostgreSQL are in "sql_ms" already.
    profiler = cProfile.Profile(time.process_time)
    started = time.process_time()
    profiler.enable()
    for n in range(repeat):
        call(page, n)
    profiler.disable()
    profiled_ms = (time.process_time() - started) * 1000 / repeat
    stats = pstats.Stats(profiler)
    raw: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = stats.stats  # type: ignore[attr-defined]
    total = sum(tt for (_cc, _nc, tt, _ct, _callers) in raw.values()) or 1e-9
    rows: list[dict[str, Any]] = [
        {
            "function": f"{_short(file)}:{line}({func})",
            "ncalls": nc // repeat,
            "own_ms": round(tt * 1000 / repeat, 2),
            "cum_ms": round(ct * 1000 / repeat, 2),
            "file": file,
        }
        for (file, line, func), (_cc, nc, tt, ct, _callers) in raw.items()
    ]
    by_area: dict[str, float] = defaultdict(float)
    for row in rows:
        by_area[_area(row["file"])] += row["own_ms"]
    top_own = sorted(rows, key=lambda r: r["own_ms"], reverse=True)[:15]
    ours = sorted((r for r in rows if "/resonanz/" in r["file"]), key=lambda r: r["cum_ms"], reverse=True)
    ours = ours[:15]
    with out_file.open("w") as fh:
        fh.write(f"cProfile (CPU time) of {page}, {repeat} requests in-process (DEBUG off)\n\n")
        stats.stream = fh  # type: ignore[attr-defined]
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
    for row in [*top_own, *ours]:
        row.pop("file", None)
    return {
        "profiled_ms_per_request": round(profiled_ms, 1),
        "own_ms_total_per_request": round(total * 1000 / repeat, 1),
        "by_area_ms": dict(sorted(((k, round(v, 1)) for k, v in by_area.items()), key=lambda kv: -kv[1])),
        "top_own_time": top_own,
        "top_resonanz_cumulative": ours,
        "listing": str(out_file),
    }


# -- py-spy (optional, during the load) ------------------------------------------------------------


def start_py_spy(pids: list[int], seconds: float, children: Children, backend: str) -> list[Path]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy not found; skipping it", file=sys.stderr)
        return []
    outputs = []
    for i, pid in enumerate(pids):
        out = ARTIFACTS / f"page_times-py-spy-{backend}-web-{i}.txt"
        cmd = [
            exe,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(int(seconds)),
            "--format",
            "raw",
            "--rate",
            "50",
            "--output",
            str(out),
            "--nonblocking",
        ]
        children.start(
            f"py-spy-{i}",
            cmd,
            dict(os.environ),
            ARTIFACTS / "logs" / f"page_times-py-spy-{i}.log",
            helper=True,
        )
        outputs.append(out)
    return outputs


def summarise_py_spy(paths: list[Path], top: int = 15) -> dict[str, Any]:
    """Collapsed stacks → the frames most often on the stack (inclusive) among our code, and leaves."""
    inclusive: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            n = int(count)
            frames = stack.split(";")
            total += n
            leaves[_short_frame(frames[-1])] += n
            for frame in {_short_frame(f) for f in frames if "resonanz/" in f}:
                inclusive[frame] += n
    pct = (lambda n: round(100.0 * n / total, 1)) if total else (lambda n: 0.0)
    return {
        "samples": total,
        "resonanz_inclusive_pct": [(f, pct(n)) for f, n in inclusive.most_common(top)],
        "leaf_pct": [(f, pct(n)) for f, n in leaves.most_common(top)],
    }


def _short_frame(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/file.py:123)"
    match = re.match(r"(.*) \((.*?):(\d+)\)$", frame)
    if not match:
        return frame
    return f"{_short(match.group(2))}:{match.group(1)}"


# -- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--posts", type=int, default=5000, help="scheduled posts within one month")
    parser.add_argument(
        "--variants-per-post",
        type=int,
        default=1,
        choices=[1, 2, 3],
        help="channels per post (calendar entries = posts x this)",
    )
    parser.add_argument("--users", type=int, default=50, help="members, each one concurrent client")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause of each client between requests")
    parser.add_argument("--baseline", type=int, default=15, help="sequential requests per page, 1 client")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1,
                        help="gunicorn worker processes (default: as `resonanz web`, cores + 1)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (default: as `resonanz web`, 1)")
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="hard limit for the whole run, seconds")
    parser.add_argument("--profile-repeat", type=int, default=5, help="in-process requests per page")
    parser.add_argument(
        "--py-spy",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="sample the gunicorn workers with py-spy for this long during the load",
    )
    parser.add_argument(
        "--profile-only",
        action="store_true",
        help="no server and no load: only the fixture and the in-process profile (step 6)",
    )
    parser.add_argument(
        "--cprofile",
        action="append",
        default=[],
        choices=PAGES,
        help="page(s) to run under cProfile (repeatable; default: the one with the most CPU)",
    )
    parser.add_argument("--db-name", default="resonanz_bench_pages")
    parser.add_argument(
        "--redis-url",
        default="",
        help="also set REDIS_URL (cache + task backend; the measured pages use neither)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and data dir")
    parser.add_argument("--json", type=Path, default=ARTIFACTS / "page_times.json")
    return parser.parse_args(argv)


def loadavg() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


@contextlib.contextmanager
def _signals_ignored() -> Any:
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def wait_helpers(children: Children, limit: float) -> None:
    """Let the profilers finish writing (they stop by themselves after --duration)."""
    deadline = time.monotonic() + limit
    for name, proc in children.procs:
        if name in children.helpers:
            with contextlib.suppress(Exception):
                proc.wait(max(0.1, deadline - time.monotonic()))


def prepare(ns: argparse.Namespace, result: dict[str, Any]) -> tuple[Fixture, PageSet]:
    from django.core.management import call_command
    from django.db import connections

    t = time.monotonic()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = round(time.monotonic() - t, 2)
    fx = create_fixture(ns)
    # A production database has statistics (autovacuum analyses a table after bulk changes); a bench server
    # may run without autovacuum, and a planner guessing "a handful of rows" picks nested loops for 5,000.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    result["setup_s"] = {"migrate": migrate_s, **fx.setup_s}
    result["fixture"] = {
        "workspace_id": fx.workspace_id,
        "month": fx.month_anchor.strftime("%Y-%m"),
        "entries_in_month_view": fx.entries_in_month,
        "entries_in_week_view": fx.entries_in_week,
        "channels": len(fx.channel_ids),
    }
    connections.close_all()  # the server has the database to itself during the load
    return fx, PageSet(fx)


def pg_backends(db_name: str) -> list[int]:
    """The PostgreSQL backends connected to our database (the server is shared with other work)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [db_name]).fetchall()
    return [int(pid) for (pid,) in rows]


def cpu_meter(ns: argparse.Namespace, master: int) -> CpuMeter:
    """CPU of the web server's processes, of the PostgreSQL backends serving our database (they live as
    long as the server's connections, CONN_MAX_AGE) and of this driver."""
    return CpuMeter(
        {
            "web": lambda: process_tree(master),
            "postgres": (lambda: pg_backends(ns.db_name)) if ns.backend == "postgresql" else list,
            "driver": lambda: [os.getpid()],
        }
    )


def measure(
    ns: argparse.Namespace,
    result: dict[str, Any],
    fx: Fixture,
    pages: PageSet,
    env: dict[str, str],
    children: Children,
    clients: list[UserClient],
    stop: threading.Event,
    web_log: Path,
    deadline: float,
) -> None:
    """Start the server, log everyone in, warm up, then the baseline and the load phase."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    master = start_web(ns, children, env, port, web_log)
    result["server_ready_s"] = wait_ready(base, deadline, children)

    bind = True
    try:
        probe = UserClient(base, "probe", 0, bind=True, timeout=5)
        try:
            probe.request("GET", "/accounts/login/", page="probe", phase="setup")
        finally:
            probe.close()
    except (httpx.HTTPError, OSError):
        bind = False  # no extra loopback addresses here: logins then wait out allauth's per-IP limit
    result["client_source_addresses"] = (
        f"127.0.0.{FIRST_CLIENT_IP}..{FIRST_CLIENT_IP + ns.users - 1}" if bind else "127.0.0.1"
    )
    clients.extend(
        UserClient(base, email, i, bind=bind, timeout=ns.request_timeout) for i, email in enumerate(fx.emails)
    )
    t = time.monotonic()
    errors = run_parallel(clients, lambda c: c.login(deadline), width=8)
    if errors:
        raise LoginFailed(f"{len(errors)} logins failed, first: {errors[0]}")
    result["login_s"] = round(time.monotonic() - t, 2)

    # Warm-up: every user once on every page (all must answer 200); fills both workers' caches.
    warm: list[Sample] = []
    lock = threading.Lock()

    def warm_one(c: UserClient) -> None:
        got = [timed(pages, c, page, "warm", i) for i, page in enumerate(PAGES)]
        with lock:
            warm.extend(got)

    run_parallel(clients, warm_one, width=8)
    bad = [s for s in warm if s.status != 200]
    if bad:
        raise BenchStopped(f"warm-up: {len(bad)} requests failed, e.g. {bad[0].page} → {bad[0].status}")

    # Baseline: one client, one request at a time; CPU per request of the web workers (and PostgreSQL).
    baseline: list[Sample] = []
    cpu_per_request: dict[str, dict[str, float | None]] = {}
    for page in PAGES:
        meter = cpu_meter(ns, master)
        meter.start()
        done = [timed(pages, clients[0], page, "base", n) for n in range(ns.baseline)]
        used = meter.stop()
        baseline.extend(done)
        cpu_per_request[page] = {
            "web_ms": round(1000 * used["web"] / len(done), 1),
            "postgres_ms": round(1000 * used["postgres"] / len(done), 1)
            if ns.backend == "postgresql"
            else None,
        }
    result["baseline_client"] = {
        page: ms_stats([s.latency for s in baseline if s.page == page and s.status == 200]) for page in PAGES
    }
    result["baseline_cpu_per_request"] = cpu_per_request
    result["baseline_n"] = ns.baseline

    # Load.
    children.check_alive()
    cpu = cpu_meter(ns, master)
    if ns.py_spy:
        spied = start_py_spy(web_worker_pids(master), min(ns.py_spy, ns.duration), children, ns.backend)
        result["py_spy_files"] = [str(p) for p in spied]
    result["loadavg_load_start"] = loadavg()
    cpu.start()
    samples, span = run_load(clients, pages, ns.duration, ns.think_ms / 1000, stop)
    result["cpu_s"] = cpu.stop()
    result["loadavg_load_end"] = loadavg()
    result["load_span_s"] = round(span, 2)
    result["load_client"] = summarise_samples(samples, span)
    total = sum(v["requests"] for v in result["load_client"].values())
    result["load_requests"] = total
    result["load_per_s"] = round(total / span, 1)
    if total:
        result["web_cpu_ms_per_request"] = round(1000 * result["cpu_s"]["web"] / total, 1)


def run(ns: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + ns.timeout
    data_dir = Path(tempfile.mkdtemp(prefix="resonanz-bench-pages-"))
    (ARTIFACTS / "logs").mkdir(parents=True, exist_ok=True)
    web_log = ARTIFACTS / "logs" / "page_times-web.log"
    env = configure_environment(ns, data_dir)
    children = Children()
    clients: list[UserClient] = []
    stop = threading.Event()
    result: dict[str, Any] = {
        "backend": ns.backend,
        "posts": ns.posts,
        "variants_per_post": ns.variants_per_post,
        "users": ns.users,
        "duration_s": ns.duration,
        "think_ms": ns.think_ms,
        "workers": ns.workers,
        "threads": ns.threads,
        "profile_only": ns.profile_only,
        "cpus": os.cpu_count(),
        "redis": bool(ns.redis_url),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg_start": loadavg(),
        "server": "python -m resonanz web (gunicorn gthread), access log format via GUNICORN_CMD_ARGS",
    }

    def _alarm(signum: int, frame: object) -> None:
        raise BenchTimeout(f"the whole run exceeded --timeout {ns.timeout:g} s")

    previous_alarm = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, ns.timeout)
    django_ready = False
    fx: Fixture | None = None
    pages: PageSet | None = None
    try:
        try:
            if ns.backend == "postgresql":
                recreate_pg_database(ns.db_name)
            import django

            django.setup()
            django_ready = True
            fx, pages = prepare(ns, result)
            if not ns.profile_only:
                measure(ns, result, fx, pages, env, children, clients, stop, web_log, deadline)
        except BenchStopped as exc:
            result["error"] = str(exc)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_alarm)
            stop.set()
            with _signals_ignored():
                for client in clients:
                    with contextlib.suppress(Exception):
                        client.close()
                wait_helpers(children, 15.0)
                result["shutdown"] = children.stop_all()

        server = parse_access_log(web_log)
        result["baseline_server"] = {page: ms_stats(server.get("base", {}).get(page, [])) for page in PAGES}
        result["load_server"] = {page: ms_stats(server.get("load", {}).get(page, [])) for page in PAGES}
        if result.get("py_spy_files"):
            result["py_spy"] = summarise_py_spy([Path(p) for p in result["py_spy_files"]])
        if "error" not in result and fx is not None and pages is not None:
            try:
                listing = ARTIFACTS / f"page_times_profile-{ns.backend}.txt"
                result["profile"] = profile_pages(fx, pages, ns.profile_repeat, listing, ns.cprofile)
            except BenchStopped as exc:
                result["profile_error"] = str(exc)
    finally:
        with _signals_ignored():  # a second Ctrl-C must not leave the database behind
            if django_ready:
                from django.db import connections

                connections.close_all()
            if ns.backend == "postgresql" and not ns.keep:
                try:
                    recreate_pg_database(ns.db_name, drop_only=True)
                except Exception as exc:  # noqa: BLE001 - report; the figures are still worth printing
                    print(f"could not drop {ns.db_name}: {exc!r}", file=sys.stderr)
            if not ns.keep:
                shutil.rmtree(data_dir, ignore_errors=True)
    result["loadavg_end"] = loadavg()
    result["total_s"] = round(time.monotonic() - started, 1)
    return result


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    client, server = result.get("load_client", {}), result.get("load_server", {})
    targets = {}
    for page in PAGES:
        c, s = client.get(page, {}), server.get(page, {})
        targets[page] = {
            "client_p99<=150ms": c.get("p99_ms") is not None
            and c["p99_ms"] <= TARGET_P99_MS
            and not c["errors"],
            "server_p99<=150ms": s.get("p99_ms") is not None and s["p99_ms"] <= TARGET_P99_MS,
        }
    return {"target_p99_ms": TARGET_P99_MS, "targets": targets}


def _v(value: Any) -> str:
    return "—" if value is None else str(value)


def print_table(result: dict[str, Any]) -> None:
    title = (
        f"Server time per page — {result['backend']}, {result['posts']} posts "
        f"({result.get('fixture', {}).get('entries_in_month_view', '?')} calendar entries in the month, "
        f"{result.get('fixture', {}).get('entries_in_week_view', '?')} in the week), "
        f"{result['users']} users x {result['duration_s']:g} s, gunicorn {result['workers']}x"
        f"{result['threads']} gthread, {result['cpus']} CPUs"
    )
    print()
    print(title)
    print("-" * len(title))
    print(
        f"load average (1/5/15 min): start {result['loadavg_start']}, load phase "
        f"{result.get('loadavg_load_start')} → {result.get('loadavg_load_end')}, "
        f"end {result.get('loadavg_end')}"
    )
    if result.get("setup_s"):
        print(
            f"setup (s): {result['setup_s']}, server ready {result.get('server_ready_s')} s, "
            f"{result['users']} logins {result.get('login_s')} s from {result.get('client_source_addresses')}"
        )
    client, server = result.get("load_client", {}), result.get("load_server", {})
    base_c, base_s = result.get("baseline_client", {}), result.get("baseline_server", {})
    targets = result["summary"]["targets"]
    head = (
        f"{'page':<16}{'req':>6}{'req/s':>7}{'err':>5}  {'client p50/p95/p99/max ms':<28}"
        f"{'gunicorn p50/p95/p99/max ms':<30}p99 ≤ 150 ms (client / gunicorn)"
    )
    print()
    print(
        f"under load ({result['users']} concurrent clients, keep-alive, think {result['think_ms']:g} ms; "
        "client = loopback latency incl. waiting for a server thread, gunicorn = %(D)s)"
    )
    print(head)
    for page in PAGES:
        c, s = client.get(page, {}), server.get(page, {})
        t = targets[page]
        q = "/".join(_v(c.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        g = "/".join(_v(s.get(k)) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
        verdict = (
            f"{'met' if t['client_p99<=150ms'] else 'NOT met'} / "
            f"{'met' if t['server_p99<=150ms'] else 'NOT met'}"
        )
        print(
            f"{page:<16}{_v(c.get('requests')):>6}{_v(c.get('per_s')):>7}{_v(c.get('errors')):>5}  "
            f"{q:<28}{g:<30}{verdict}"
        )
    if result.get("load_per_s") is not None:
        cpu = result.get("cpu_s", {})
        print(
            f"all pages: {result['load_requests']} requests, {result['load_per_s']} req/s; "
            f"CPU s during load: web {cpu.get('web')}, postgres {cpu.get('postgres')} (our backends), "
            f"driver {cpu.get('driver')}, "
            f"other {cpu.get('unaccounted')}; machine busy {cpu.get('machine_busy_pct')} %; "
            f"web CPU {result.get('web_cpu_ms_per_request')} ms/request"
        )
    for page in PAGES:
        if client.get(page, {}).get("errors"):
            print(f"  {page}: errors by status {client[page]['error_statuses']}")
    prof = result.get("profile") or {}
    cpus, base_cpu = result.get("cpus") or 1, result.get("baseline_cpu_per_request", {})
    if base_c or prof:
        print()
        print(
            f"one request at a time: 1 client over HTTP ({result.get('baseline_n')} requests per page: "
            "client p50 / gunicorn p50, CPU per request of the web workers and of PostgreSQL, and the "
            f"throughput {cpus} cores could give at that cost); in-process via Django's test client "
            f"(median of {prof.get('repeat', '—')}: wall and CPU time, SQL statements, SQL time, KB)"
        )
        print(
            f"{'page':<16}{'client p50':>11}{'gunicorn p50':>13}{'web CPU':>9}{'PG CPU':>8}{'≤ req/s':>9}"
            f"{'in-proc':>9}{'CPU':>7}{'SQL':>5}{'SQL ms':>8}{'KB':>7}"
        )
        for page in PAGES:
            cpu_ms = base_cpu.get(page, {})
            cost = (cpu_ms.get("web_ms") or 0) + (cpu_ms.get("postgres_ms") or 0)
            ceiling = round(cpus * 1000 / cost) if cost else None
            ip = prof.get("pages", {}).get(page, {})
            print(
                f"{page:<16}{_v(base_c.get(page, {}).get('p50_ms')):>11}"
                f"{_v(base_s.get(page, {}).get('p50_ms')):>13}{_v(cpu_ms.get('web_ms')):>9}"
                f"{_v(cpu_ms.get('postgres_ms')):>8}{_v(ceiling):>9}{_v(ip.get('median_ms')):>9}"
                f"{_v(ip.get('cpu_ms')):>7}"
                f"{_v(ip.get('sql_statements')):>5}{_v(ip.get('sql_ms')):>8}{_v(ip.get('kb')):>7}"
            )
    if prof:
        print(
            f"\nslowest (CPU): {prof['slowest']} — cProfile {prof['profiled_ms_per_request']} CPU ms/request "
            "(with profiler overhead); own CPU time by package (ms/request):"
        )
        print("  " + ", ".join(f"{k} {v}" for k, v in list(prof["by_area_ms"].items())[:10]))
        print("top own time (ms/request, calls/request):")
        for row in prof["top_own_time"][:12]:
            print(f"  {row['own_ms']:>7}  {row['ncalls']:>7}  {row['function']}")
        print("our code, cumulative (ms/request):")
        for row in prof["top_resonanz_cumulative"][:12]:
            print(f"  {row['cum_ms']:>7}  {row['ncalls']:>7}  {row['function']}")
        print(f"full listing: {prof['listing']}")
        for page, other in (prof.get("others") or {}).items():
            print(f"\n{page} — cProfile {other['profiled_ms_per_request']} CPU ms/request; by package (ms):")
            print("  " + ", ".join(f"{k} {v}" for k, v in list(other["by_area_ms"].items())[:10]))
            for row in other["top_own_time"][:8]:
                print(f"  {row['own_ms']:>7}  {row['ncalls']:>7}  {row['function']}")
            print(f"full listing: {other['listing']}")
    spy = result.get("py_spy")
    if spy and spy.get("samples"):
        print(f"\npy-spy during the load ({spy['samples']} samples of busy threads), our frames inclusive %:")
        for frame, pct in spy["resonanz_inclusive_pct"][:10]:
            print(f"  {pct:>5} %  {frame}")
    for key in ("error", "profile_error"):
        if result.get(key):
            print(f"stopped: {result[key]}")
    shutdown = result.get("shutdown") or {}
    if shutdown.get("killed"):
        print(f"killed after the grace period: {shutdown['killed']}")


def write_json(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {}
    if path.exists():
        with contextlib.suppress(ValueError):
            data = json.loads(path.read_text())
    key = result["backend"] + (f"-think{result['think_ms']:g}ms" if result["think_ms"] else "")
    key += "-profile-only" if result.get("profile_only") else ""
    data[key] = result
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    ns = parse_args(argv)

    def _terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # unwinds through run()'s finally: the server stopped, the database dropped

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        result = run(ns)
    except KeyboardInterrupt:
        print("interrupted; child processes stopped", file=sys.stderr)
        return 130
    result["summary"] = summarise(result)
    print_table(result)
    write_json(ns.json, result)
    print(f"written to {ns.json}")
    return 1 if result.get("error") else 0


if __name__ == "__main__":
    raise SystemExit(main())
