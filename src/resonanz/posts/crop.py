"""Cropping a picture to an aspect ratio a channel takes (issue 9: "an offer to crop").

A network declares the width / height it takes as ``MediaRule.aspect_ratio`` (connectors/base/spec.py);
this module only reads that declaration through the registry, so it never names a network. The maths is
pure (``crop_box``); ``crop_image`` does it with Pillow on the picture *as shown* (EXIF orientation
applied first: a phone's portrait photo is stored landscape with "rotate 90°" in its EXIF).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

# The networks compare the ratio with a little slack (a 1080 x 1351 picture is "4:5"); the same slack
# decides which ratios may be asked for and which pictures are offered a crop.
RATIO_TOLERANCE = 0.005


class CropFocus(StrEnum):
    """Which part of the picture is kept along the axis that is cut."""

    START = "start"  # the top of a too-tall picture, the left of a too-wide one
    CENTER = "center"
    END = "end"  # the bottom, the right


FOCUS_LABELS: dict[CropFocus, tuple[StrOrPromise, StrOrPromise]] = {
    # (too tall: the cut is vertical, too wide: horizontal)
    CropFocus.START: (gettext_lazy("Keep the top"), gettext_lazy("Keep the left")),
    CropFocus.CENTER: (gettext_lazy("Keep the middle"), gettext_lazy("Keep the middle")),
    CropFocus.END: (gettext_lazy("Keep the bottom"), gettext_lazy("Keep the right")),
}


class CropError(Exception):
    """Raised with a message for the user (in their language)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def ratio_label(ratio: float) -> str:
    """ "4:5", "1:1", "1.91:1": small whole numbers where the ratio is one, else "<x>:1"."""
    fraction = Fraction(ratio).limit_denominator(20)
    if abs(float(fraction) - ratio) < 1e-9:
        return f"{fraction.numerator}:{fraction.denominator}"
    return f"{ratio:.3g}:1"


def ratio_parse(text: str) -> float | None:
    """ "4:5", "1.91:1", "4/5" or "0.8" as width / height; None when it is not a positive ratio."""
    raw = text.strip().replace(",", ".").replace("/", ":")
    try:
        if ":" in raw:
            width, height = (float(p) for p in raw.split(":", 1))
        else:
            width, height = float(raw), 1.0
    except ValueError:
        return None
    if not (width > 0 and height > 0):  # NaN fails the > too
        return None
    ratio = width / height
    return ratio if 1e-3 < ratio < 1e3 else None


def crop_box(*, width: int, height: int, ratio: float, focus: CropFocus) -> tuple[int, int, int, int]:
    """The (left, top, right, bottom) box of the largest ``ratio`` rectangle inside a ``width`` x
    ``height`` picture, placed by ``focus`` along the axis that is cut (Pillow's ``Image.crop`` box)."""
    if width < 1 or height < 1 or ratio <= 0:
        raise ValueError("a picture and a ratio are positive")
    if width / height > ratio:  # too wide: cut left and/or right
        new_width = max(1, min(width, round(height * ratio)))
        left = _offset(width - new_width, focus)
        return (left, 0, left + new_width, height)
    new_height = max(1, min(height, round(width / ratio)))  # too tall (or exact): cut top and/or bottom
    top = _offset(height - new_height, focus)
    return (0, top, width, top + new_height)


def _offset(spare: int, focus: CropFocus) -> int:
    if focus == CropFocus.START:
        return 0
    if focus == CropFocus.END:
        return spare
    return spare // 2


def within(ratio: float, bounds: tuple[float, float]) -> bool:
    low, high = bounds
    return low - RATIO_TOLERANCE <= ratio <= high + RATIO_TOLERANCE


def offered_ratios(*, ratio: float, bounds: tuple[float, float]) -> list[float]:
    """What a picture of ``ratio`` may be cropped to for a channel taking ``bounds``: the nearest bound
    (4:5 for a too-tall picture, 1.91:1 for a too-wide one) and 1:1 where the channel takes it."""
    low, high = bounds
    nearest = low if abs(ratio - low) <= abs(ratio - high) else high
    offers = [nearest]
    if within(1.0, bounds) and abs(nearest - 1.0) > RATIO_TOLERANCE:
        offers.append(1.0)
    return offers


def declared_bounds() -> list[tuple[float, float]]:
    """Every aspect-ratio range a registered network declares for pictures."""
    from resonanz.connectors.base.spec import MediaKind
    from resonanz.connectors.registry import registered_connectors

    bounds = []
    for connector in registered_connectors():
        rule = connector.spec.media.rule(MediaKind.IMAGE)
        if rule is not None and rule.aspect_ratio is not None:
            bounds.append(rule.aspect_ratio)
    return bounds


def channel_bounds(network: str) -> tuple[float, float] | None:
    """The aspect-ratio range the network of a channel declares for pictures (None: any)."""
    from resonanz.connectors.base.spec import MediaKind
    from resonanz.connectors.registry import find_spec

    spec = find_spec(network)
    rule = spec.media.rule(MediaKind.IMAGE) if spec is not None else None
    return rule.aspect_ratio if rule is not None else None


@dataclass(frozen=True)
class ShownSize:
    width: int
    height: int
    stored_width: int
    stored_height: int


def shown_size(data: bytes) -> ShownSize | None:
    """The picture's size as shown (EXIF orientations 5 to 8 turn it by 90°) and as stored."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            orientation = image.getexif().get(0x0112, 1)  # EXIF 2.32, tag 274 "Orientation"
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    if orientation in (5, 6, 7, 8):
        return ShownSize(height, width, width, height)
    return ShownSize(width, height, width, height)


# Pillow format -> what the cropped copy is saved with. JPEG at quality 90 with the source's chroma
# subsampling kept is visually lossless for photos (Pillow docs, "JPEG saving"); WebP likewise at 90.
_SAVE_OPTIONS: dict[str, dict[str, object]] = {
    "JPEG": {"quality": 90, "optimize": True},
    "PNG": {"optimize": True},
    "WEBP": {"quality": 90},
    "GIF": {},
}


def crop_image(data: bytes, *, ratio: float, focus: CropFocus) -> tuple[bytes, str]:
    """The picture cropped to ``ratio`` (EXIF orientation applied first), in its own format: (bytes,
    Pillow format name). Raises ``CropError`` for what cannot be read or cropped."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as source:
            fmt = source.format or ""
            if fmt not in _SAVE_OPTIONS:
                raise CropError(
                    _("Only JPEG, PNG, WebP and GIF pictures can be cropped."),
                    code="unsupported_media",
                )
            if getattr(source, "n_frames", 1) > 1:
                # Cropping would keep only the first frame: an animation must be cropped where it was made.
                raise CropError(_("An animated picture cannot be cropped here."), code="unsupported_media")
            icc = source.info.get("icc_profile")
            subsampling = _subsampling(source) if fmt == "JPEG" else None
            upright = ImageOps.exif_transpose(source)  # a copy without the orientation tag
            box = crop_box(width=upright.width, height=upright.height, ratio=ratio, focus=focus)
            cropped = upright.crop(box)
            options: dict[str, object] = dict(_SAVE_OPTIONS[fmt])
            if icc:
                options["icc_profile"] = icc
            if subsampling is not None:
                options["subsampling"] = subsampling
            exif = upright.getexif()
            if fmt in ("JPEG", "WEBP") and len(exif):
                options["exif"] = exif.tobytes()
            out = io.BytesIO()
            cropped.save(out, fmt, **options)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise CropError(_("The picture cannot be read."), code="unreadable_image") from exc
    return out.getvalue(), fmt


def _subsampling(image: object) -> int | None:
    from PIL import JpegImagePlugin

    try:
        value = JpegImagePlugin.get_sampling(image)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - unknown sampling: Pillow's default is fine
        return None
    return value if value in (0, 1, 2) else None
