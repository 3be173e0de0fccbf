"""Text measuring shared by connectors: grapheme clusters, UTF-8 byte offsets, URLs, mentions, tags."""

from __future__ import annotations

import re
from dataclasses import dataclass

import regex

_GRAPHEME = regex.compile(r"\X")

# Deliberately close to what the networks' own clients detect: an http(s) URL up to whitespace,
# minus trailing punctuation that usually ends a sentence.
URL_RE = re.compile(r"https?://[^\s<>\"]+[^\s<>\"'.,;:!?)\]}]")
# Bare domains (example.com/path) are left to the connectors that link them (the TLD check is theirs):
# this shared detector finds explicit http(s) URLs only.


def grapheme_count(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


@dataclass(frozen=True)
class Span:
    start: int  # str index
    end: int
    text: str

    def byte_range(self, full: str) -> tuple[int, int]:
        """UTF-8 byte offsets (end exclusive), as atproto facets require."""
        start = utf8_len(full[: self.start])
        return start, start + utf8_len(self.text)


def find_urls(text: str) -> list[Span]:
    return [Span(m.start(), m.end(), m.group(0)) for m in URL_RE.finditer(text)]
