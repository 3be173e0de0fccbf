"""Re-encrypt every stored secret with the primary (first) key of RESONANZ_ENCRYPTION_KEYS.

Rotation: prepend a new key, run this, then remove the old key from the list.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction

from resonanz.channels.models import Channel, OAuthClient, PendingOAuth
from resonanz.core.crypto import rotate_token


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the primary encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model, field in ((Channel, "credentials"), (OAuthClient, "credentials"), (PendingOAuth, "data")):
            table = model._meta.db_table
            column = model._meta.get_field(field).column  # type: ignore[union-attr]
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT id, {column} FROM {table}")  # noqa: S608 - names from our models
                rows = cursor.fetchall()
                for pk, token in rows:
                    if not token:
                        continue
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608
                        [rotate_token(token), pk],
                    )
                    total += 1
        self.stdout.write(f"Re-encrypted {total} secret(s).")
