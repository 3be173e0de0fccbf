"""Encryption of secrets at rest (network tokens, app passwords).

MultiFernet with keys from ``RESONANZ_ENCRYPTION_KEYS``: the first key encrypts, every key decrypts, so a
key can be rotated by prepending a new one, running ``resonanz manage rotate_keys`` and then dropping
the old (docs/operations.md, "Key rotation").
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class DecryptionError(Exception):
    """The stored value was not encrypted with any configured key."""


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.ENCRYPTION_KEYS)
    if not keys:
        raise DecryptionError("RESONANZ_ENCRYPTION_KEYS is empty")
    return MultiFernet([Fernet(k.encode()) for k in keys])


def reset_key_cache() -> None:
    _fernet.cache_clear()


def encrypt_text(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret cannot be decrypted with the configured keys") from exc


def rotate_token(token: str) -> str:
    """Re-encrypt ``token`` with the primary key (no-op for values already under it)."""
    return _fernet().rotate(token.encode()).decode()


class EncryptedJSONField(models.Field[Any, Any]):
    """A JSON object stored as a Fernet token. Never queried by content, only read whole."""

    description = "Encrypted JSON"

    def get_internal_type(self) -> str:
        return "TextField"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return {}
        return json.loads(decrypt_text(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, dict):
            return value
        if value in (None, ""):
            return {}
        return json.loads(decrypt_text(value))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            value = {}
        return encrypt_text(json.dumps(value, sort_keys=True))
