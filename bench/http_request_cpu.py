"""CPU per request of ``NetworkHttpClient.post_json`` against the local sink (``bench/sink/server.py``).

    .venv/bin/python bench/http_request_cpu.py                      # httpx, lean-httpx-built, lean
    .venv/bin/python bench/http_request_cpu.py --modes default      # whatever the code does by default
    PYTHONPATH=<other checkout>/src .venv/bin/python bench/http_request_cpu.py --modes default

Modes as in ``bench/connector_cpu.py``: ``httpx`` (httpx's transport), ``lean-httpx-built`` (urllib3's
pool, requests built by ``httpx.Client.build_request``), ``lean`` (urllib3's pool, plain requests built by the
lean path itself), ``default``. Two floors for reference, not product code: ``urllib3`` (the same request
straight to ``urllib3.HTTPConnectionPool.urlopen`` and ``json.loads`` of the answer: what the lean path
cannot go below while it stays on urllib3's pool, as issue 7 asks) and ``socket`` (the same bytes written to
a keep-alive socket and the answer read by hand: what a private transport would cost). Each run sends
``--count`` sequential ``POST /posts`` (a JSON body with non-ASCII text and an ``Idempotency-Key`` header,
as ``SinkConnector`` sends them) on one client and one keep-alive connection, after a warm-up, and divides
this process's CPU time (``time.process_time``; the sink is another process) by the count. Prints the median
of ``--runs`` runs per mode; modes alternate run by run so that drift hits all of them alike."""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.base")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)  # httpx logs each request on its own path only

import urllib3  # noqa: E402

from bench.sink.server import start_sink  # noqa: E402
from resonanz.connectors.base import http as http_layer  # noqa: E402
from resonanz.connectors.base.http import NetworkHttpClient, close_thread_clients  # noqa: E402


def body_of(number: int) -> dict[str, object]:
    return {"text": f"Bench {number}: Neu bei uns, die Frühlingskollektion", "reply_to": None}


def floor_sender(url: str, mode: str) -> tuple[object, ...]:
    """A ``send(number)`` for the two reference floors and what to close afterwards."""
    if mode == "urllib3":
        pool = urllib3.connection_from_url(url, maxsize=1, retries=False)

        def send(number: int) -> None:
            body = json.dumps(body_of(number), ensure_ascii=False, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "Idempotency-Key": f"bench-{mode}-{number}"}
            answer = pool.urlopen("POST", "/posts", body=body, headers=headers, retries=False,
                                  redirect=False, preload_content=True)
            json.loads(answer.data)

        return send, pool.close
    host, port = url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    reader = sock.makefile("rb")

    def send_raw(number: int) -> None:
        body = json.dumps(body_of(number), ensure_ascii=False, separators=(",", ":")).encode()
        sock.sendall(
            b"POST /posts HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
            b"Idempotency-Key: bench-socket-%d\r\nContent-Length: %d\r\n\r\n%s"
            % (host.encode(), number, len(body), body)
        )
        reader.readline()  # status line
        length = 0
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        json.loads(reader.read(length))

    def close() -> None:
        reader.close()
        sock.close()

    return send_raw, close


def run(url: str, mode: str, count: int, serial: list[int]) -> float:
    """CPU µs per request over ``count`` requests."""
    if mode in ("urllib3", "socket"):
        send, close = floor_sender(url, mode)
        for _ in range(50):
            serial[0] += 1
            send(serial[0])  # type: ignore[operator]
        started = time.process_time()
        for _ in range(count):
            serial[0] += 1
            send(serial[0])  # type: ignore[operator]
        spent = time.process_time() - started
        close()  # type: ignore[operator]
        return spent / count * 1e6
    close_thread_clients()  # every run starts on a fresh connection
    if mode != "default":
        http_layer.BUILD_LEAN_REQUESTS = mode != "lean-httpx-built"
    client = NetworkHttpClient(url, lean=None if mode == "default" else mode != "httpx")
    for _ in range(50):  # connect, warm caches
        serial[0] += 1
        key = f"warm-{mode}-{serial[0]}"
        client.post_json("/posts", json={"text": key}, headers={"Idempotency-Key": key})
    started = time.process_time()
    for _ in range(count):
        serial[0] += 1
        number = serial[0]
        client.post_json(
            "/posts",
            json=body_of(number),
            headers={"Idempotency-Key": f"bench-{mode}-{number}"},
        )
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--modes",
        default="httpx,lean-httpx-built,lean",
        help="comma-separated: default, httpx, lean-httpx-built, lean; floors: urllib3, socket",
    )
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    modes = args.modes.split(",")
    sink = start_sink(max_seconds=600)
    try:
        figures: dict[str, list[float]] = {mode: [] for mode in modes}
        serial = [0]
        for _ in range(args.runs):
            for mode in modes:
                figures[mode].append(run(sink.url, mode, args.count, serial))
        for mode in modes:
            runs = " ".join(f"{value:.1f}" for value in figures[mode])
            print(f"{mode:16} {statistics.median(figures[mode]):7.1f} µs CPU/request (median; runs {runs})")
    finally:
        close_thread_clients()
        sink.stop()


if __name__ == "__main__":
    main()
