"""The ``resonanz`` command.

resonanz up        embedded default: SQLite + ORM task queue, web and worker in one process tree
resonanz web       scaled: a web server (gunicorn) — run as many as needed
resonanz worker    scaled: a task worker (+ periodic ticker) — run as many as needed
resonanz stream    scaled: the push connections of networks that stream the inbox — one or more
resonanz manage …  any Django management command (migrate, createsuperuser, rotate_keys, …)
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_SETTINGS = "resonanz.config.settings.base"


def _django_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    return env


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    import django

    django.setup()


def cmd_manage(args: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["resonanz manage", *args])
    return 0


def cmd_web(ns: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEFAULT_SETTINGS)
    if ns.server == "granian":
        return _web_granian(ns)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "resonanz.config.wsgi:application",
        "--bind",
        ns.bind,
        "--workers",
        str(ns.workers),
        "--threads",
        str(ns.threads),
        "--worker-class",
        "gthread",
        "--no-control-socket",  # gunicorn 27 would share ~/.gunicorn/gunicorn.ctl between servers
        "--graceful-timeout",
        "10",
    ]
    if ns.access_log:
        argv += ["--access-logfile", "-"]
    os.execve(sys.executable, argv, _django_env())  # noqa: S606 - replaces this process on purpose
    return 0  # pragma: no cover


def _web_granian(ns: argparse.Namespace) -> int:
    """Granian (a maintained HTTP server in Rust) instead of gunicorn: its HTTP handling costs a fraction of
    gunicorn's per request (bench/redirect.py, docs/architecture.md ``links``). Not a dependency of the
    project: ``pip install granian`` first."""
    try:
        import granian  # noqa: F401
    except ImportError:
        print("resonanz web --server granian needs Granian: pip install granian", file=sys.stderr)
        return 2
    host, _sep, port = ns.bind.rpartition(":")
    argv = [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host or "127.0.0.1",
        "--port",
        port,
        "--workers",
        str(ns.workers),
        # One Python thread per process runs the application, as gunicorn's default here (--threads 1).
        "--blocking-threads",
        str(ns.threads),
        "--no-ws",
        "--workers-kill-timeout",
        "10",
    ]
    if ns.access_log:
        argv.append("--access-log")
    argv.append("resonanz.config.wsgi:application")
    os.execve(sys.executable, argv, _django_env())  # noqa: S606 - replaces this process on purpose
    return 0  # pragma: no cover


def cmd_worker(ns: argparse.Namespace) -> int:
    _setup_django()
    from resonanz.taskqueue.worker import run_worker

    run_worker(
        queues=ns.queues.split(","),
        threads=ns.threads,
        batch=ns.batch,
        ticker=not ns.no_ticker,
        stream=ns.stream,
    )
    return 0


def cmd_stream(ns: argparse.Namespace) -> int:
    """The stream consumer on its own (engagement/streams.py); SIGINT/SIGTERM end it within a moment."""
    _setup_django()
    import threading

    from resonanz.engagement.streams import run_stream_consumer

    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    run_stream_consumer(stop=stop)
    return 0


def cmd_up(ns: argparse.Namespace) -> int:
    """Embedded default. Stays thin (no Django import) so the idle footprint is the two children."""
    env = _django_env()
    env.setdefault("RESONANZ_ENV", "embedded")
    # --data-dir (whose default is $RESONANZ_DATA_DIR, else ./var) decides, for every child.
    env["RESONANZ_DATA_DIR"] = str(Path(ns.data_dir).resolve())
    # The port as given (flag or environment), so links in e-mails and short links point here.
    env["RESONANZ_PORT"] = str(ns.port)
    env.pop("DATABASE_URL", None) if ns.embedded_only else None
    (Path(env["RESONANZ_DATA_DIR"]) / "static").mkdir(parents=True, exist_ok=True)
    me = [sys.executable, "-m", "resonanz"]
    print(f"Resonanz: data in {env['RESONANZ_DATA_DIR']}", flush=True)
    subprocess.run([*me, "manage", "bootstrap", "--migrate"], env=env, check=True)
    children = [
        subprocess.Popen(
            [*me, "web", "--bind", f"{ns.host}:{ns.port}", "--workers", "1", "--threads", "8"], env=env
        ),
        # The worker process also keeps the inbox streams (a thread, not a third process).
        subprocess.Popen([*me, "worker", "--threads", "2", "--stream"], env=env),
    ]
    print(f"Resonanz is up: http://{ns.host}:{ns.port}/  (Ctrl-C stops web and worker)", flush=True)
    stopping = False

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    code = 0
    while not stopping:
        for child in children:
            if child.poll() is not None:
                print(
                    f"Resonanz: a child process exited ({child.args!r}, code {child.returncode}); stopping.",
                    file=sys.stderr,
                    flush=True,
                )
                stopping, code = True, child.returncode or 1
        time.sleep(0.3)
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    print("Resonanz stopped.", flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "manage":
        return cmd_manage(argv[1:])
    parser = argparse.ArgumentParser(
        prog="resonanz", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start the embedded default (SQLite, one process tree)")
    up.add_argument("--host", default=os.environ.get("RESONANZ_HOST", "127.0.0.1"))
    up.add_argument("--port", type=int, default=int(os.environ.get("RESONANZ_PORT", "8000")))
    up.add_argument("--data-dir", default=os.environ.get("RESONANZ_DATA_DIR", "var"))
    up.add_argument("--embedded-only", action="store_true", help="ignore DATABASE_URL")
    web = sub.add_parser("web", help="run a web server (scaled form)")
    web.add_argument("--bind", default=os.environ.get("RESONANZ_BIND", "127.0.0.1:8000"))
    # Pages are CPU-bound Python: one request per process at a time, one process more than cores (so a
    # core never idles while a process waits for PostgreSQL). Measured on 2 cores, 50 users: 3 x 1 gave
    # server-time p99 128 ms and 50 req/s; 2 x 8 gave 755 ms and 41 req/s (docs/operations.md).
    web.add_argument(
        "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", str((os.cpu_count() or 1) + 1)))
    )
    web.add_argument("--threads", type=int, default=int(os.environ.get("RESONANZ_WEB_THREADS", "1")))
    web.add_argument(
        "--server", choices=["gunicorn", "granian"], default=os.environ.get("RESONANZ_WEB_SERVER", "gunicorn")
    )
    web.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=os.environ.get("RESONANZ_ACCESS_LOG", "1").lower() not in {"0", "false", "no", "off"},
        help="one line per request on standard output (default on; the reverse proxy may log already)",
    )
    worker = sub.add_parser("worker", help="run a task worker (scaled form)")
    worker.add_argument("--queues", default="default,publish,sync")
    worker.add_argument("--threads", type=int, default=int(os.environ.get("RESONANZ_WORKER_THREADS", "4")))
    worker.add_argument("--batch", action="store_true", help="exit when the queue is empty")
    worker.add_argument("--no-ticker", action="store_true", help="do not run periodic jobs here")
    worker.add_argument(
        "--stream", action="store_true", help="keep the inbox streams here too (as `resonanz stream`)"
    )
    sub.add_parser("stream", help="keep the push connections of streaming networks (scaled form)")
    sub.add_parser("manage", help="run a Django management command")
    ns = parser.parse_args(argv)
    handlers = {"up": cmd_up, "web": cmd_web, "worker": cmd_worker, "stream": cmd_stream}
    return handlers[ns.command](ns)


if __name__ == "__main__":
    raise SystemExit(main())
