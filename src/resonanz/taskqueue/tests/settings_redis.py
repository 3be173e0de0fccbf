"""Minimal settings for the Redis task backend tests - nothing else.

Run::

    .venv/bin/python -m pytest -p no:cacheprovider \
        --ds=resonanz.taskqueue.tests.settings_redis \
        --confcutdir=src/resonanz/taskqueue src/resonanz/taskqueue/tests -q

``--confcutdir`` keeps pytest from loading ``src/resonanz/conftest.py``, which
imports the project's models and therefore needs the full project settings.

Every key lives under a prefix that is unique per test run (and per
pytest-xdist worker), so parallel runs on one Redis never see each other's
tasks. The prefix is put into the environment so worker subprocesses started
by the tests (SIGKILL/SIGTERM tests) inherit it and use the same keys.
"""

from __future__ import annotations

import os
import uuid

_PREFIX_ENV = "RESONANZ_TASKQUEUE_TEST_PREFIX"

SECRET_KEY = "resonanz-taskqueue-tests-only"
DEBUG = False
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["django.contrib.contenttypes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("RESONANZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TASK_KEY_PREFIX = "{}:{}".format(
    os.environ.setdefault(_PREFIX_ENV, f"rztest:{uuid.uuid4().hex[:12]}"),
    os.environ.get("PYTEST_XDIST_WORKER", "main"),
)

TASKS = {
    "default": {
        "BACKEND": "resonanz.taskqueue.redis_backend.RedisBackend",
        "QUEUES": ["default", "low", "other"],
        "OPTIONS": {
            "url": REDIS_URL,
            "key_prefix": TASK_KEY_PREFIX,
            "result_ttl": 600,
        },
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"resonanz.taskqueue": {"handlers": ["console"], "level": "WARNING"}},
}
