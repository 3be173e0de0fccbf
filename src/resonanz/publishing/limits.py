"""Per-network concurrency caps shared by all workers.

A cap is a courtesy to the network (whose own 429s we still honour): at most
``RESONANZ_NETWORK_CONCURRENCY[network]`` (default: the connector's ``spec.network_concurrency``)
requests in flight across every worker.

* Scaled (``REDIS_URL`` set): one sorted set per network holds the slots in use, scored by when they
  expire. One Lua call takes up to ``want`` slots at once (a batch of posts asks once, not once per post),
  one call gives them back. A worker killed while holding slots frees them when their TTL runs out.
* Embedded (no Redis): the same through ``cache.add`` on N slot keys (one process serves everything there).
"""

from __future__ import annotations

import functools
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.core.cache import cache

DEFAULT_CAP = 5

# KEYS[1] = the network's set; ARGV = now, expires_at, cap, want, member prefix.
# Drops expired members, then adds min(want, cap - used) members; returns how many it added.
_LUA_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local free = tonumber(ARGV[3]) - redis.call('ZCARD', KEYS[1])
local n = math.min(tonumber(ARGV[4]), free)
for i = 1, n do
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[5] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], math.ceil((tonumber(ARGV[2]) - tonumber(ARGV[1])) * 1000) + 1000)
if n < 0 then return 0 end
return n
"""


def network_cap(network: str) -> int:
    """The setting's cap for the network, else what its connector declares (``spec.network_concurrency``)."""
    from resonanz.connectors.registry import find_spec

    configured = settings.RESONANZ_NETWORK_CONCURRENCY.get(network)
    if configured is None:
        spec = find_spec(network)
        configured = spec.network_concurrency if spec is not None else DEFAULT_CAP
    return max(1, int(configured))


@functools.cache
def _redis_script(url: str) -> tuple[Any, Any]:
    import redis

    # One client (and its thread-safe connection pool) per process and URL.
    client = redis.Redis.from_url(url, decode_responses=True)
    return client, client.register_script(_LUA_ACQUIRE)


def _redis_key(network: str) -> str:
    prefix = getattr(settings, "RESONANZ_REDIS_PREFIX", "") or "rz"
    return f"{prefix}:netslots:{network}"


def _acquire_redis(network: str, want: int, ttl: int) -> tuple[int, Any]:
    client, script = _redis_script(settings.REDIS_URL)
    member = uuid.uuid4().hex
    now = time.time()
    got = int(script(keys=[_redis_key(network)], args=[now, now + ttl, network_cap(network), want, member],
                     client=client))
    return got, (member, got)


def _release_redis(network: str, token: Any) -> None:
    member, got = token
    if got:
        client = _redis_script(settings.REDIS_URL)[0]
        client.zrem(_redis_key(network), *[f"{member}:{i}" for i in range(1, got + 1)])


def _acquire_cache(network: str, want: int, ttl: int, owner: str) -> tuple[int, Any]:
    cap = network_cap(network)
    keys: list[str] = []
    for i in random.sample(range(cap), cap):
        candidate = f"rz:slot:{network}:{i}"
        if cache.add(candidate, owner, timeout=ttl):
            keys.append(candidate)
            if len(keys) >= want:
                break
    return len(keys), keys


def _release_cache(token: Any) -> None:
    if token:
        cache.delete_many(token)


@contextmanager
def network_slots(
    network: str, *, want: int = 1, owner: str = "", ttl: int = 120, wait: float = 30.0
) -> Iterator[int]:
    """Hold up to ``want`` of the network's slots; yields how many were granted (at least 1).

    Waits (with jitter) while every slot is taken; after ``wait`` seconds it proceeds with 1 anyway:
    better late than never, and the network's own rate limit still applies.
    """
    use_redis = bool(getattr(settings, "REDIS_URL", ""))
    want = max(1, want)
    deadline = time.monotonic() + wait
    while True:
        if use_redis:
            got, token = _acquire_redis(network, want, ttl)
        else:
            got, token = _acquire_cache(network, want, ttl, owner)
        if got > 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05 + random.random() * 0.1)  # noqa: S311 - jitter, not crypto
    try:
        yield max(1, got)
    finally:
        if use_redis:
            _release_redis(network, token)
        else:
            _release_cache(token)


@contextmanager
def network_slot(network: str, *, owner: str, ttl: int = 120, wait: float = 30.0) -> Iterator[None]:
    """One slot (one request in flight)."""
    with network_slots(network, want=1, owner=owner, ttl=ttl, wait=wait):
        yield
