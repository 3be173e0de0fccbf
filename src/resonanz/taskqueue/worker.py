"""``resonanz worker``: task worker threads for the configured backend, plus the periodic ticker."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from types import FrameType

from django.conf import settings

from .periodic import Ticker

logger = logging.getLogger(__name__)


def _is_redis() -> bool:
    return str(settings.TASKS["default"]["BACKEND"]).endswith("RedisBackend")


def run_worker(*, queues: list[str], threads: int = 2, batch: bool = False, ticker: bool = True) -> None:
    worker_base = f"{socket.gethostname()}:{os.getpid()}"
    workers: list[object] = []
    if _is_redis():
        from .redis_worker import RedisWorker

        for i in range(threads):
            workers.append(RedisWorker(queue_names=queues, worker_id=f"{worker_base}:{i}", batch=batch))
    else:
        from django_tasks_db.management.commands.db_worker import Worker

        for i in range(threads):
            workers.append(
                Worker(
                    queue_names=queues,
                    interval=0.2,
                    batch=batch,
                    backend_name="default",
                    startup_delay=False,
                    max_tasks=None,
                    worker_id=f"{worker_base}:{i}"[:64],
                    excluded_queue_names=[],
                )
            )
    tick = Ticker() if ticker else None
    if tick:
        tick.start()
    stop_event = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        logger.warning("worker stopping (%s): finishing current tasks", signal.strsignal(signum))
        stop_event.set()
        for w in workers:
            if hasattr(w, "stop"):
                w.stop()
            else:
                w.running = False  # type: ignore[attr-defined]

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    pool = [
        threading.Thread(target=w.run, name=f"resonanz-worker-{i}", daemon=True)  # type: ignore[attr-defined]
        for i, w in enumerate(workers)
    ]
    for t in pool:
        t.start()
    logger.info(
        "worker %s running %d thread(s) on queues %s (%s)",
        worker_base,
        threads,
        queues,
        "redis" if _is_redis() else "database",
    )
    for t in pool:
        while t.is_alive():
            t.join(0.5)
    if tick:
        tick.stop()
