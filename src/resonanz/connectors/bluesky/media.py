"""Bring images within Bluesky's blob limit with Pillow.

Bluesky's app refuses image blobs over 1,000,000 bytes (the ``app.bsky.embed.images`` lexicon now says
"up to 2 MB, formerly limited to 1 MB"; we keep the stricter, long-standing value so older PDS/AppView
deployments accept the post too) and itself scales images to at most 2000 px on the long side before upload
(social-app ``src/lib/constants.ts``, ``POST_IMG_MAX``). We do the same when an image must be recompressed.

An image that already fits is uploaded byte for byte — unless it carries GPS location metadata: the raw blob
is publicly downloadable (``com.atproto.sync.getBlob``), so such images are re-encoded without metadata.
"""

from __future__ import annotations

import io
import math

from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from resonanz.connectors.base.errors import Rejected

MAX_IMAGE_BYTES = 1_000_000
MAX_SIDE = 2000
MIN_SIDE = 64  # below this an image is useless; give up instead
JPEG_QUALITIES = (90, 82, 74, 66, 58, 50)
KEEP_AS_IS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
_GPS_IFD = 0x8825
_ORIENTATION = 0x0112

Size = tuple[int, int]


def _not_an_image() -> Rejected:
    message = _("This file is not an image that can be posted on Bluesky.")
    return Rejected(message, network_message=message)


def open_image(data: bytes) -> Image.Image:
    """Open (lazily) or raise :class:`Rejected`."""
    try:
        image = Image.open(io.BytesIO(data))
        image.size  # noqa: B018 - touching the header is enough to detect garbage
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _not_an_image() from exc
    return image


def _display_size(image: Image.Image) -> Size:
    """Width/height as shown: EXIF orientations 5 to 8 rotate by 90° (the aspectRatio must match that)."""
    width, height = image.size
    try:
        orientation = image.getexif().get(_ORIENTATION)
    except (OSError, ValueError, SyntaxError):
        orientation = None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def probe_image(data: bytes) -> Size:
    """Cheap check for validation: the header only, no decoding of pixels."""
    return _display_size(open_image(data))


def _has_location(image: Image.Image) -> bool:
    try:
        return bool(image.getexif().get_ifd(_GPS_IFD))
    except (OSError, ValueError, SyntaxError, KeyError):
        return False


def _has_alpha(image: Image.Image) -> bool:
    if image.mode == "P" and "transparency" in image.info:
        return True
    if image.mode not in ("RGBA", "LA", "PA"):
        return False
    extrema = image.getchannel("A").getextrema()
    return isinstance(extrema[0], int | float) and extrema[0] < 255


def _cap(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    return image.resize(_scaled(image.size, scale), Image.Resampling.LANCZOS)


def _scaled(size: Size, scale: float) -> Size:
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _jpeg_ladder(image: Image.Image, max_bytes: int) -> tuple[bytes | None, int]:
    """First quality step that fits; else ``None`` and the size at the lowest quality."""
    smallest = 0
    for quality in JPEG_QUALITIES:
        icc = image.info.get("icc_profile")
        data = _encode(image, "JPEG", quality=quality, optimize=True, icc_profile=icc)
        if len(data) <= max_bytes:
            return data, len(data)
        smallest = len(data)
    return None, smallest


def _shrink_jpeg(image: Image.Image, max_bytes: int) -> tuple[bytes, Size]:
    while True:
        data, smallest = _jpeg_ladder(image, max_bytes)
        if data is not None:
            return data, image.size
        # JPEG size grows roughly with the pixel count: aim directly at the budget, with a margin.
        scale = min(0.85, math.sqrt(max_bytes / smallest) * 0.95)
        new_size = _scaled(image.size, scale)
        if min(new_size) < MIN_SIDE:
            message = _("The image cannot be made smaller than %(limit)s bytes for Bluesky.") % {
                "limit": f"{max_bytes:,}"
            }
            raise Rejected(message, network_message=message)
        image = image.resize(new_size, Image.Resampling.LANCZOS)


def recompress(image: Image.Image, max_bytes: int) -> tuple[bytes, str, Size]:
    """Re-encode without metadata: PNG if it has real transparency and fits, else JPEG (on white)."""
    image = _cap(ImageOps.exif_transpose(image), MAX_SIDE)
    if _has_alpha(image):
        png = _encode(image, "PNG", optimize=True)
        if len(png) <= max_bytes:
            return png, "image/png", image.size
        image = _on_white(image)
    elif image.mode != "RGB":
        image = image.convert("RGB")
    data, size = _shrink_jpeg(image, max_bytes)
    return data, "image/jpeg", size


def fit_image(data: bytes, mime: str, *, max_bytes: int = MAX_IMAGE_BYTES) -> tuple[bytes, str, Size]:
    """Return ``(bytes, mime type, (width, height))`` within ``max_bytes``; raise :class:`Rejected` if the
    data is not an image or cannot be brought under the limit. ``mime`` is only a hint: the real format is
    read from the data."""
    image = open_image(data)
    fmt = image.format or ""
    if len(data) <= max_bytes and fmt in KEEP_AS_IS and not _has_location(image):
        return data, KEEP_AS_IS[fmt], _display_size(image)
    try:
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise _not_an_image() from exc
    return recompress(image, max_bytes)
