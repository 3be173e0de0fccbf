"""The composer's first-comment and quote fields (only where the channel's connector declares them), how
they are saved, checked and sent through the API, and the daily-cap notice beside the schedule field."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from resonanz.posts.models import Post, Variant, VariantPart, VariantStatus
from resonanz.posts.services import PostInput, post_create

pytestmark = pytest.mark.django_db


def _x(make_channel, **settings):
    return make_channel("x", base_url="https://api.x.com", handle="marke", settings=settings)


def test_the_fields_appear_only_where_the_connector_declares_them(
    owner_client, workspace, make_channel
) -> None:
    mastodon = make_channel("mastodon")
    facebook = make_channel("facebook", base_url="https://graph.facebook.com", handle="seite")
    x = _x(make_channel)
    html = owner_client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert f'name="ov{x.pk}_first_comment"' in html
    assert f'name="ov{x.pk}_quote_url"' in html
    assert f'name="ov{facebook.pk}_first_comment"' in html
    assert f'name="ov{facebook.pk}_quote_url"' not in html  # Facebook quotes nothing
    assert f'name="ov{mastodon.pk}_first_comment"' not in html
    assert f'name="ov{mastodon.pk}_quote_url"' not in html
    assert 'class="daily-cap-notice"' in html
    # A value sent for a field the channel does not have is not taken.
    response = owner_client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {
            "text": "Hallo",
            "channels": [mastodon.pk, x.pk],
            f"ov{mastodon.pk}_first_comment": "nicht hier",
            f"ov{x.pk}_first_comment": "#resonanz",
            f"ov{x.pk}_quote_url": " https://x.com/andere/status/42 ",
            "action": "draft",
        },
    )
    assert response.status_code == 302
    post = Post.objects.get(workspace=workspace)
    saved = {v.channel_id: (v.first_comment, v.quote_url) for v in post.variants.all()}
    assert saved == {mastodon.pk: ("", ""), x.pk: ("#resonanz", "https://x.com/andere/status/42")}
    edit = owner_client.get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert "https://x.com/andere/status/42" in edit
    assert "#resonanz</textarea>" in edit


def test_the_live_check_refuses_a_quote_of_another_network_in_german(
    owner_client, workspace, make_channel
) -> None:
    x = _x(make_channel)
    response = owner_client.post(
        reverse("web:post_check", args=[workspace.pk]),
        {
            "text": "Eins",
            "channels": [x.pk],
            f"ov{x.pk}_quote_url": "https://bsky.app/profile/a.test/post/3k",
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )
    html = response.content.decode()
    assert 'data-code="quote_invalid"' in html
    assert "ist kein Beitrag auf X" in html


def test_the_api_takes_the_first_comment_and_reports_its_state(api, workspace, make_channel) -> None:
    facebook = make_channel("facebook", base_url="https://graph.facebook.com", handle="seite")
    base = f"/api/v1/workspaces/{workspace.pk}"
    body = {
        "text": "Neu",
        "channel_ids": [facebook.pk],
        "overrides": [{"channel_id": facebook.pk, "first_comment": "Link im Kommentar"}],
    }
    created = api.post(f"{base}/posts/", body, format="json")
    assert created.status_code == 201, created.content
    variant = created.json()["variants"][0]
    assert variant["first_comment"] == "Link im Kommentar"
    assert variant["first_comment_state"] == ""  # nothing sent before the post is out
    mastodon = make_channel("mastodon")
    refused = api.post(
        f"{base}/posts/validate/",
        {
            "text": "Neu",
            "channel_ids": [mastodon.pk],
            "overrides": [{"channel_id": mastodon.pk, "first_comment": "geht nicht"}],
        },
        format="json",
    )
    assert [i["code"] for i in refused.json()["variants"][0]["issues"]] == ["first_comment_unsupported"]


def test_the_daily_cap_notice_counts_what_went_out_and_what_is_scheduled(
    owner_client, workspace, make_channel, owner
) -> None:
    now = time.time()
    x = _x(make_channel, daily_post_cap=5, x_post_times=[now - 60])  # 1 out in the last 24 hours
    soon = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Bald", thread=["Teil 2"], channel_ids=[x.pk])
    )
    Variant.objects.filter(post=soon).update(
        status=VariantStatus.SCHEDULED,
        scheduled_at=timezone.now() + timedelta(hours=3),
        first_comment="Kommentar",
    )
    later = post_create(workspace=workspace, author=owner, data=PostInput(text="Später", channel_ids=[x.pk]))
    Variant.objects.filter(post=later).update(
        status=VariantStatus.SCHEDULED, scheduled_at=timezone.now() + timedelta(hours=30)
    )
    assert VariantPart.objects.filter(variant__post=soon).count() == 2

    def check(**extra):
        response = owner_client.post(
            reverse("web:post_check", args=[workspace.pk]),
            {"text": "Neu", "channels": [x.pk], **extra},
            HTTP_ACCEPT_LANGUAGE="de",
        )
        return response.content.decode()

    html = check()
    # 5 - 1 published - (2 parts + 1 first comment) scheduled within 24 hours = 1; the later one waits.
    assert f'data-daily-cap="{x.pk}" data-left="1"' in html
    assert "Dieses Konto kann heute noch 1 Mal posten." in html
    assert 'hx-swap-oob="innerHTML:.daily-cap-notice"' in html
    # Editing the scheduled post itself: its own parts are not counted twice.
    assert 'data-left="4"' in check(post=str(soon.pk))
    mastodon = make_channel("mastodon")
    assert "data-daily-cap" not in check(channels=[mastodon.pk])
