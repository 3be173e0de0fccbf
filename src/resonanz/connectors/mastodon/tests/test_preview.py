"""The composer's preview of a Mastodon text: links, mentions and tags as Mastodon shows them."""

from __future__ import annotations

from resonanz.connectors.base.preview import Segment
from resonanz.connectors.mastodon.preview import segments as mastodon_segments


def highlighted(segments: list[Segment]) -> list[tuple[str, str]]:
    return [(s.kind, s.original) for s in segments if s.kind != "text"]


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
