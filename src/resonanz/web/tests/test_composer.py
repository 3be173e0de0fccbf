"""The composer: create, edit, schedule in the workspace's time zone, errors, upload, the live check."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from django.test import Client
from django.urls import reverse
from PIL import Image

from resonanz.accounts.models import ApprovalMode
from resonanz.posts.models import MediaAsset, PartMedia, Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create


def compose(client: Client, workspace, post: Post | None = None, /, **data: Any):
    url = reverse("web:post_edit", args=[workspace.pk, post.pk]) if post else reverse(
        "web:post_new", args=[workspace.pk])
    return client.post(url, data)


def png() -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "red.png"
    return buffer


def test_composer_form_renders_with_htmx_check(owner_client, workspace, mastodon) -> None:
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert f'hx-post="{reverse("web:post_check", args=[workspace.pk])}"' in html
    assert 'hx-trigger="keyup changed delay:300ms' in html
    assert 'type="datetime-local"' in html
    assert "mastodon: brand@social.example" in html
    assert 'id="publish-now"' in html
    assert 'id="schedule"' in html


def test_save_draft_with_thread(owner_client, workspace, mastodon) -> None:
    response = compose(owner_client, workspace, text="Erster Teil", channels=[mastodon.pk],
                       thread=["Zweiter Teil", "   "], action="draft")
    assert response.status_code == 302
    post = Post.objects.get(workspace=workspace)
    assert response["Location"] == reverse("web:post_detail", args=[workspace.pk, post.pk])
    assert post.status == PostStatus.DRAFT
    variant = post.variants.get()
    assert [p.text for p in variant.parts.all()] == ["Erster Teil", "Zweiter Teil"]  # empty part dropped


def test_schedule_local_time_is_stored_in_utc_and_listed_locally(owner_client, workspace, mastodon) -> None:
    response = compose(owner_client, workspace, text="Guten Morgen", channels=[mastodon.pk],
                       schedule_at="2099-12-01T09:00", action="schedule")
    assert response.status_code == 302
    variant = Variant.objects.get(post__workspace=workspace)
    assert variant.status == VariantStatus.SCHEDULED
    assert variant.scheduled_at == datetime(2099, 12, 1, 8, 0, tzinfo=UTC)
    listing = owner_client.get(reverse("web:posts", args=[workspace.pk])).content.decode()
    assert 'datetime="2099-12-01T09:00:00+01:00"' in listing


def test_dst_gap_error_is_shown_and_nothing_is_lost(owner_client, workspace, mastodon) -> None:
    response = compose(owner_client, workspace, title="Kampagne", text="Frühling!", channels=[mastodon.pk],
                       thread=["Teil zwei"], schedule_at="2099-03-29T02:30", action="schedule")
    assert response.status_code == 400
    html = response.content.decode()
    assert "does not exist in Europe/Berlin" in html
    # Everything entered is still in the form, and no half-saved post exists.
    assert "Frühling!</textarea>" in html
    assert "Teil zwei</textarea>" in html
    assert 'value="Kampagne"' in html
    assert 'value="2099-03-29T02:30"' in html
    assert f'value="{mastodon.pk}" id="id_channels_0" checked' in html
    assert not Post.objects.filter(workspace=workspace).exists()


def test_ambiguous_time_offers_first_or_second(owner_client, workspace, mastodon) -> None:
    data = {"text": "Herbst", "channels": [mastodon.pk], "schedule_at": "2099-10-25T02:30",
            "action": "schedule"}
    html = compose(owner_client, workspace, **data).content.decode()
    assert "occurs twice" in html
    assert 'name="fold"' in html
    assert "CEST (UTC+0200)" in html
    assert "CET (UTC+0100)" in html
    response = compose(owner_client, workspace, **data, fold="1")
    assert response.status_code == 302
    variant = Variant.objects.get(post__workspace=workspace)
    assert variant.scheduled_at == datetime(2099, 10, 25, 1, 30, tzinfo=UTC)


def test_schedule_needs_a_time(owner_client, workspace, mastodon) -> None:
    response = compose(owner_client, workspace, text="x", channels=[mastodon.pk], action="schedule")
    assert response.status_code == 400
    assert "Pick a date and time" in response.content.decode()


def test_validation_errors_of_the_network_are_shown(owner_client, workspace, mastodon) -> None:
    response = compose(owner_client, workspace, text="x" * 501, channels=[mastodon.pk], action="publish_now")
    assert response.status_code == 400
    html = response.content.decode()
    assert "mastodon (brand@social.example):" in html
    assert not Post.objects.filter(workspace=workspace).exists()


def test_no_channel_error_sits_at_the_channel_field(owner_client, workspace, mastodon) -> None:
    html = compose(owner_client, workspace, text="Hallo", action="draft").content.decode()
    assert "Choose at least one channel." in html


def test_image_upload_is_kept_after_an_error_and_attached_on_save(owner_client, workspace, mastodon) -> None:
    url = reverse("web:post_new", args=[workspace.pk])
    data = {"text": "Mit Bild", "channels": [mastodon.pk], "alt_text": "Ein rotes Quadrat",
            "schedule_at": "2099-03-29T02:30", "action": "schedule", "image": png()}
    html = owner_client.post(url, data).content.decode()
    asset = MediaAsset.objects.get(workspace=workspace)
    assert f'name="media_asset" value="{asset.pk}"' in html
    assert "An image is attached." in html
    # The second submit sends the stored asset's id instead of the file.
    response = owner_client.post(url, {**data, "image": "", "media_asset": asset.pk, "action": "draft"})
    assert response.status_code == 302
    attached = PartMedia.objects.get(part__variant__post__workspace=workspace)
    assert attached.asset == asset
    assert attached.alt_text == "Ein rotes Quadrat"


def test_not_an_image_is_refused(owner_client, workspace, mastodon) -> None:
    fake = io.BytesIO(b"not an image")
    fake.name = "virus.png"
    html = compose(owner_client, workspace, text="x", channels=[mastodon.pk], image=fake,
                   action="draft").content.decode()
    assert "is not an image we can read" in html


def test_edit_prefills_and_updates(owner_client, workspace, owner, mastodon) -> None:
    post = post_create(workspace=workspace, author=owner,
                       data=PostInput(text="Alt", channel_ids=[mastodon.pk], thread=["Zwei"]))
    html = owner_client.get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert "Alt</textarea>" in html
    assert "Zwei</textarea>" in html
    response = compose(owner_client, workspace, post, text="Neu", channels=[mastodon.pk], action="draft")
    assert response.status_code == 302
    post.refresh_from_db()
    assert post.text == "Neu"
    assert [p.text for p in post.variants.get().parts.all()] == ["Neu"]


def test_contributor_can_draft_but_not_publish(workspace, member, login, mastodon) -> None:
    client = login(member("contributor"))
    html = client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert 'id="publish-now"' not in html
    assert 'id="schedule"' not in html
    response = compose(client, workspace, text="Bitte", channels=[mastodon.pk], action="publish_now")
    assert response.status_code == 400
    assert "Your role does not allow this action." in response.content.decode()
    assert not Post.objects.filter(workspace=workspace).exists()
    assert compose(client, workspace, text="Bitte", channels=[mastodon.pk], action="draft").status_code == 302


def test_approval_workspace_offers_submit_not_schedule(owner_client, workspace, mastodon) -> None:
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert 'id="submit-approval"' in html
    assert 'id="schedule"' not in html
    response = compose(owner_client, workspace, text="Zur Freigabe", channels=[mastodon.pk], action="submit")
    assert response.status_code == 302
    assert Post.objects.get(workspace=workspace).status == PostStatus.IN_REVIEW


def test_add_part_without_javascript_keeps_the_text(owner_client, workspace, mastodon) -> None:
    response = compose(owner_client, workspace, text="Eins", channels=[mastodon.pk], action="add_part")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="thread-2"' in html
    assert "Eins</textarea>" in html
    assert not Post.objects.filter(workspace=workspace).exists()


def test_add_part_partial_is_numbered(owner_client, workspace) -> None:
    url = reverse("web:post_thread_part", args=[workspace.pk])
    html = owner_client.get(url, {"thread": ["a", "b"]}).content.decode()
    assert 'id="thread-4"' in html
    assert 'name="thread"' in html


# -- the live check ---------------------------------------------------------------------------


def check(client: Client, workspace, **data) -> str:
    response = client.post(reverse("web:post_check", args=[workspace.pk]), data)
    assert response.status_code == 200
    return response.content.decode()


def test_check_shows_over_limit_count_as_alert(owner_client, workspace, mastodon) -> None:
    html = check(owner_client, workspace, text="x" * 501, channels=[mastodon.pk])
    assert "501 / 500" in html
    assert 'class="count is-over" role="alert">501 / 500<' in html
    assert not Post.objects.filter(workspace=workspace).exists()  # the draft was rolled back


def test_check_within_limit_and_per_thread_part(owner_client, workspace, mastodon, make_channel) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    html = check(owner_client, workspace, text="Hallo 👋🏽", thread=["Teil zwei"],
                 channels=[mastodon.pk, bluesky.pk])
    assert 'role="alert"' not in html
    assert "7 / 300" in html  # Bluesky counts graphemes: the emoji with skin tone is one
    assert "9 / 500" in html  # the second part on Mastodon
    assert "Part 2:" in html


def test_check_without_channel_says_so(owner_client, workspace) -> None:
    assert "Choose at least one channel." in check(owner_client, workspace, text="Hallo")


def test_check_requires_membership_and_role(workspace, mastodon, member, login, other_workspace) -> None:
    url = reverse("web:post_check", args=[workspace.pk])
    data = {"text": "x", "channels": [mastodon.pk]}
    assert login(member("analyst")).post(url, data).status_code == 403
    stranger = other_workspace.memberships.get().user
    assert login(stranger).post(url, data).status_code == 404


def test_composer_and_check_need_csrf(owner, workspace, mastodon) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    data = {"text": "x", "channels": [mastodon.pk], "action": "draft"}
    assert client.post(reverse("web:post_new", args=[workspace.pk]), data).status_code == 403
    assert client.post(reverse("web:post_check", args=[workspace.pk]), data).status_code == 403
