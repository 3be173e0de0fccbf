"""Redis-backed task backend for Django's built-in tasks framework.

Configuration::

    TASKS = {
        "default": {
            "BACKEND": "resonanz.taskqueue.redis_backend.RedisBackend",
            "QUEUES": ["default", "publishing"],
            "OPTIONS": {
                "url": "redis://127.0.0.1:6379/0",
                "key_prefix": "rz",
                "result_ttl": 86400,  # seconds; 0/None keeps results forever
                # "redis_options": {...},  # extra kwargs for Redis.from_url
            },
        }
    }

Key layout (``P`` is ``key_prefix``; every key of one backend starts with it,
so two backends or two test runs on one Redis never collide as long as their
prefixes differ)::

    P:task:<id>              HASH  the task record (see below); gets the
                                   result TTL once the task has finished
    P:queue:<q>:ready        ZSET  ids ready to run; score = priority band +
                                   sequence number (highest priority first,
                                   FIFO within one priority)
    P:queue:<q>:deferred     ZSET  ids waiting for run_after; score = run_after
                                   as Unix seconds
    P:queue:<q>:notify       LIST  wake-up tokens for idle workers (hints only)
    P:queues                 SET   every queue name ever enqueued to
    P:seq                    STR   INCR counter for the FIFO part of the score
    P:workers                SET   ids of workers that may own a processing list
    P:worker:<wid>           STR   heartbeat (JSON: host, pid, queues), with TTL
    P:worker:<wid>:wake      LIST  lets ``RedisWorker.stop()`` wake a blocked worker
    P:processing:<wid>       LIST  ids claimed by worker <wid> and not yet finished

The task record is a hash rather than a single JSON string: the Lua scripts
below must flip ``status``/``worker_ids`` atomically while claiming or
recovering a task, and round-tripping the whole record through Lua's cjson
would silently corrupt arguments (cjson prints numbers with 14 significant
digits). Structured values (``args_kwargs``, ``worker_ids``, ``errors``,
``return_value``) are JSON strings inside the hash; timestamps are integer
Unix microseconds.

Why a sorted set plus an atomic Lua "claim" instead of ``BLMOVE ready ->
processing``: a Redis list is strictly FIFO, so it cannot honour
``Task.priority``, and ``BLMOVE`` can block on only one source key, so a worker
serving several queues could not wait on all of them. The claim script gives
the same guarantee as ``LMOVE`` - the id is moved from "ready" into the
worker's processing list in one atomic step, so it is never in neither place -
while picking the best id across all of the worker's queues. Blocking is done
with ``BLPOP`` on the per-queue ``notify`` lists, which carry no data, only
wake-ups; a lost token costs at most one ``poll_timeout`` of latency, never a
task. See :mod:`resonanz.taskqueue.redis_worker` for the worker side
(heartbeats, orphan recovery, graceful shutdown).

The scripts touch keys they compute at run time (``P:task:<id>``), so this
backend needs a standalone Redis (or Sentinel/replicated), not Redis Cluster.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import redis
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import (
    TASK_MAX_PRIORITY,
    Task,
    TaskError,
    TaskResult,
    TaskResultStatus,
)
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.json import normalize_json
from django.utils.module_loading import import_string

__all__ = ["RedisBackend", "RedisKeys"]

DEFAULT_URL: Final = "redis://127.0.0.1:6379/0"
DEFAULT_KEY_PREFIX: Final = "rz"
DEFAULT_RESULT_TTL: Final = 86400

#: Width of one priority band in the ready score. The score is
#: ``(TASK_MAX_PRIORITY - priority) * PRIORITY_BAND + seq``; with priorities in
#: [-100, 100] the largest score is ~2.01e15, below 2**53, so the double that
#: Redis stores for a ZSET score (and Lua uses for numbers) is still exact.
PRIORITY_BAND: Final = 10**13

#: Upper bound for a queue's notify list. Tokens only wake idle workers, so
#: more tokens than there are workers are useless; the cap keeps the list
#: from growing while nobody consumes it.
NOTIFY_MAX: Final = 1000

#: How many due deferred tasks one promotion call moves per queue. If more are
#: due the call reports "next due in 0 s" and the worker simply calls it again.
PROMOTE_BATCH: Final = 1000

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US: Final = timedelta(microseconds=1)


def datetime_to_us(value: datetime) -> int:
    """Convert a datetime to integer Unix microseconds (exact, no float)."""
    if timezone.is_naive(value):
        # Naive datetimes only occur with USE_TZ=False, where Django's
        # "now" is the process-local time.
        value = value.astimezone()
    return (value - _EPOCH) // _ONE_US


def us_to_datetime(value: int) -> datetime:
    """Inverse of :func:`datetime_to_us`, honouring ``settings.USE_TZ``."""
    result = _EPOCH + timedelta(microseconds=value)
    if settings.USE_TZ:
        return result
    return result.astimezone().replace(tzinfo=None)


def now_us() -> int:
    return datetime_to_us(timezone.now())


@dataclass(frozen=True, slots=True)
class RedisKeys:
    """Builds every key of one backend; the Lua scripts mirror these names."""

    prefix: str

    def task(self, task_id: str) -> str:
        return f"{self.prefix}:task:{task_id}"

    @property
    def task_prefix(self) -> str:
        return f"{self.prefix}:task:"

    @property
    def queue_prefix(self) -> str:
        # The scripts append "<queue>:ready" / "<queue>:notify" to this.
        return f"{self.prefix}:queue:"

    def ready(self, queue: str) -> str:
        return f"{self.prefix}:queue:{queue}:ready"

    def deferred(self, queue: str) -> str:
        return f"{self.prefix}:queue:{queue}:deferred"

    def notify(self, queue: str) -> str:
        return f"{self.prefix}:queue:{queue}:notify"

    @property
    def queues(self) -> str:
        return f"{self.prefix}:queues"

    @property
    def seq(self) -> str:
        return f"{self.prefix}:seq"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    def heartbeat(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}"

    def wake(self, worker_id: str) -> str:
        return f"{self.prefix}:worker:{worker_id}:wake"

    def processing(self, worker_id: str) -> str:
        return f"{self.prefix}:processing:{worker_id}"


# --------------------------------------------------------------------------
# Lua scripts. Each one is a single atomic step on the Redis server; that is
# what makes the queue reliable without distributed locks. Time-sensitive
# decisions ("is run_after due?") use the Redis server clock (TIME) so that
# workers on machines with skewed clocks agree. Scripts may call TIME before
# writing because Redis >= 5 replicates script effects, not script bodies.
# --------------------------------------------------------------------------

_LUA_ENQUEUE: Final = """
-- KEYS: task, ready, deferred, notify, seq, queues
-- ARGV: id, queue, priority_band, run_after_seconds ('' = none), notify_max,
--       field1, value1, field2, value2, ...
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
redis.call('SADD', KEYS[6], ARGV[2])
if ARGV[4] ~= '' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  if tonumber(ARGV[4]) > now then
    redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
    -- If this is now the earliest deferred task, wake one idle worker so it
    -- shortens its wait to the new due time instead of sleeping through it.
    if redis.call('ZRANGE', KEYS[3], 0, 0)[1] == ARGV[1] then
      redis.call('LPUSH', KEYS[4], '1')
      redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
    end
    return 0
  end
end
local seq = redis.call('INCR', KEYS[5])
local score = string.format('%.0f', tonumber(ARGV[3]) + seq)
redis.call('HSET', KEYS[1], 'rscore', score)
redis.call('ZADD', KEYS[2], score, ARGV[1])
redis.call('LPUSH', KEYS[4], '1')
redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[5]) - 1)
return 1
"""

_LUA_PROMOTE: Final = """
-- Move due ids from the deferred ZSETs to the ready ZSETs.
-- KEYS: seq, then (deferred, ready, notify) for every queue
-- ARGV: task_key_prefix, batch_limit, notify_max
-- Returns {moved, seconds_until_next_due ('-1' = nothing deferred)}
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local moved = 0
local next_due = -1
for i = 2, #KEYS, 3 do
  local deferred, ready, notify = KEYS[i], KEYS[i + 1], KEYS[i + 2]
  local ids = redis.call('ZRANGEBYSCORE', deferred, '-inf', now,
                         'LIMIT', 0, tonumber(ARGV[2]))
  local moved_here = 0
  for _, id in ipairs(ids) do
    redis.call('ZREM', deferred, id)
    local tkey = ARGV[1] .. id
    local band = redis.call('HGET', tkey, 'pband')
    if band then
      local seq = redis.call('INCR', KEYS[1])
      local score = string.format('%.0f', tonumber(band) + seq)
      redis.call('HSET', tkey, 'rscore', score)
      redis.call('ZADD', ready, score, id)
      redis.call('LPUSH', notify, '1')
      moved_here = moved_here + 1
    end
  end
  if moved_here > 0 then
    redis.call('LTRIM', notify, 0, tonumber(ARGV[3]) - 1)
  end
  moved = moved + moved_here
  local first = redis.call('ZRANGE', deferred, 0, 0, 'WITHSCORES')
  if first[2] then
    local delta = tonumber(first[2]) - now
    if delta < 0 then delta = 0 end
    if next_due < 0 or delta < next_due then next_due = delta end
  end
end
-- Lua numbers are truncated to integers in replies, hence the string.
return {moved, string.format('%.6f', next_due)}
"""

_LUA_CLAIM: Final = """
-- Atomically take the best ready id across the given queues and put it on
-- the worker's processing list (the "reliable queue" move).
-- KEYS: processing, workers_set, ready_1, ready_2, ...
-- ARGV: worker_id, now_us, task_key_prefix
while true do
  local best_key, best_id, best_score = nil, nil, nil
  for i = 3, #KEYS do
    local top = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
    if top[1] then
      local s = tonumber(top[2])
      if best_score == nil or s < best_score then
        best_key, best_id, best_score = KEYS[i], top[1], s
      end
    end
  end
  if best_id == nil then return false end
  redis.call('ZREM', best_key, best_id)
  local tkey = ARGV[3] .. best_id
  -- A record that vanished (deleted by hand) is dropped; try the next id.
  if redis.call('EXISTS', tkey) == 1 then
    redis.call('RPUSH', KEYS[1], best_id)
    -- Registering here, in the same atomic step, guarantees that every
    -- non-empty processing list is discoverable by orphan recovery.
    redis.call('SADD', KEYS[2], ARGV[1])
    local wids = cjson.decode(redis.call('HGET', tkey, 'worker_ids') or '[]')
    table.insert(wids, ARGV[1])
    redis.call('HSET', tkey, 'status', 'RUNNING', 'last_attempted_at', ARGV[2],
               'worker_ids', cjson.encode(wids))
    redis.call('HSETNX', tkey, 'started_at', ARGV[2])
    redis.call('HINCRBY', tkey, 'attempts', 1)
    return best_id
  end
end
"""

_LUA_FINISH: Final = """
-- Record the outcome and drop the id from the processing list in one step,
-- so a crash can never leave a finished task looking unfinished (or v.v.).
-- KEYS: task, processing
-- ARGV: id, ttl_ms ('0' = keep), field1, value1, ...
local removed = redis.call('LREM', KEYS[2], 1, ARGV[1])
if #ARGV > 2 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 3))
  if tonumber(ARGV[2]) > 0 then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
  end
end
return removed
"""

_LUA_REQUEUE: Final = """
-- Put every unfinished id of a worker's processing list back on its ready
-- queue. Used for orphan recovery (only if the heartbeat has expired - checked
-- here, atomically) and by a worker releasing its own list on shutdown.
-- KEYS: processing, heartbeat, workers_set, seq
-- ARGV: worker_id, task_key_prefix, queue_key_prefix, force ('1'/'0'),
--       notify_max, forget_worker ('1'/'0')
if ARGV[4] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
local count = 0
while true do
  local id = redis.call('LPOP', KEYS[1])
  if not id then break end
  local tkey = ARGV[2] .. id
  local status = redis.call('HGET', tkey, 'status')
  -- Finished tasks are only dropped: the result was already recorded.
  if status == 'RUNNING' or status == 'READY' then
    local queue = redis.call('HGET', tkey, 'queue')
    -- Re-use the original score so a recovered task keeps its place.
    local score = redis.call('HGET', tkey, 'rscore')
    if not score then
      local band = redis.call('HGET', tkey, 'pband') or '0'
      score = string.format('%.0f', tonumber(band) + redis.call('INCR', KEYS[4]))
      redis.call('HSET', tkey, 'rscore', score)
    end
    redis.call('HSET', tkey, 'status', 'READY')
    redis.call('ZADD', ARGV[3] .. queue .. ':ready', score, id)
    local notify = ARGV[3] .. queue .. ':notify'
    redis.call('LPUSH', notify, '1')
    redis.call('LTRIM', notify, 0, tonumber(ARGV[5]) - 1)
    count = count + 1
  end
end
if ARGV[6] == '1' then
  redis.call('SREM', KEYS[3], ARGV[1])
end
return count
"""

# One client (and connection pool) per URL and option set for the whole
# process. Django instantiates task backends per thread, and a pool per
# thread would multiply connections in threaded servers for no benefit:
# redis.Redis is thread-safe.
_clients: dict[tuple[str, str], redis.Redis] = {}
_clients_lock = threading.Lock()


def _get_client(url: str, options: Mapping[str, Any]) -> redis.Redis:
    cache_key = (url, json.dumps(dict(options), sort_keys=True, default=repr))
    with _clients_lock:
        client = _clients.get(cache_key)
        if client is None:
            kwargs = {"decode_responses": True, **options}
            client = redis.Redis.from_url(url, **kwargs)
            _clients[cache_key] = client
        return client


class _Scripts:
    """The Lua scripts, registered on one client (EVALSHA with EVAL fallback)."""

    def __init__(self, client: redis.Redis) -> None:
        self.enqueue = client.register_script(_LUA_ENQUEUE)
        self.promote = client.register_script(_LUA_PROMOTE)
        self.claim = client.register_script(_LUA_CLAIM)
        self.finish = client.register_script(_LUA_FINISH)
        self.requeue = client.register_script(_LUA_REQUEUE)


def _flatten(fields: Mapping[str, str]) -> list[str]:
    flat: list[str] = []
    for key, value in fields.items():
        flat.extend((key, value))
    return flat


class RedisBackend(BaseTaskBackend):
    """Stores task records and queues in Redis; workers run them.

    ``enqueue`` always writes to Redis immediately. Callers that must not
    enqueue before their database transaction commits wrap the call
    themselves: ``transaction.on_commit(lambda: my_task.enqueue(...))``.
    """

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        options = self.options
        self.url: str = str(options.get("url", DEFAULT_URL))
        prefix = str(options.get("key_prefix", DEFAULT_KEY_PREFIX)).rstrip(":")
        if not prefix:
            raise ImproperlyConfigured(f"TASKS[{alias!r}]['OPTIONS']['key_prefix'] must not be empty.")
        self.key_prefix: str = prefix
        result_ttl = options.get("result_ttl", DEFAULT_RESULT_TTL)
        if result_ttl is not None and (
            isinstance(result_ttl, bool) or not isinstance(result_ttl, int | float) or result_ttl < 0
        ):
            raise ImproperlyConfigured(
                f"TASKS[{alias!r}]['OPTIONS']['result_ttl'] must be a number of seconds >= 0 or None."
            )
        #: Seconds a finished task's record is kept; ``None`` = forever.
        self.result_ttl: float | None = float(result_ttl) if result_ttl else None
        self.redis_options: dict[str, Any] = dict(options.get("redis_options", {}))
        self.keys = RedisKeys(prefix)
        self._client: redis.Redis | None = None
        self._scripts: _Scripts | None = None

    # -- connection -------------------------------------------------------

    @property
    def client(self) -> redis.Redis:
        """The shared Redis client. Created lazily: settings import must not connect."""
        if self._client is None:
            self._client = _get_client(self.url, self.redis_options)
        return self._client

    @property
    def scripts(self) -> _Scripts:
        if self._scripts is None:
            self._scripts = _Scripts(self.client)
        return self._scripts

    # -- Django API -------------------------------------------------------

    def enqueue(
        self,
        task: Task[Any, Any],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
    ) -> TaskResult[Any, Any]:
        self.validate_task(task)

        # Same normalisation as the DB backend: tuples become lists, and
        # anything that is not JSON-serialisable fails here, at enqueue time,
        # rather than in the worker.
        args_kwargs = normalize_json({"args": args, "kwargs": kwargs})
        if not isinstance(args_kwargs, dict):  # a Mapping normalises to a dict
            raise TypeError("task arguments did not normalise to a dict")
        result_id = str(uuid.uuid4())
        enqueued_at = timezone.now()
        fields = {
            "id": result_id,
            "task_path": task.module_path,
            "backend": self.alias,
            "queue": task.queue_name,
            "priority": str(task.priority),
            "pband": str((TASK_MAX_PRIORITY - task.priority) * PRIORITY_BAND),
            "args_kwargs": json.dumps(args_kwargs),
            "status": TaskResultStatus.READY.value,
            "enqueued_at": str(datetime_to_us(enqueued_at)),
            "worker_ids": "[]",
            "errors": "[]",
            "attempts": "0",
        }
        run_after_arg = ""
        if task.run_after is not None:
            run_after_us = datetime_to_us(task.run_after)
            fields["run_after"] = str(run_after_us)
            run_after_arg = f"{run_after_us / 1_000_000:.6f}"

        self.scripts.enqueue(
            keys=[
                self.keys.task(result_id),
                self.keys.ready(task.queue_name),
                self.keys.deferred(task.queue_name),
                self.keys.notify(task.queue_name),
                self.keys.seq,
                self.keys.queues,
            ],
            args=[
                result_id,
                task.queue_name,
                fields["pband"],
                run_after_arg,
                NOTIFY_MAX,
                *_flatten(fields),
            ],
        )

        task_result: TaskResult[Any, Any] = TaskResult(
            task=task,
            id=result_id,
            status=TaskResultStatus.READY,
            enqueued_at=enqueued_at,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        task_enqueued.send(type(self), task_result=task_result)
        return task_result

    # aenqueue / aget_result: the base class runs the sync versions through
    # sync_to_async, which is fine for one short Redis round trip.

    def get_result(self, result_id: str) -> TaskResult[Any, Any]:
        record = self.fetch_record(result_id)
        if record is None:
            raise TaskResultDoesNotExist(result_id)
        return self.result_from_record(record)

    # -- record helpers (also used by the worker) -------------------------

    def fetch_record(self, result_id: str) -> dict[str, str] | None:
        """Return the raw hash of a task record, or None if it does not exist."""
        if not isinstance(result_id, str) or not result_id:
            return None
        raw = self.client.hgetall(self.keys.task(result_id))
        if not raw:
            return None
        return {str(k): str(v) for k, v in raw.items()}

    def task_from_record(self, record: Mapping[str, str]) -> Task[Any, Any]:
        """Import the task named in the record and apply the enqueue-time options."""
        task_path = record["task_path"]
        task = import_string(task_path)
        if not isinstance(task, Task):
            raise SuspiciousOperation(f"Task {record.get('id')} does not point to a Task ({task_path})")
        run_after = record.get("run_after")
        return task.using(
            priority=int(record["priority"]),
            queue_name=record["queue"],
            run_after=us_to_datetime(int(run_after)) if run_after else None,
            backend=record.get("backend") or self.alias,
        )

    def result_from_record(self, record: Mapping[str, str]) -> TaskResult[Any, Any]:
        """Rebuild a TaskResult from a raw record (raises ImportError if the
        task function no longer exists, like the DB backend)."""
        args_kwargs = json.loads(record["args_kwargs"])

        def ts(name: str) -> datetime | None:
            value = record.get(name)
            return us_to_datetime(int(value)) if value else None

        errors = [
            TaskError(
                exception_class_path=error["exception_class_path"],
                traceback=error["traceback"],
            )
            for error in json.loads(record.get("errors") or "[]")
        ]
        result: TaskResult[Any, Any] = TaskResult(
            task=self.task_from_record(record),
            id=record["id"],
            status=TaskResultStatus(record["status"]),
            enqueued_at=ts("enqueued_at"),
            started_at=ts("started_at"),
            finished_at=ts("finished_at"),
            last_attempted_at=ts("last_attempted_at"),
            args=args_kwargs["args"],
            kwargs=args_kwargs["kwargs"],
            backend=record.get("backend") or self.alias,
            errors=errors,
            # Lua's cjson may write an empty list as {}; both mean "none".
            worker_ids=list(json.loads(record.get("worker_ids") or "[]") or []),
        )
        if "return_value" in record:
            object.__setattr__(result, "_return_value", json.loads(record["return_value"]))
        return result

    # -- queue operations (used by RedisWorker) ---------------------------

    def known_queues(self) -> set[str]:
        """Configured queues plus every queue that has ever been enqueued to."""
        return set(self.queues) | {str(q) for q in self.client.smembers(self.keys.queues)}

    def promote_due(self, queues: Sequence[str]) -> float | None:
        """Move due deferred tasks to their ready sets.

        Returns seconds until the next deferred task becomes due (0 if more
        are already due), or None if nothing is deferred on these queues.
        """
        if not queues:
            return None
        keys = [self.keys.seq]
        for queue in queues:
            keys += [self.keys.deferred(queue), self.keys.ready(queue), self.keys.notify(queue)]
        _moved, next_due = self.scripts.promote(
            keys=keys, args=[self.keys.task_prefix, PROMOTE_BATCH, NOTIFY_MAX]
        )
        delay = float(next_due)
        return None if delay < 0 else delay

    def claim(self, worker_id: str, queues: Sequence[str]) -> str | None:
        """Atomically move the best ready id onto ``worker_id``'s processing list."""
        if not queues:
            return None
        task_id = self.scripts.claim(
            keys=[
                self.keys.processing(worker_id),
                self.keys.workers,
                *(self.keys.ready(queue) for queue in queues),
            ],
            args=[worker_id, now_us(), self.keys.task_prefix],
        )
        return str(task_id) if task_id else None

    def finish(self, task_id: str, worker_id: str, fields: Mapping[str, str] | None) -> bool:
        """Store the outcome (if any) and remove the id from the processing list.

        Returns False if the id was no longer on the worker's processing list,
        i.e. the worker was presumed dead and the task was handed to another one.
        """
        ttl_ms = int(self.result_ttl * 1000) if self.result_ttl else 0
        removed = self.scripts.finish(
            keys=[self.keys.task(task_id), self.keys.processing(worker_id)],
            args=[task_id, ttl_ms, *_flatten(fields or {})],
        )
        return bool(removed)

    def requeue_processing(self, worker_id: str, *, force: bool, forget_worker: bool) -> int:
        """Move unfinished ids of ``worker_id``'s processing list back to ready.

        Without ``force`` nothing happens (returns -1) while the worker's
        heartbeat key still exists; the check is atomic with the move.
        """
        count = self.scripts.requeue(
            keys=[
                self.keys.processing(worker_id),
                self.keys.heartbeat(worker_id),
                self.keys.workers,
                self.keys.seq,
            ],
            args=[
                worker_id,
                self.keys.task_prefix,
                self.keys.queue_prefix,
                "1" if force else "0",
                NOTIFY_MAX,
                "1" if forget_worker else "0",
            ],
        )
        return int(count)

    def recover_orphans(self, *, exclude: str | None = None) -> int:
        """Requeue tasks held by workers whose heartbeat has expired.

        Returns the number of task ids put back on a ready queue. Safe to call
        from any number of workers concurrently: each move is atomic and only
        happens once.
        """
        recovered = 0
        for member in self.client.smembers(self.keys.workers):
            worker_id = str(member)
            if worker_id == exclude:
                continue
            count = self.requeue_processing(worker_id, force=False, forget_worker=True)
            if count > 0:
                recovered += count
        return recovered

    def wait_for_work(self, queues: Sequence[str], worker_id: str, timeout: float) -> None:
        """Block until a wake-up token arrives for one of ``queues`` (or for
        the worker itself, see ``RedisWorker.stop``) or ``timeout`` passes."""
        keys = [self.keys.notify(queue) for queue in queues]
        keys.append(self.keys.wake(worker_id))
        # redis-py applies socket_timeout (default 5 s) to blocking commands
        # too, so a BLPOP longer than that would end in a TimeoutError and a
        # dropped connection. Stay safely below it; the worker just loops.
        socket_timeout = self.client.connection_pool.connection_kwargs.get("socket_timeout")
        if socket_timeout:
            timeout = min(timeout, float(socket_timeout) * 0.8)
        # A TimeoutError now means a network stall: treat it as "nothing
        # arrived"; if Redis is really gone the next command raises.
        with contextlib.suppress(redis.TimeoutError):
            self.client.blpop(keys, timeout=max(timeout, 0.01))
