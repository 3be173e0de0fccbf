"""The reaper returns to READY every kind of task a dead worker held, and prunes old results."""

from __future__ import annotations

import importlib
import os
import pkgutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.tasks import Task, TaskResultStatus
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

import resonanz
from resonanz.core.models import WorkerHeartbeat
from resonanz.taskqueue.reaper import task_results_prune, tasks_reap, worker_heartbeat_beat

from .slow_tasks import hold


def _project_tasks() -> list[Task[..., object]]:
    found: list[Task[..., object]] = []
    for info in pkgutil.iter_modules(resonanz.__path__):
        if not info.ispkg:
            continue
        try:
            module = importlib.import_module(f"resonanz.{info.name}.tasks")
        except ModuleNotFoundError:
            continue
        found.extend(v for v in vars(module).values() if isinstance(v, Task))
    return found


def _claimed(result_id: str, *, worker_ids: list[str], started: timedelta) -> None:
    DBTaskResult.objects.filter(id=result_id).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now() - started, worker_ids=worker_ids
    )


def _enqueue_any(task: Task[..., object]) -> str:
    # The reaper never looks at arguments; a stored row of each task path is what matters.
    row = DBTaskResult.objects.create(
        task_path=task.module_path,
        args_kwargs={"args": [], "kwargs": {}},
        queue_name=task.queue_name,
        backend_name="default",
        run_after=timezone.now(),
    )
    return str(row.id)


@pytest.mark.django_db
@override_settings(RESONANZ_WORKER_STALE_SECONDS=15, RESONANZ_TASK_MAX_RECOVERIES=3)
def test_every_project_task_kind_of_a_dead_worker_goes_back_to_ready() -> None:
    kinds = _project_tasks()
    assert len(kinds) >= 4  # publishing, sweep, engagement sync, channel check at least
    ids = [_enqueue_any(t) for t in kinds]
    for result_id in ids:
        _claimed(result_id, worker_ids=["dead-host:1:0"], started=timedelta(seconds=60))
    report = tasks_reap()
    assert report.requeued == len(kinds)
    assert set(DBTaskResult.objects.filter(id__in=ids).values_list("status", flat=True)) == {"READY"}


@pytest.mark.django_db
@override_settings(RESONANZ_WORKER_STALE_SECONDS=15)
def test_tasks_of_beating_workers_and_fresh_claims_are_left_alone() -> None:
    kinds = _project_tasks()
    beating, fresh = _enqueue_any(kinds[0]), _enqueue_any(kinds[0])
    worker_heartbeat_beat(worker_ids=["alive:1:0"])
    _claimed(beating, worker_ids=["alive:1:0"], started=timedelta(minutes=10))
    _claimed(fresh, worker_ids=["no-beat-yet:2:0"], started=timedelta(seconds=1))
    assert tasks_reap().requeued == 0
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"RUNNING"}


@pytest.mark.django_db
@override_settings(RESONANZ_WORKER_STALE_SECONDS=15)
def test_a_stopped_heartbeat_makes_the_task_stale() -> None:
    result_id = _enqueue_any(_project_tasks()[0])
    worker_heartbeat_beat(worker_ids=["w:1:0"], now=timezone.now() - timedelta(seconds=30))
    _claimed(result_id, worker_ids=["w:1:0"], started=timedelta(seconds=40))
    assert tasks_reap().requeued == 1
    row = DBTaskResult.objects.get(id=result_id)
    assert (row.status, row.started_at) == (TaskResultStatus.READY, None)


@pytest.mark.django_db
@override_settings(RESONANZ_WORKER_STALE_SECONDS=15, RESONANZ_TASK_MAX_RECOVERIES=2)
def test_a_task_that_keeps_killing_its_workers_fails_with_a_reason() -> None:
    result_id = _enqueue_any(_project_tasks()[0])
    _claimed(result_id, worker_ids=["a:1:0", "b:2:0", "c:3:0"], started=timedelta(seconds=60))
    assert tasks_reap().failed == 1
    row = DBTaskResult.objects.get(id=result_id)
    assert row.status == TaskResultStatus.FAILED
    assert row.exception_class_path == "resonanz.taskqueue.reaper.WorkerLost"
    assert "died 3 times" in row.traceback


@pytest.mark.django_db
@override_settings(RESONANZ_TASK_RESULT_DAYS=7)
def test_prune_deletes_only_old_finished_results() -> None:
    kind = _project_tasks()[0]
    old, recent, waiting = _enqueue_any(kind), _enqueue_any(kind), _enqueue_any(kind)
    now = timezone.now()
    DBTaskResult.objects.filter(id=old).update(status="SUCCESSFUL", finished_at=now - timedelta(days=8))
    DBTaskResult.objects.filter(id=recent).update(status="FAILED", finished_at=now - timedelta(days=1))
    assert task_results_prune() == 1
    assert {str(i) for i in DBTaskResult.objects.values_list("id", flat=True)} == {recent, waiting}


@pytest.mark.django_db
def test_old_heartbeat_rows_are_removed() -> None:
    worker_heartbeat_beat(worker_ids=["gone:1:0"], now=timezone.now() - timedelta(hours=2))
    worker_heartbeat_beat(worker_ids=["here:1:0"])
    tasks_reap()
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["here:1:0"]


def _database_url() -> str:
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def _start_worker(tmp_path: Path, name: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
            "RESONANZ_ENV": "test",
            "DATABASE_URL": _database_url(),
            "RESONANZ_WORKER_HEARTBEAT_SECONDS": "0.5",
            "RESONANZ_WORKER_STALE_SECONDS": "2",
            "RESONANZ_REAP_INTERVAL_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    src = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH", "")]))
    log = (tmp_path / f"{name}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "resonanz", "worker", "--threads", "1"], env=env, stdout=log, stderr=log
    )


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.engine
@pytest.mark.django_db(transaction=True)
def test_sigkilled_worker_task_is_run_again_by_another_worker(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    result = hold.enqueue(marker_dir=str(markers))
    first = _start_worker(tmp_path, "worker-1")
    try:
        _wait(lambda: any(markers.iterdir()), 30, "the first worker to start the task")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.RUNNING
    killed_at = time.monotonic()
    second = _start_worker(tmp_path, "worker-2")
    try:
        _wait(
            lambda: DBTaskResult.objects.get(id=result.id).status == TaskResultStatus.SUCCESSFUL,
            30,
            "the second worker to finish the recovered task",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(20)
    row = DBTaskResult.objects.get(id=result.id)
    assert row.return_value == 2
    assert len(row.worker_ids) == 2
    assert row.worker_ids[0] != row.worker_ids[1]
    assert time.monotonic() - killed_at < 30
    assert len(list(markers.iterdir())) == 2
