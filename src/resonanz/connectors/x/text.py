"""X's weighted text length (twitter-text, config v3), through ``twitter-text-parser``.

twitter-text's config v3 (https://github.com/twitter/twitter-text/blob/master/config/v3.json):
``maxWeightedTweetLength`` 280, ``scale`` 100, ``defaultWeight`` 200, ``transformedURLLength`` 23,
``emojiParsingEnabled`` true; code points U+0000-10FF, U+2000-200D, U+2010-201F and U+2032-2037 weigh 100
(one "character"), all others 200 (CJK, Hangul, most symbols: two), every URL 23 characters and every emoji
sequence 2, after NFC normalisation (https://docs.x.com/fundamentals/counting-characters). Premium accounts
may post up to 25,000 characters ("longer posts", https://help.x.com/en/using-x/x-premium): the same
weights against a larger limit.

The package (3.0.0) imports ``pkg_resources`` to read its bundled emoji list, and setuptools 80+ no longer
ships that module. :func:`_import_twitter_text` lends it a stand-in for exactly that import (reading the
file with :mod:`importlib.resources`) and removes it again, so no other code sees a ``pkg_resources``.
"""

from __future__ import annotations

import sys
import types
from functools import cache, lru_cache
from importlib import resources
from typing import Any

STANDARD_LIMIT = 280
LONG_POST_LIMIT = 25_000
URL_WEIGHT = 23  # transformedURLLength
EMOJI_WEIGHT = 2

# config v3 of twitter-text, spelled in the package's option names (twitter_text/config.py "version3").
_V3: dict[str, Any] = {
    "version": 3,
    "max_weighted_tweet_length": STANDARD_LIMIT,
    "scale": 100,
    "default_weight": 200,
    "emoji_parsing_enabled": True,
    "transformed_url_length": URL_WEIGHT,
    "ranges": [
        {"start": 0, "end": 4351, "weight": 100},
        {"start": 8192, "end": 8205, "weight": 100},
        {"start": 8208, "end": 8223, "weight": 100},
        {"start": 8242, "end": 8247, "weight": 100},
    ],
}


def _resource_string(package: str, name: str) -> bytes:
    return resources.files(package).joinpath(name).read_bytes()


@cache
def _import_twitter_text() -> types.ModuleType:
    """``import twitter_text`` with a temporary ``pkg_resources`` that offers ``resource_string`` only."""
    lent = "pkg_resources" not in sys.modules
    if lent:
        stand_in = types.ModuleType("pkg_resources")
        stand_in.resource_string = _resource_string  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = stand_in
    try:
        import twitter_text

        module: types.ModuleType = twitter_text
    finally:
        if lent:
            sys.modules.pop("pkg_resources", None)
    return module


def options(limit: int = STANDARD_LIMIT) -> dict[str, Any]:
    return {**_V3, "max_weighted_tweet_length": limit}


@lru_cache(maxsize=4096)
def weighted_length(text: str) -> int:
    """The length X counts for ``text`` (``weightedLength`` of twitter-text's ``parseTweet``). Cached:
    the package takes about 2 ms for a 250-character text (its emoji regex), and the composer counts the
    same texts on every check."""
    result = _import_twitter_text().parse_tweet(text, options())
    return int(result.weightedLength)


def url_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every URL twitter-text finds (str indices; it counts code points)."""
    found = _import_twitter_text().extract_urls_with_indices(text)
    return [(int(u["indices"][0]), int(u["indices"][1])) for u in found]


__all__ = ["LONG_POST_LIMIT", "STANDARD_LIMIT", "URL_WEIGHT", "options", "url_spans", "weighted_length"]
