"""What a video file is: its duration and the size it is shown at, read once when it is uploaded.

The networks refuse a video that is too long, too short or of the wrong shape only after the upload has
been processed, when the post is due; reading these three numbers here lets the check before scheduling
(``rules.draft_check``) say so while the post can still be changed. PyAV (FFmpeg's demuxers) reads them
from the container's header without decoding the video, except for one frame to learn its rotation.

A file it cannot read is not refused: the network judges it (``video_probe`` returns None).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)

# FFmpeg reports a container's duration in microseconds (AV_TIME_BASE).
_AV_TIME_BASE = 1_000_000


@dataclass(frozen=True)
class VideoProbe:
    duration_seconds: float | None
    width: int | None  # as shown: a phone's portrait video stored 1920 x 1080 and turned by 90° is 1080 wide
    height: int | None


def video_probe(*, data: bytes) -> VideoProbe | None:
    """Duration and displayed size of a video file; None when it cannot be read as one."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            duration: float | None = None
            if container.duration is not None and container.duration > 0:
                duration = container.duration / _AV_TIME_BASE
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            width = stream.codec_context.width or None
            height = stream.codec_context.height or None
            # A display matrix turns the picture (phones store portrait video as landscape plus a rotation);
            # PyAV reports it on the decoded frame.
            rotation = 0
            try:
                frame = next(container.decode(stream), None)
                rotation = int(frame.rotation) if frame is not None else 0
            except av.FFmpegError:
                rotation = 0
            if rotation % 180 and width and height:
                width, height = height, width
            return VideoProbe(duration_seconds=duration, width=width, height=height)
    except (av.FFmpegError, ValueError, OSError, StopIteration) as exc:
        logger.info("video not readable: %s", exc)
        return None
