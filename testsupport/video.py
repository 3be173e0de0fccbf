"""Real, tiny MP4 files of a known length and size for tests, encoded with PyAV (nothing downloaded).

Blank frames at 2 frames per second in FFmpeg's built-in MPEG-4 Part 2 encoder: 100 seconds of 36 x 64
pixels take a few tenths of a second and about 200 KB.
"""

from __future__ import annotations

import io
from functools import cache


@cache
def mp4_bytes(*, width: int, height: int, seconds: float, fps: int = 2, rotation: int = 0) -> bytes:
    """An MP4 of ``seconds`` (rounded to whole frames) at ``width`` x ``height`` as stored; ``rotation``
    (degrees) sets the display matrix phones write, so the video is shown turned."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        for _ in range(max(1, round(seconds * fps))):
            for packet in stream.encode(av.VideoFrame(width, height, "yuv420p")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()
