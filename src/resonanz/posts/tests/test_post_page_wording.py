"""Wording on the post page a newcomer stumbled on: an empty "Scheduled for" (a dash) and e-mail addresses in
the timeline where the approval panel shows names."""

from __future__ import annotations

from datetime import UTC, datetime

from django.urls import reverse

from resonanz.posts.services import PostInput, post_create, post_schedule


def test_no_date_and_names_in_the_timeline(owner_client, workspace, owner, mastodon):
    owner.name = "Mara <b>Schneider</b>"
    owner.save()
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Hallo", channel_ids=[mastodon.pk])
    )
    url = reverse("web:post_detail", args=[workspace.pk, post.pk])
    html = owner_client.get(url).content.decode()
    assert '<p id="post-when"><span class="muted">No date yet.</span></p>' in html
    assert "by Mara &lt;b&gt;Schneider&lt;/b&gt;" in html
    assert "by owner@example.com" not in html
    german = owner_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Noch kein Termin." in german

    post_schedule(workspace=workspace, post=post, actor=owner, at=datetime(2099, 12, 1, 8, 0, tzinfo=UTC))
    html = owner_client.get(url).content.decode()
    assert "No date yet." not in html
    assert 'Scheduled for: <time datetime="2099-12-01T09:00:00+01:00">' in html

    owner.name = ""
    owner.save()
    assert "by owner@example.com" in owner_client.get(url).content.decode()  # no name: the address
