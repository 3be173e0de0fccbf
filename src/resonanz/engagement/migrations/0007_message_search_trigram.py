"""The inbox search (``selectors.conversation_list(search=...)``) is ``UPPER(col::text) LIKE UPPER('%word%')``
(Django's ``icontains`` on PostgreSQL): without an index that reads every message of the database
(1.9 s at 100,000 conversations, bench/inbox_page.py). Trigram GIN indexes on exactly those expressions
let PostgreSQL find the matching messages. pg_trgm is a trusted extension (PostgreSQL 13+): the database's
owner may create it. SQLite (the embedded form) has no such index and keeps scanning: it holds far fewer
conversations. For a large existing table, build the index by hand first with CREATE INDEX CONCURRENTLY
and the same name; this migration then finds it (IF NOT EXISTS)."""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEXES = (
    ("engagement_message_text_trgm", 'UPPER("text"::text)'),
    ("engagement_message_author_trgm", 'UPPER("author_handle"::text)'),
)


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "engagement_message" USING gin ({expression} gin_trgm_ops)'
        )


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _expression in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("engagement", "0006_analytics_metrics")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
