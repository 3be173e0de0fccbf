"""Tests for RedisBackend + RedisWorker against a real Redis.

Run with the dedicated settings (the project's default test settings use the
ORM backend, and this module skips itself there)::

    .venv/bin/python -m pytest -p no:cacheprovider \
        --ds=resonanz.taskqueue.tests.settings_redis \
        --confcutdir=src/resonanz/taskqueue src/resonanz/taskqueue/tests -q

(``--confcutdir``: the project-wide ``src/resonanz/conftest.py`` imports the
project's models, which these minimal settings do not install.)
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.tasks import TaskResultStatus, task_backends
from django.tasks.exceptions import TaskResultDoesNotExist, TaskResultMismatch
from django.tasks.signals import task_enqueued, task_finished, task_started
from django.utils import timezone

from resonanz.taskqueue.redis_backend import RedisBackend

if not getattr(settings, "TASK_KEY_PREFIX", None) or not isinstance(task_backends["default"], RedisBackend):
    pytest.skip(
        "needs --ds=resonanz.taskqueue.tests.settings_redis",
        allow_module_level=True,
    )

from resonanz.taskqueue.redis_worker import RedisWorker
from resonanz.taskqueue.tests import sample_tasks

SRC_DIR = Path(__file__).resolve().parents[3]


# -- fixtures and helpers ------------------------------------------------------


@pytest.fixture
def backend() -> Iterator[RedisBackend]:
    be = task_backends["default"]
    assert isinstance(be, RedisBackend)
    try:
        be.client.ping()
    except redis.ConnectionError as exc:  # pragma: no cover - environment problem
        pytest.fail(f"Redis not reachable at {be.url}: {exc}")
    # The prefix is unique per run; guard against ever wiping foreign keys.
    assert be.key_prefix.startswith("rztest:"), be.key_prefix
    _delete_prefix(be)
    yield be
    _delete_prefix(be)


def _delete_prefix(be: RedisBackend) -> None:
    keys = list(be.client.scan_iter(match=f"{be.key_prefix}:*", count=1000))
    if keys:
        be.client.delete(*keys)


def run_batch(**kwargs: Any) -> RedisWorker:
    options: dict[str, Any] = {
        "queue_names": ["default"],
        "batch": True,
        "poll_timeout": 0.2,
        "heartbeat_ttl": 2.0,
        "install_signal_handlers": False,
    }
    options.update(kwargs)
    worker = RedisWorker(**options)
    worker.run()
    return worker


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def start_worker_process(worker_id: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    options = {
        "queue_names": ["default"],
        "batch": False,
        "worker_id": worker_id,
        "heartbeat_ttl": 1.0,
        "poll_timeout": 0.5,
        **kwargs,
    }
    code = (
        "import sys, django\n"
        "django.setup()\n"
        "from resonanz.taskqueue.redis_worker import redis_worker_main\n"
        f"sys.exit(redis_worker_main(**{options!r}))\n"
    )
    env = {
        **os.environ,  # carries RESONANZ_TASKQUEUE_TEST_PREFIX -> same keys
        "DJANGO_SETTINGS_MODULE": "resonanz.taskqueue.tests.settings_redis",
        "PYTHONPATH": os.pathsep.join(p for p in (str(SRC_DIR), os.environ.get("PYTHONPATH", "")) if p),
    }
    return subprocess.Popen([sys.executable, "-c", code], env=env)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


# -- enqueue / get_result ------------------------------------------------------


def test_enqueue_stores_record_and_returns_ready_result(backend: RedisBackend) -> None:
    result = sample_tasks.add.enqueue(2, b=3)

    assert result.status == TaskResultStatus.READY
    assert result.backend == "default"
    assert result.args == [2]
    assert result.kwargs == {"b": 3}
    assert result.enqueued_at is not None
    assert result.started_at is None
    assert result.worker_ids == []

    record = backend.client.hgetall(backend.keys.task(result.id))
    assert record["task_path"] == "resonanz.taskqueue.tests.sample_tasks.add"
    assert record["queue"] == "default"
    assert record["status"] == "READY"
    assert backend.client.zscore(backend.keys.ready("default"), result.id) is not None
    assert backend.client.ttl(backend.keys.task(result.id)) == -1  # unfinished: no TTL

    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.READY
    assert fetched.task.func is sample_tasks.add.func
    assert fetched.args == [2]
    assert fetched.kwargs == {"b": 3}
    assert fetched.enqueued_at == result.enqueued_at


def test_get_result_of_unknown_id_raises(backend: RedisBackend) -> None:
    with pytest.raises(TaskResultDoesNotExist):
        backend.get_result(str(uuid.uuid4()))
    with pytest.raises(TaskResultDoesNotExist):
        backend.get_result("")
    result = sample_tasks.add.enqueue(1, 1)
    with pytest.raises(TaskResultMismatch):
        sample_tasks.record.get_result(result.id)


def test_args_must_be_json_serialisable(backend: RedisBackend) -> None:
    with pytest.raises(TypeError):
        sample_tasks.record.enqueue(object())  # type: ignore[arg-type]
    assert list(backend.client.scan_iter(match=f"{backend.key_prefix}:*")) == []


# -- running -------------------------------------------------------------------


def test_worker_runs_task_successfully(backend: RedisBackend) -> None:
    result = sample_tasks.add.enqueue(2, 3)

    worker = run_batch(worker_id="w-success")

    assert worker.tasks_run == 1
    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert result.worker_ids == ["w-success"]
    assert result.attempts == 1
    assert result.errors == []
    assert result.enqueued_at is not None
    assert result.started_at is not None
    assert result.finished_at is not None
    assert result.last_attempted_at is not None
    assert result.enqueued_at <= result.started_at <= result.finished_at
    assert backend.client.llen(backend.keys.processing("w-success")) == 0
    assert 0 < backend.client.ttl(backend.keys.task(result.id)) <= 600  # result_ttl
    # A clean exit leaves no heartbeat and no registration behind.
    assert not backend.client.exists(backend.keys.heartbeat("w-success"))
    assert not backend.client.sismember(backend.keys.workers, "w-success")


def test_failing_task_is_failed_with_exception_path(backend: RedisBackend) -> None:
    result = sample_tasks.fail.enqueue("boom")

    run_batch()

    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.exception_class_path == "resonanz.taskqueue.tests.sample_tasks.SampleError"
    assert error.exception_class is sample_tasks.SampleError
    assert "SampleError: boom" in error.traceback
    with pytest.raises(ValueError, match="Task failed"):
        result.return_value  # noqa: B018


def test_unserialisable_return_value_fails_the_task(backend: RedisBackend) -> None:
    result = sample_tasks.unserialisable_return.enqueue()
    run_batch()
    result.refresh()
    assert result.status == TaskResultStatus.FAILED
    assert result.errors[0].exception_class_path == "builtins.TypeError"


def test_task_with_context_and_async_task(backend: RedisBackend) -> None:
    ctx_result = sample_tasks.with_context.enqueue(7)
    async_result = asyncio.run(sample_tasks.async_add.aenqueue(20, 22))

    run_batch()

    ctx_result.refresh()
    assert ctx_result.return_value == {"attempt": 1, "id": ctx_result.id, "value": 7}
    fetched = asyncio.run(sample_tasks.async_add.aget_result(async_result.id))
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    value: object = fetched.return_value  # the stubs type it as the coroutine
    assert value == 42


def test_signals_are_sent(backend: RedisBackend) -> None:
    seen: list[tuple[str, str]] = []

    def receiver(name: str) -> Callable[..., None]:
        def handle(sender: type, task_result: Any, **kwargs: Any) -> None:
            assert sender is RedisBackend
            seen.append((name, str(task_result.status)))

        return handle

    handlers = {
        task_enqueued: receiver("enqueued"),
        task_started: receiver("started"),
        task_finished: receiver("finished"),
    }
    for sig, handler in handlers.items():
        sig.connect(handler)
    try:
        sample_tasks.add.enqueue(1, 2)
        sample_tasks.fail.enqueue("x")
        run_batch()
    finally:
        for sig, handler in handlers.items():
            sig.disconnect(handler)

    assert seen == [
        ("enqueued", "READY"),
        ("enqueued", "READY"),
        ("started", "RUNNING"),
        ("finished", "SUCCESSFUL"),
        ("started", "RUNNING"),
        ("finished", "FAILED"),
    ]


def test_priority_orders_ready_tasks_across_queues(backend: RedisBackend) -> None:
    sample_tasks.record.using(priority=-10).enqueue("low")
    sample_tasks.record.enqueue("first-0")
    sample_tasks.record.using(priority=50).enqueue("high")
    sample_tasks.record.enqueue("second-0")
    sample_tasks.record_other.using(priority=20).enqueue("other-20")

    run_batch(queue_names=["default", "other"])

    assert sample_tasks.logged() == ["high", "other-20", "first-0", "second-0", "low"]


def test_worker_only_serves_its_queues(backend: RedisBackend) -> None:
    other = sample_tasks.record_other.enqueue("other")
    run_batch(queue_names=["default"])
    assert backend.get_result(other.id).status == TaskResultStatus.READY
    run_batch(queue_names=["*"])
    assert backend.get_result(other.id).status == TaskResultStatus.SUCCESSFUL


def test_max_tasks(backend: RedisBackend) -> None:
    for label in "abc":
        sample_tasks.record.enqueue(label)
    worker = run_batch(max_tasks=2)
    assert worker.tasks_run == 2
    assert sample_tasks.logged() == ["a", "b"]


# -- deferred tasks ------------------------------------------------------------


def test_run_after_is_not_run_before_due(backend: RedisBackend) -> None:
    run_after = timezone.now() + timedelta(seconds=1)
    result = sample_tasks.record.using(run_after=run_after).enqueue("later")
    assert result.task.run_after == run_after
    assert backend.client.zscore(backend.keys.deferred("default"), result.id) is not None

    worker = run_batch()
    assert worker.tasks_run == 0
    assert backend.get_result(result.id).status == TaskResultStatus.READY

    time.sleep(max(0.0, (run_after - timezone.now()).total_seconds()) + 0.1)
    worker = run_batch()

    assert worker.tasks_run == 1
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.task.run_after == run_after
    assert fetched.started_at is not None
    assert fetched.started_at >= run_after


def test_run_after_in_the_past_is_ready_at_once(backend: RedisBackend) -> None:
    result = sample_tasks.record.using(run_after=timezone.now() - timedelta(minutes=5)).enqueue("past")
    assert backend.client.zscore(backend.keys.ready("default"), result.id) is not None
    run_batch()
    assert backend.get_result(result.id).status == TaskResultStatus.SUCCESSFUL


def test_idle_worker_wakes_when_deferred_task_is_due(backend: RedisBackend) -> None:
    worker = RedisWorker(
        queue_names=["default"],
        max_tasks=1,
        poll_timeout=30,  # the wait must be cut short by the due time
        heartbeat_ttl=2.0,
        install_signal_handlers=False,
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    time.sleep(0.5)  # let it block in BLPOP with nothing deferred yet
    started = time.monotonic()
    result = sample_tasks.record.using(run_after=timezone.now() + timedelta(seconds=1)).enqueue("due")
    thread.join(timeout=10)
    elapsed = time.monotonic() - started
    if thread.is_alive():
        worker.stop()
        thread.join(timeout=5)
        pytest.fail("worker did not run the deferred task")
    assert 0.9 <= elapsed < 4, elapsed
    assert backend.get_result(result.id).status == TaskResultStatus.SUCCESSFUL


def test_idle_worker_wakes_on_enqueue_and_stop(backend: RedisBackend) -> None:
    worker = RedisWorker(
        queue_names=["default"],
        poll_timeout=30,
        heartbeat_ttl=2.0,
        install_signal_handlers=False,
    )
    thread = threading.Thread(target=worker.run)
    thread.start()
    time.sleep(0.3)
    result = sample_tasks.add.enqueue(1, 1)
    wait_until(lambda: backend.get_result(result.id).is_finished, timeout=5)

    stop_at = time.monotonic()
    worker.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert time.monotonic() - stop_at < 3  # the wake-up list cut BLPOP short
    assert worker.tasks_run == 1


# -- at-least-once delivery ----------------------------------------------------


def test_orphaned_task_is_recovered_and_run_exactly_once(backend: RedisBackend) -> None:
    result = sample_tasks.record.enqueue("orphan")
    # Simulate a worker that claimed the task and was then SIGKILLed: the id
    # sits on its processing list and it has no heartbeat key.
    assert backend.claim("dead-worker", ["default"]) == result.id
    assert backend.get_result(result.id).status == TaskResultStatus.RUNNING
    assert not backend.client.exists(backend.keys.heartbeat("dead-worker"))

    worker = run_batch(worker_id="rescuer")

    assert worker.tasks_run == 1
    assert sample_tasks.logged() == ["orphan"]
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.worker_ids == ["dead-worker", "rescuer"]
    assert fetched.attempts == 2
    assert backend.client.llen(backend.keys.processing("dead-worker")) == 0
    assert not backend.client.sismember(backend.keys.workers, "dead-worker")

    assert run_batch().tasks_run == 0
    assert sample_tasks.logged() == ["orphan"]


def test_tasks_of_live_workers_are_not_recovered(backend: RedisBackend) -> None:
    result = sample_tasks.record.enqueue("busy")
    backend.client.set(backend.keys.heartbeat("live-worker"), "{}", px=10_000)
    assert backend.claim("live-worker", ["default"]) == result.id

    assert run_batch().tasks_run == 0

    assert backend.client.lrange(backend.keys.processing("live-worker"), 0, -1) == [result.id]
    assert backend.get_result(result.id).status == TaskResultStatus.RUNNING


def test_finished_task_left_on_processing_list_is_not_rerun(backend: RedisBackend) -> None:
    # Belt and braces: FINISH removes the id atomically, but if a finished id
    # is ever found on a dead worker's list it must only be dropped.
    result = sample_tasks.record.enqueue("done")
    run_batch()
    backend.client.rpush(backend.keys.processing("ghost"), result.id)
    backend.client.sadd(backend.keys.workers, "ghost")

    assert backend.recover_orphans() == 0
    assert run_batch().tasks_run == 0
    assert sample_tasks.logged() == ["done"]


def test_sigkilled_worker_process_task_is_rerun(
    backend: RedisBackend, processes: list[subprocess.Popen[bytes]]
) -> None:
    result = sample_tasks.slow_first_attempt.enqueue("k", 60)
    proc = start_worker_process("victim", heartbeat_ttl=1.0)
    processes.append(proc)
    wait_until(lambda: "start:k:1" in sample_tasks.logged(), timeout=20)

    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert backend.get_result(result.id).status == TaskResultStatus.RUNNING

    # The victim's heartbeat (TTL 1 s) must expire before recovery may act.
    wait_until(lambda: not backend.client.exists(backend.keys.heartbeat("victim")), 5)
    worker = run_batch(worker_id="successor")

    assert worker.tasks_run == 1
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.return_value == 2
    assert fetched.worker_ids == ["victim", "successor"]
    assert sample_tasks.logged() == ["start:k:1", "start:k:2", "end:k:2"]


def test_sigterm_finishes_current_task_then_exits(
    backend: RedisBackend, processes: list[subprocess.Popen[bytes]]
) -> None:
    result = sample_tasks.slow.enqueue("t", 1.0)
    queued = sample_tasks.record.enqueue("after")
    proc = start_worker_process("graceful")
    processes.append(proc)
    wait_until(lambda: "start:t" in sample_tasks.logged(), timeout=20)

    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=15) == 0
    assert backend.get_result(result.id).status == TaskResultStatus.SUCCESSFUL
    # The worker stopped after the current task; the next one stays queued.
    assert backend.get_result(queued.id).status == TaskResultStatus.READY
    assert sample_tasks.logged() == ["start:t", "end:t"]
    assert not backend.client.exists(backend.keys.heartbeat("graceful"))
    assert not backend.client.exists(backend.keys.processing("graceful"))
    assert not backend.client.sismember(backend.keys.workers, "graceful")


def test_sigterm_when_idle_exits_promptly(
    backend: RedisBackend, processes: list[subprocess.Popen[bytes]]
) -> None:
    proc = start_worker_process("idle", poll_timeout=30)
    processes.append(proc)
    wait_until(lambda: bool(backend.client.exists(backend.keys.heartbeat("idle"))), 20)
    time.sleep(0.3)  # let it reach BLPOP

    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    assert time.monotonic() - sent < 5
    assert not backend.client.sismember(backend.keys.workers, "idle")


def test_second_sigterm_aborts_and_requeues_task(
    backend: RedisBackend, processes: list[subprocess.Popen[bytes]]
) -> None:
    result = sample_tasks.slow_first_attempt.enqueue("a", 60)
    proc = start_worker_process("impatient")
    processes.append(proc)
    wait_until(lambda: "start:a:1" in sample_tasks.logged(), timeout=20)

    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)

    assert proc.wait(timeout=15) == 1
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.READY  # put back, not FAILED
    assert fetched.errors == []
    assert backend.client.zscore(backend.keys.ready("default"), result.id) is not None

    run_batch(worker_id="next")
    fetched = backend.get_result(result.id)
    assert fetched.status == TaskResultStatus.SUCCESSFUL
    assert fetched.worker_ids == ["impatient", "next"]


def test_duplicate_live_worker_id_is_refused(backend: RedisBackend) -> None:
    backend.client.set(backend.keys.heartbeat("twin"), "{}", px=60_000)
    with pytest.raises(ImproperlyConfigured, match="unique"):
        run_batch(worker_id="twin", heartbeat_ttl=0.4)
