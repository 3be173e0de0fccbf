"""Short-link redirect throughput (issue 11: ≥ 3,000 redirects/s on 2 cores with clicks, p99 ≤ 20 ms).

1. A fresh database (SQLite in a temp directory, or PostgreSQL ``resonanz_bench_links`` with ``--postgres``,
   recreated and dropped again), migrated, with one workspace and ``--links`` short links.
2. The web server as production runs it: ``python -m resonanz web --bind 127.0.0.1:<port> --workers W
   --threads T`` (production settings, DEBUG off, no access log).
3. A load driver in this process: ``--concurrency`` asyncio connections, each sending ``GET /l/<code>``
   (HTTP/1.1, ``Connection: close`` as gunicorn's sync workers close anyway, a browser User-Agent so that
   the click counts), for ``--requests`` requests or ``--seconds`` seconds, whichever ends first. Raw
   sockets rather than httpx: the driver shares the two cores with the server, and a lighter client
   leaves more of them to what is measured.
4. Prints requests/s, p50/p99 client latency (loopback, includes queueing for a free worker), status
   counts and the click rows written; writes JSON to ``artifacts/bench/redirect.json``.

    .venv/bin/python bench/redirect.py --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
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
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
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
    port: int, codes: list[str], *, requests: int, seconds: float, concurrency: int, keepalive: bool
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    sent = 0
    connection = "keep-alive" if keepalive else "close"

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
            sent += 1
            t = time.perf_counter()
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


def postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().startswith("postgres"):
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


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60_000)
    parser.add_argument("--seconds", type=float, default=15.0, help="stop after this long (at most 30)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--redis-url", default="", help="Redis as the cache (the scaled form)")
    parser.add_argument(
        "--buffer",
        type=float,
        default=0.0,
        help="RESONANZ_CLICK_BUFFER_SECONDS of the server (0: one insert)",
    )
    parser.add_argument("--no-keepalive", action="store_true", help="a new connection per request")
    ns = parser.parse_args()
    ns.seconds = min(ns.seconds, 30.0)

    data_dir = Path(tempfile.mkdtemp(prefix="rz-bench-links-"))
    if ns.postgres:
        recreate_pg_database(DB_NAME)
    server_env = configure(ns, data_dir)
    server_env["RESONANZ_CLICK_BUFFER_SECONDS"] = str(ns.buffer)
    codes = fill(ns.links)
    port = free_port()
    cmd = [sys.executable, "-m", "resonanz", "web", "--bind", f"127.0.0.1:{port}"]
    cmd += ["--workers", str(ns.workers), "--threads", str(ns.threads)]
    server = subprocess.Popen(cmd, env=server_env, start_new_session=True)
    try:
        wait_ready(port, codes[0])
        before = click_rows()
        load = os.getloadavg()[0]
        pids = process_tree(server.pid)
        db_pids = postgres_pids() if ns.postgres else []
        server_cpu, db_cpu, driver_cpu = cpu_seconds(pids), cpu_seconds(db_pids), time.process_time()
        run = asyncio.run(
            drive(
                port,
                codes,
                requests=ns.requests,
                seconds=ns.seconds,
                concurrency=ns.concurrency,
                keepalive=not ns.no_keepalive,
            )
        )
        server_cpu, db_cpu = cpu_seconds(pids) - server_cpu, cpu_seconds(db_pids) - db_cpu
        driver_cpu = time.process_time() - driver_cpu
        time.sleep(0.5 + ns.buffer * 2)  # buffered clicks reach the database within the interval
        written = click_rows() - before
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
        if ns.postgres:
            with contextlib.suppress(Exception):
                recreate_pg_database(DB_NAME, drop_only=True)
        shutil.rmtree(data_dir, ignore_errors=True)

    lat = run["latencies"]
    ok = run["statuses"].get("302", 0)
    result = {
        "backend": "postgresql" if ns.postgres else "sqlite",
        "cache": "redis" if ns.redis_url else "locmem",
        "workers": ns.workers,
        "threads": ns.threads,
        "concurrency": ns.concurrency,
        "keepalive": not ns.no_keepalive,
        "click_buffer_s": ns.buffer,
        "requests": len(lat),
        "statuses": run["statuses"],
        "wall_s": round(run["wall_s"], 2),
        "requests_per_s": round(len(lat) / run["wall_s"], 1),
        "p50_ms": round(percentile(lat, 50) or 0, 2),
        "p99_ms": round(percentile(lat, 99) or 0, 2),
        "click_rows_written": written,
        "clicks_per_302": round(written / ok, 3) if ok else None,
        "cpu_ms_per_request": {
            "server": round(server_cpu * 1000 / max(len(lat), 1), 3),
            "postgresql": round(db_cpu * 1000 / max(len(lat), 1), 3) if ns.postgres else None,
            "driver": round(driver_cpu * 1000 / max(len(lat), 1), 3),
        },
        "cpu_count": os.cpu_count(),
        "loadavg_1m_before": round(load, 2),
        "targets": {"requests_per_s": TARGET_RPS, "p99_ms": TARGET_P99_MS},
    }
    print(
        f"redirect ({result['backend']}, cache {result['cache']}, "
        f"{ns.workers} workers x {ns.threads} threads, "
        f"concurrency {ns.concurrency}, keep-alive {not ns.no_keepalive}, click buffer {ns.buffer} s): "
        f"{result['requests_per_s']} req/s, p50 {result['p50_ms']} ms, "
        f"p99 {result['p99_ms']} ms, {len(lat)} requests {run['statuses']}, click rows written {written} "
        f"(load before {result['loadavg_1m_before']}); CPU ms per request {result['cpu_ms_per_request']}"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "redirect.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
