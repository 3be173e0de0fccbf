"""The composer's preview of a Bluesky text: the highlighted ranges are exactly the facets published."""

from __future__ import annotations

import pytest

from resonanz.connectors.base.preview import Segment
from resonanz.connectors.bluesky import mapping
from resonanz.connectors.bluesky.preview import segments as bluesky_segments


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


def test_bluesky_preview_highlights_bare_domains_with_a_known_tld() -> None:
    text = "Mehr auf example.com/path, nicht auf example.notatld. Grüße 👋 shop.example.de! münchen.de"
    assert highlighted(bluesky_segments(text)) == [
        ("link", "example.com/path"),  # shown as typed; the facet links https://example.com/path
        ("link", "shop.example.de"),
        # "münchen.de" stays text: the client's bare-domain pattern is ASCII only.
    ]
