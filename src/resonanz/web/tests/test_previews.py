"""Previews: where each network will link text (facet ranges), how it shows it, and that all is escaped."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from resonanz.connectors.bluesky import mapping
from resonanz.web import previews
from resonanz.web.previews import Segment, bluesky_segments, mastodon_segments

XSS = "<script>alert(1)</script>"


def resolve_all(handle: str) -> str:
    return f"did:plc:{handle.replace('.', '')}"


def highlighted(segments: list[Segment]) -> list[tuple[str, str]]:
    return [(s.kind, s.original) for s in segments if s.kind != "text"]


@pytest.mark.parametrize(
    "text",
    [
        "Grüße 👨‍👩‍👧‍👦 an @alice.bsky.social: https://example.com/ä?x=1. #Köln #2026 #🇩🇪",
        "(https://example.com/pfad) und #tag, @bob.example.org!",
        "Ünïcödé #über_alles https://a.example/x) #",
        "kein@mail.example und https://x.example/a#frag #Ende.",
    ],
)
def test_bluesky_highlights_are_exactly_the_facets(text: str) -> None:
    """The preview marks the byte ranges the connector's facets will have (mentions assumed resolvable)."""
    data = text.encode()
    facets = mapping.build_facets(text, resolve_all)
    expected = [
        (
            f["features"][0]["$type"].rsplit("#", 1)[1],
            data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(),
        )
        for f in facets
    ]
    assert highlighted(bluesky_segments(text)) == expected
    # Nothing is lost or duplicated between the segments.
    assert "".join(s.original for s in bluesky_segments(text)) == text


def test_bluesky_example_ranges() -> None:
    text = "Hallo 👋🏽 @alice.bsky.social #Köln https://example.com/a."
    assert highlighted(bluesky_segments(text)) == [
        ("mention", "@alice.bsky.social"),
        ("tag", "#Köln"),
        ("link", "https://example.com/a"),  # the sentence's full stop is not part of the link
    ]


def test_mastodon_highlights_links_mentions_and_tags() -> None:
    url = "https://www.example.com/" + "sehr-lang/" * 6
    text = f"Hallo @alice@mastodon.social und @bob! {url} #Köln #2026 a#b mail@x.example."
    segments = mastodon_segments(text)
    assert highlighted(segments) == [
        ("mention", "@alice@mastodon.social"),
        ("mention", "@bob"),
        ("link", url),
        ("tag", "#Köln"),
    ]
    mention = segments[1]
    assert (mention.text, mention.hidden_after) == ("@alice", "@mastodon.social")  # shown as Mastodon does
    link = next(s for s in segments if s.kind == "link")
    assert link.hidden_before == "https://www."
    assert link.text == url.removeprefix("https://www.")[:30]
    assert link.ellipsis
    assert link.hidden_after == url.removeprefix("https://www.")[30:]
    # Plain text Mastodon does not link: localhost URLs and e-mail addresses.
    assert highlighted(mastodon_segments("http://localhost/x kein@mail.example")) == []


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
