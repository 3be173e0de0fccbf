"""LinkedIn's "little" text format for ``commentary``
(https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format).

little is plain text with elements: a mention ``@[Name](urn:li:organization:123)`` or
``@[Name](urn:li:person:abc)``, a hashtag ``#tag``. Every other occurrence of a reserved character
``\\ | { } @ [ ] ( ) < > # * _ ~`` must be escaped with a backslash to be plain text; an unescaped one
is not an error: LinkedIn accepts the post and cuts the commentary at that character (the silent
truncation users of other tools report). So everything the user writes is escaped, except:

* mentions written as ``@[Name](urn:li:person:…)`` / ``@[Name](urn:li:organization:…)`` (the name's own
  reserved characters are escaped inside the brackets);
* hashtags ``#word`` (a HashtagElement: ``#`` followed by letters, digits or ``_``; the ``_`` inside a
  tag is escaped);
* links (``https://…``): escaping their ``_`` or ``(`` would change the address LinkedIn links.

Counting: the 3,000-character limit of ``commentary`` (Posts API, "commentary") is measured here on
what the reader sees (the unescaped text, a mention as its name) in UTF-16 code units, the unit of
LinkedIn's own composer; the escapes are not counted (see docs/connectors.md, "LinkedIn").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from resonanz.connectors.base.text import URL_RE

COMMENTARY_LIMIT = 3000
RESERVED = frozenset("\\|{}@[]()<>#*_~")
MENTION_RE = re.compile(r"@\[([^\]\n]{1,200})\]\((urn:li:(?:person|organization):[A-Za-z0-9_-]+)\)")
HASHTAG_RE = re.compile(r"(?<![\w#])#(?=\w*[^\W\d_])\w+")


@dataclass(frozen=True)
class Mention:
    start: int
    end: int
    name: str
    urn: str


def mentions(text: str) -> list[Mention]:
    return [Mention(m.start(), m.end(), m.group(1), m.group(2)) for m in MENTION_RE.finditer(text)]


def escape_plain(text: str) -> str:
    """Every reserved character backslash-escaped."""
    return "".join("\\" + ch if ch in RESERVED else ch for ch in text)


def _spans(text: str) -> list[tuple[int, int, str]]:
    found = [(m.start(), m.end(), "mention") for m in MENTION_RE.finditer(text)]
    found += [(m.start(), m.end(), "link") for m in URL_RE.finditer(text)]
    found += [(m.start(), m.end(), "tag") for m in HASHTAG_RE.finditer(text)]
    kept: list[tuple[int, int, str]] = []
    until = -1
    for start, end, kind in sorted(found):
        if start >= until:
            kept.append((start, end, kind))
            until = end
    return kept


def to_little(text: str) -> str:
    """The commentary to send: plain text escaped, mentions, hashtags and links kept as elements."""
    out: list[str] = []
    position = 0
    for start, end, kind in _spans(text):
        out.append(escape_plain(text[position:start]))
        piece = text[start:end]
        match = MENTION_RE.fullmatch(piece) if kind == "mention" else None
        if match is not None:
            out.append(f"@[{escape_plain(match.group(1))}]({match.group(2)})")
        elif kind == "tag":
            out.append("#" + piece[1:].replace("_", "\\_"))
        else:
            out.append(piece)
        position = end
    out.append(escape_plain(text[position:]))
    return "".join(out)


def visible_text(text: str) -> str:
    """What the reader sees: each mention as its name."""
    return MENTION_RE.sub(lambda m: m.group(1), text)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def commentary_length(text: str) -> int:
    return utf16_length(visible_text(text))
