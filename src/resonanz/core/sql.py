"""Array parameters for the hot paths' multi-row statements (publishing batches, the inbox's ingest).

Django's PostgreSQL backend binds parameters on the client by default: psycopg quotes every value into
the SQL text, and a list becomes an ``ARRAY[…]`` literal built value by value. The hot paths send whole
columns as arrays (``unnest(%b::bigint[], …)``, ``id = ANY(%b)``), so there that quoting is most of the
cost of a statement. :func:`array_cursor` gives them a cursor with server-side binding whose ``%b``
parameters psycopg sends in PostgreSQL's binary format (https://www.psycopg.org/psycopg3/docs/basic/params.html#binary-parameters-and-results).
Measured here (``bench/sql_arrays.py``, CPU per statement in the client, through Django's cursor): a
100-row, 5-column ``unnest`` 0.78-0.98 ms client-bound, 0.21-0.29 ms binary; 100 ids as ``IN (%s x 100)``
(``pk__in=ids``) 0.24 ms, as one array (:func:`ids_in`) 0.11 ms.

The cursor is Django's own wrapper around it (``make_cursor``/``make_debug_cursor``), so database errors
are Django's, broken transactions are refused and the statements are logged and counted like any other.
psycopg prepares a statement on the server once it has run five times on a connection
(``prepare_threshold``), which also saves PostgreSQL parsing and planning the same statement per batch.
SQLite has neither arrays nor binary parameters: there :func:`array_cursor` is the plain cursor and the
callers build ``VALUES`` lists, and :func:`ids_in` is the list itself.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator
from typing import Any

import psycopg
from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import RawSQL


def arrays_supported() -> bool:
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def array_cursor() -> Iterator[CursorWrapper]:
    """A cursor for statements with ``%b`` array parameters (PostgreSQL); the plain cursor elsewhere."""
    if not arrays_supported():
        with connection.cursor() as plain:
            yield plain
        return
    connection.ensure_connection()
    connection.validate_thread_sharing()
    raw: Any = psycopg.Cursor(connection.connection)
    wrapped = connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)
    with wrapped:
        yield wrapped


def ids_in(ids: Collection[int]) -> Any:
    """The right-hand side of ``pk__in=`` for many ids: on PostgreSQL one array parameter
    (``SELECT unnest(%s::bigint[])``: the statement's text stays the same whatever the count, so psycopg
    parses it once, and Django compiles no lookup per id); elsewhere the ids themselves."""
    if not arrays_supported():
        return list(ids)
    return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])
