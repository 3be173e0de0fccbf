"""Short-link redirect throughput (issue 11: ≥ 3,000 redirects/s on 2 cores with clicks, p99 ≤ 20 ms).

One run measures, for each database (SQLite embedded; PostgreSQL scaled, with Redis as the cache when
``--redis-url`` is given; PostgreSQL is skipped with a note when it is not reachable):

1. a fresh database (SQLite in a temp directory, PostgreSQL ``--pg-db`` recreated and dropped again),
   migrated, with one workspace and ``--links`` short links;
2. the web server as production runs it, ``python -m resonanz web --server S --workers W --threads T``
   (production settings, DEBUG off, no access log unless ``--access-log``), click buffer ``--buffer``;
3. load from ``wrk`` (C, cheap: ``--connections`` keep-alive connections from one thread, each request a
   random code, a browser User-Agent so that the click counts; percentiles from a Lua ``done()``), or
   from the asyncio driver in this process when wrk is missing (``apt-get install wrk``) or
   ``--driver python``;
4. the same for each mode: the fast path (``links/fastpath.py``) on every ``--servers`` entry, and the
   baseline, Django's middleware path (``RESONANZ_LINK_FASTPATH=0``) on the first server — the ratio is
   printed;
5. per mode: req/s, p50/p95/p99, server CPU per redirect (/proc/<pid>/stat of the server's process tree),
   PostgreSQL CPU, driver CPU per request, click rows written (counted after the server's graceful stop, so
   the buffer's exit flush is part of it) against 302 answers, and /proc/loadavg at start and end.

With ``--rate R`` the load is an open loop instead: R requests/s offered by the asyncio driver whatever the
answers do, each latency counted from the request's due time (the figure's form: "≥ 3,000 req/s with p99
≤ 20 ms" is the latency *at* that rate; a closed loop at full speed measures the queue of a saturated
server instead).

Clicks written must equal the 302s; wrk does not count the answers in flight when it stops, so with wrk
up to ``--connections`` more rows than counted 302s are accepted (never fewer). The JSON goes to
``artifacts/bench/redirect.json``.

    .venv/bin/python bench/redirect.py --seconds 8 --redis-url redis://127.0.0.1:6379/4
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.embedded_footprint import free_port, process_tree  # noqa: E402
from bench.publish_throughput import percentile, recreate_pg_database  # noqa: E402

ARTIFACTS = Path(os.environ.get("RESONANZ_ARTIFACTS", ROOT / "artifacts")) / "bench"
DB_NAME = "resonanz_bench_links"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
TARGET_RPS = 3000
TARGET_P99_MS = 20.0


def configure(ns: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {
        "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
        "RESONANZ_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "RESONANZ_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DEBUG": "0",
        "RESONANZ_SSL_REDIRECT": "0",
        "RESONANZ_BEHIND_PROXY": "0",
        "EMAIL_HOST": "127.0.0.1",
        "RESONANZ_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(SRC),
    }
    if ns.postgres:
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{getattr(ns, 'pg_db', DB_NAME)}"
    if ns.redis_url:
        env["REDIS_URL"] = ns.redis_url
    os.environ.update(env)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if name not in env:
            os.environ.pop(name, None)
    (data_dir / "static").mkdir(parents=True, exist_ok=True)
    server_env = dict(os.environ)
    server_env["GUNICORN_CMD_ARGS"] = shlex.join(["--no-control-socket"])
    return server_env


def fill(n_links: int) -> list[str]:
    import django

    django.setup()
    from django.core.management import call_command

    from resonanz.accounts.models import Organisation, Workspace
    from resonanz.links.services import link_create

    call_command("migrate", verbosity=0)
    org = Organisation.objects.create(name="Bench", slug="bench")
    workspace = Workspace.objects.create(organisation=org, name="Bench", slug="bench")
    return [
        link_create(workspace=workspace, actor=None, target_url=f"https://shop.example/p/{i}?ref=bench").code
        for i in range(n_links)
    ]


def click_rows() -> int:
    from django.db import connection

    from resonanz.links.models import Click

    connection.close()  # a fresh connection sees the server's commits
    return Click.objects.count()


async def drive(
    port: int,
    codes: list[str],
    *,
    requests: int,
    seconds: float,
    concurrency: int,
    keepalive: bool,
    rate: float = 0.0,
) -> dict[str, Any]:
    """Closed loop (each connection sends its next request when the answer is in), or with ``rate`` an
    open loop: request k is due at start + k / rate whatever the answers before it did, and its latency is
    counted from when it was due, not from when a connection was free to send it — so a server that falls
    behind shows its queue in the percentiles instead of slowing the driver down ("coordinated omission",
    G. Tene; what wrk2 does)."""
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    sent = 0
    connection = "keep-alive" if keepalive else "close"
    start = time.perf_counter()

    def request(code: str) -> bytes:
        return (
            f"GET /l/{code} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {BROWSER}\r\n"
            f"Accept: text/html\r\nConnection: {connection}\r\n\r\n"
        ).encode()

    async def worker() -> None:
        nonlocal sent
        reader: asyncio.StreamReader | None = None
        writer: asyncio.StreamWriter | None = None
        while sent < requests and time.monotonic() < deadline:
            k = sent
            sent += 1
            t = time.perf_counter()
            if rate:
                due = start + k / rate
                if due > t:
                    await asyncio.sleep(due - t)
                t = due
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                assert reader is not None
                writer.write(request(random.choice(codes)))
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                if not keepalive or b"connection: close" in head.lower():
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError) as exc:
                statuses[type(exc).__name__] += 1
                reader = writer = None
                continue
            latencies.append((time.perf_counter() - t) * 1000)
            statuses[head[9:12].decode() or "empty"] += 1
        if writer is not None:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {"latencies": latencies, "statuses": dict(statuses), "wall_s": wall}


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of live processes (/proc/<pid>/stat fields 14 and 15, in clock ticks)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def postgres_pids(db_name: str) -> list[int]:
    """The PostgreSQL backends serving ``db_name`` (their command line names the database): the server is
    shared with other work, whose backends are not this benchmark's cost."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
                if cmdline.startswith("postgres:") and f" {db_name} " in cmdline:
                    found.append(int(entry.name))
    return found


def wait_ready(port: int, code: str, timeout: float = 60.0) -> None:
    import socket

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(f"HEAD /l/{code} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            if sock.recv(16).startswith(b"HTTP/1.1 302"):
                return
        time.sleep(0.3)
    raise SystemExit("the server did not answer in time")


WRK_SCRIPT = """
local codes = {}
for line in io.lines(os.getenv("RZ_CODES")) do codes[#codes + 1] = line end
local reqs = {}
for i, c in ipairs(codes) do
  reqs[i] = wrk.format("GET", "/l/" .. c, {["User-Agent"] = os.getenv("RZ_UA"), ["Accept"] = "text/html"})
end
request = function() return reqs[math.random(#reqs)] end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RZ %d %d %d %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def drive_wrk(port: int, codes: list[str], *, seconds: float, connections: int, work: Path) -> dict[str, Any]:
    """wrk for ``seconds``; its CPU from the children's rusage (wrk is the only child that ends here)."""
    (work / "codes.txt").write_text("\n".join(codes) + "\n")
    (work / "redirect.lua").write_text(WRK_SCRIPT)
    env = {**os.environ, "RZ_CODES": str(work / "codes.txt"), "RZ_UA": BROWSER}
    cpu = children_cpu()
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "5s",
            "-s",
            str(work / "redirect.lua"),
            f"http://127.0.0.1:{port}/",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = children_cpu() - cpu
    fields = [int(x) for x in next(line for line in out.splitlines() if line.startswith("RZ ")).split()[1:]]
    n, duration_us, connect, read, write, status, timeout, p50, p95, p99, _max = fields
    errors = {"connect": connect, "read": read, "write": write, "timeout": timeout}
    # wrk counts an answer >= 400 as a status error; every code exists, so the others are the 302s.
    statuses = {"302": n - status, ">=400": status} | {k: v for k, v in errors.items() if v}
    return {
        "requests": n,
        "wall_s": duration_us / 1e6,
        "statuses": statuses,
        "p50_ms": p50 / 1000,
        "p95_ms": p95 / 1000,
        "p99_ms": p99 / 1000,
        "driver_cpu_s": cpu,
        "in_flight_at_stop": connections,
    }


def drive_python(
    port: int, codes: list[str], *, seconds: float, connections: int, rate: float = 0.0
) -> dict[str, Any]:
    cpu = time.process_time()
    run = asyncio.run(
        drive(
            port, codes, requests=10**9, seconds=seconds, concurrency=connections, keepalive=True, rate=rate
        )
    )
    lat = run["latencies"]
    return {
        "requests": len(lat),
        "wall_s": run["wall_s"],
        "statuses": run["statuses"],
        "p50_ms": percentile(lat, 50) or 0,
        "p95_ms": percentile(lat, 95) or 0,
        "p99_ms": percentile(lat, 99) or 0,
        "driver_cpu_s": time.process_time() - cpu,
        "in_flight_at_stop": 0,
    }


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(
    ns: argparse.Namespace,
    server_env: dict[str, str],
    codes: list[str],
    *,
    server: str,
    fast: bool,
    work: Path,
) -> dict[str, Any]:
    env = dict(server_env)
    env["RESONANZ_LINK_FASTPATH"] = "1" if fast else "0"
    port = free_port()
    cmd = [sys.executable, "-m", "resonanz", "web", "--server", server, "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", str(ns.workers), "--threads", str(ns.threads)]
    cmd += ["--access-log" if ns.access_log else "--no-access-log"]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(port, codes[0])
        # Warm-up, not counted: every worker process imports Django at its first request, so without it
        # the first half second of load queues behind one worker's start (seen as a 300-500 ms p95 in the
        # open-loop runs). Then wait for the click buffer to write the warm-up's clicks.
        drive_python(port, codes, seconds=2.0, connections=ns.connections)
        time.sleep(float(ns.buffer) + 1.0)
        before = click_rows()
        load_start = loadavg()
        pids = process_tree(proc.pid)
        db_start = {pid: cpu_seconds([pid]) for pid in postgres_pids(ns.pg_db)} if ns.postgres else {}
        server_cpu = cpu_seconds(pids)
        if ns.rate:
            run = drive_python(port, codes, seconds=ns.seconds, connections=ns.connections, rate=ns.rate)
        elif ns.driver == "wrk":
            run = drive_wrk(port, codes, seconds=ns.seconds, connections=ns.connections, work=work)
        else:
            run = drive_python(port, codes, seconds=ns.seconds, connections=ns.connections)
        server_cpu = cpu_seconds(pids) - server_cpu
        # Backends opened during the run (the click buffer's thread connects at its first write) count whole.
        db_end = {pid: cpu_seconds([pid]) for pid in postgres_pids(ns.pg_db)} if ns.postgres else {}
        db_cpu = sum(cpu - db_start.get(pid, 0.0) for pid, cpu in db_end.items())
        load_end = loadavg()
    finally:
        # Graceful stop (SIGTERM): the click buffer's exit flush writes what is collected.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    written = click_rows() - before
    n = max(run["requests"], 1)
    ok = run["statuses"].get("302", 0)
    return {
        "server": server,
        "path": "fastpath" if fast else "django (baseline)",
        "requests": run["requests"],
        "statuses": run["statuses"],
        "requests_per_s": round(run["requests"] / run["wall_s"], 1),
        "p50_ms": round(run["p50_ms"], 2),
        "p95_ms": round(run["p95_ms"], 2),
        "p99_ms": round(run["p99_ms"], 2),
        "cpu_ms_per_request": {
            "server": round(server_cpu * 1000 / n, 3),
            "postgresql": round(db_cpu * 1000 / n, 3) if ns.postgres else None,
            "driver": round(run["driver_cpu_s"] * 1000 / n, 3),
        },
        "click_rows_written": written,
        "answers_302": ok,
        "clicks_ok": 0 <= written - ok <= run["in_flight_at_stop"],
        "loadavg_start": load_start,
        "loadavg_end": load_end,
    }


def scenario(ns: argparse.Namespace) -> dict[str, Any]:
    """One database: fill it once, then each mode against a fresh server."""
    work = Path(tempfile.mkdtemp(prefix="rz-bench-links-"))
    if ns.postgres:
        recreate_pg_database(ns.pg_db)
    try:
        server_env = configure(ns, work)
        server_env["RESONANZ_CLICK_BUFFER_SECONDS"] = str(ns.buffer)
        codes = fill(ns.links)
        modes = [(server, True) for server in ns.servers]
        if not ns.no_baseline:
            modes.insert(1, (ns.servers[0], False))
        runs = [measure(ns, server_env, codes, server=server, fast=fast, work=work) for server, fast in modes]
    finally:
        if ns.postgres:
            with contextlib.suppress(Exception):
                from django.db import connections

                connections.close_all()
                recreate_pg_database(ns.pg_db, drop_only=True)
        shutil.rmtree(work, ignore_errors=True)
    return {
        "backend": "postgresql" if ns.postgres else "sqlite",
        "cache": "redis" if ns.redis_url else "locmem",
        "runs": runs,
    }


def postgres_reachable() -> bool:
    import psycopg

    from bench.publish_throughput import PG_ADMIN_URL

    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def line(backend: str, cache: str, run: dict[str, Any]) -> str:
    cpu = run["cpu_ms_per_request"]
    db = f", PostgreSQL {cpu['postgresql']}" if cpu["postgresql"] is not None else ""
    return (
        f"  {backend:10} {run['server']:8} {run['path']:17} {run['requests_per_s']:>8} req/s  "
        f"p50 {run['p50_ms']} p95 {run['p95_ms']} p99 {run['p99_ms']} ms  "
        f"CPU ms/request: server {cpu['server']}{db}, driver {cpu['driver']}  "
        f"clicks {run['click_rows_written']} / 302s {run['answers_302']} "
        f"({'ok' if run['clicks_ok'] else 'MISMATCH'})  load {run['loadavg_start']} -> {run['loadavg_end']}"
        f"  [cache {cache}]"
    )


def passed_on(argv: list[str]) -> list[str]:
    """The arguments for a child run, less those the parent decides (given again explicitly)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in {"--driver", "--servers"}:
            skip = True
        elif not arg.startswith(("--driver=", "--servers=")):
            out.append(arg)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="per mode (at most 30)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--servers",
        default="",
        help="comma-separated, first one also runs the baseline (default: granian if "
        "installed, then gunicorn)",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--pg-db", default=DB_NAME)
    parser.add_argument("--redis-url", default="", help="Redis as the cache of the PostgreSQL (scaled) run")
    parser.add_argument(
        "--buffer", type=float, default=0.5, help="RESONANZ_CLICK_BUFFER_SECONDS (0: one insert)"
    )
    parser.add_argument("--driver", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered requests/s, open loop (the asyncio driver; latency from each request's due time)",
    )
    parser.add_argument("--scenario", choices=["sqlite", "postgresql"], help=argparse.SUPPRESS)
    ns = parser.parse_args()
    ns.seconds = min(ns.seconds, 30.0)
    if ns.driver == "auto":
        ns.driver = "wrk" if shutil.which("wrk") else "python"
        if ns.driver == "python":
            print("wrk not found (apt-get install wrk): the asyncio driver in this process is used instead")
    if not ns.servers:
        have_granian = importlib.util.find_spec("granian") is not None
        ns.servers = "granian,gunicorn" if have_granian else "gunicorn"
        if not have_granian and not ns.scenario:
            print("Granian not installed (.venv/bin/pip install granian): gunicorn only")
    ns.servers = [s.strip() for s in ns.servers.split(",") if s.strip()]

    if ns.scenario:  # a child: one database, one Django setup
        ns.postgres = ns.scenario == "postgresql"
        if not ns.postgres:
            ns.redis_url = ""
        print("RESULT " + json.dumps(scenario(ns)), flush=True)
        return 0

    started_load = loadavg()
    print(
        f"redirect: {ns.workers} workers x {ns.threads} threads, {ns.connections} keep-alive connections "
        f"({'asyncio, open loop at ' + format(ns.rate, 'g') + ' req/s offered' if ns.rate else ns.driver}), "
        f"{ns.seconds:g} s per mode, click buffer {ns.buffer} s, {os.cpu_count()} CPUs; "
        f"load at start {started_load}",
        flush=True,
    )
    results = []
    for backend in [b.strip() for b in ns.backends.split(",") if b.strip()]:
        if backend == "postgresql" and not postgres_reachable():
            print("  postgresql: not reachable on 127.0.0.1:5432, skipped")
            continue
        argv = [sys.executable, __file__, "--scenario", backend, *passed_on(sys.argv[1:])]
        argv += ["--driver", ns.driver, "--servers", ",".join(ns.servers)]
        out = subprocess.run(argv, capture_output=True, text=True, check=False)
        found = [x for x in out.stdout.splitlines() if x.startswith("RESULT ")]
        if out.returncode or not found:
            print(out.stdout[-2000:], out.stderr[-4000:], file=sys.stderr)
            raise SystemExit(f"the {backend} run failed")
        result = json.loads(found[0][len("RESULT ") :])
        results.append(result)
        for run in result["runs"]:
            print(line(result["backend"], result["cache"], run), flush=True)
        fast = result["runs"][0]
        base = next((r for r in result["runs"] if r["path"] != "fastpath"), None)
        if base:
            cpu_ratio = base["cpu_ms_per_request"]["server"] / max(fast["cpu_ms_per_request"]["server"], 1e-6)
            print(
                f"  {result['backend']}: fast path / Django path ({fast['server']}): "
                f"{fast['requests_per_s'] / max(base['requests_per_s'], 0.1):.2f}x req/s, server CPU per "
                f"redirect: the Django path takes {cpu_ratio:.2f}x the fast path's",
                flush=True,
            )
    ended_load = loadavg()
    print(f"targets: >= {TARGET_RPS} req/s, p99 <= {TARGET_P99_MS} ms; load at end {ended_load}")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "redirect.json").write_text(
        json.dumps(
            {
                "loadavg_start": started_load,
                "loadavg_end": ended_load,
                "cpu_count": os.cpu_count(),
                "driver": ns.driver,
                "results": results,
            },
            indent=2,
        )
    )
    bad = [r for result in results for r in result["runs"] if not r["clicks_ok"]]
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
