"""Module-level tasks used by the Redis backend tests.

Side effects go to a Redis list (``<prefix>:test:log``) rather than to
memory, so tests can count runs that happened in worker subprocesses.
"""

from __future__ import annotations

import time
from typing import Any, cast

import redis
from django.conf import settings
from django.tasks import TaskContext, task


class SampleError(Exception):
    """Raised by :func:`fail`, so tests can check the stored class path."""


def _options() -> dict[str, Any]:
    return cast("dict[str, Any]", settings.TASKS["default"]["OPTIONS"])


def log_key() -> str:
    return f"{_options()['key_prefix']}:test:log"


def _client() -> redis.Redis:
    return redis.Redis.from_url(_options()["url"], decode_responses=True)


def logged() -> list[str]:
    return [str(item) for item in _client().lrange(log_key(), 0, -1)]


@task()
def add(a: int, b: int) -> int:
    return a + b


@task()
async def async_add(a: int, b: int) -> int:
    return a + b


@task()
def fail(message: str) -> None:
    raise SampleError(message)


@task()
def record(label: str) -> str:
    _client().rpush(log_key(), label)
    return label


@task(queue_name="other")
def record_other(label: str) -> str:
    _client().rpush(log_key(), label)
    return label


@task()
def slow(label: str, seconds: float) -> str:
    client = _client()
    client.rpush(log_key(), f"start:{label}")
    time.sleep(seconds)
    client.rpush(log_key(), f"end:{label}")
    return label


@task(takes_context=True)
def with_context(context: TaskContext[Any, Any], value: int) -> dict[str, Any]:
    return {
        "attempt": context.attempt,
        "id": context.task_result.id,
        "value": value,
    }


@task()
def unserialisable_return() -> object:
    return object()


@task(takes_context=True)
def slow_first_attempt(context: TaskContext[Any, Any], label: str, seconds: float) -> int:
    """Sleeps only on the first attempt, so a recovered re-run is quick."""
    client = _client()
    client.rpush(log_key(), f"start:{label}:{context.attempt}")
    if context.attempt == 1:
        time.sleep(seconds)
    client.rpush(log_key(), f"end:{label}:{context.attempt}")
    return context.attempt
