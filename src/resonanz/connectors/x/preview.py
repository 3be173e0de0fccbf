"""The composer's preview of an X post: links as twitter-text finds them (shown shortened like X's t.co
display: scheme and "www." hidden, 23 characters then an ellipsis), @mentions and #hashtags
(twitter-text's username rule: 1-15 word characters; hashtags need a letter)."""

from __future__ import annotations

import regex  # type: ignore[import-untyped]

from resonanz.connectors.base.preview import Segment, Span, drop_overlaps

from .text import url_spans

MENTION_RE = regex.compile(r"(?<![\w@])@\w{1,15}(?!\w)")
HASHTAG_RE = regex.compile(r"(?<![\w#&])[#\uff03](?=\w*\p{Alpha})\w+")
_PREFIX_RE = regex.compile(r"^https?://(?:www\.)?", regex.IGNORECASE)
LINK_DISPLAY_CHARS = 23


def spans(text: str) -> list[Span]:
    return drop_overlaps(
        [
            *(Span(start, end, "link") for start, end in url_spans(text)),
            *(Span(m.start(), m.end(), "mention") for m in MENTION_RE.finditer(text)),
            *(Span(m.start(), m.end(), "tag") for m in HASHTAG_RE.finditer(text)),
        ]
    )


def segments(text: str) -> list[Segment]:
    found: list[Segment] = []
    pos = 0
    for span in spans(text):
        if span.start > pos:
            found.append(Segment("text", text[pos : span.start]))
        original = text[span.start : span.end]
        if span.kind == "link":
            prefix_match = _PREFIX_RE.match(original)
            prefix = prefix_match.group(0) if prefix_match else ""
            rest = original[len(prefix) :]
            shown, hidden = rest[:LINK_DISPLAY_CHARS], rest[LINK_DISPLAY_CHARS:]
            found.append(
                Segment(
                    "link",
                    shown,
                    hidden_before=prefix,
                    hidden_after=hidden,
                    ellipsis=bool(hidden),
                    title=original,
                )
            )
        else:
            found.append(Segment(span.kind, original, title=original))
        pos = span.end
    if pos < len(text):
        found.append(Segment("text", text[pos:]))
    return found
