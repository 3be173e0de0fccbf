"""Worker process for :class:`resonanz.taskqueue.redis_backend.RedisBackend`.

One loop iteration:

1. every ``recover_interval`` seconds: :meth:`RedisWorker.recover_orphans`;
2. move due deferred tasks to the ready sets (one Lua script, Redis clock);
3. claim the best ready task: one Lua script moves its id from the ready set
   onto ``P:processing:<worker_id>`` and marks it RUNNING (the reliable-queue
   pattern - see the module docstring of ``redis_backend`` for why this is a
   script and not ``BLMOVE``);
4. run it, then record the result *and* remove the id from the processing
   list in one atomic step;
5. if nothing was ready: exit (``batch``) or block on ``BLPOP`` of the
   queues' notify lists for at most ``poll_timeout`` seconds, or until the next
   deferred task is due, whichever is sooner.

Delivery is at-least-once. A worker refreshes ``P:worker:<worker_id>`` (TTL
``heartbeat_ttl``) from a background thread. If the process dies without
cleaning up (SIGKILL, OOM, power loss), its heartbeat expires and the next
orphan recovery on any worker moves the ids from its processing list back to
the ready set, so the task runs again - the attempt shows up as a second entry
in ``worker_ids``. A task is run twice only if a worker dies after the task's
side effects but before its result was stored, or if a live worker stalls for
longer than ``heartbeat_ttl``; tasks should therefore be idempotent.

Shutdown: SIGINT/SIGTERM (main thread only) or :meth:`RedisWorker.stop` let
the current task finish, then the worker exits. A second signal aborts the
running task; it is not marked FAILED but put back on its queue.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Sequence
from traceback import format_exception
from types import FrameType
from typing import Any, Final

import redis
from django.core.exceptions import ImproperlyConfigured
from django.db import close_old_connections
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django.tasks.base import TaskContext, TaskError, TaskResult, TaskResultStatus
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.json import normalize_json

from .redis_backend import RedisBackend, datetime_to_us

__all__ = ["RedisWorker", "WorkerTerminated", "redis_worker_main"]

logger = logging.getLogger("resonanz.taskqueue")

MAX_WORKER_ID_LENGTH: Final = 128
_HANDLED_SIGNALS: Final = (signal.SIGINT, signal.SIGTERM)
_SignalHandler = Callable[[int, FrameType | None], Any] | int | signal.Handlers | None


class WorkerTerminated(BaseException):
    """Raised inside a running task when a second SIGINT/SIGTERM arrives.

    A BaseException so that ``except Exception`` in task code does not
    swallow it. The aborted task is put back on its queue, not marked FAILED.
    """


class _Interrupted(BaseException):
    """Raised by the signal handler to break out of a blocking BLPOP."""


def default_worker_id() -> str:
    """host:pid:random - unique across machines and restarts."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{get_random_string(8)}"


def _exception_path(exc: BaseException) -> str:
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


class RedisWorker:
    """Runs tasks from one or more queues of a :class:`RedisBackend`.

    :param queue_names: queues to serve, in no particular order (priority
        decides across queues). ``"*"`` means every configured queue plus any
        queue that has ever been enqueued to.
    :param backend_name: alias in ``settings.TASKS``; must be a RedisBackend.
    :param worker_id: MUST be unique across the pool (default: host:pid:random).
    :param batch: exit as soon as nothing is ready and no deferred task is due.
    :param max_tasks: exit after running this many tasks.
    :param poll_timeout: longest BLPOP wait, in seconds (further capped below
        the client's socket_timeout, 5 s by default in redis-py); also bounds
        how long ``stop()`` may take when its wake-up cannot be delivered.
    :param heartbeat_ttl: seconds after which a silent worker counts as dead
        and its tasks are recovered by others. The heartbeat is refreshed every
        ``heartbeat_ttl / 3`` seconds.
    :param recover_interval: seconds between orphan recoveries (default:
        ``heartbeat_ttl``).
    :param install_signal_handlers: None = only when running on the main thread.
    """

    def __init__(
        self,
        *,
        queue_names: Sequence[str] = ("default",),
        backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
        worker_id: str | None = None,
        batch: bool = False,
        max_tasks: int | None = None,
        poll_timeout: float = 5.0,
        heartbeat_ttl: float = 30.0,
        recover_interval: float | None = None,
        install_signal_handlers: bool | None = None,
    ) -> None:
        if isinstance(queue_names, str):
            queue_names = [queue_names]
        if not queue_names:
            raise ValueError("queue_names must not be empty.")
        worker_id = worker_id or default_worker_id()
        if len(worker_id) > MAX_WORKER_ID_LENGTH or any(c.isspace() for c in worker_id):
            raise ValueError(
                f"worker_id must be at most {MAX_WORKER_ID_LENGTH} characters without whitespace."
            )
        if max_tasks is not None and max_tasks <= 0:
            raise ValueError("max_tasks must be greater than zero.")
        if poll_timeout <= 0:
            raise ValueError("poll_timeout must be greater than zero.")
        if heartbeat_ttl < 0.3:
            raise ValueError("heartbeat_ttl must be at least 0.3 seconds.")

        backend = task_backends[backend_name]
        if not isinstance(backend, RedisBackend):
            raise ImproperlyConfigured(f"Task backend {backend_name!r} is not a RedisBackend.")
        self.backend: RedisBackend = backend
        self.backend_name = backend_name
        self.queue_names: list[str] = list(queue_names)
        self.worker_id: str = worker_id
        self.batch = batch
        self.max_tasks = max_tasks
        self.poll_timeout = float(poll_timeout)
        self.heartbeat_ttl = float(heartbeat_ttl)
        self.recover_interval = float(recover_interval if recover_interval is not None else heartbeat_ttl)
        self.install_signal_handlers = install_signal_handlers

        #: Number of tasks this worker has run (finished or failed).
        self.tasks_run = 0
        self._stop_event = threading.Event()
        self._heartbeat_stop = threading.Event()
        self._heartbeat_thread: threading.Thread | None = None
        self._running_task = False
        self._blocking = False
        self._previous_handlers: dict[int, _SignalHandler] = {}
        self._heartbeat_info = json.dumps(
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "queues": self.queue_names,
                "backend": backend_name,
            }
        )

    # -- public API -------------------------------------------------------

    def stop(self) -> None:
        """Ask the worker to exit after the current task. Thread-safe.

        Also pushes a token onto the worker's own wake-up list so a worker
        blocked in BLPOP notices at once instead of after ``poll_timeout``.
        """
        self._stop_event.set()
        try:
            wake_key = self.backend.keys.wake(self.worker_id)
            pipe = self.backend.client.pipeline(transaction=True)
            pipe.lpush(wake_key, "stop")
            pipe.expire(wake_key, max(int(self.poll_timeout) + 60, 60))
            pipe.execute()
        except redis.RedisError:
            logger.debug("Could not send wake-up to worker %s", self.worker_id)

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def recover_orphans(self) -> int:
        """Requeue the tasks of workers whose heartbeat expired (see module doc)."""
        count = self.backend.recover_orphans(exclude=self.worker_id)
        if count:
            logger.warning(
                "Recovered %d task(s) from dead workers (worker_id=%s)",
                count,
                self.worker_id,
            )
        return count

    def run(self) -> int:
        """Run until stopped; returns the number of tasks run by this call.

        Raises :class:`WorkerTerminated` if a second signal aborted a task.
        """
        self._install_signals()
        try:
            self._register()
            try:
                self._loop()
            finally:
                self._unregister()
        finally:
            self._restore_signals()
        return self.tasks_run

    # -- main loop --------------------------------------------------------

    def _loop(self) -> None:
        logger.info(
            "Starting Redis task worker worker_id=%s queues=%s batch=%s",
            self.worker_id,
            ",".join(self.queue_names),
            self.batch,
        )
        next_recovery = 0.0
        backoff = 0.0
        while not self._stop_event.is_set():
            try:
                if time.monotonic() >= next_recovery:
                    self.recover_orphans()
                    next_recovery = time.monotonic() + self.recover_interval
                queues = self._resolve_queues()
                next_due = self.backend.promote_due(queues)
                task_id = self.backend.claim(self.worker_id, queues)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                backoff = self._redis_unavailable(backoff, exc)
                continue
            backoff = 0.0

            if task_id is not None:
                self._run_task(task_id)
                self.tasks_run += 1
                if self.max_tasks is not None and self.tasks_run >= self.max_tasks:
                    logger.info(
                        "Ran maximum tasks (%d) on worker_id=%s - exiting.",
                        self.tasks_run,
                        self.worker_id,
                    )
                    return
                continue

            if self.batch:
                logger.info("No more tasks to run for worker_id=%s - exiting.", self.worker_id)
                return

            timeout = self.poll_timeout
            if next_due is not None:
                timeout = min(timeout, next_due)
            try:
                self._wait(queues, timeout)
            except (redis.ConnectionError, redis.TimeoutError) as exc:
                backoff = self._redis_unavailable(backoff, exc)

    def _redis_unavailable(self, backoff: float, exc: redis.RedisError) -> float:
        """Sleep with exponential backoff: a Redis restart or failover must
        not kill a whole fleet of workers. Returns the next backoff."""
        backoff = min(max(backoff * 2, 0.5), 10.0)
        logger.error("Redis unavailable (%s); retrying in %.1fs", exc, backoff)
        self._stop_event.wait(backoff)
        return backoff

    def _resolve_queues(self) -> list[str]:
        if "*" in self.queue_names:
            return sorted(self.backend.known_queues())
        return self.queue_names

    def _wait(self, queues: Sequence[str], timeout: float) -> None:
        # Emulate Django's request cycle: drop stale DB connections while idle.
        close_old_connections()
        try:
            # While _blocking is set, a signal handler raises _Interrupted to
            # break out of BLPOP immediately (like the DB worker's sys.exit
            # when idle). redis-py drops the connection on BaseException, so
            # no half-read reply is left behind in the pool.
            self._blocking = True
            try:
                if not self._stop_event.is_set():
                    self.backend.wait_for_work(queues, self.worker_id, timeout)
            finally:
                self._blocking = False
        except _Interrupted:
            pass

    # -- running one task -------------------------------------------------

    def _run_task(self, task_id: str) -> None:
        backend = self.backend
        sender = type(backend)
        self._running_task = True
        try:
            close_old_connections()
            record = self._persist(lambda: backend.fetch_record(task_id))
            if record is None:
                # Deleted between claim and fetch; nothing to run or record.
                self._persist(lambda: backend.finish(task_id, self.worker_id, None))
                return

            task_result: TaskResult[Any, Any] | None = None
            try:
                task_result = backend.result_from_record(record)
                task = task_result.task
                task_started.send(sender=sender, task_result=task_result)
                if task.takes_context:
                    raw_return_value = task.call(
                        TaskContext(task_result=task_result),
                        *task_result.args,
                        **task_result.kwargs,
                    )
                else:
                    raw_return_value = task.call(*task_result.args, **task_result.kwargs)
                # Serialise inside the try, so an unserialisable return value
                # is recorded as the task's failure (as the DB worker does).
                return_value = normalize_json(raw_return_value)
                encoded_return_value = json.dumps(return_value)
            except (WorkerTerminated, KeyboardInterrupt):
                # Forced shutdown: leave the id on the processing list; run()
                # puts it back on its queue while unregistering.
                raise
            except BaseException as exc:  # noqa: BLE001 - any failure is the task's outcome
                # Recorded (and the signal sent) inside the except block so the
                # task_finished log handler can attach exc_info.
                self._record_failure(task_id, record, task_result, exc)
            else:
                finished_at = timezone.now()
                fields = {
                    "status": TaskResultStatus.SUCCESSFUL.value,
                    "finished_at": str(datetime_to_us(finished_at)),
                    "return_value": encoded_return_value,
                }
                self._store_outcome(task_id, fields)
                object.__setattr__(task_result, "status", TaskResultStatus.SUCCESSFUL)
                object.__setattr__(task_result, "finished_at", finished_at)
                object.__setattr__(task_result, "_return_value", return_value)
                self._send_finished(task_result)
        finally:
            self._running_task = False
            close_old_connections()

    def _record_failure(
        self,
        task_id: str,
        record: dict[str, str],
        task_result: TaskResult[Any, Any] | None,
        exc: BaseException,
    ) -> None:
        finished_at = timezone.now()
        error = TaskError(
            exception_class_path=_exception_path(exc),
            traceback="".join(format_exception(exc)),
        )
        previous = json.loads(record.get("errors") or "[]")
        previous.append(
            {
                "exception_class_path": error.exception_class_path,
                "traceback": error.traceback,
            }
        )
        fields = {
            "status": TaskResultStatus.FAILED.value,
            "finished_at": str(datetime_to_us(finished_at)),
            "errors": json.dumps(previous),
            "return_value": "null",
        }
        self._store_outcome(task_id, fields)

        if task_result is None:
            # The task could not even be loaded (e.g. ImportError); there is no
            # TaskResult to send with the signal.
            logger.error(
                "Task id=%s path=%s failed to load",
                task_id,
                record.get("task_path"),
                exc_info=exc,
            )
            return
        object.__setattr__(task_result, "status", TaskResultStatus.FAILED)
        object.__setattr__(task_result, "finished_at", finished_at)
        task_result.errors.append(error)
        self._send_finished(task_result)

    def _send_finished(self, task_result: TaskResult[Any, Any]) -> None:
        # The outcome is already stored; a broken receiver must not take the
        # worker (and the tasks queued behind this one) down with it.
        try:
            task_finished.send(sender=type(self.backend), task_result=task_result)
        except Exception:
            logger.exception("task_finished receiver failed for task id=%s", task_result.id)

    def _store_outcome(self, task_id: str, fields: dict[str, str]) -> None:
        still_ours = self._persist(lambda: self.backend.finish(task_id, self.worker_id, fields))
        if not still_ours:
            logger.warning(
                "Task id=%s was recovered from worker_id=%s while running "
                "(heartbeat lapsed?); it may run again elsewhere.",
                task_id,
                self.worker_id,
            )

    def _persist[T](self, operation: Callable[[], T]) -> T:
        """Retry a Redis call for ~30 s while holding a claimed task: giving up
        means the task is only rerun after this worker's heartbeat expires (or
        the result of a task that already ran is lost and it runs again)."""
        delay = 0.1
        for attempt in range(10):
            try:
                return operation()
            except (redis.ConnectionError, redis.TimeoutError):
                if attempt == 9:
                    raise
                logger.warning("Redis write failed; retrying in %.1fs", delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AssertionError("unreachable")

    # -- registration and heartbeat ----------------------------------------

    def _heartbeat_ms(self) -> int:
        return int(self.heartbeat_ttl * 1000)

    def _register(self) -> None:
        client = self.backend.client
        keys = self.backend.keys
        heartbeat_key = keys.heartbeat(self.worker_id)
        # The heartbeat must exist *before* we appear in the workers set, or
        # another worker's recovery could treat us as dead. NX detects a live
        # worker with the same id; wait out the TTL of a crashed predecessor.
        deadline = time.monotonic() + self.heartbeat_ttl * 1.5 + 1
        while not client.set(heartbeat_key, self._heartbeat_info, nx=True, px=self._heartbeat_ms()):
            if time.monotonic() > deadline:
                raise ImproperlyConfigured(
                    f"Another live worker uses worker_id {self.worker_id!r}; worker ids must be unique."
                )
            time.sleep(min(0.5, self.heartbeat_ttl / 3))
        client.sadd(keys.workers, self.worker_id)
        client.delete(keys.wake(self.worker_id))
        # Anything left on a processing list under our id belongs to a dead
        # predecessor with the same id: put it back on its queue.
        leftover = self.backend.requeue_processing(self.worker_id, force=True, forget_worker=False)
        if leftover:
            logger.warning(
                "Requeued %d task(s) left by a previous worker_id=%s",
                leftover,
                self.worker_id,
            )
        self._heartbeat_stop.clear()
        self._heartbeat_thread = threading.Thread(
            target=self._heartbeat_loop,
            name=f"redis-worker-heartbeat-{self.worker_id}",
            daemon=True,
        )
        self._heartbeat_thread.start()

    def _heartbeat_loop(self) -> None:
        client = self.backend.client
        keys = self.backend.keys
        heartbeat_key = keys.heartbeat(self.worker_id)
        interval = self.heartbeat_ttl / 3
        while not self._heartbeat_stop.wait(interval):
            try:
                # XX: only refresh; a missing key means we were presumed dead.
                if not client.set(heartbeat_key, self._heartbeat_info, xx=True, px=self._heartbeat_ms()):
                    logger.warning(
                        "Heartbeat of worker_id=%s had expired; its tasks may "
                        "have been recovered by other workers.",
                        self.worker_id,
                    )
                    client.set(heartbeat_key, self._heartbeat_info, px=self._heartbeat_ms())
                    client.sadd(keys.workers, self.worker_id)
            except redis.RedisError:
                logger.warning("Heartbeat failed for worker_id=%s", self.worker_id, exc_info=True)

    def _unregister(self) -> None:
        self._heartbeat_stop.set()
        if self._heartbeat_thread is not None:
            self._heartbeat_thread.join(timeout=5)
            self._heartbeat_thread = None
        keys = self.backend.keys
        try:
            # Normally empty; non-empty after a forced stop. Requeue before
            # the heartbeat disappears, then forget this worker.
            released = self.backend.requeue_processing(self.worker_id, force=True, forget_worker=True)
            if released:
                logger.warning("Put %d unfinished task(s) back on their queues", released)
            self.backend.client.delete(keys.heartbeat(self.worker_id), keys.wake(self.worker_id))
        except redis.RedisError:
            # Redis is gone: the heartbeat expires by itself and the tasks are
            # recovered by the next worker that can reach Redis.
            logger.exception("Could not unregister worker_id=%s", self.worker_id)
        logger.info("Worker worker_id=%s stopped", self.worker_id)

    # -- signals -----------------------------------------------------------

    def _install_signals(self) -> None:
        install = self.install_signal_handlers
        on_main_thread = threading.current_thread() is threading.main_thread()
        if install is None:
            install = on_main_thread
        if not install:
            return
        if not on_main_thread:
            # signal.signal() raises ValueError off the main thread.
            logger.warning("Not on the main thread; signal handlers not installed.")
            return
        for signum in _HANDLED_SIGNALS:
            self._previous_handlers[signum] = signal.getsignal(signum)
            signal.signal(signum, self._handle_signal)

    def _restore_signals(self) -> None:
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous_handlers.clear()

    def _handle_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.strsignal(signum) or str(signum)
        if self._stop_event.is_set() and self._running_task:
            logger.warning("Received %s again - aborting the current task.", name)
            self._restore_signals()
            raise WorkerTerminated(signum)
        logger.warning(
            "Received %s - finishing the current task, then exiting (send it again to abort the task).",
            name,
        )
        self._stop_event.set()
        if self._blocking:
            raise _Interrupted()


def redis_worker_main(
    *,
    queue_names: Sequence[str],
    batch: bool,
    backend_name: str = DEFAULT_TASK_BACKEND_ALIAS,
    worker_id: str | None = None,
    max_tasks: int | None = None,
    poll_timeout: float = 5.0,
    heartbeat_ttl: float = 30.0,
    recover_interval: float | None = None,
) -> int:
    """Entry point for the CLI; Django must already be set up.

    Returns a process exit status: 0 after a normal or graceful stop, 1 if a
    second signal aborted a running task (which was put back on its queue).
    """
    worker = RedisWorker(
        queue_names=queue_names,
        backend_name=backend_name,
        worker_id=worker_id,
        batch=batch,
        max_tasks=max_tasks,
        poll_timeout=poll_timeout,
        heartbeat_ttl=heartbeat_ttl,
        recover_interval=recover_interval,
    )
    try:
        worker.run()
    except WorkerTerminated:
        return 1
    return 0
