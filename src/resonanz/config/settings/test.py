"""Test settings: the embedded form by default; ``DATABASE_URL``/``REDIS_URL`` switch to the scaled one."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("RESONANZ_ENV", "test")
os.environ.setdefault("RESONANZ_DATA_DIR", tempfile.mkdtemp(prefix="resonanz-test-"))

from .base import *  # noqa: F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed; tests only.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(os.environ["RESONANZ_DATA_DIR"], "test.sqlite3")}
ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]
RESONANZ_HTTP_TIMEOUT_SECONDS = 5.0
# The test servers and emulators listen on 127.0.0.1 (core/tests/test_server_urls.py turns it off again).
RESONANZ_ALLOW_PRIVATE_SERVERS = True
os.makedirs(os.path.join(os.environ["RESONANZ_DATA_DIR"], "static"), exist_ok=True)
# The tests' Resonanz has no public address on purpose; the public media check (posts/checks.py) is
# tested by calling it, so `manage` commands of the test run do not repeat its warning.
SILENCED_SYSTEM_CHECKS = ["resonanz.W101"]
