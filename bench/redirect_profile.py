"""Where the redirect's server CPU goes, without a server or a network: the WSGI application called in this
process with a synthetic environ (issue 11, step 1 of the redirect figure).

Prints CPU microseconds per redirect (``time.process_time``) for Django's handler (the middleware path,
``RESONANZ_LINK_FASTPATH`` off) and for the fast path (``links/fastpath.py``), both with the click buffer on
(so the insert is not in the loop; it is timed apart, per row of a multi-row insert), and the top functions
of a cProfile of each. Production settings on a temporary SQLite database.

    .venv/bin/python bench/redirect_profile.py --requests 20000
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.redirect import BROWSER, configure, fill  # noqa: E402


def environ_for(code: str) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/l/{code}",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_USER_AGENT": BROWSER,
        "HTTP_ACCEPT": "text/html",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def run(app: Any, codes: list[str], n: int) -> float:
    """CPU seconds for ``n`` redirects through ``app``."""
    status: list[str] = []

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        status.append(s)

    picks = [random.choice(codes) for _ in range(n)]
    started = time.process_time()
    for code in picks:
        body = app(environ_for(code), start_response)
        for _chunk in body:
            pass
        close = getattr(body, "close", None)
        if close is not None:
            close()
    spent = time.process_time() - started
    if any(not s.startswith("302") for s in status):
        raise SystemExit(f"unexpected answers: {set(status)}")
    return spent


def profile(app: Any, codes: list[str], n: int, top: int) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    run(app, codes, n)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--links", type=int, default=200)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true")
    ns = parser.parse_args()
    ns.postgres, ns.redis_url = False, ""
    data_dir = Path(tempfile.mkdtemp(prefix="rz-bench-links-prof-"))
    try:
        configure(ns, data_dir)
        import os

        os.environ["RESONANZ_CLICK_BUFFER_SECONDS"] = "3600"  # rows collect; written below, timed apart
        codes = fill(ns.links)
        from django.core.wsgi import get_wsgi_application

        from resonanz.links.fastpath import ShortLinkApp
        from resonanz.links.services import click_buffer

        django_app = get_wsgi_application()
        fast_app = ShortLinkApp(django_app)
        run(django_app, codes, 2000)  # warm: caches, the day's salt, imports
        run(fast_app, codes, 2000)
        click_buffer.flush()
        figures = {}
        for name, app in (("django", django_app), ("fastpath", fast_app)):
            figures[name] = run(app, codes, ns.requests) * 1e6 / ns.requests
        pending = click_buffer.pending()
        started = time.process_time()
        click_buffer.flush()
        insert_us = (time.process_time() - started) * 1e6 / max(pending, 1)
        print(
            f"redirect in-process CPU per request: Django handler {figures['django']:.1f} µs, "
            f"fast path {figures['fastpath']:.1f} µs (ratio {figures['django'] / figures['fastpath']:.1f}x); "
            f"buffered insert {insert_us:.1f} µs per click ({pending} rows, SQLite)"
        )
        if not ns.no_profile:
            for name, app in (("django", django_app), ("fastpath", fast_app)):
                print(f"--- cProfile, {name}, {ns.requests} redirects, by own time ---")
                print(profile(app, codes, ns.requests, ns.top))
                click_buffer.flush()
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
