"""Each network's composer preview looks like its post: what the shared preview code prepares from the
connector's ``PreviewSpec`` (fold, carousel, crop frame, counts per part) and what the network's partial
renders from it, in German as the composer shows it."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from resonanz.channels.models import Channel
from resonanz.connectors.base.preview import Segment
from resonanz.connectors.base.spec import TextFold
from resonanz.posts.models import MediaAsset
from resonanz.posts.previews import channel_preview, fold_segments, preview_stylesheets


def _asset(
    name: str, width: int | None = None, height: int | None = None, mime: str = "image/jpeg"
) -> MediaAsset:
    return MediaAsset(original_name=name, mime_type=mime, size=1, width=width, height=height)


def _render(
    channel: Channel, texts: list[str], media: list[tuple[MediaAsset, str]] | None = None, **kw: str
) -> str:
    with translation.override("de"):  # as in the composer's request: built and rendered in its language
        pv = channel_preview(
            channel=channel,
            texts=texts,
            media=[(a, alt, f"/m/{a.original_name}") for a, alt in media or []],
            **kw,
        )
        return render_to_string(pv.template, {"pv": pv})


def _text(html: str) -> str:
    return re.sub(r"[ \t\n]+", " ", re.sub(r"<[^>]+>", "", html)).strip()  # keeps no-break spaces


# -- folding --------------------------------------------------------------------------------------


def test_a_text_folds_at_the_line_or_character_limit_whichever_comes_first() -> None:
    fold = TextFold(characters=20, lines=2, label="…")
    # Two lines reached first: cut at the second line break.
    shown, rest = fold_segments([Segment("text", "eins\nzwei\ndrei")], fold)
    assert ("".join(s.text for s in shown), "".join(s.text for s in rest)) == ("eins\nzwei", "\ndrei")
    # Characters first: cut at the last space before the 20th character.
    shown, rest = fold_segments([Segment("text", "Ein recht langer Satz ohne Umbruch")], fold)
    assert "".join(s.text for s in shown) == "Ein recht langer"
    assert "".join(s.text for s in rest) == " Satz ohne Umbruch"
    # A link crossing the cut goes behind the fold whole.
    shown, rest = fold_segments(
        [Segment("text", "Mehr: "), Segment("link", "example.com/ein/langer/pfad")], fold
    )
    assert [s.kind for s in shown] == ["text"]
    assert [s.kind for s in rest] == ["link"]
    # A text that fits is not folded (trailing blanks do not count).
    assert fold_segments([Segment("text", "kurz\n")], fold)[1] == []


# -- Instagram ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_instagram_is_a_carousel_in_the_first_pictures_frame_with_the_caption_folded(
    make_channel: Callable[..., Channel],
) -> None:
    channel = make_channel("instagram", handle="stoffwerk")
    caption = "Neu: Frühjahrsstoffe in zwölf Farben, alle aus Sachsen, jetzt im Laden und online. " * 3
    html = _render(
        channel,
        [caption],
        [
            (_asset("a.jpg", 1080, 1350), "Rosa Leinen"),
            (_asset("b.jpg", 1080, 1080), ""),
            (_asset("c.jpg", 1920, 1080), ""),
        ],
    )
    assert 'class="pv pv-instagram"' in html
    assert html.count('class="pv-slide pv-image"') == 3
    assert html.count("<li") == 3  # three dots (the first one current), no thread list
    assert '<li class="is-current">' in html
    # Every picture in the first one's 4:5 frame; the square and the landscape one are cut at the sides.
    assert html.count('viewBox="0 0 1080 1350"') == 3
    assert 'preserveAspectRatio="xMidYMid slice"' in html
    cuts = re.findall(r'<p class="pv-cut small" data-cut="(\d)">(.*?)</p>', html)
    assert [n for n, _ in cuts] == ["2", "3"]
    assert "b.jpg: Instagram zeigt 4:5: 20\u00a0% der Breite werden abgeschnitten" in _text(cuts[0][1])
    assert "c.jpg: Instagram zeigt 4:5: 55\u00a0% der Breite" in _text(cuts[1][1])
    # Alt text shown under the picture; the arrows are labelled; the caption starts with the account.
    assert '<figcaption class="pv-alt-text">Rosa Leinen</figcaption>' in html
    assert 'aria-label="Nächstes Bild"' in html
    summary = _text(html.split("<summary", 1)[1].split("</summary>", 1)[0])
    assert (
        summary.startswith('class="pv-text"> stoffwerk Neu: Frühjahrsstoffe') or "stoffwerk Neu:" in summary
    )
    assert "… mehr" in summary
    assert len(summary.split("stoffwerk ", 1)[1].split("… mehr")[0]) <= 125


@pytest.mark.django_db
def test_instagram_frame_is_clamped_to_what_it_takes(make_channel: Callable[..., Channel]) -> None:
    channel = make_channel("instagram", handle="stoffwerk")
    # A 9:16 first picture: the frame is the tallest Instagram shows (4:5), the picture cut top and bottom.
    html = _render(channel, ["Hallo"], [(_asset("hoch.jpg", 1080, 1920), "")])
    assert 'viewBox="0 0 1080 1350"' in html
    assert "der Höhe werden abgeschnitten (oben und unten)" in html
    # Without a picture: the text card Instagram makes, said in words.
    plain = _render(channel, ["Nur Text"])
    assert "pv-ig-textcard" in plain
    assert "Ohne Bild wird der Text als Textkarte" in plain


# -- LinkedIn -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_linkedin_folds_after_three_lines_and_shows_a_document(make_channel: Callable[..., Channel]) -> None:
    channel = make_channel("linkedin", handle="stoffwerk")
    text = "Zeile eins\nZeile zwei\nZeile drei\nZeile vier ist hinter dem Knick"
    html = _render(channel, [text], [(_asset("bericht.pdf", mime="application/pdf"), "")])
    summary = _text(html.split("<summary", 1)[1].split("</summary>", 1)[0])
    assert "Zeile drei…mehr anzeigen" in summary.replace(" …", "…")
    assert "Zeile vier" not in summary
    assert "Zeile vier ist hinter dem Knick" in html.split("</summary>", 1)[1]  # shown when opened
    assert '<span class="pv-doc-name">bericht.pdf</span>' in html
    assert "pv-slide" not in html
    assert "<img" not in html.split("pv-doc")[1]
    assert "Gefällt mir" in html
    assert "Reposten" in html
    assert "Senden" in html
    with translation.override("en"):
        english = render_to_string(
            "connectors/linkedin/preview.html",
            {"pv": channel_preview(channel=channel, texts=[text], media=[])},
        )
    assert 'Zeile drei<span class="pv-fold-more">…see more</span>' in english
    assert "Repost" in english
    short = _render(channel, ["Kurz und gut."])
    assert "pv-fold" not in short


# -- X -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_x_thread_shows_each_parts_weighted_count_and_a_quote(make_channel: Callable[..., Channel]) -> None:
    channel = make_channel("x", base_url="https://api.x.com", handle="agentur")
    long_part = "日本語" * 50  # 150 CJK characters weigh 300 on X
    html = _render(
        channel,
        ["Neu: https://example.com/ein/sehr/langer/link", long_part],
        quote_url="https://x.com/someone/status/123",
    )
    counts = re.findall(r'<span class="pv-count( is-over)?" data-count="(\d+)">', html)
    assert counts == [("", "28"), (" is-over", "300")]  # "Neu: " 5 + URL 23
    assert "1/2 · 28/280" in _text(html)
    assert "2/2 · 300/280" in _text(html)
    assert html.count('class="pv-quote"') == 1
    assert "Zitierter Beitrag" in html
    assert "x.com/someone/status/123" in html


# -- Facebook, Mastodon, Bluesky, Threads ---------------------------------------------------------


@pytest.mark.django_db
def test_facebook_photo_grid_and_link_card(make_channel: Callable[..., Channel]) -> None:
    channel = make_channel("facebook", handle="stoffwerk")
    photos = [(_asset(f"{n}.jpg", 800, 600), "") for n in range(7)]
    html = _render(channel, ["Sieben Fotos"], photos)
    assert 'class="pv-media pv-media-7 pv-media-many"' in html
    assert '<span class="pv-more-count">+2</span>' in html
    assert "Kommentieren" in html
    assert "Teilen" in html
    linked = _render(channel, ["Lesen: https://stoffwerk.example/blog/fruehling"])
    assert '<span class="pv-card-title">stoffwerk.example/blog/fruehling</span>' in linked


@pytest.mark.django_db
def test_mastodon_content_warning_is_collapsed(make_channel: Callable[..., Channel]) -> None:
    channel = make_channel("mastodon", handle="brand@social.example")
    html = _render(channel, ["Darunter"], content_warning="Spoiler")
    assert re.search(r'<details class="pv-cw" data-cw="\d+-1">', html)  # no "open": collapsed
    assert "Spoiler" in html
    assert "Mehr anzeigen" in html


@pytest.mark.django_db
def test_bluesky_and_threads_keep_the_generic_thread_with_cards_and_images(
    make_channel: Callable[..., Channel],
) -> None:
    bluesky = make_channel("bluesky", base_url="https://bsky.social", handle="brand.bsky.social")
    html = _render(bluesky, ["Schaut: https://example.com/neu"])
    assert 'class="pv-card"' in html
    images = _render(
        bluesky, ["Bilder"], [(_asset("a.jpg", 800, 600), "Eins"), (_asset("b.jpg", 800, 600), "Zwei")]
    )
    assert 'class="pv-media pv-media-2"' in images
    assert 'alt="Zwei"' in images
    threads = make_channel("threads", handle="brand")
    assert _render(threads, ["eins", "zwei"]).count('class="pv-post"') == 2


def test_every_network_brings_its_own_preview_stylesheet() -> None:
    sheets = preview_stylesheets()
    for network in ("bluesky", "mastodon", "x", "facebook", "instagram", "linkedin", "threads"):
        assert f"connectors/{network}/preview.css" in sheets
