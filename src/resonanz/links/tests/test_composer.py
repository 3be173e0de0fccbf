from __future__ import annotations

import pytest
from django.urls import reverse

from resonanz.posts.services import PostInput, post_create

pytestmark = pytest.mark.django_db


def test_composer_offers_shorten_button_per_channel_in_german(workspace, owner, login, channel):
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Neu: https://shop.example/", channel_ids=[channel.pk]),
    )
    html = login(owner, "de").get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert f'id="shorten-links-{channel.pk}"' in html
    assert "Links kürzen" in html
    assert f'data-post="{post.pk}"' in html
    assert reverse("api:links_shorten", args=[workspace.pk]) in html
    assert "links/shorten" in html
    assert "shorten.js" in html


def test_new_post_has_no_shorten_button_yet(workspace, owner, login, channel):
    html = login(owner).get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert "data-shorten-links" not in html


def test_post_detail_shows_clicks_per_channel(workspace, owner, login, channel):
    from resonanz.links.services import click_record, link_create

    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="https://shop.example/", channel_ids=[channel.pk]),
    )
    url = reverse("web:post_detail", args=[workspace.pk, post.pk])
    assert 'id="post-clicks"' not in login(owner).get(url).content.decode()
    link = link_create(
        workspace=workspace, actor=owner, target_url="https://shop.example/", post=post, channel=channel
    )
    for ip in ["192.0.2.1", "192.0.2.1", "192.0.2.2"]:
        click_record(link_id=link.pk, ip=ip, user_agent="Mozilla/5.0")
    html = login(owner, "de").get(url).content.decode()
    assert "Klicks auf Kurzlinks" in html
    assert "<td>3</td><td>2</td>" in html
