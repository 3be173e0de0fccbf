"""Recovery of tasks held by a crashed worker, worker heartbeats, and pruning of finished results.

django-tasks-db marks a claimed task RUNNING and appends the worker's id to ``worker_ids``; if the
worker dies (SIGKILL, OOM, lost machine) the task stays RUNNING for ever. Every ``resonanz worker``
therefore beats (``worker_heartbeat_beat``), and the periodic ticker runs ``tasks_reap``, which returns
to READY every RUNNING task whose last worker stopped beating, whatever kind of task it is. A task
that keeps killing its workers is failed after ``RESONANZ_TASK_MAX_RECOVERIES`` recoveries so it
cannot take the cluster down in a loop.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from resonanz.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class WorkerLost(Exception):
    """Recorded as the error of a task failed by the reaper (its workers kept dying while running it)."""


@dataclass(frozen=True)
class ReapReport:
    requeued: int
    failed: int


def worker_heartbeat_beat(*, worker_ids: list[str], now: datetime | None = None) -> None:
    """Record that these worker threads of this process are alive (one upsert for all of them)."""
    beat = now or timezone.now()
    host, pid = socket.gethostname()[:255], os.getpid()
    WorkerHeartbeat.objects.bulk_create(
        [WorkerHeartbeat(worker_id=w, host=host, pid=pid, last_beat=beat) for w in worker_ids],
        update_conflicts=True,
        unique_fields=["worker_id"],
        update_fields=["host", "pid", "last_beat"],
    )


def worker_heartbeat_clear(*, worker_ids: list[str]) -> None:
    """A worker that stops cleanly withdraws its heartbeats (it finished its tasks first)."""
    WorkerHeartbeat.objects.filter(worker_id__in=worker_ids).delete()


def tasks_reap(*, now: datetime | None = None) -> ReapReport:
    """Return to READY (or fail, past the recovery limit) the RUNNING tasks of workers that stopped beating.

    A task is stale when it started more than ``RESONANZ_WORKER_STALE_SECONDS`` ago and its last
    worker has no heartbeat that recent (a worker killed before its first beat has no row at all).
    Each update is conditional on the task's ``started_at``, so a task re-claimed meanwhile is left alone.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.RESONANZ_WORKER_STALE_SECONDS)
    beating = WorkerHeartbeat.objects.filter(last_beat__gte=stale_before)
    alive = set(beating.values_list("worker_id", flat=True))
    candidates = DBTaskResult.objects.running().filter(started_at__lt=stale_before)
    requeued = failed = 0
    for task_id, started_at, worker_ids in candidates.values_list("id", "started_at", "worker_ids"):
        if worker_ids and worker_ids[-1] in alive:
            continue
        # Each claim appends the worker's id, so the claims beyond the first are earlier recoveries.
        recoveries = max(len(worker_ids) - 1, 0)
        same_claim = DBTaskResult.objects.filter(
            id=task_id, status=TaskResultStatus.RUNNING, started_at=started_at
        )
        if recoveries >= settings.RESONANZ_TASK_MAX_RECOVERIES:
            failed += same_claim.update(
                status=TaskResultStatus.FAILED,
                finished_at=now,
                return_value=None,
                exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
                traceback=(
                    f"WorkerLost: the workers running this task died {recoveries + 1} times "
                    f"(workers {', '.join(worker_ids)}); not retried again "
                    f"(RESONANZ_TASK_MAX_RECOVERIES={settings.RESONANZ_TASK_MAX_RECOVERIES})"
                ),
            )
        else:
            requeued += same_claim.update(status=TaskResultStatus.READY, started_at=None)
    # Rows of workers long gone (stopped by SIGKILL, so never cleared) are no longer needed.
    WorkerHeartbeat.objects.filter(last_beat__lt=now - timedelta(hours=1)).delete()
    if requeued or failed:
        logger.warning("reaper: %d task(s) of dead workers back to READY, %d failed", requeued, failed)
    return ReapReport(requeued=requeued, failed=failed)


def task_results_prune(*, now: datetime | None = None) -> int:
    """Delete finished task results older than ``RESONANZ_TASK_RESULT_DAYS``; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.RESONANZ_TASK_RESULT_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted
