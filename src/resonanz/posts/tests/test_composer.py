"""The composer: create, edit, schedule in the workspace's time zone, errors, upload, the live check."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from resonanz.accounts.models import ApprovalMode
from resonanz.channels.services import channel_account
from resonanz.connectors.registry import get_connector
from resonanz.posts.models import MediaAsset, PartMedia, Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create


def compose(client: Client, workspace, post: Post | None = None, /, **data: Any):
    url = (
        reverse("web:post_edit", args=[workspace.pk, post.pk])
        if post
        else reverse("web:post_new", args=[workspace.pk])
    )
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
    assert "Mastodon: brand@social.example" in html  # the network's display name, not its slug
    assert "mastodon: brand@social.example" not in html
    assert 'id="publish-now"' in html
    assert 'id="schedule"' in html


def test_save_draft_with_thread(owner_client, workspace, mastodon) -> None:
    response = compose(
        owner_client,
        workspace,
        text="Erster Teil",
        channels=[mastodon.pk],
        thread=["Zweiter Teil", "   "],
        action="draft",
    )
    assert response.status_code == 302
    post = Post.objects.get(workspace=workspace)
    assert response["Location"] == reverse("web:post_detail", args=[workspace.pk, post.pk])
    assert post.status == PostStatus.DRAFT
    variant = post.variants.get()
    assert [p.text for p in variant.parts.all()] == ["Erster Teil", "Zweiter Teil"]  # empty part dropped


def test_schedule_local_time_is_stored_in_utc_and_listed_locally(owner_client, workspace, mastodon) -> None:
    response = compose(
        owner_client,
        workspace,
        text="Guten Morgen",
        channels=[mastodon.pk],
        schedule_at="2099-12-01T09:00",
        action="schedule",
    )
    assert response.status_code == 302
    variant = Variant.objects.get(post__workspace=workspace)
    assert variant.status == VariantStatus.SCHEDULED
    assert variant.scheduled_at == datetime(2099, 12, 1, 8, 0, tzinfo=UTC)
    listing = owner_client.get(reverse("web:posts", args=[workspace.pk])).content.decode()
    assert 'datetime="2099-12-01T09:00:00+01:00"' in listing


def test_dst_gap_error_is_shown_and_nothing_is_lost(owner_client, workspace, mastodon) -> None:
    response = compose(
        owner_client,
        workspace,
        title="Kampagne",
        text="Frühling!",
        channels=[mastodon.pk],
        thread=["Teil zwei"],
        schedule_at="2099-03-29T02:30",
        action="schedule",
    )
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
    data = {
        "text": "Herbst",
        "channels": [mastodon.pk],
        "schedule_at": "2099-10-25T02:30",
        "action": "schedule",
    }
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
    assert "Mastodon (brand@social.example):" in html  # the network's display name
    assert not Post.objects.filter(workspace=workspace).exists()


def test_no_channel_error_sits_at_the_channel_field(owner_client, workspace, mastodon) -> None:
    html = compose(owner_client, workspace, text="Hallo", action="draft").content.decode()
    assert "Choose at least one channel." in html


def test_image_upload_is_kept_after_an_error_and_attached_on_save(owner_client, workspace, mastodon) -> None:
    url = reverse("web:post_new", args=[workspace.pk])
    data = {
        "text": "Mit Bild",
        "channels": [mastodon.pk],
        "alt_text": "Ein rotes Quadrat",
        "schedule_at": "2099-03-29T02:30",
        "action": "schedule",
        "image": png(),
    }
    html = owner_client.post(url, data).content.decode()
    asset = MediaAsset.objects.get(workspace=workspace)
    assert f'name="media_asset" value="{asset.pk}"' in html
    assert "Ein rotes Quadrat</textarea>" in html  # now the alt text of the attached image
    # The second submit sends the stored asset's id and its alt text instead of the file.
    response = owner_client.post(
        url,
        {
            **data,
            "image": "",
            "alt_text": "",
            "media_asset": asset.pk,
            "media_alt": "Ein rotes Quadrat",
            "action": "draft",
        },
    )
    assert response.status_code == 302
    attached = PartMedia.objects.get(part__variant__post__workspace=workspace)
    assert attached.asset == asset
    assert attached.alt_text == "Ein rotes Quadrat"


def test_not_an_image_is_refused(owner_client, workspace, mastodon) -> None:
    fake = io.BytesIO(b"not an image")
    fake.name = "virus.png"
    html = compose(
        owner_client, workspace, text="x", channels=[mastodon.pk], image=fake, action="draft"
    ).content.decode()
    assert "is not an image we can read" in html


def test_edit_prefills_and_updates(owner_client, workspace, owner, mastodon) -> None:
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Alt", channel_ids=[mastodon.pk], thread=["Zwei"]),
    )
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
    html = check(
        owner_client, workspace, text="Hallo 👋🏽", thread=["Teil zwei"], channels=[mastodon.pk, bluesky.pk]
    )
    assert 'role="alert"' not in html
    assert "7 / 300" in html  # Bluesky counts graphemes: the emoji with skin tone is one
    assert "9 / 500" in html  # the second part on Mastodon
    assert "Part 2:" in html


def test_empty_text_is_a_hint_until_touched(owner_client, workspace, mastodon) -> None:
    """Choosing a channel before typing: counters and a neutral hint, not "The post is empty." in red.
    Once the text field was touched (or a submit happened) the same check shows it as the error it is."""
    before = check(owner_client, workspace, text="", channels=[mastodon.pk])
    assert "The post is empty." not in before
    assert "has-issues" not in before
    assert 'class="error-text"' not in before
    assert 'data-code="empty"' in before
    assert "No text yet: counts and checks update as you type." in before
    assert "Ready to publish." not in before  # neutral, not "fine" either
    assert "0 / 500" in before  # the counters are there
    after = check(owner_client, workspace, text="", channels=[mastodon.pk], check_touched="1")
    assert re.search(r'<li class="error-text" data-code="empty">The post is empty\.</li>', after)
    assert 'class="check-channel has-issues"' in after
    assert "No text yet" not in after
    # Other problems are errors at once: too long, before or after touching.
    assert 'class="error-text"' in check(owner_client, workspace, text="x" * 501, channels=[mastodon.pk])


def test_empty_hint_is_german(owner_client, workspace, mastodon) -> None:
    url = reverse("web:post_check", args=[workspace.pk])
    response = owner_client.post(url, {"text": "", "channels": [mastodon.pk]}, HTTP_ACCEPT_LANGUAGE="de")
    html = response.content.decode()
    assert "Noch kein Text: Zählung und Prüfung laufen beim Schreiben mit." in html
    assert "Der Beitrag ist leer." not in html
    assert "Mastodon: brand@social.example</h3>" in html


def test_touched_flag_is_set_after_a_submit(owner_client, workspace, mastodon) -> None:
    url = reverse("web:post_new", args=[workspace.pk])
    fresh = owner_client.get(url).content.decode()
    assert '<input type="hidden" name="check_touched" id="check-touched" value="">' in fresh
    failed = compose(owner_client, workspace, text="", channels=[mastodon.pk], action="queue")
    assert failed.status_code == 400
    html = failed.content.decode()
    assert '<input type="hidden" name="check_touched" id="check-touched" value="1">' in html


def test_publish_now_is_secondary_and_needs_a_second_step(owner_client, workspace, mastodon) -> None:
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    buttons = {m.group(2): m.group(1) for m in re.finditer(r'<(?:button|summary)([^>]*) id="([\w-]+)"', html)}
    assert 'class="secondary"' not in buttons["add-to-queue"]  # primary
    assert 'class="secondary"' not in buttons["schedule"]  # primary
    assert 'class="button secondary"' in buttons["publish-now-toggle"]
    assert 'class="secondary"' not in buttons["publish-now"]
    # The button that publishes sits inside a closed disclosure, after "Add to queue", with a warning.
    step = re.search(r'<details class="confirm-step" id="publish-now-step">(.*?)</details>', html, re.S)
    assert step
    assert 'value="publish_now" id="publish-now"' in step.group(1)
    assert "This publishes the post immediately on all selected channels" in step.group(1)
    assert html.index('id="add-to-queue"') < html.index('id="publish-now-step"')
    assert html.count('value="publish_now"') == 1
    german = owner_client.get(
        reverse("web:post_new", args=[workspace.pk]), HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert "Jetzt veröffentlichen …</summary>" in german
    assert "Ja, jetzt veröffentlichen</button>" in german


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


# -- exact counters ---------------------------------------------------------------------------------

TRICKY = [
    "Familie 👨‍👩‍👧‍👦, Flagge 🇩🇪 und Hautton 👋🏽",  # ZWJ sequence, flag, modifier: one grapheme each
    # umlauts: one character, two bytes each
    "Grüße aus Köln: Straße, Öl, Äpfel \u2013 \u201cZitat\u201d \u2026",
    "Mehr: https://example.com/" + "sehr-langer-pfad/" * 20 + "?utm_source=resonanz Ende",
    "Hallo @alice@mastodon.social und @bob@example.org, cc @carol",
    "e\u0301 combining + http://localhost/x is plain text to Mastodon",
]


def count_row(html: str, channel_id: int, part: int = 1) -> dict[str, str]:
    block = re.search(rf'<div class="check-channel[^"]*" data-channel="{channel_id}".*?</ul>', html, re.S)
    assert block, html
    li = re.search(rf'<li data-part="{part}"([^>]*)>', block.group(0))
    assert li, block.group(0)
    return dict(re.findall(r'data-([a-z-]+)(?:="([^"]*)")?', li.group(1)))


@pytest.mark.parametrize("text", TRICKY)
def test_counters_equal_the_connectors_counts(owner_client, workspace, mastodon, make_channel, text) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    html = check(owner_client, workspace, text=text, channels=[mastodon.pk, bluesky.pk])
    for channel in (mastodon, bluesky):
        account = channel_account(channel=channel)
        expected = get_connector(channel.network).count_text(account=account, text=text)
        row = count_row(html, channel.pk)
        assert (int(row["count"]), int(row["limit"])) == (expected.count, expected.limit), channel.network
        if expected.bytes is not None:
            assert (int(row["bytes"]), int(row["byte-limit"])) == (expected.bytes, expected.byte_limit)
            assert f"{expected.bytes} / {expected.byte_limit} bytes" in html
        assert f"{expected.count} / {expected.limit}" in html


def test_counter_examples(owner_client, workspace, mastodon, make_channel) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    url = "https://example.com/" + "x" * 200
    html = check(
        owner_client,
        workspace,
        text=f"Ö 👨‍👩‍👧 {url} @alice@mastodon.social",
        channels=[mastodon.pk, bluesky.pk],
    )
    # Mastodon: the URL counts 23, the remote mention only "@alice".
    assert count_row(html, mastodon.pk)["count"] == str(1 + 1 + 1 + 1 + 23 + 1 + 6)
    # Bluesky: graphemes of the full text; bytes separately (Ö 2 bytes, the family 18 bytes).
    sky = count_row(html, bluesky.pk)
    assert sky["count"] == str(2 + 2 + len(url) + 1 + len("@alice@mastodon.social"))
    assert sky["bytes"] == str(2 + 1 + 18 + 1 + len(url) + 1 + len("@alice@mastodon.social"))


def test_counters_per_part_and_per_channel_override(owner_client, workspace, mastodon, make_channel) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    p = f"ov{mastodon.pk}_"
    html = check(
        owner_client,
        workspace,
        text="Eins",
        thread=["Zweiter Teil"],
        channels=[mastodon.pk, bluesky.pk],
        **{p + "custom": "on", p + "text": "Nur für Mastodon", p + "cw": "CW"},
    )
    assert re.search(rf'data-channel="{mastodon.pk}" data-scope="{mastodon.pk}"', html)
    assert re.search(rf'data-channel="{bluesky.pk}" data-scope="base"', html)
    assert count_row(html, mastodon.pk)["count"] == str(len("CW") + len("Nur für Mastodon"))  # CW counts too
    own = re.search(rf'data-channel="{mastodon.pk}".*?</ul>', html, re.S)
    assert own
    assert 'data-part="2"' not in own.group(0)
    assert count_row(html, bluesky.pk, part=2)["count"] == "12"


def test_check_ignores_schedule_field_errors(owner_client, workspace, mastodon) -> None:
    html = check(owner_client, workspace, text="Hallo", channels=[mastodon.pk], schedule_at="bald")
    assert "5 / 500" in html


# -- per-channel overrides --------------------------------------------------------------------------


def test_tabs_for_every_channel_and_no_js_fieldsets(owner_client, workspace, mastodon, make_channel) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert 'role="tablist"' in html
    assert 'role="tab" id="tab-base" aria-controls="panel-base" aria-selected="true"' in html
    for channel in (mastodon, bluesky):
        assert f'id="tab-{channel.pk}" aria-controls="panel-{channel.pk}"' in html
        assert f'id="panel-{channel.pk}" data-panel data-channel="{channel.pk}"' in html
        assert f'name="ov{channel.pk}_custom"' in html
        assert f'name="ov{channel.pk}_language"' in html
    # Content warning and visibility exist on Mastodon only.
    assert f'name="ov{mastodon.pk}_cw"' in html
    assert f'name="ov{bluesky.pk}_cw"' not in html
    assert f'name="ov{mastodon.pk}_visibility"' in html
    assert f'name="ov{bluesky.pk}_visibility"' not in html
    assert "Only for Mastodon · brand@social.example" in html


def test_overrides_are_saved_per_channel(owner_client, workspace, mastodon, make_channel) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    m, b = f"ov{mastodon.pk}_", f"ov{bluesky.pk}_"
    response = compose(
        owner_client,
        workspace,
        text="Für alle",
        thread=["Teil zwei"],
        channels=[mastodon.pk, bluesky.pk],
        action="draft",
        **{
            m + "custom": "on",
            m + "text": "Nur Mastodon",
            m + "thread": ["", "Mastodon zwei"],
            m + "cw": " Spoiler ",
            m + "visibility": "unlisted",
            m + "language": "de",
            b + "language": "en",
            b + "text": "ignoriert: nicht angehakt",
        },
    )
    assert response.status_code == 302
    masto = Variant.objects.get(post__workspace=workspace, channel=mastodon)
    sky = Variant.objects.get(post__workspace=workspace, channel=bluesky)
    assert [p.text for p in masto.parts.all()] == ["Nur Mastodon", "Mastodon zwei"]
    assert (masto.content_warning, masto.visibility, masto.language) == ("Spoiler", "unlisted", "de")
    assert [p.text for p in sky.parts.all()] == ["Für alle", "Teil zwei"]
    assert (sky.content_warning, sky.visibility, sky.language) == ("", "public", "en")

    # The edit page shows the shared text and each channel's own settings again.
    post = masto.post
    html = owner_client.get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert f'name="ov{mastodon.pk}_custom" id="id_ov{mastodon.pk}_custom" checked' in html
    assert "Nur Mastodon</textarea>" in html
    assert "Mastodon zwei</textarea>" in html
    assert 'value="Spoiler"' in html
    assert '<option value="unlisted" selected>' in html
    assert f'name="ov{bluesky.pk}_custom" id="id_ov{bluesky.pk}_custom">' in html  # not checked
    assert "Für alle</textarea>" in html
    assert "Teil zwei</textarea>" in html


def test_empty_own_text_falls_back_to_the_shared_text(owner_client, workspace, mastodon) -> None:
    m = f"ov{mastodon.pk}_"
    compose(
        owner_client,
        workspace,
        text="Gemeinsam",
        channels=[mastodon.pk],
        action="draft",
        **{m + "custom": "on", m + "text": "  "},
    )
    assert [p.text for p in Variant.objects.get(channel=mastodon).parts.all()] == ["Gemeinsam"]


def test_bluesky_never_gets_a_content_warning_or_restricted_visibility(
    owner_client, workspace, make_channel
) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    b = f"ov{bluesky.pk}_"
    compose(
        owner_client,
        workspace,
        text="Hallo",
        channels=[bluesky.pk],
        action="draft",
        **{b + "cw": "sneaky", b + "visibility": "direct"},
    )
    variant = Variant.objects.get(channel=bluesky)
    assert (variant.content_warning, variant.visibility) == ("", "public")


# -- thread builder ---------------------------------------------------------------------------------


def parts(client: Client, workspace, op: str, **data: Any) -> str:
    response = client.post(reverse("web:post_parts", args=[workspace.pk]), {"part_op": op, **data})
    assert response.status_code == 200, response.content
    return response.content.decode()


def texts_of(html: str) -> list[str]:
    return [t.lstrip("\n") for t in re.findall(r"<textarea [^>]*>(.*?)</textarea>", html, re.S)]


def test_thread_builder_adds_removes_and_moves(owner_client, workspace) -> None:
    base = {"text": "Eins", "thread": ["Zwei", "Drei"]}
    html = parts(owner_client, workspace, "base:add:0", **base)
    assert texts_of(html) == ["Eins", "Zwei", "Drei", ""]
    assert 'id="thread-4"' in html
    assert re.search(r'id="thread-4"[^>]*autofocus', html)
    assert texts_of(parts(owner_client, workspace, "base:up:3", **base)) == ["Eins", "Drei", "Zwei"]
    assert texts_of(parts(owner_client, workspace, "base:down:1", **base)) == ["Zwei", "Eins", "Drei"]
    moved = parts(owner_client, workspace, "base:up:2", **base)
    assert texts_of(moved) == ["Zwei", "Eins", "Drei"]
    assert 'name="text" id="id_text"' in moved  # the first part is always the shared "text"
    assert texts_of(parts(owner_client, workspace, "base:remove:1", **base)) == ["Zwei", "Drei"]
    single = parts(owner_client, workspace, "base:remove:1", text="Allein")
    assert texts_of(single) == ["Allein"]  # the last part stays
    assert ":remove:" not in single
    assert ":up:" not in single


def test_thread_builder_per_channel_and_copy(owner_client, workspace, mastodon) -> None:
    m = f"ov{mastodon.pk}_"
    html = parts(owner_client, workspace, f"{mastodon.pk}:copy:1", text="Basis", thread=["Basis zwei"])
    assert texts_of(html) == ["Basis", "Basis zwei"]
    assert f'name="{m}text" id="ov{mastodon.pk}-part-1"' in html
    assert f'name="{m}thread" id="ov{mastodon.pk}-part-2"' in html
    html = parts(owner_client, workspace, f"{mastodon.pk}:add:0", **{m + "text": "Eigen"})
    assert texts_of(html) == ["Eigen", ""]
    assert f'value="{mastodon.pk}:add:0"' in html


def test_thread_builder_refuses_unknown_operations(
    owner_client, workspace, other_workspace, make_channel
) -> None:
    foreign = make_channel("mastodon", handle="fremd", ws=other_workspace)
    url = reverse("web:post_parts", args=[workspace.pk])
    for op in ["base:explode:1", f"{foreign.pk}:add:0", "", "base:add"]:
        assert owner_client.post(url, {"part_op": op}).status_code == 400, op


def test_thread_builder_permissions(workspace, member, login, other_workspace) -> None:
    url = reverse("web:post_parts", args=[workspace.pk])
    assert login(member("analyst")).post(url, {"part_op": "base:add:0"}).status_code == 403
    stranger = login(other_workspace.memberships.get().user)
    assert stranger.post(url, {"part_op": "base:add:0"}).status_code == 404


def test_thread_builder_without_javascript(owner_client, workspace, mastodon) -> None:
    response = compose(
        owner_client,
        workspace,
        text="Eins",
        thread=["Zwei"],
        channels=[mastodon.pk],
        part_op="base:down:1",
        action="",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Zwei</textarea>") < html.index("Eins</textarea>")
    assert not Post.objects.filter(workspace=workspace).exists()


def test_thread_builder_escapes_text(owner_client, workspace) -> None:
    html = parts(owner_client, workspace, "base:add:0", text="<script>alert(1)</script>")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in html
