"""Start-up check: the configured encryption keys can read the stored channel logins.

A key that is well-formed but wrong (another installation's, or the old one dropped too early after a
rotation) passes every settings check and then makes each page that lists channels fail. ``manage check``
(which ``resonanz up`` and ``migrate`` run) reports it instead, before anyone opens a page.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.checks import CheckMessage, Error, register
from django.db import DatabaseError, connection

from resonanz.core.crypto import DecryptionError, decrypt_text

SAMPLE = 50  # the most recently changed logins; enough to tell a wrong key from one damaged row


@register()
def encryption_keys_read_channels_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    from .models import Channel

    table = Channel._meta.db_table
    try:
        if table not in connection.introspection.table_names():
            return []  # not migrated yet: nothing stored
        # The raw column: loading the model would decrypt (and fail) in from_db_value.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT credentials FROM {connection.ops.quote_name(table)} "  # noqa: S608 - our table name
                "WHERE credentials <> '' ORDER BY id DESC LIMIT %s",
                [SAMPLE],
            )
            tokens = [row[0] for row in cursor.fetchall()]
    except DatabaseError:
        return []  # no database yet (or not reachable): other checks and commands report that
    unreadable = 0
    for token in tokens:
        try:
            decrypt_text(token)
        except DecryptionError:
            unreadable += 1
    if tokens and unreadable == len(tokens):
        return [
            Error(
                "None of the stored channel logins can be decrypted with RESONANZ_ENCRYPTION_KEYS.",
                hint=(
                    "The keys are wrong, or the key that encrypted them was removed. Restore the previous "
                    "value of RESONANZ_ENCRYPTION_KEYS (docs/operations.md, key rotation)."
                ),
                id="resonanz.E001",
            )
        ]
    if unreadable:
        return [
            checks.Warning(
                f"{unreadable} of the {len(tokens)} most recent channel logins cannot be decrypted with "
                "RESONANZ_ENCRYPTION_KEYS.",
                hint="Those channels must be reconnected, or the missing key added back.",
                id="resonanz.W001",
            )
        ]
    return []
