"""CPU per publish of a Facebook Reel (``start`` -> the bytes to the upload host -> ``finish`` -> status
polls until published) against a feed text post as the baseline in the same run, both with
``FacebookConnector`` against ``MetaEmulator`` (testsupport/emulators/meta.py, in this process).

    .venv/bin/python bench/meta_formats.py            # 200 publishes of each, alternating in rounds

Measured: CPU time of the publishing thread (``time.thread_time``) per ``publish_part`` after a warm-up,
and the wall time; the emulator's handler runs on other threads and is not counted. The Reel carries a
64 KiB video and is polled once "processing" before it is published (``reel_checks = 1``), so it is four
Graph calls and one upload against the feed post's one call.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resonanz.config.settings.base")

import logging  # noqa: E402

import django  # noqa: E402

django.setup()
logging.getLogger("httpx").setLevel(logging.WARNING)

from resonanz.connectors.base.provider import DraftMedia, DraftPart, DraftVariant, PublishKey  # noqa: E402
from resonanz.connectors.facebook.provider import FacebookConnector  # noqa: E402
from resonanz.connectors.facebook.tests.test_contract import page_account  # noqa: E402
from testsupport.emulators.meta import MetaEmulator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    video = DraftMedia(data=b"\x00\x00\x00\x18ftypmp42" + b"\x07" * 65536, mime_type="video/mp4")
    with MetaEmulator() as emulator:
        emulator.reel_checks = 1
        connector = FacebookConnector(poll_interval=0.0, reel_timeout=10.0)
        account = page_account(emulator)
        connector.verify(account=account)
        kinds = {
            "feed text": lambda n: DraftVariant(parts=[DraftPart(text=f"Bench {n}: Herbstangebot")]),
            "reel": lambda n: DraftVariant(
                parts=[DraftPart(text=f"Bench {n}: Reel", media=[video])], format="reel"
            ),
        }
        cpu = dict.fromkeys(kinds, 0.0)
        wall = dict.fromkeys(kinds, 0.0)
        for n in range(5):  # warm-up: connections, imports
            for make in kinds.values():
                key = PublishKey(key=str(uuid.uuid4()), created_at=datetime.now(UTC))
                connector.publish_part(account=account, variant=make(n), part_index=0, key=key)
        for n in range(args.count):
            for name, make in kinds.items():
                key = PublishKey(key=str(uuid.uuid4()), created_at=datetime.now(UTC))
                variant = make(n)
                c0, w0 = time.thread_time(), time.perf_counter()
                connector.publish_part(account=account, variant=variant, part_index=0, key=key)
                cpu[name] += time.thread_time() - c0
                wall[name] += time.perf_counter() - w0
        assert len(emulator.live_reels(emulator.default_page)) == args.count + 5
    load = os.getloadavg()
    print(
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} cores, {args.count} each"
    )
    for name in kinds:
        print(
            f"{name:10} {1000 * cpu[name] / args.count:7.2f} ms CPU/publish"
            f"  {1000 * wall[name] / args.count:7.2f} ms wall/publish"
        )
    ratio_cpu, ratio_wall = cpu["reel"] / cpu["feed text"], wall["reel"] / wall["feed text"]
    print(f"reel / feed text: CPU x{ratio_cpu:.1f}, wall x{ratio_wall:.1f}")
    print(f"process max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
