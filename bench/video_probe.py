"""Time of reading a video's duration and shown size on upload (``posts.video.video_probe``, PyAV).

    .venv/bin/python bench/video_probe.py             # a 10 s 1080 x 1920 MP4 at 30 fps, 30 probes

The file is encoded here with FFmpeg's MPEG-4 Part 2 encoder (blank frames, so it is small); the probe
reads the container header and decodes one frame for the rotation, so its time grows with the header,
not with the length of the video.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from resonanz.posts.video import video_probe  # noqa: E402
from testsupport.video import mp4_bytes  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    data = mp4_bytes(width=1080, height=1920, seconds=args.seconds, fps=30)
    times = []
    probe = None
    for _ in range(args.runs):
        start = time.perf_counter()
        probe = video_probe(data=data)
        times.append((time.perf_counter() - start) * 1000)
    print(f"{probe}; {len(data)} bytes; median {statistics.median(times):.2f} ms, max {max(times):.2f} ms")


if __name__ == "__main__":
    main()
