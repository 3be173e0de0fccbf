"""``resonanz worker``: django-tasks-db worker threads, plus the periodic ticker."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from types import FrameType

from django.conf import settings
from django.db import close_old_connections

from .periodic import Ticker
from .reaper import worker_heartbeat_beat, worker_heartbeat_clear

logger = logging.getLogger(__name__)


def run_worker(
    *, queues: list[str], threads: int = 2, batch: bool = False, ticker: bool = True, stream: bool = False
) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    worker_base = f"{socket.gethostname()}:{os.getpid()}"
    workers = [
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
        for i in range(threads)
    ]
    worker_ids = [w.worker_id for w in workers]
    heartbeat = Heartbeat(worker_ids)
    heartbeat.start()
    tick = Ticker() if ticker else None
    if tick:
        tick.start()
    stop_event = threading.Event()
    streams: threading.Thread | None = None
    if stream and not batch:
        from resonanz.engagement.streams import run_stream_consumer

        streams = threading.Thread(
            target=run_stream_consumer, kwargs={"stop": stop_event}, name="resonanz-streams", daemon=True
        )
        streams.start()

    def _stop(signum: int, frame: FrameType | None) -> None:
        logger.warning("worker stopping (%s): finishing current tasks", signal.strsignal(signum))
        stop_event.set()
        for w in workers:
            w.running = False

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    pool = [
        threading.Thread(target=w.run, name=f"resonanz-worker-{i}", daemon=True)
        for i, w in enumerate(workers)
    ]
    for t in pool:
        t.start()
    logger.info("worker %s running %d thread(s) on queues %s", worker_base, threads, queues)
    for t in pool:
        while t.is_alive():
            t.join(0.5)
    stop_event.set()
    if streams is not None:
        streams.join(timeout=5)
    if tick:
        tick.stop()
    heartbeat.stop()
    heartbeat.join()
    worker_heartbeat_clear(worker_ids=worker_ids)
    close_old_connections()


class Heartbeat(threading.Thread):
    """Beats for this process's worker threads so the reaper knows their RUNNING tasks are held."""

    def __init__(self, worker_ids: list[str]) -> None:
        super().__init__(name="resonanz-heartbeat", daemon=True)
        self.worker_ids = worker_ids
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                close_old_connections()
                worker_heartbeat_beat(worker_ids=self.worker_ids)
            except Exception:
                logger.exception("worker heartbeat failed")
            self._stop_event.wait(float(settings.RESONANZ_WORKER_HEARTBEAT_SECONDS))
        close_old_connections()

    def stop(self) -> None:
        self._stop_event.set()
