"""Moving a scheduled post (drop target and plain form): no drift, every error shown, nothing changed."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from resonanz.accounts.models import ApprovalMode
from resonanz.posts.models import Variant, VariantPart, VariantStatus
from resonanz.posts.services import PostInput, post_create
from resonanz.publishing.tasks import publish_variant

from .conftest import BERLIN

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "calendar-body"}


def move_url(workspace, **state) -> str:
    query = "&".join(f"{k}={v}" for k, v in state.items())
    return reverse("calendar:move", args=[workspace.pk]) + (f"?{query}" if query else "")


def message_of(html: str) -> str:
    match = re.search(
        r'<div id="calendar-message" class="cal-message">(.*?)</div>\s*<div class="cal-', html, re.S
    )
    assert match, "no message area"
    return str(match.group(1))


def snapshot(post) -> list[tuple[str, datetime | None, int]]:
    return list(
        Variant.objects.filter(post=post)
        .order_by("pk")
        .values_list("status", "scheduled_at", "schedule_version")
    )


def test_drop_reschedules_and_the_old_task_is_a_no_op(workspace, owner_client, schedule) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    variant = post.variants.get()
    old_version = variant.schedule_version
    response = owner_client.post(
        move_url(workspace, view="month", date="2099-05-04"),
        {"post": post.pk, "local": "2099-05-06T09:30"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="calendar-body"')
    assert "Moved “Hallo Welt” to 05/06/2099 9:30 a.m." in message_of(html)
    # The re-rendered month shows the entry on the new day.
    cell = html.split('id="day-2099-05-06"')[1].split("</td>")[0]
    assert f'id="entry-{variant.pk}"' in cell
    assert f'id="entry-{variant.pk}"' not in html.split('id="day-2099-05-04"')[1].split("</td>")[0]
    variant.refresh_from_db()
    assert variant.scheduled_at == datetime(2099, 5, 6, 7, 30, tzinfo=UTC)
    assert variant.status == VariantStatus.SCHEDULED
    assert variant.schedule_version == old_version + 1
    assert publish_variant.call(variant_id=variant.pk, schedule_version=old_version) == "skipped"
    variant.refresh_from_db()
    assert variant.status == VariantStatus.SCHEDULED  # the stale task changed nothing


def test_week_drop_takes_the_hour(workspace, owner_client, schedule) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    response = owner_client.post(
        move_url(workspace, view="week", date="2099-05-04"),
        {"post": post.pk, "local": "2099-05-05T14:30"},
        **HTMX,
    )
    html = response.content.decode()
    assert 'id="cal-week"' in html
    assert Variant.objects.get(post=post).scheduled_at == datetime(2099, 5, 5, 14, 30, tzinfo=BERLIN)


def test_all_variants_of_the_post_move(workspace, owner_client, schedule, mastodon, make_channel) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    post = schedule(datetime(2099, 5, 4, 9, 30), channels=[mastodon, bluesky])
    owner_client.post(move_url(workspace), {"post": post.pk, "local": "2099-05-07T09:30"}, **HTMX)
    assert {v.scheduled_at for v in post.variants.all()} == {datetime(2099, 5, 7, 9, 30, tzinfo=BERLIN)}


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2020-01-01T09:30", "This time is in the past."),
        ("2099-03-29T02:30", "2099-03-29 02:30 does not exist in Europe/Berlin"),
        ("2099-05-06", "Enter a date and time like 2026-05-04 09:30."),
    ],
)
def test_time_errors_are_shown_and_nothing_changes(
    workspace, owner_client, schedule, local, expected
) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    before = snapshot(post)
    response = owner_client.post(
        move_url(workspace, view="month", date="2099-05-04"), {"post": post.pk, "local": local}, **HTMX
    )
    assert response.status_code == 200
    message = message_of(response.content.decode())
    assert 'role="alert"' in message
    assert expected in message
    assert snapshot(post) == before


def test_ambiguous_time_offers_both_occurrences(workspace, owner_client, schedule) -> None:
    post = schedule(datetime(2099, 10, 20, 2, 30))
    before = snapshot(post)
    url = move_url(workspace, view="month", date="2099-10-20")
    html = owner_client.post(url, {"post": post.pk, "local": "2099-10-25T02:30"}, **HTMX).content.decode()
    message = message_of(html)
    assert "occurs twice in Europe/Berlin" in message
    assert snapshot(post) == before
    assert 'id="cal-fold-form"' in message
    assert f'hx-post="{url.replace("&", "&amp;")}"' in message
    assert (
        '<button type="submit" name="fold" value="1" class="secondary">Second occurrence: 02:30 CET'
        in message
    )
    # Choosing one moves it.
    html = owner_client.post(
        url, {"post": post.pk, "local": "2099-10-25T02:30", "fold": "1"}, **HTMX
    ).content.decode()
    assert "Moved" in message_of(html)
    assert Variant.objects.get(post=post).scheduled_at == datetime(2099, 10, 25, 1, 30, tzinfo=UTC)


def test_approval_required(workspace, owner_client, schedule) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    before = snapshot(post)
    html = owner_client.post(
        move_url(workspace), {"post": post.pk, "local": "2099-05-06T09:30"}, **HTMX
    ).content.decode()
    assert "This post needs approval before it can be scheduled." in message_of(html)
    assert snapshot(post) == before


def test_validation_error(workspace, owner_client, schedule) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    VariantPart.objects.filter(variant__post=post).update(text="x" * 501)  # edited behind our back
    before = snapshot(post)
    html = owner_client.post(
        move_url(workspace), {"post": post.pk, "local": "2099-05-06T09:30"}, **HTMX
    ).content.decode()
    message = message_of(html)
    assert "Mastodon (brand@social.example)" in message
    assert "501" in message
    assert snapshot(post) == before


def test_not_schedulable(workspace, owner, owner_client, schedule, mastodon, make_channel) -> None:
    draft = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Entwurf", channel_ids=[mastodon.pk])
    )
    html = owner_client.post(
        move_url(workspace), {"post": draft.pk, "local": "2099-05-06T09:30"}, **HTMX
    ).content.decode()
    assert "Only scheduled posts can be moved." in message_of(html)
    assert snapshot(draft) == [("draft", None, 0)]
    # Half published: one channel is out, the other still scheduled.
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    post = schedule(datetime(2099, 5, 4, 9, 30), channels=[mastodon, bluesky])
    Variant.objects.filter(post=post, channel=bluesky).update(status=VariantStatus.PUBLISHED)
    before = snapshot(post)
    html = owner_client.post(
        move_url(workspace), {"post": post.pk, "local": "2099-05-06T09:30"}, **HTMX
    ).content.decode()
    assert "This post is already publishing or published." in message_of(html)
    assert snapshot(post) == before


def test_post_of_another_workspace_is_404(workspace, owner_client, other_workspace, make_channel) -> None:
    channel = make_channel("mastodon", handle="rival", ws=other_workspace)
    foreign = post_create(
        workspace=other_workspace, author=None, data=PostInput(text="Fremd", channel_ids=[channel.pk])
    )
    response = owner_client.post(
        move_url(workspace), {"post": foreign.pk, "local": "2099-05-06T09:30"}, **HTMX
    )
    assert response.status_code == 404
    assert owner_client.get(move_url(workspace, post=foreign.pk)).status_code == 404


def test_plain_form_moves_and_redirects_back(workspace, owner_client, schedule) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    back = reverse("calendar:index", args=[workspace.pk]) + "?view=list&date=2099-05-04"
    page = owner_client.get(move_url(workspace, post=post.pk, next=back.replace("&", "%26")))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'value="2099-05-04T09:30"' in html
    assert 'type="datetime-local"' in html
    assert f'<input type="hidden" name="next" value="{back.replace("&", "&amp;")}">' in html

    response = owner_client.post(
        move_url(workspace), {"post": post.pk, "local": "2099-05-08T10:00", "next": back}
    )
    assert response.status_code == 302
    assert response["Location"] == back
    assert Variant.objects.get(post=post).scheduled_at == datetime(2099, 5, 8, 10, 0, tzinfo=BERLIN)
    followed = owner_client.get(back).content.decode()
    assert "Moved “Hallo Welt” to 05/08/2099 10 a.m." in followed


def test_plain_form_errors_and_unsafe_next(workspace, owner_client, schedule) -> None:
    post = schedule(datetime(2099, 5, 4, 9, 30))
    before = snapshot(post)
    response = owner_client.post(
        move_url(workspace), {"post": post.pk, "local": "2020-01-01T09:30", "next": "https://evil.example/"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "This time is in the past." in html
    assert 'name="next" value="/w/' in html  # the unsafe next is replaced by the calendar
    assert snapshot(post) == before
    response = owner_client.post(move_url(workspace), {"post": post.pk, "local": "2099-10-25T02:30"})
    assert response.status_code == 400
    assert 'name="fold"' in response.content.decode()
    response = owner_client.post(
        move_url(workspace), {"post": post.pk, "local": "2099-05-09T09:30", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("calendar:index", args=[workspace.pk])


def test_move_needs_post(workspace, owner_client) -> None:
    html = owner_client.post(move_url(workspace), {"local": "2099-05-06T09:30"}, **HTMX).content.decode()
    assert "This field is required." in message_of(html)
    assert owner_client.get(move_url(workspace)).status_code == 404
