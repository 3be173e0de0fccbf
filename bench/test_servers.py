"""What the real WordPress and MediaWiki of the listening tests add to ``make test``.

    .venv/bin/python bench/test_servers.py [--runs 3]

For each run: ``WordPressTestSite`` (per-run document root, a MariaDB database, ``wp_install()``, an
application password, ``php -S`` up to its first feed) and ``MediaWikiTestSite`` (``install.php`` on SQLite,
a bot password, ``php -S``, the bot's login), each started, used once (WordPress: a post and a comment
through REST, then ``/feed/``; MediaWiki: an edit, then recent changes) and stopped (the database dropped,
the directory removed). Figures: wall seconds of start / use / stop, and CPU seconds of the PHP children
(``RUSAGE_CHILDREN``) and of this process. Baseline in the same run: a bare ``php -S`` on an empty
directory up to its first answer (PHP's own start), so the ratio says what the applications add.
The tests start one of each per session, so the suite's added time is one start + one stop of each.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testsupport.servers.mediawiki import MediaWikiTestSite, mediawiki_missing  # noqa: E402
from testsupport.servers.php import PhpServer, free_port  # noqa: E402
from testsupport.servers.wordpress import WordPressTestSite, wordpress_missing  # noqa: E402

ARTIFACTS = Path(os.environ.get("RESONANZ_ARTIFACTS", ROOT / "artifacts")) / "bench"


def _cpu() -> tuple[float, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    return children.ru_utime + children.ru_stime, me.ru_utime + me.ru_stime


def _timed(step: Callable[[], Any]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds of (waited-for) children, CPU seconds of this process."""
    child0, self0 = _cpu()
    t0 = time.monotonic()
    step()
    wall = time.monotonic() - t0
    child1, self1 = _cpu()
    return wall, child1 - child0, self1 - self0


def _bare_php() -> None:
    with tempfile.TemporaryDirectory() as empty:
        server = PhpServer(docroot=Path(empty), port=free_port())
        server.start()
        server.stop()


def _wordpress_run() -> dict[str, float]:
    site = WordPressTestSite(db_prefix=os.environ.get("RESONANZ_WORDPRESS_DB_PREFIX", "resonanz_wp_bench"))
    start = _timed(site.start)

    def use() -> None:
        post = site.create_post("Zorblax im Test", "Der Zorblax-Router.")
        site.create_comment(int(post["id"]), "Mein Zorblax!", author_name="Berta")
        httpx.get(site.url + "/feed/", timeout=30).raise_for_status()

    used = _timed(use)
    stop = _timed(site.stop)  # php -S is waited for here: its CPU lands in RUSAGE_CHILDREN
    return {
        "start_s": start[0],
        "install_s": site.install_seconds,
        "use_s": used[0],
        "stop_s": stop[0],
        "php_cpu_s": start[1] + used[1] + stop[1],
        "python_cpu_s": start[2] + used[2] + stop[2],
    }


def _mediawiki_run() -> dict[str, float]:
    site = MediaWikiTestSite()
    start = _timed(site.start)

    def use() -> None:
        site.edit("Zorblax GmbH", "Die Zorblax GmbH baut Router.", summary="Anlage")
        site.api("GET", action="query", list="recentchanges", rcdir="newer")

    used = _timed(use)
    stop = _timed(site.stop)
    return {
        "start_s": start[0],
        "use_s": used[0],
        "stop_s": stop[0],
        "php_cpu_s": start[1] + used[1] + stop[1],
        "python_cpu_s": start[2] + used[2] + stop[2],
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for reason in (wordpress_missing(), mediawiki_missing()):
        if reason:
            print(f"skipped: {reason}")
            return 1
    bare = [_timed(_bare_php) for _ in range(args.runs)]
    wordpress = [_wordpress_run() for _ in range(args.runs)]
    mediawiki = [_mediawiki_run() for _ in range(args.runs)]
    bare_s = statistics.median(b[0] for b in bare)
    result = {
        "runs": args.runs,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "bare_php_start_s": round(bare_s, 3),
        "wordpress": _median(wordpress),
        "mediawiki": _median(mediawiki),
    }
    result["wordpress"]["start_vs_bare_php"] = round(result["wordpress"]["start_s"] / bare_s, 1)
    result["mediawiki"]["start_vs_bare_php"] = round(result["mediawiki"]["start_s"] / bare_s, 1)
    session = sum(result[name]["start_s"] + result[name]["stop_s"] for name in ("wordpress", "mediawiki"))
    result["added_to_a_test_session_s"] = round(session, 2)
    print(json.dumps(result, indent=2))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "test_servers.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
