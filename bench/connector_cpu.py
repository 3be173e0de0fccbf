"""CPU per publish on the real connectors: BlueskyConnector against the local Bluesky reference network
(PLC + PDS + AppView from npm, ``devservers/bluesky``; not an emulator) and MastodonConnector against
``MastodonEmulator`` (testsupport/emulators/mastodon.py, in this process).

    .venv/bin/python bench/connector_cpu.py                     # httpx, lean-httpx-built, lean: 300 each
    .venv/bin/python bench/connector_cpu.py --modes default     # whatever the code does by default

Modes (``RESONANZ_HTTP_LEAN`` switched in the same process, per ``NetworkHttpClient``): ``httpx`` —
httpx's own transport on the thread's long-lived client; ``lean`` — plain requests through urllib3's pool;
``lean-httpx-built`` — the same, but every request built by ``httpx.Client.build_request``
(``BUILD_LEAN_REQUESTS = False``; the lean path before it built plain requests itself); ``default`` — no
override (use it to measure another checkout of ``src``, e.g. the commit before the HTTP change:
``PYTHONPATH=<that checkout>/src``).

Measured: CPU time of the publishing thread (``time.thread_time``) per ``publish_part`` of a one-part text
post, after a warm-up; the server's own CPU is not counted (the PDS is another process, the emulator's
handler runs on other threads). Modes alternate in rounds so that drift hits all of them alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.base")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
# httpx logs every request at INFO; the lean path does not go through that line. Silence it so both modes
# are compared on the work of sending, not on log output.
logging.getLogger("httpx").setLevel(logging.WARNING)

from django.conf import settings  # noqa: E402

from resonanz.connectors.base import http as http_layer  # noqa: E402
from resonanz.connectors.base.provider import (  # noqa: E402
    ChannelAccount,
    Connector,
    DraftPart,
    DraftVariant,
    PublishKey,
)
from resonanz.connectors.bluesky.provider import BlueskyConnector  # noqa: E402
from resonanz.connectors.mastodon.provider import MastodonConnector  # noqa: E402
from testsupport.emulators.mastodon import MastodonEmulator  # noqa: E402
from testsupport.servers.bluesky import BlueskyTestNetwork  # noqa: E402

Publish = Callable[[str, int], None]


def publisher(connector: Connector, account: ChannelAccount) -> Publish:
    def publish(mode: str, number: int) -> None:
        text = f"Bench {mode} {number}: Neu bei uns, die Frühlingskollektion"
        connector.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text=text)], language="de"),
            part_index=0,
            key=PublishKey(key=f"bench-{mode}-{number}-{time.time_ns()}", created_at=datetime.now(UTC)),
        )

    return publish


def set_mode(mode: str) -> None:
    if mode != "default":
        settings.RESONANZ_HTTP_LEAN = mode != "httpx"
        http_layer.BUILD_LEAN_REQUESTS = mode != "lean-httpx-built"


def measure(publish: Publish, modes: list[str], *, count: int, rounds: int, warmup: int) -> dict[str, float]:
    cpu = dict.fromkeys(modes, 0.0)
    wall = dict.fromkeys(modes, 0.0)
    serial = 0
    for mode in modes:
        set_mode(mode)
        for _ in range(warmup):
            serial += 1
            publish(mode, serial)
    per_round = count // rounds
    for _ in range(rounds):
        for mode in modes:
            set_mode(mode)
            started, started_wall = time.thread_time(), time.perf_counter()
            for _ in range(per_round):
                serial += 1
                publish(mode, serial)
            cpu[mode] += time.thread_time() - started
            wall[mode] += time.perf_counter() - started_wall
    done = per_round * rounds
    for mode in modes:
        micros, millis = cpu[mode] / done * 1e6, wall[mode] / done * 1e3
        print(f"    {mode:16} {micros:8.0f} µs CPU/publish   {millis:6.2f} ms wall")
    return {mode: cpu[mode] / done * 1e6 for mode in modes}


def report(name: str, figures: dict[str, float]) -> None:
    for base in ("httpx", "lean-httpx-built"):
        if base in figures and "lean" in figures:
            ratio = figures["lean"] / figures[base]
            print(f"    {name}: lean/{base} = {ratio:.2f} (saves {1 - ratio:.0%} of CPU)")


def bench_mastodon(modes: list[str], args: argparse.Namespace) -> dict[str, float]:
    with MastodonEmulator(rate_limit=10**9) as masto:
        token = masto.issue_token()
        account = ChannelAccount(
            network="mastodon",
            base_url=masto.base_url,
            remote_id=masto.account(masto.config.default_username).id,
            credentials={"access_token": token},
        )
        print(f"mastodon (MastodonEmulator, {args.count} publishes per mode)")
        return measure(
            publisher(MastodonConnector(), account), modes, count=args.count, rounds=args.rounds, warmup=20
        )


def bench_bluesky(modes: list[str], args: argparse.Namespace) -> dict[str, float]:
    with BlueskyTestNetwork() as net:
        brand = net.create_account("bench.test", "bench-main-password", "bench@example.com")
        account = ChannelAccount(
            network="bluesky",
            base_url=net.pds_url,
            remote_id=brand.did,
            handle=brand.handle,
            credentials={"access_jwt": brand.access_jwt, "refresh_jwt": brand.refresh_jwt, "did": brand.did},
        )
        print(f"bluesky (local PDS of devservers/bluesky, {args.count} publishes per mode)")
        return measure(
            publisher(BlueskyConnector(), account), modes, count=args.count, rounds=args.rounds, warmup=20
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--modes",
        default="httpx,lean-httpx-built,lean",
        help="comma-separated: default, httpx, lean-httpx-built, lean",
    )
    parser.add_argument("--count", type=int, default=300, help="measured publishes per mode and network")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--networks", default="bluesky,mastodon")
    args = parser.parse_args()
    modes = args.modes.split(",")
    networks = args.networks.split(",")
    if "bluesky" in networks:
        report("bluesky", bench_bluesky(modes, args))
    if "mastodon" in networks:
        report("mastodon", bench_mastodon(modes, args))


if __name__ == "__main__":
    main()
