"""The composer's preview of a Mastodon text.

Links and mentions as ``rules`` finds them for counting, and hashtags with Mastodon's ``Tag::HASHTAG_RE``
(app/models/concerns/tag/naming.rb). Links are shortened for display like Mastodon's
``TextFormatter.shortened_link`` (scheme and "www." hidden, 30 characters shown, then an ellipsis); a
remote mention shows only ``@user``, as Mastodon's web app does.
"""

from __future__ import annotations

import regex  # type: ignore[import-untyped]

from resonanz.connectors.base.preview import Segment, Span, drop_overlaps

from . import rules

# Mastodon's Tag::HASHTAG_RE (4.3+): after start or whitespace, "#" or the full-width U+FF03, then a name
# of word characters with at least one letter; "_", "·", "・" and ZWNJ may separate words inside it.
_SEPARATORS = "_\u00b7\u30fb\u200c"
_HASHTAG_FIRST = rf"[\w_][\w{_SEPARATORS}]*[\p{{Alpha}}{_SEPARATORS}][\w{_SEPARATORS}]*[\w_]"
_HASHTAG_LAST = r"[\w_]*\p{Alpha}[\w_]*"
HASHTAG_RE = regex.compile(rf"(?<=^|\s)[#\uff03](?:{_HASHTAG_FIRST}|{_HASHTAG_LAST})")
# TextFormatter::URL_PREFIX_REGEX and the 30 characters of shortened_link.
_URL_PREFIX_RE = regex.compile(r"^https?://(?:www\.)?", regex.IGNORECASE)
LINK_DISPLAY_CHARS = 30


def spans(text: str) -> list[Span]:
    """Links, mentions and hashtags as Mastodon's formatter finds them; overlaps go to the earlier one
    (twitter-text's ``remove_overlapping_entities``)."""
    return drop_overlaps(
        [
            *(Span(start, end, "link") for start, end in rules.find_urls(text)),
            *(Span(m.start(), m.end(), "mention") for m in rules.MENTION_RE.finditer(text)),
            *(Span(m.start(), m.end(), "tag") for m in HASHTAG_RE.finditer(text)),
        ]
    )


def _segment(text: str, span: Span) -> Segment:
    original = text[span.start : span.end]
    if span.kind == "link":
        prefix_match = _URL_PREFIX_RE.match(original)
        prefix = prefix_match.group(0) if prefix_match else ""
        rest = original[len(prefix) :]
        shown, hidden = rest[:LINK_DISPLAY_CHARS], rest[LINK_DISPLAY_CHARS:]
        return Segment(
            "link",
            shown,
            hidden_before=prefix,
            hidden_after=hidden,
            ellipsis=bool(hidden),
            title=original,
        )
    if span.kind == "mention":
        match = rules.MENTION_RE.fullmatch(original)
        user = "@" + match.group("user") if match else original
        return Segment("mention", user, hidden_after=original[len(user) :], title=original)
    return Segment(span.kind, original, title=original)


def segments(text: str) -> list[Segment]:
    found: list[Segment] = []
    pos = 0
    for span in spans(text):
        if span.start > pos:
            found.append(Segment("text", text[pos : span.start]))
        found.append(_segment(text, span))
        pos = span.end
    if pos < len(text):
        found.append(Segment("text", text[pos:]))
    return found
