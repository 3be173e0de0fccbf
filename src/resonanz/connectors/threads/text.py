"""Counting as Threads does (https://developers.facebook.com/documentation/threads/posts, "Limitations"):
"Text posts are limited to 500 characters. Emojis are counted as the number of UTF-8 bytes." And at most
5 links: "All unique URLs found in the text field are counted as links"; a post with more fails at
container creation with ``THREADS_API__LINK_LIMIT_EXCEEDED`` (since 22 December 2025,
https://developers.facebook.com/documentation/threads/create-posts/text-attachments).

An emoji is a grapheme cluster with an Extended_Pictographic or Regional_Indicator code point or a keycap
(U+20E3); it counts its UTF-8 bytes (👍 = 4, 👍🏽 = 8, 🇩🇪 = 8). Everything else counts one per code point.
"""

from __future__ import annotations

import re
from functools import lru_cache

import regex  # type: ignore[import-untyped]

TEXT_LIMIT = 500
MAX_LINKS = 5
_GRAPHEME = regex.compile(r"\X")
_EMOJI = regex.compile(r"[\p{Extended_Pictographic}\p{Regional_Indicator}\u20e3]")
# http(s) links and bare www. links (the documentation's examples count "www.facebook.com").
LINK_RE = re.compile(r"(?:https?://|www\.)[^\s<>\"]+[^\s<>\"'.,;:!?)\]}]", re.IGNORECASE)


@lru_cache(maxsize=2048)
def threads_length(text: str) -> int:
    total = 0
    for grapheme in _GRAPHEME.findall(text):
        total += len(grapheme.encode("utf-8")) if _EMOJI.search(grapheme) else len(grapheme)
    return total


def unique_links(text: str) -> list[str]:
    seen: list[str] = []
    for match in LINK_RE.finditer(text):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    return seen
