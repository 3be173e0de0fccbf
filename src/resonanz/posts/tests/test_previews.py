"""Previews: where each network will link text (facet ranges), how it shows it, and that all is escaped."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from resonanz.connectors.base.preview import Segment
from resonanz.connectors.registry import get_connector
from resonanz.posts import previews

XSS = "<script>alert(1)</script>"


def highlighted(segments: list[Segment]) -> list[tuple[str, str]]:
    return [(s.kind, s.original) for s in segments if s.kind != "text"]


def test_segments_come_from_each_networks_connector() -> None:
    text = "Hallo @alice.example.org https://example.com/a #Tag"
    for network in ("bluesky", "mastodon"):
        assert previews.segments_for(network, text) == get_connector(network).preview_segments(text=text)
    # A network without a connector (old data) shows plain text instead of failing.
    assert highlighted(previews.segments_for("gone", text)) == []
    assert "".join(s.original for s in previews.segments_for("gone", text)) == text


def test_link_card_title_is_host_and_path() -> None:
    card = previews.link_card("https://www.example.com/blog/post-1/?utm=x")
    assert (card.host, card.title) == ("example.com", "example.com/blog/post-1")


def test_avatar_only_when_the_csp_allows_it(make_channel, settings) -> None:
    channel = make_channel("bluesky", handle="brand.bsky.social")
    channel.display_name, channel.avatar_url = "Agentur Nord", "https://cdn.example/avatar.jpg"
    settings.SECURE_CSP = {**settings.SECURE_CSP, "img-src": ["'self'"]}
    preview = previews.channel_preview(channel=channel, texts=["x"], media=[])
    assert (preview.avatar_url, preview.initials) == ("", "AN")  # img-src 'self': initials instead
    settings.SECURE_CSP = {**settings.SECURE_CSP, "img-src": ["'self'", "https://cdn.example"]}
    assert previews.channel_preview(channel=channel, texts=["x"], media=[]).avatar_url == channel.avatar_url
    settings.SECURE_CSP = {**settings.SECURE_CSP, "img-src": ["'self'", "https:"]}  # the project default
    assert previews.channel_preview(channel=channel, texts=["x"], media=[]).avatar_url == channel.avatar_url


def test_media_limits_come_from_the_connectors(make_channel) -> None:
    mastodon = make_channel("mastodon", handle="brand@social.example")
    # A new dict: the fixture's settings share their "instance" dict with the conftest's constant.
    mastodon.settings = {
        **mastodon.settings,
        "instance": {**mastodon.settings["instance"], "image_size_limit": 8_000_000},
    }
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    m, b = previews.channel_media_limits(mastodon), previews.channel_media_limits(bluesky)
    assert m.image_max_bytes == 8_000_000
    assert "image/png" in m.accept
    assert "video/mp4" in m.accept
    assert b.recompress_over == 1_000_000
    assert b.image_max_bytes == 50 * 1024 * 1024
    assert "video/mp4" not in b.accept
    assert b.max_items == 4


# -- rendered in the live check ---------------------------------------------------------------------


def check(client: Client, workspace, **data) -> str:
    response = client.post(reverse("web:post_check", args=[workspace.pk]), data)
    assert response.status_code == 200
    return response.content.decode()


def preview_of(html: str, channel_id: int) -> str:
    match = re.search(rf'<article class="pv [^"]*" data-channel="{channel_id}".*?</article>', html, re.S)
    assert match, html
    return match.group(0)


def test_check_renders_previews_out_of_band(owner_client, workspace, mastodon, make_channel) -> None:
    bluesky = make_channel("bluesky", handle="brand.bsky.social")
    text = "Neu: https://example.com/blog/eintrag #Launch mit @alice@mastodon.social"
    html = check(owner_client, workspace, text=text, thread=["Teil zwei"], channels=[mastodon.pk, bluesky.pk])
    assert '<div id="composer-preview" hx-swap-oob="innerHTML">' in html
    sky = preview_of(html, bluesky.pk)
    assert '<span class="pv-link" data-kind="link" title="https://example.com/blog/eintrag">' in sky
    assert '<span class="pv-tag" data-kind="tag" title="#Launch">#Launch</span>' in sky
    assert "@alice@mastodon.social" in sky
    assert 'class="pv-mention"' not in sky
    assert '<span class="pv-card-title">example.com/blog/eintrag</span>' in sky
    assert sky.count('class="pv-post"') == 2  # the thread, stacked
    masto = preview_of(html, mastodon.pk)
    assert (
        '<span class="pv-mention" data-kind="mention" title="@alice@mastodon.social">@alice'
        '<span class="pv-invisible">@mastodon.social</span></span>'
    ) in masto
    assert '<span class="pv-invisible">https://</span>example.com/blog/eintrag' in masto
    assert "@brand@social.example" in masto  # handle; the avatar falls back to initials
    assert '<div class="pv-avatar" aria-hidden="true"><span>B</span></div>' in masto


def test_preview_shows_content_warning_collapsed(owner_client, workspace, mastodon) -> None:
    p = f"ov{mastodon.pk}_"
    html = check(
        owner_client,
        workspace,
        text="Spoiler",
        channels=[mastodon.pk],
        **{p + "cw": "Filmende", p + "visibility": "unlisted"},
    )
    masto = preview_of(html, mastodon.pk)
    assert re.search(
        r'<details class="pv-cw" data-cw="\d+-1">\s*<summary><span class="pv-cw-text">Filmende'
        r'</span> <span class="pv-more"><span class="pv-more-closed">Show more</span>'
        r'<span class="pv-more-open">Show less</span></span></summary>',
        masto,
    )
    assert f'<details class="pv-cw" data-cw="{mastodon.pk}-1" open' not in masto
    assert "Quiet public" in masto


def test_previews_escape_everything(owner_client, workspace, make_channel) -> None:
    channel = make_channel("mastodon", handle=XSS)
    channel.display_name = XSS
    channel.save()
    p = f"ov{channel.pk}_"
    html = check(
        owner_client,
        workspace,
        text=f"{XSS} #tag https://example.com/{XSS}",
        channels=[channel.pk],
        **{p + "cw": XSS},
    )
    assert XSS not in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview_of(html, channel.pk)
