"""Per-network concurrency caps shared by all workers (through the cache: Redis when scaled).

Each cap is N slot keys; a worker holds one with ``cache.add`` (atomic) and a TTL, so a worker killed
while holding a slot frees it when the TTL runs out instead of leaking it forever.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache


@contextmanager
def network_slot(network: str, *, owner: str, ttl: int = 120, wait: float = 30.0) -> Iterator[None]:
    cap = int(settings.RESONANZ_NETWORK_CONCURRENCY.get(network, 5))
    deadline = time.monotonic() + wait
    key = None
    while key is None:
        for i in random.sample(range(cap), cap):
            candidate = f"rz:slot:{network}:{i}"
            if cache.add(candidate, owner, timeout=ttl):
                key = candidate
                break
        if key is None:
            if time.monotonic() > deadline:
                # Better late than never: proceed rather than fail the post; the cap is a courtesy
                # to the network, whose own 429s we still honour.
                break
            time.sleep(0.05 + random.random() * 0.1)  # noqa: S311 - jitter, not crypto
    try:
        yield
    finally:
        if key is not None:
            cache.delete(key)
