"""Settings for the benchmarks: the project's settings plus the sink network (never used in production).

Selected with ``DJANGO_SETTINGS_MODULE=bench.settings_bench``; needs ``/work/main`` (the repository root)
on ``PYTHONPATH`` so that ``bench`` is importable by worker processes too.
"""

from __future__ import annotations

import os

from resonanz.config.settings.base import *  # noqa: F403
from resonanz.config.settings.base import (
    CACHES,
    LOGGING,
    RESONANZ_CONNECTORS,
    RESONANZ_NETWORK_CONCURRENCY,
    TASKS,
)

RESONANZ_CONNECTORS["sink"] = "bench.sink.connector.SinkConnector"
# High enough that the per-network cap never throttles the benchmark (the cap is a courtesy to real networks).
RESONANZ_NETWORK_CONCURRENCY["sink"] = int(os.environ.get("BENCH_SINK_CONCURRENCY", "512"))

# "bench": a queue no worker serves, used to time enqueueing without anything running it.
TASKS["default"]["QUEUES"] = [*TASKS["default"]["QUEUES"], "bench"]  # type: ignore[index]

# Keep the cache (network slots) under the benchmark's own Redis prefix too, so cleanup finds every key.
if CACHES["default"]["BACKEND"].endswith("RedisCache"):
    CACHES["default"]["KEY_PREFIX"] = os.environ.get("RESONANZ_REDIS_PREFIX", "rzbench")

# As shipped, "django.tasks" logs two INFO lines per task whatever LOG_LEVEL says (Django's "django"
# logger is INFO and propagates to our root handler). BENCH_TASK_LOG_LEVEL=WARNING measures without them.
if os.environ.get("BENCH_TASK_LOG_LEVEL"):
    LOGGING.setdefault("loggers", {})["django.tasks"] = {"level": os.environ["BENCH_TASK_LOG_LEVEL"]}  # type: ignore[index]
LOGGING["root"]["level"] = os.environ.get("LOG_LEVEL", "WARNING")  # type: ignore[index]
