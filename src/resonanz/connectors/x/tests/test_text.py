"""Weighted counting against twitter-text's conformance behaviour (conformance/validate.yml,
"WeightedTweetsCounterTest" and "WeightedTweetsWithDiscountedEmojiCounterTest" of config v3)."""

from __future__ import annotations

import sys

import pytest

from resonanz.connectors.x import text
from resonanz.connectors.x.text import LONG_POST_LIMIT, STANDARD_LIMIT, weighted_length

# (description, text, weighted length) in the manner of validate.yml's cases.
CASES = [
    ("plain ASCII counts one per character", "Hallo Welt", 10),
    ("empty text", "", 0),
    ("Latin-1 and Latin Extended weigh 1", "Grüße aus Köln", 14),
    ("Cyrillic (below U+10FF) weighs 1", "Привет", 6),
    ("CJK ideographs weigh 2", "日本語", 6),
    ("Hangul syllables weigh 2", "한국어", 6),
    ("Hiragana weighs 2", "こんにちは", 10),
    ("general punctuation U+2010-201F weighs 1", "\u2013\u2014\u201c\u201d", 4),
    ("U+2032-2037 (primes) weigh 1", "\u2032\u2033", 2),
    ("an arrow outside the ranges weighs 2", "\u2192", 2),
    ("a single emoji weighs 2", "😷", 2),
    ("an emoji ZWJ sequence weighs 2", "👨\u200d👩\u200d👧\u200d👦", 2),
    ("an emoji with skin tone weighs 2", "👍🏽", 2),
    ("a flag (regional indicator pair) weighs 2", "🇩🇪", 2),
    ("a URL weighs 23 whatever its length", "https://example.com/" + "a" * 100, 23),
    ("a short URL weighs 23 too", "http://x.co", 23),
    ("a bare domain is a URL", "see example.com now", 4 + 23 + 4),
    ("text, emoji, CJK and a URL", "english text 日本語 😷 https://example.com", 46),
    ("NFC: e + combining acute counts as é", "e\u0301", 1),
    ("NFC: decomposed Hangul composes to one syllable", "\u1100\u1161", 2),
]


@pytest.mark.parametrize(("description", "value", "expected"), CASES, ids=[c[0] for c in CASES])
def test_weighted_length_matches_twitter_text(description: str, value: str, expected: int) -> None:
    assert weighted_length(value) == expected, description


def test_the_limits() -> None:
    assert (STANDARD_LIMIT, LONG_POST_LIMIT) == (280, 25_000)
    assert weighted_length("a" * 280) == STANDARD_LIMIT
    assert weighted_length("日" * 140) == STANDARD_LIMIT
    assert weighted_length("日" * 141) == STANDARD_LIMIT + 2


def test_the_pkg_resources_stand_in_does_not_leak() -> None:
    text._import_twitter_text.cache_clear()
    sys.modules.pop("twitter_text", None)
    for name in [m for m in sys.modules if m.startswith("twitter_text.")]:
        sys.modules.pop(name)
    had = "pkg_resources" in sys.modules
    module = text._import_twitter_text()
    assert module.parse_tweet("abc", text.options()).weightedLength == 3
    assert ("pkg_resources" in sys.modules) == had
