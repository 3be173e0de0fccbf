"""The composer's preview of a text: segments as the network will link them. Pure, no Django models."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    """A run of the text: ``kind`` is "text", "link", "mention" or "tag".

    ``text`` is what the reader sees; ``hidden_before``/``hidden_after`` are parts of the original text
    the network hides (but keeps in the post, e.g. a link's "https://"). ``title`` is the full target.
    """

    kind: str
    text: str
    hidden_before: str = ""
    hidden_after: str = ""
    ellipsis: bool = False
    title: str = ""

    @property
    def original(self) -> str:
        return self.hidden_before + self.text + self.hidden_after


@dataclass(frozen=True)
class Span:
    start: int  # str index
    end: int  # exclusive
    kind: str


def split(text: str, spans: Iterable[Span]) -> list[Segment]:
    """``text`` cut at ``spans`` (sorted, not overlapping); each span shown as it is written."""
    segments: list[Segment] = []
    pos = 0
    for span in spans:
        if span.start > pos:
            segments.append(Segment("text", text[pos : span.start]))
        segments.append(Segment(span.kind, text[span.start : span.end], title=text[span.start : span.end]))
        pos = span.end
    if pos < len(text):
        segments.append(Segment("text", text[pos:]))
    return segments


def drop_overlaps(spans: Iterable[Span]) -> list[Span]:
    """Sorted spans; one overlapping an earlier one is dropped (twitter-text's
    ``remove_overlapping_entities``)."""
    kept: list[Span] = []
    taken_until = -1
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if span.start < taken_until:
            continue
        kept.append(span)
        taken_until = span.end
    return kept
