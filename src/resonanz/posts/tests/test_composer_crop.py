"""The composer's crop offer (issue 9): beside a channel's aspect-ratio problem the check offers to crop
the picture; "Crop" stores a cropped copy that replaces the attachment (the original stays)."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from resonanz.posts.models import MediaAsset, PartMedia
from resonanz.posts.services import media_asset_create


def jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "green").save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def picture_channel(make_channel):
    # The network with a declared picture aspect ratio (MediaRule.aspect_ratio 4:5 to 1.91:1).
    return make_channel("instagram", base_url="https://graph.facebook.com", handle="shop")


@pytest.fixture
def tall(workspace, owner) -> MediaAsset:
    return media_asset_create(
        workspace=workspace, data=jpeg(400, 1000), filename="turm.jpg", actor=owner, alt_text="Ein Turm"
    )


def _data(channel, asset, **extra):
    return {"text": "Hallo", "channels": [channel.pk], "media_asset": [asset.pk], "media_alt": ["Ein Turm"]}


def test_the_check_offers_to_crop_a_too_tall_picture(owner_client, workspace, picture_channel, tall) -> None:
    url = reverse("web:post_check", args=[workspace.pk])
    html = owner_client.post(url, _data(picture_channel, tall), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    issue = html[html.index('data-code="aspect_ratio"') :]
    assert "<summary>Zuschneiden" in issue
    ratios = re.findall(rf'name="crop_ratio_{tall.pk}" value="([^"]+)"', issue)
    assert ratios == ["4:5", "1:1"]  # the nearest bound first (checked), then the square
    assert re.search(rf'name="crop_focus_{tall.pk}" value="center"[^>]*checked', issue)
    assert "Oben behalten" in issue  # too tall: the cut is vertical
    assert "Unten behalten" in issue
    assert f'name="media_op" value="crop:{tall.pk}"' in issue


def test_a_too_wide_picture_is_offered_the_landscape_bound(owner_client, workspace, owner, picture_channel):
    wide = media_asset_create(workspace=workspace, data=jpeg(3000, 1000), filename="weit.jpg", actor=owner)
    url = reverse("web:post_check", args=[workspace.pk])
    html = owner_client.post(url, _data(picture_channel, wide)).content.decode()
    assert re.findall(rf'name="crop_ratio_{wide.pk}" value="([^"]+)"', html) == ["1.91:1", "1:1"]
    assert "Keep the left" in html


def test_no_offer_for_a_picture_that_fits(owner_client, workspace, owner, picture_channel) -> None:
    fits = media_asset_create(workspace=workspace, data=jpeg(800, 1000), filename="ok.jpg", actor=owner)
    html = owner_client.post(
        reverse("web:post_check", args=[workspace.pk]), _data(picture_channel, fits)
    ).content.decode()
    assert "data-crop-offer" not in html
    assert 'data-code="aspect_ratio"' not in html


def test_no_offer_on_a_channel_without_a_declared_ratio(owner_client, workspace, mastodon, tall) -> None:
    html = owner_client.post(
        reverse("web:post_check", args=[workspace.pk]), _data(mastodon, tall)
    ).content.decode()
    assert "data-crop-offer" not in html


def test_crop_replaces_the_attachment_and_keeps_the_original(
    owner_client, workspace, picture_channel, tall
) -> None:
    url = reverse("web:post_new", args=[workspace.pk])
    data = {
        **_data(picture_channel, tall),
        "media_op": f"crop:{tall.pk}",
        f"crop_ratio_{tall.pk}": "4:5",
        f"crop_focus_{tall.pk}": "start",
    }
    response = owner_client.post(url, data, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200
    html = response.content.decode()
    copy = MediaAsset.objects.exclude(pk=tall.pk).get()
    assert (copy.width, copy.height, copy.original_name) == (400, 500, "turm-4-5.jpg")
    assert MediaAsset.objects.filter(pk=tall.pk).exists()  # nothing lost
    assert f'name="media_asset" value="{copy.pk}"' in html
    assert f'name="media_asset" value="{tall.pk}"' not in html
    assert "Ein Turm</textarea>" in html  # the alt text stays with the attachment
    assert "Zugeschnittene Kopie angehängt; das Originalbild bleibt erhalten." in html
    assert not PartMedia.objects.exists()  # a re-render: nothing saved yet
    # Saving the draft now attaches the copy.
    saved = owner_client.post(
        url, {**_data(picture_channel, copy), "media_alt": ["Ein Turm"], "action": "draft"}
    )
    assert saved.status_code == 302
    assert list(PartMedia.objects.values_list("asset_id", flat=True)) == [copy.pk]
    # And the check no longer finds a problem with the picture.
    check = owner_client.post(
        reverse("web:post_check", args=[workspace.pk]), _data(picture_channel, copy)
    ).content.decode()
    assert 'data-code="aspect_ratio"' not in check


def test_crop_with_a_ratio_no_channel_takes_says_so_in_german(
    owner_client, workspace, picture_channel, tall
) -> None:
    data = {**_data(picture_channel, tall), "media_op": f"crop:{tall.pk}", f"crop_ratio_{tall.pk}": "1:4"}
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]), data, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "1:4 ist kein Seitenverhältnis, das ein Kanal annimmt (4:5 bis 1.91:1)." in html
    assert f'name="media_asset" value="{tall.pk}"' in html  # the attachment is unchanged
    assert MediaAsset.objects.count() == 1


def test_crop_of_a_picture_not_attached_is_refused(owner_client, workspace, owner, picture_channel, tall):
    other = media_asset_create(workspace=workspace, data=jpeg(400, 1000), filename="b.jpg", actor=owner)
    data = {**_data(picture_channel, tall), "media_op": f"crop:{other.pk}", f"crop_ratio_{other.pk}": "4:5"}
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]), data, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 400
    assert "Dieses Bild ist nicht an den Beitrag angehängt." in response.content.decode()
    assert MediaAsset.objects.count() == 2


def test_crop_of_another_workspaces_picture_is_not_done(
    owner_client, workspace, other_workspace, picture_channel
) -> None:
    foreign = media_asset_create(
        workspace=other_workspace, data=jpeg(400, 1000), filename="f.jpg", actor=None
    )
    data = {
        **_data(picture_channel, foreign),
        "media_op": f"crop:{foreign.pk}",
        f"crop_ratio_{foreign.pk}": "4:5",
    }
    response = owner_client.post(reverse("web:post_new", args=[workspace.pk]), data)
    assert response.status_code == 404
    assert MediaAsset.objects.count() == 1
