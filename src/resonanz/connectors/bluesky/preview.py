"""The composer's preview of a Bluesky text: where the facets will be.

Uses the facets ``mapping`` builds when publishing (links, mentions, hashtags; the same overlap rule and
byte ranges). A mention only becomes a link when its handle resolves to an account; the preview cannot ask
the network, so it marks every syntactically valid handle.
"""

from __future__ import annotations

from resonanz.connectors.base.preview import Segment, Span, split

from . import mapping


def spans(text: str) -> list[Span]:
    """Where Bluesky's facets will be, as str indices (from the facets' UTF-8 byte ranges)."""
    mention = f"{mapping.FACET_TYPE}#mention"
    matches = [
        *mapping.find_links(text),
        *(
            mapping.Match(start, end, {"$type": mention, "did": ""})
            for start, end, _handle in mapping.find_mention_candidates(text)
        ),
        *mapping.find_tags(text),
    ]
    data = text.encode("utf-8")
    found = []
    for facet in mapping.facets_from_matches(text, matches):
        byte_start, byte_end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        start = len(data[:byte_start].decode("utf-8"))
        end = start + len(data[byte_start:byte_end].decode("utf-8"))
        kind = str(facet["features"][0]["$type"]).rsplit("#", 1)[-1]
        found.append(Span(start, end, kind))
    return found


def segments(text: str) -> list[Segment]:
    return split(text, spans(text))
