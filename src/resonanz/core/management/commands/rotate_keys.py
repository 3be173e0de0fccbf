"""Re-encrypt every stored secret with the primary (first) key of RESONANZ_ENCRYPTION_KEYS.

Rotation: prepend a new key, run this, then remove the old key from the list.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from resonanz.core.crypto import EncryptedJSONField, rotate_token


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the primary encryption key."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        # Every encrypted field of every installed model (channel logins, OAuth clients, pending
        # authorisations, listening sources' API keys...), so a new one cannot be forgotten here.
        encrypted = [
            (model._meta.db_table, model._meta.pk.column, field.column)  # type: ignore[union-attr]
            for model in apps.get_models()
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedJSONField)
        ]
        for table, pk_column, column in encrypted:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SELECT {pk_column}, {column} FROM {table}")  # noqa: S608 - names from our models
                rows = cursor.fetchall()
                for pk, token in rows:
                    if not token:
                        continue
                    cursor.execute(
                        f"UPDATE {table} SET {column} = %s WHERE {pk_column} = %s",  # noqa: S608
                        [rotate_token(token), pk],
                    )
                    total += 1
        self.stdout.write(f"Re-encrypted {total} secret(s).")
