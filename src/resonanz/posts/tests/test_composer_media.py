"""Media in the composer: the upload endpoint (drag and drop), the file view, alt text, the limit of 4."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from resonanz.posts.models import MediaAsset, PartMedia, Post
from resonanz.posts.previews import max_media_items
from resonanz.posts.services import media_asset_create


def png_bytes(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, "PNG")
    return buffer.getvalue()


def upload(client: Client, workspace, data: bytes, name: str = "red.png", content_type: str = "image/png"):
    return client.post(
        reverse("web:post_media", args=[workspace.pk]),
        {"file": SimpleUploadedFile(name, data, content_type=content_type)},
    )


def test_upload_returns_the_media_item(owner_client, workspace) -> None:
    response = upload(owner_client, workspace, png_bytes())
    assert response.status_code == 201
    asset = MediaAsset.objects.get(workspace=workspace)
    assert (asset.mime_type, asset.width, asset.height) == ("image/png", 8, 8)
    html = response.content.decode()
    assert f'<input type="hidden" name="media_asset" value="{asset.pk}">' in html
    assert f'src="{reverse("web:post_media_file", args=[workspace.pk, asset.pk])}"' in html
    assert f'name="media_alt" id="media-alt-{asset.pk}"' in html
    # No alt text yet: the item warns (the warning is hidden as soon as one is typed).
    assert f'id="media-alt-{asset.pk}-warning" data-alt-warning>' in html


def test_upload_refuses_what_is_not_an_image(owner_client, workspace) -> None:
    response = upload(owner_client, workspace, b"MZ\x90\x00 not an image", name="virus.png")
    assert response.status_code == 400
    assert "virus.png is not an image we can read." in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_upload_refuses_an_unsupported_type(owner_client, workspace) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buffer, "BMP")
    response = upload(owner_client, workspace, buffer.getvalue(), name="bild.bmp", content_type="image/bmp")
    assert response.status_code == 400
    assert "which is not supported" in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_upload_refuses_a_file_too_large_before_reading_it(owner_client, workspace, monkeypatch) -> None:
    monkeypatch.setattr("resonanz.posts.views.MAX_UPLOAD_BYTES", 100)
    response = upload(owner_client, workspace, png_bytes() + b"\0" * 200, name="gross.png")
    assert response.status_code == 400
    assert "the maximum upload is 100 bytes" in response.content.decode()
    assert not MediaAsset.objects.exists()


def test_upload_without_file(owner_client, workspace) -> None:
    response = owner_client.post(reverse("web:post_media", args=[workspace.pk]))
    assert response.status_code == 400
    assert "Choose a file to upload." in response.content.decode()


def test_upload_escapes_the_file_name(owner_client, workspace) -> None:
    response = upload(owner_client, workspace, png_bytes(), name="<img src=x onerror=alert(1)>.png")
    assert response.status_code == 201
    html = response.content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.png" in html


def test_upload_and_file_permissions(workspace, owner, member, login, other_workspace) -> None:
    asset = media_asset_create(workspace=workspace, data=png_bytes(), filename="a.png", actor=owner)
    upload_url = reverse("web:post_media", args=[workspace.pk])
    file_url = reverse("web:post_media_file", args=[workspace.pk, asset.pk])
    analyst = login(member("analyst"))
    assert upload(analyst, workspace, png_bytes()).status_code == 403
    assert analyst.get(file_url).status_code == 200  # reading is allowed to every member
    stranger = login(other_workspace.memberships.get().user)
    assert stranger.post(upload_url, {"file": SimpleUploadedFile("a.png", png_bytes())}).status_code == 404
    assert stranger.get(file_url).status_code == 404
    # Nor can a stranger reach it through their own workspace.
    foreign_url = reverse("web:post_media_file", args=[other_workspace.pk, asset.pk])
    assert stranger.get(foreign_url).status_code == 404
    assert MediaAsset.objects.count() == 1


def test_file_view_serves_the_image(owner_client, workspace, owner) -> None:
    data = png_bytes()
    asset = media_asset_create(workspace=workspace, data=data, filename="a.png", actor=owner)
    response = owner_client.get(reverse("web:post_media_file", args=[workspace.pk, asset.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == data
    assert "private" in response["Cache-Control"]


def test_several_images_with_alt_text_are_saved_in_order(owner_client, workspace, owner, mastodon) -> None:
    first = media_asset_create(workspace=workspace, data=png_bytes("red"), filename="1.png", actor=owner)
    second = media_asset_create(workspace=workspace, data=png_bytes("blue"), filename="2.png", actor=owner)
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "Zwei Bilder",
            "channels": [mastodon.pk],
            "action": "draft",
            "media_asset": [second.pk, first.pk],
            "media_alt": ["Blaues Quadrat", ""],
        },
    )
    assert response.status_code == 302
    attached = list(PartMedia.objects.filter(part__variant__post__workspace=workspace).order_by("position"))
    assert [(pm.asset_id, pm.alt_text) for pm in attached] == [(second.pk, "Blaues Quadrat"), (first.pk, "")]
    # The edit page shows them again, with their alt texts and the warning for the empty one.
    post = Post.objects.get(workspace=workspace)
    html = owner_client.get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert html.index(f'name="media_asset" value="{second.pk}"') < html.index(
        f'name="media_asset" value="{first.pk}"'
    )
    assert "Blaues Quadrat</textarea>" in html
    assert f'id="media-alt-{first.pk}-warning" data-alt-warning>' in html
    assert f'id="media-alt-{second.pk}-warning" data-alt-warning hidden>' in html


def test_removing_an_image_without_javascript(owner_client, workspace, owner, mastodon) -> None:
    asset = media_asset_create(workspace=workspace, data=png_bytes(), filename="1.png", actor=owner)
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "Ohne Bild",
            "channels": [mastodon.pk],
            "action": "draft",
            "media_asset": [asset.pk],
            "media_alt": ["x"],
            "media_remove": [asset.pk],
        },
    )
    assert response.status_code == 302
    assert not PartMedia.objects.exists()


def test_at_most_as_many_images_as_the_most_generous_network(
    owner_client, workspace, owner, mastodon
) -> None:
    # The composer takes what some registered network takes (a carousel of 10, 20 images on LinkedIn);
    # one more is refused for every channel, and each channel's check refuses more than its own limit.
    limit = max_media_items()
    assert limit >= 10
    assets = [
        media_asset_create(workspace=workspace, data=png_bytes(), filename=f"{n}.png", actor=owner)
        for n in range(limit + 1)
    ]
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "Zu viele",
            "channels": [mastodon.pk],
            "action": "draft",
            "media_asset": [a.pk for a in assets],
            "media_alt": [""] * (limit + 1),
        },
    )
    assert response.status_code == 400
    assert f"Attach at most {limit} images." in response.content.decode()
    assert not Post.objects.exists()


def test_foreign_media_id_is_refused(owner_client, workspace, mastodon, other_workspace) -> None:
    stranger = other_workspace.memberships.get().user
    foreign = media_asset_create(
        workspace=other_workspace, data=png_bytes(), filename="f.png", actor=stranger
    )
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "x",
            "channels": [mastodon.pk],
            "action": "draft",
            "media_asset": [foreign.pk],
            "media_alt": [""],
        },
    )
    assert response.status_code == 400
    assert "Unknown media file." in response.content.decode()
    assert not Post.objects.filter(workspace=workspace).exists()


def test_attach_image_without_javascript_saves_nothing_else(owner_client, workspace, mastodon) -> None:
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "Gleich mit Bild",
            "channels": [mastodon.pk],
            "media_op": "upload",
            "alt_text": "Rot",
            "image": SimpleUploadedFile("rot.png", png_bytes(), content_type="image/png"),
        },
    )
    assert response.status_code == 200
    asset = MediaAsset.objects.get(workspace=workspace)
    html = response.content.decode()
    assert f'name="media_asset" value="{asset.pk}"' in html
    assert "Rot</textarea>" in html
    assert "Gleich mit Bild</textarea>" in html
    assert not Post.objects.exists()


def test_composer_renders_channel_limits_for_the_browser(
    owner_client, workspace, mastodon, make_channel
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert (
        f'data-channel="{mastodon.pk}" data-network="mastodon" data-label="Mastodon · brand@social.example" '
        'data-accept="image/jpeg image/png image/gif image/webp video/mp4" data-image-max="16777216"'
    ) in html
    assert f'data-channel="{bluesky.pk}" data-network="bluesky"' in html
    assert 'data-recompress-over="1000000"' in html
    assert f'data-max-media="{max_media_items()}"' in html
    assert f'data-channel="{mastodon.pk}" data-network="mastodon"' in html
    assert 'data-max-items="4"' in html  # Mastodon's own limit (its check refuses a fifth)


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def test_a_pdf_is_a_document_for_the_network_that_takes_one(workspace, owner, mastodon, make_channel) -> None:
    from resonanz.posts.rules import post_input_check
    from resonanz.posts.services import MediaInput, PostError, PostInput

    linkedin = make_channel("linkedin", handle="stoffwerk")
    asset = media_asset_create(workspace=workspace, data=PDF, filename="bericht.pdf", actor=owner)
    assert asset.mime_type == "application/pdf"
    assert (asset.width, asset.height) == (None, None)
    # Named .pdf but not one: refused with the file's name.
    try:
        media_asset_create(workspace=workspace, data=b"<html>", filename="falsch.pdf", actor=owner)
    except PostError as exc:
        assert exc.message == "falsch.pdf is not a PDF we can read."
    else:
        raise AssertionError("a file that is not a PDF was taken as one")
    data = PostInput(
        text="Unser Jahresbericht",
        channel_ids=[linkedin.pk, mastodon.pk],
        media=[MediaInput(asset_id=asset.pk)],
    )
    reports = {
        r.network: [i.code for i in r.issues]
        for r in post_input_check(
            workspace=workspace, data=data, channels=[linkedin, mastodon], assets=[asset]
        )
    }
    assert reports["linkedin"] == []
    assert "unsupported_media_type" in reports["mastodon"]
