"""Matching of assignment rules against a conversation's messages (pure: no writes, no queries).

Keywords are matched the way a German or English team writes them: case-insensitively (``casefold``,
so "STRASSE" finds "Straße"), with the umlauts folded to their two-letter spelling (ä → ae, ö → oe,
ü → ue, ß → ss) on both sides, so "Rückgabe" also finds "Rueckgabe" and vice versa, and on word
boundaries of Unicode words (``\\w`` includes umlauts, so "kaputt" does not match inside "kaputtes"
but "kaputt*" does, and "Tür" is not found inside "Türkei"). A keyword may be a phrase ("geht nicht").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import AssignmentRule

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Case and umlauts folded: the form both sides of a keyword match are compared in."""
    return text.casefold().translate(_FOLD)


def keyword_list(keywords: str) -> list[str]:
    """One keyword or phrase per line (commas separate too); blanks dropped, order kept."""
    found: list[str] = []
    for part in re.split(r"[\n,]", keywords):
        word = " ".join(part.split())
        if word and word not in found:
            found.append(word)
    return found


@lru_cache(maxsize=1024)
def _pattern(keyword: str) -> re.Pattern[str]:
    folded = fold(keyword)
    prefix = folded.endswith("*")
    body = re.escape(folded.rstrip("*").strip())
    # Spaces in a phrase match any run of white space.
    body = body.replace(r"\ ", r"\s+")
    tail = r"\w*" if prefix else ""
    return re.compile(rf"(?<!\w){body}{tail}(?!\w)")


def keyword_found(*, keywords: Iterable[str], text: str) -> str | None:
    """The first keyword found in ``text`` (as written in the rule), or None."""
    folded = fold(text)
    for keyword in keywords:
        if keyword.strip("* ") and _pattern(keyword).search(folded):
            return keyword
    return None


@dataclass(frozen=True)
class MessageFacts:
    """What a rule looks at in one message from the network."""

    text: str
    language: str | None
    sentiment: str | None


@dataclass(frozen=True)
class Conditions:
    channel_id: int | None
    kind: str
    language: str
    sentiment: str
    keywords: tuple[str, ...]

    @property
    def needs_analysis(self) -> bool:
        return bool(self.language or self.sentiment)


def conditions_hold(
    *, conditions: Conditions, channel_id: int, kind: str, messages: Iterable[MessageFacts]
) -> bool:
    """All conditions hold: channel and kind for the conversation, language, sentiment and keyword
    for one and the same message (a German complaint, not a German thank-you beside an English one)."""
    if conditions.channel_id is not None and conditions.channel_id != channel_id:
        return False
    if conditions.kind and conditions.kind != kind:
        return False
    for message in messages:
        if conditions.language and message.language != conditions.language:
            continue
        if conditions.sentiment and message.sentiment != conditions.sentiment:
            continue
        if conditions.keywords and keyword_found(keywords=conditions.keywords, text=message.text) is None:
            continue
        return True
    return False


def rule_conditions(rule: AssignmentRule) -> Conditions:
    return Conditions(
        channel_id=rule.channel_id,
        kind=rule.kind,
        language=rule.language,
        sentiment=rule.sentiment,
        keywords=tuple(keyword_list(rule.keywords)),
    )
