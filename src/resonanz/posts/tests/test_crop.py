"""Cropping to a channel's aspect ratio (issue 9, "an offer to crop"): the maths, the service, the API.

The composer's offer and flow are in test_composer_crop.py.
"""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from PIL import Image

from resonanz.core.errors import WorkspaceMismatch
from resonanz.posts.crop import (
    CropFocus,
    crop_box,
    crop_image,
    declared_bounds,
    offered_ratios,
    ratio_label,
    ratio_parse,
    shown_size,
)
from resonanz.posts.models import MediaAsset
from resonanz.posts.services import PostError, media_asset_create, media_asset_crop

ORIENTATION = 0x0112


def picture(width: int, height: int, fmt: str = "JPEG", orientation: int | None = None) -> bytes:
    """A picture whose left/top half is red and right/bottom half blue (to see which part was kept)."""
    image = Image.new("RGB", (width, height), "blue")
    image.paste((255, 0, 0), (0, 0, width // 2, height // 2))
    buffer = io.BytesIO()
    options = {}
    if orientation is not None:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        options["exif"] = exif.tobytes()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


# -- the maths -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "ratio", "focus", "box"),
    [
        # Too tall (1000 x 2000 = 1:2) to 4:5: 1250 px high out of 2000.
        ((1000, 2000), 4 / 5, CropFocus.START, (0, 0, 1000, 1250)),
        ((1000, 2000), 4 / 5, CropFocus.CENTER, (0, 375, 1000, 1625)),
        ((1000, 2000), 4 / 5, CropFocus.END, (0, 750, 1000, 2000)),
        ((1000, 2000), 1.0, CropFocus.CENTER, (0, 500, 1000, 1500)),
        # Too wide (3000 x 1000 = 3:1) to 1.91:1: 1910 px wide out of 3000.
        ((3000, 1000), 1.91, CropFocus.START, (0, 0, 1910, 1000)),
        ((3000, 1000), 1.91, CropFocus.CENTER, (545, 0, 2455, 1000)),
        ((3000, 1000), 1.91, CropFocus.END, (1090, 0, 3000, 1000)),
        ((3000, 1000), 1.0, CropFocus.END, (2000, 0, 3000, 1000)),
        # An odd spare pixel goes after the kept middle; an exact ratio is kept whole.
        ((101, 100), 1.0, CropFocus.CENTER, (0, 0, 100, 100)),
        ((400, 500), 4 / 5, CropFocus.END, (0, 0, 400, 500)),
    ],
)
def test_crop_box(size, ratio, focus, box) -> None:
    assert crop_box(width=size[0], height=size[1], ratio=ratio, focus=focus) == box
    left, top, right, bottom = box
    assert abs((right - left) / (bottom - top) - ratio) < 0.005


def test_crop_box_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        crop_box(width=0, height=10, ratio=1.0, focus=CropFocus.CENTER)


def test_ratio_parse_and_label() -> None:
    assert ratio_parse("4:5") == 0.8
    assert ratio_parse(" 1,91:1 ") == pytest.approx(1.91)
    assert ratio_parse("4/5") == 0.8
    assert ratio_parse("1") == 1.0
    for bad in ("", "abc", "0:5", "-4:5", "4:0", "nan", "inf:inf", "1:1:1"):
        assert ratio_parse(bad) is None, bad
    assert [ratio_label(r) for r in (0.8, 1.0, 1.91, 16 / 9)] == ["4:5", "1:1", "1.91:1", "16:9"]


def test_offered_ratios_are_the_nearest_bound_and_square() -> None:
    bounds = (0.8, 1.91)
    assert offered_ratios(ratio=0.5, bounds=bounds) == [0.8, 1.0]  # too tall
    assert offered_ratios(ratio=3.0, bounds=bounds) == [1.91, 1.0]  # too wide
    assert offered_ratios(ratio=0.5, bounds=(0.5, 0.9)) == [0.5]  # no square where it is not taken


def test_the_networks_declare_a_picture_range() -> None:
    assert (0.8, 1.91) in declared_bounds()


def test_crop_image_follows_the_exif_orientation() -> None:
    # Stored 300 x 100 landscape with "rotate 90° clockwise" (orientation 6): shown 100 x 300 portrait.
    data = picture(300, 100, orientation=6)
    size = shown_size(data)
    assert size is not None
    assert (size.width, size.height) == (100, 300)
    cropped, fmt = crop_image(data, ratio=0.8, focus=CropFocus.START)
    assert fmt == "JPEG"
    with Image.open(io.BytesIO(cropped)) as image:
        assert image.size == (100, 125)
        assert image.getexif().get(ORIENTATION, 1) == 1  # upright now: no rotation left to apply
        # Shown upright, the stored left half (red top-left quarter) is at the top right: kept by START.
        pixel = image.convert("RGB").getpixel((90, 10))
        assert isinstance(pixel, tuple)
        assert pixel[0] > 200
        assert pixel[2] < 60


def test_crop_image_keeps_png() -> None:
    cropped, fmt = crop_image(picture(300, 100, "PNG"), ratio=1.0, focus=CropFocus.END)
    assert fmt == "PNG"
    with Image.open(io.BytesIO(cropped)) as image:
        assert (image.format, image.size) == ("PNG", (100, 100))
        assert image.convert("RGB").getpixel((50, 90)) == (0, 0, 255)  # the right end is all blue


# -- the service ---------------------------------------------------------------------------------


@pytest.fixture
def tall(workspace, owner) -> MediaAsset:
    return media_asset_create(
        workspace=workspace, data=picture(400, 1000), filename="turm.jpg", actor=owner, alt_text="Ein Turm"
    )


def test_media_asset_crop_makes_a_new_asset_and_keeps_the_original(workspace, owner, tall) -> None:
    original = tall.file.read()
    copy = media_asset_crop(workspace=workspace, asset_id=tall.pk, ratio=0.8, focus="end", actor=owner)
    assert copy.pk != tall.pk
    assert (copy.width, copy.height, copy.mime_type) == (400, 500, "image/jpeg")
    assert copy.original_name == "turm-4-5.jpg"
    assert copy.alt_text == "Ein Turm"
    assert copy.created_by == owner
    tall.refresh_from_db()
    with tall.file.open("rb") as handle:
        assert handle.read() == original
    assert MediaAsset.objects.filter(workspace=workspace).count() == 2


def test_media_asset_crop_of_another_workspace_is_not_found(other_workspace, tall) -> None:
    with pytest.raises(WorkspaceMismatch):
        media_asset_crop(workspace=other_workspace, asset_id=tall.pk, ratio=0.8, focus="center")
    with pytest.raises(WorkspaceMismatch):
        media_asset_crop(workspace=other_workspace, asset_id=999999, ratio=0.8, focus="center")


def test_media_asset_crop_refuses_a_ratio_no_network_takes(workspace, tall) -> None:
    with pytest.raises(PostError) as caught:
        media_asset_crop(workspace=workspace, asset_id=tall.pk, ratio=0.25, focus="center")
    assert caught.value.code == "invalid_ratio"
    assert "1:4 is not an aspect ratio a channel takes (4:5 to 1.91:1" in caught.value.message
    with translation.override("de"), pytest.raises(PostError) as german:
        media_asset_crop(workspace=workspace, asset_id=tall.pk, ratio=0.25, focus="center")
    assert "1:4 ist kein Seitenverhältnis" in german.value.message


def test_media_asset_crop_refuses_a_bad_focus(workspace, tall) -> None:
    with pytest.raises(PostError) as caught:
        media_asset_crop(workspace=workspace, asset_id=tall.pk, ratio=0.8, focus="left")
    assert caught.value.code == "invalid_focus"


def test_media_asset_crop_refuses_an_unreadable_image(workspace, tall) -> None:
    tall.file.save("kaputt.jpg", io.BytesIO(b"\xff\xd8 not really a jpeg"), save=True)
    with pytest.raises(PostError) as caught:
        media_asset_crop(workspace=workspace, asset_id=tall.pk, ratio=0.8, focus="center")
    assert caught.value.code == "unreadable_image"
    assert "The picture cannot be read." in caught.value.message


# -- the API -------------------------------------------------------------------------------------


def _crop_url(workspace, asset) -> str:
    return f"/api/v1/workspaces/{workspace.pk}/media/{asset.pk}/crop/"


def test_api_crop(api, workspace, tall) -> None:
    response = api.post(_crop_url(workspace, tall), {"ratio": "1:1", "focus": "start"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["width"], body["height"], body["original_name"]) == (400, 400, "turm-1-1.jpg")
    assert body["id"] != tall.pk


def test_api_crop_of_another_workspaces_file_is_404(api, workspace, other_workspace) -> None:
    foreign = media_asset_create(
        workspace=other_workspace, data=picture(400, 1000), filename="x.jpg", actor=None
    )
    # Asked in one's own workspace, another workspace's file does not exist (the same 404 as no file).
    response = api.post(_crop_url(workspace, foreign), {"ratio": "4:5"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    # And in the other workspace one is not a member.
    url = f"/api/v1/workspaces/{other_workspace.pk}/media/{foreign.pk}/crop/"
    assert api.post(url, {"ratio": "4:5"}, format="json").status_code in (403, 404)
    assert MediaAsset.objects.count() == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"ratio": "vier zu fünf"}, "invalid"),
        ({"ratio": "1:4"}, "invalid_ratio"),
        ({"ratio": "4:5", "focus": "left"}, "invalid"),
        ({}, "invalid"),
    ],
)
def test_api_crop_bad_input_is_400(api, workspace, tall, payload, code) -> None:
    response = api.post(_crop_url(workspace, tall), payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert MediaAsset.objects.count() == 1
