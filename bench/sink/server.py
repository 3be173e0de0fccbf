"""A local "sink network" for benchmarks: accepts posts as fast as possible and counts them.

API (HTTP/1.1, keep-alive, JSON)::

    POST /posts            body {"text": ..., "reply_to": ...}, header Idempotency-Key
                           -> 200 {"id": "...", "url": "..."}; the same key returns the same id and creates
                              nothing (like Mastodon's Idempotency-Key)
    GET  /posts?key=K      -> 200 {"id", "url"} or 404 (reconciliation after an unknown outcome)
    GET  /posts/<id>       -> 200 the post or 404
    GET  /stats            -> counters (posts, requests, replays per key, duplicate texts, ...)
    GET  /health           -> 200 {"ok": true}

It is a single-threaded asyncio server with a minimal HTTP/1.1 parser: no framework, no per-request
thread, so on a small machine it stays far below the engine it measures (~30 µs CPU per request).

Run it as its own process (``python bench/sink/server.py --port 0``): it prints ``SINK_PORT=<port>`` once
listening, and stops by itself after ``--max-seconds`` or as soon as its parent process is gone.
``start_sink()`` does that from Python and returns a handle.

Fault injection (``--fault-rate p``): with probability p a POST is answered with 503 before creating
anything, or (equally likely) the post is created and the connection dropped without an answer, which
the engine sees as an unknown outcome and must reconcile without posting twice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 1024 * 1024
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 503: "Unavailable"}


@dataclass
class Store:
    base_url: str = ""
    posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> post
    by_key: dict[str, str] = field(default_factory=dict)  # idempotency key -> id
    requests_per_key: Counter[str] = field(default_factory=Counter)
    texts: Counter[str] = field(default_factory=Counter)  # created posts per text
    post_requests: int = 0
    get_requests: int = 0
    no_key: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    first_post: float | None = None
    last_post: float | None = None

    def create(self, key: str, body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        if key and key in self.by_key:
            return self.posts[self.by_key[key]], False
        post_id = str(len(self.posts) + 1)
        text = str(body.get("text", ""))
        post = {"id": post_id, "url": f"{self.base_url}/posts/{post_id}", "key": key, "text": text,
                "reply_to": body.get("reply_to")}
        self.posts[post_id] = post
        if key:
            self.by_key[key] = post_id
        else:
            self.no_key += 1
        self.texts[text] += 1
        now = time.time()
        self.first_post = self.first_post or now
        self.last_post = now
        return post, True

    def stats(self) -> dict[str, Any]:
        replayed = sum(1 for n in self.requests_per_key.values() if n > 1)
        return {
            "posts": len(self.posts),
            "post_requests": self.post_requests,
            "get_requests": self.get_requests,
            "keys": len(self.by_key),
            "posts_without_key": self.no_key,
            # Keys POSTed more than once: a retry that the idempotency key turned into a no-op.
            "keys_replayed": replayed,
            # Keys with more than one *created* post: impossible here by construction (kept for clarity).
            "keys_with_multiple_posts": 0,
            # The real duplicate detector: the same text created as two posts (e.g. under two keys).
            "duplicate_texts": sum(1 for n in self.texts.values() if n > 1),
            "duplicate_posts": sum(n - 1 for n in self.texts.values() if n > 1),
            "faults": dict(self.faults),
            "first_post_at": self.first_post,
            "last_post_at": self.last_post,
        }


def _response(status: int, payload: Any, *, close: bool = False) -> bytes:
    body = json.dumps(payload, separators=(",", ":")).encode()
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'OK')}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{'Connection: close' if close else 'Connection: keep-alive'}\r\n\r\n"
    )
    return head.encode() + body


class SinkServer:
    def __init__(self, *, latency: float = 0.0, fault_rate: float = 0.0, seed: int | None = None) -> None:
        self.store = Store()
        self.latency = latency
        self.fault_rate = fault_rate
        self.random = random.Random(seed)
        self.writers: set[asyncio.StreamWriter] = set()

    def close_connections(self) -> None:
        for writer in list(self.writers):
            with contextlib.suppress(Exception):
                writer.transport.abort()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    writer.write(_response(400, {"error": "bad request line"}, close=True))
                    return
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length") or 0)
                if length > MAX_BODY_BYTES:
                    writer.write(_response(400, {"error": "body too large"}, close=True))
                    return
                body = await reader.readexactly(length) if length else b""
                close = headers.get("connection", "").lower() == "close" or version == "HTTP/1.0"
                reply = await self.dispatch(method, target, headers, body)
                if reply is None:  # injected fault: drop the connection without an answer
                    return
                status, payload = reply
                writer.write(_response(status, payload, close=close))
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self.writers.discard(writer)
            with contextlib.suppress(Exception):
                writer.close()

    async def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes
                       ) -> tuple[int, Any] | None:
        store = self.store
        url = urlsplit(target)
        path = url.path.rstrip("/")
        if path == "/posts" and method == "POST":
            store.post_requests += 1
            key = headers.get("idempotency-key", "")
            if key:
                store.requests_per_key[key] += 1
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                return 400, {"error": "body is not JSON"}
            fault = self.fault_rate and self.random.random() < self.fault_rate
            if fault and self.random.random() < 0.5:
                store.faults["503_before_create"] += 1
                return 503, {"error": "injected temporary failure"}
            if self.latency:
                await asyncio.sleep(self.latency)
            post, _created = store.create(key, data if isinstance(data, dict) else {})
            if fault:
                store.faults["dropped_after_create"] += 1
                return None
            return 200, {"id": post["id"], "url": post["url"]}
        if method != "GET":
            return 405, {"error": "method not allowed"}
        store.get_requests += 1
        if path == "/posts":
            key = (parse_qs(url.query).get("key") or [""])[0]
            post_id = store.by_key.get(key)
            if post_id is None:
                return 404, {"error": "no post with this key"}
            post = store.posts[post_id]
            return 200, {"id": post["id"], "url": post["url"]}
        if path.startswith("/posts/"):
            found = store.posts.get(path.rsplit("/", 1)[1])
            return (200, found) if found else (404, {"error": "not found"})
        if path == "/stats":
            return 200, store.stats()
        if path == "/health":
            return 200, {"ok": True}
        return 404, {"error": "not found"}


async def serve(host: str, port: int, max_seconds: float, latency: float, fault_rate: float,
                parent_pid: int | None) -> None:
    sink = SinkServer(latency=latency, fault_rate=fault_rate)
    server = await asyncio.start_server(sink.handle, host, port, backlog=1024, limit=MAX_HEADER_BYTES)
    real_port = server.sockets[0].getsockname()[1]
    sink.store.base_url = f"http://{host}:{real_port}"
    print(f"SINK_PORT={real_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.call_later(max_seconds, stop.set)

    async def watch_parent() -> None:
        while not stop.is_set():
            if parent_pid and os.getppid() != parent_pid:
                stop.set()
            await asyncio.sleep(1.0)

    watcher = asyncio.create_task(watch_parent())
    await stop.wait()
    watcher.cancel()
    server.close()
    sink.close_connections()  # keep-alive clients would otherwise hold wait_closed() open
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 2.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = a free port")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop by itself after this long")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="simulated network latency per create")
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--parent-pid", type=int, default=None, help="exit when this parent is gone")
    ns = parser.parse_args(argv)
    asyncio.run(serve(ns.host, ns.port, ns.max_seconds, ns.latency_ms / 1000.0, ns.fault_rate, ns.parent_pid))
    return 0


# -- from Python ---------------------------------------------------------------------------------------


@dataclass
class SinkProcess:
    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as response:  # noqa: S310 - local
            return dict(json.loads(response.read()))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_sink(*, max_seconds: float = 900.0, latency_ms: float = 0.0, fault_rate: float = 0.0,
               log: Path | None = None) -> SinkProcess:
    """Start the sink in its own process (own session, so a terminal Ctrl-C reaches only our driver)."""
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
    stderr = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--port", "0", "--max-seconds", str(max_seconds),
         "--latency-ms", str(latency_ms), "--fault-rate", str(fault_rate), "--parent-pid", str(os.getpid())],
        stdout=subprocess.PIPE, stderr=stderr, text=True, start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # the server prints its port first thing
    if not line.startswith("SINK_PORT="):
        process.kill()
        raise RuntimeError(f"sink did not start: {line!r}")
    return SinkProcess(process=process, port=int(line.strip().split("=", 1)[1]))


if __name__ == "__main__":
    raise SystemExit(main())
