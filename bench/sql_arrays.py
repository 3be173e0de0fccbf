"""CPU in the client per statement: whole columns as arrays, client-bound (Django's default) or binary.

    .venv/bin/python bench/sql_arrays.py               # 100 rows, 500 statements each, PostgreSQL 127.0.0.1

Four ways the hot paths could send 100 rows or 100 ids (``resonanz.core.sql``), each through Django's
own cursor wrapper on the same connection, so the figures include what Django adds:

- ``unnest`` of five typed arrays (bigint, text, text, timestamptz, jsonb), ``%s`` on Django's default
  cursor (psycopg's client-side binding quotes each value into the SQL text) and ``%b`` on
  ``array_cursor()`` (binary parameters, server-side binding);
- ``id IN (%s, … x 100)`` (what ``filter(pk__in=ids)`` sends) against ``IN (SELECT unnest(%s::bigint[]))``
  (``core.sql.ids_in``) and ``= ANY(%b)``.

The baseline of each pair runs in the same process and connection. Prints the medians of five rounds.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

ROWS = 100
STATEMENTS = 500


def cpu_ms(run: Callable[[], None], rounds: int = 5) -> float:
    run()  # warm: parse caches, prepared statements
    figures = []
    for _ in range(rounds):
        started = time.process_time()
        for _ in range(STATEMENTS):
            run()
        figures.append((time.process_time() - started) * 1000 / STATEMENTS)
    return statistics.median(figures)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.test")
    os.environ.setdefault("RESONANZ_ENV", "test")
    default_url = "postgres://postgres@127.0.0.1:5432/postgres"
    os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", default_url)
    import django

    django.setup()
    from django.db import connection

    from resonanz.core.sql import array_cursor

    ids = list(range(10**6, 10**6 + ROWS))
    keys = [f"rz-{i}-g0-p0" for i in ids]
    stamps = [datetime.now(UTC)] * ROWS
    extras = [json.dumps({"n": i}) for i in ids]
    columns = [ids, keys, keys, stamps, extras]
    unnest = (
        "SELECT count(*) FROM unnest({p}::bigint[], {p}::text[], {p}::text[], "
        "{p}::timestamptz[], {p}::jsonb[])"
    )

    def run_plain(sql: str, params: Sequence[object]) -> Callable[[], None]:
        def run() -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        return run

    def run_binary(sql: str, params: Sequence[object]) -> Callable[[], None]:
        def run() -> None:
            with array_cursor() as cursor:
                cursor.execute(sql, params)
                cursor.fetchall()

        return run

    in_list = "SELECT 1 WHERE 1 IN (" + ", ".join(["%s"] * ROWS) + ")"
    figures = {
        "unnest, 5 columns, client-bound %s": cpu_ms(run_plain(unnest.format(p="%s"), columns)),
        "unnest, 5 columns, binary %b (array_cursor)": cpu_ms(run_binary(unnest.format(p="%b"), columns)),
        "IN (%s x 100) (pk__in=ids)": cpu_ms(run_plain(in_list, ids)),
        "IN (SELECT unnest(%s::bigint[])) (ids_in)": cpu_ms(
            run_plain("SELECT 1 WHERE 1 IN (SELECT unnest(%s::bigint[]))", [ids])
        ),
        "= ANY(%b) (array_cursor)": cpu_ms(run_binary("SELECT 1 WHERE 1 = ANY(%b::bigint[])", [ids])),
    }
    width = max(len(name) for name in figures)
    print(f"{ROWS} rows or ids per statement, CPU ms per statement here (median of 5 x {STATEMENTS})")
    for name, value in figures.items():
        print(f"  {name:<{width}}  {value:.3f}")
    values = list(figures.values())
    unnest_ratio, in_ratio = values[0] / values[1], values[2] / values[3]
    print(f"binary unnest: {unnest_ratio:.1f}x less CPU; ids_in: {in_ratio:.1f}x less CPU than pk__in=ids")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
