"""Mastodon's text counting and instance limits. Pure functions: no network, no Django models.

Counting mirrors Mastodon's ``StatusLengthValidator`` (app/validators/status_length_validator.rb):

* the spoiler text (content warning) and the status text are counted together;
* each http(s) URL (as twitter-text finds it, see ``URL_RE``) counts as
  ``characters_reserved_per_url`` (23) regardless of its length
  (https://docs.joinmastodon.org/user/posting/#links and
  https://docs.joinmastodon.org/entities/Instance/#characters_reserved_per_url);
* a mention ``@user@domain`` counts only its local part ``@user``
  (https://docs.joinmastodon.org/user/posting/#mentions);
* what is left is counted in grapheme clusters (Ruby's ``String#grapheme_clusters``), so an emoji ZWJ
  sequence or a flag is one character.
"""

from __future__ import annotations

import re
from typing import Any

from resonanz.connectors.base.text import grapheme_count

DEFAULT_MAX_CHARACTERS = 500
DEFAULT_MAX_MEDIA_ATTACHMENTS = 4
DEFAULT_CHARACTERS_RESERVED_PER_URL = 23
# Defaults only matter for servers that do not publish ``configuration.media_attachments`` (pre-3.4 or
# forks). The values are the stricter of the ones we know of (networks.md: image 10 MB, video 40 MB).
DEFAULT_IMAGE_SIZE_LIMIT = 10 * 1024 * 1024
DEFAULT_VIDEO_SIZE_LIMIT = 40 * 1024 * 1024
# MediaAttachment::MAX_DESCRIPTION_LENGTH; 4.4+ publishes it as configuration.media_attachments.
# description_limit (https://docs.joinmastodon.org/entities/Instance/#description_limit).
DEFAULT_DESCRIPTION_LIMIT = 1500
DEFAULT_SUPPORTED_MIME_TYPES: tuple[str, ...] = (
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "video/quicktime",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
)

# Account::MENTION_RE / USERNAME_RE: ``@user`` optionally followed by ``@domain``; not preceded by a word
# character, ``=`` or ``/`` (so e-mail addresses and URL paths are not mentions).
MENTION_RE = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@\w+(?:[.-]+\w+)*)?",
    re.IGNORECASE,
)


# Mastodon finds URLs with twitter-text's extractor, protocol required (``extract_url_without_protocol:
# false``): not glued to a preceding letter, digit, @, $ or #; a host with at least one dot and an
# alphabetic (or punycode) top-level domain; optional port and path. So ``http://localhost/x`` is plain
# text to Mastodon and counts character by character, unlike the generic ``base.text.find_urls``.
URL_RE = re.compile(
    r"(?<![A-Za-z0-9@$#\uff20\uff03])https?://"
    r"(?:[^\s/?#<>\"'()\[\]{}.,;:!@]+\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]+)"
    r"(?::[0-9]{1,5})?"
    r"(?:[/?#][^\s<>\"]*)?",
    re.IGNORECASE,
)
# twitter-text does not end a URL on sentence punctuation or on an unbalanced closing parenthesis.
_URL_TRAILING = ".,:;!?'\"*\u2026"


def find_urls(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each URL Mastodon would link (and count as ``characters_reserved_per_url``)."""
    spans: list[tuple[int, int]] = []
    for match in URL_RE.finditer(text):
        url = match.group(0)
        while url and (url[-1] in _URL_TRAILING or (url[-1] == ")" and url.count(")") > url.count("("))):
            url = url[:-1]
        if url:
            spans.append((match.start(), match.start() + len(url)))
    return spans


def countable_text(text: str, *, chars_per_url: int = DEFAULT_CHARACTERS_RESERVED_PER_URL) -> str:
    """``text`` rewritten the way Mastodon measures it: URLs → placeholder, remote mentions → ``@user``."""
    placeholder = "x" * chars_per_url
    out: list[str] = []
    pos = 0
    for start, end in find_urls(text):
        out.append(_shorten_mentions(text[pos:start]))
        out.append(placeholder)
        pos = end
    out.append(_shorten_mentions(text[pos:]))
    return "".join(out)


def _shorten_mentions(text: str) -> str:
    return MENTION_RE.sub(lambda m: "@" + m.group("user"), text)


def count_status(
    text: str, *, content_warning: str = "", chars_per_url: int = DEFAULT_CHARACTERS_RESERVED_PER_URL
) -> int:
    """The number Mastodon compares with ``max_characters`` for a status with this text and CW."""
    # Mastodon joins spoiler text and countable text before counting graphemes; do the same so a
    # combining mark at the boundary behaves identically.
    return grapheme_count(content_warning + countable_text(text, chars_per_url=chars_per_url))


def _int(value: Any, default: int) -> int:
    try:
        result = int(value)
    except (TypeError, ValueError):
        return default
    return result if result > 0 else default


def instance_limits(instance_json: dict[str, Any]) -> dict[str, Any]:
    """Publishing limits from ``GET /api/v2/instance`` (or the v1 shape, which has the same
    ``configuration`` block since 3.4: https://docs.joinmastodon.org/entities/V1_Instance/#configuration).

    https://docs.joinmastodon.org/entities/Instance/#configuration
    """
    config = instance_json.get("configuration") or {}
    statuses = config.get("statuses") or {}
    media = config.get("media_attachments") or {}
    # Some forks (Pleroma/Akkoma, old glitch-soc) advertise ``max_toot_chars`` at the top level instead.
    max_chars = statuses.get("max_characters", instance_json.get("max_toot_chars"))
    mime_types = media.get("supported_mime_types")
    if not isinstance(mime_types, list) or not mime_types:
        mime_types = list(DEFAULT_SUPPORTED_MIME_TYPES)
    domain = instance_json.get("domain") or instance_json.get("uri") or ""
    return {
        "domain": str(domain),
        "version": str(instance_json.get("version") or ""),
        "max_characters": _int(max_chars, DEFAULT_MAX_CHARACTERS),
        "max_media_attachments": _int(statuses.get("max_media_attachments"), DEFAULT_MAX_MEDIA_ATTACHMENTS),
        "characters_reserved_per_url": _int(
            statuses.get("characters_reserved_per_url"), DEFAULT_CHARACTERS_RESERVED_PER_URL
        ),
        "image_size_limit": _int(media.get("image_size_limit"), DEFAULT_IMAGE_SIZE_LIMIT),
        "video_size_limit": _int(media.get("video_size_limit"), DEFAULT_VIDEO_SIZE_LIMIT),
        "description_limit": _int(media.get("description_limit"), DEFAULT_DESCRIPTION_LIMIT),
        "supported_mime_types": [str(m) for m in mime_types],
    }
