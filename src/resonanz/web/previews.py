"""Previews of a post as each network will show it, for the composer (server-rendered, no network calls).

The text is split into segments the way the network will link it:

* Bluesky: the facets ``resonanz.connectors.bluesky.mapping`` builds when publishing (links, mentions,
  hashtags; the same overlap rule and byte ranges). A mention only becomes a link when its handle resolves
  to an account; the preview cannot ask the network, so it marks every syntactically valid handle.
* Mastodon: links and mentions as ``resonanz.connectors.mastodon.rules`` finds them for counting, and
  hashtags with Mastodon's ``Tag::HASHTAG_RE`` (app/models/concerns/tag/naming.rb). Links are shortened
  for display like Mastodon's ``TextFormatter.shortened_link`` (scheme and "www." hidden, 30 characters
  shown, then an ellipsis); a remote mention shows only ``@user``, as Mastodon's web app does.

Everything user-written stays plain text here; the templates escape it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import regex  # type: ignore[import-untyped]
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.bluesky import mapping as bluesky_mapping
from resonanz.connectors.bluesky.media import MAX_IMAGE_BYTES as BLUESKY_MAX_IMAGE_BYTES
from resonanz.connectors.mastodon import rules as mastodon_rules
from resonanz.posts.media import media_asset_list
from resonanz.posts.models import MediaAsset
from resonanz.posts.services import ALLOWED_MEDIA_TYPES, MAX_UPLOAD_BYTES, PostInput

# Lexicon app.bsky.embed.images: at most 4 images (the connector enforces the same number).
BLUESKY_MAX_IMAGES = 4
IMAGE_TYPES = tuple(sorted(t for t in ALLOWED_MEDIA_TYPES if t.startswith("image/")))

# Mastodon's Tag::HASHTAG_RE (4.3+): after start or whitespace, "#" or the full-width U+FF03, then a name
# of word characters with at least one letter; "_", "·", "・" and ZWNJ may separate words inside it.
_SEPARATORS = "_\u00b7\u30fb\u200c"
_HASHTAG_FIRST = rf"[\w_][\w{_SEPARATORS}]*[\p{{Alpha}}{_SEPARATORS}][\w{_SEPARATORS}]*[\w_]"
_HASHTAG_LAST = r"[\w_]*\p{Alpha}[\w_]*"
MASTODON_HASHTAG_RE = regex.compile(rf"(?<=^|\s)[#\uff03](?:{_HASHTAG_FIRST}|{_HASHTAG_LAST})")
# TextFormatter::URL_PREFIX_REGEX and the 30 characters of shortened_link.
_MASTODON_URL_PREFIX_RE = regex.compile(r"^https?://(?:www\.)?", regex.IGNORECASE)
MASTODON_LINK_DISPLAY_CHARS = 30


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


def _split(text: str, spans: Iterable[Span]) -> list[Segment]:
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


# -- Bluesky ----------------------------------------------------------------------------------------


def bluesky_spans(text: str) -> list[Span]:
    """Where Bluesky's facets will be, as str indices (from the facets' UTF-8 byte ranges)."""
    mention = f"{bluesky_mapping.FACET_TYPE}#mention"
    matches = [
        *bluesky_mapping.find_links(text),
        *(
            bluesky_mapping.Match(start, end, {"$type": mention, "did": ""})
            for start, end, _handle in bluesky_mapping.find_mention_candidates(text)
        ),
        *bluesky_mapping.find_tags(text),
    ]
    data = text.encode("utf-8")
    spans = []
    for facet in bluesky_mapping.facets_from_matches(text, matches):
        byte_start, byte_end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        start = len(data[:byte_start].decode("utf-8"))
        end = start + len(data[byte_start:byte_end].decode("utf-8"))
        kind = str(facet["features"][0]["$type"]).rsplit("#", 1)[-1]
        spans.append(Span(start, end, kind))
    return spans


def bluesky_segments(text: str) -> list[Segment]:
    return _split(text, bluesky_spans(text))


# -- Mastodon ---------------------------------------------------------------------------------------


def mastodon_spans(text: str) -> list[Span]:
    """Links, mentions and hashtags as Mastodon's formatter finds them; overlaps go to the earlier one
    (twitter-text's ``remove_overlapping_entities``)."""
    found = [
        *(Span(start, end, "link") for start, end in mastodon_rules.find_urls(text)),
        *(Span(m.start(), m.end(), "mention") for m in mastodon_rules.MENTION_RE.finditer(text)),
        *(Span(m.start(), m.end(), "tag") for m in MASTODON_HASHTAG_RE.finditer(text)),
    ]
    spans: list[Span] = []
    taken_until = -1
    for span in sorted(found, key=lambda s: (s.start, s.end)):
        if span.start < taken_until:
            continue
        spans.append(span)
        taken_until = span.end
    return spans


def _mastodon_segment(text: str, span: Span) -> Segment:
    original = text[span.start : span.end]
    if span.kind == "link":
        prefix_match = _MASTODON_URL_PREFIX_RE.match(original)
        prefix = prefix_match.group(0) if prefix_match else ""
        rest = original[len(prefix) :]
        shown, hidden = rest[:MASTODON_LINK_DISPLAY_CHARS], rest[MASTODON_LINK_DISPLAY_CHARS:]
        return Segment(
            "link",
            shown,
            hidden_before=prefix,
            hidden_after=hidden,
            ellipsis=bool(hidden),
            title=original,
        )
    if span.kind == "mention":
        match = mastodon_rules.MENTION_RE.fullmatch(original)
        user = "@" + match.group("user") if match else original
        return Segment("mention", user, hidden_after=original[len(user) :], title=original)
    return Segment(span.kind, original, title=original)


def mastodon_segments(text: str) -> list[Segment]:
    segments: list[Segment] = []
    pos = 0
    for span in mastodon_spans(text):
        if span.start > pos:
            segments.append(Segment("text", text[pos : span.start]))
        segments.append(_mastodon_segment(text, span))
        pos = span.end
    if pos < len(text):
        segments.append(Segment("text", text[pos:]))
    return segments


def segments_for(network: str, text: str) -> list[Segment]:
    if network == "bluesky":
        return bluesky_segments(text)
    if network == "mastodon":
        return mastodon_segments(text)
    return [Segment("text", text)] if text else []


# -- previews ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewImage:
    url: str
    alt: str
    name: str
    is_video: bool


@dataclass(frozen=True)
class LinkCard:
    url: str
    host: str
    title: str


@dataclass
class PreviewPart:
    number: int
    segments: list[Segment]
    images: list[PreviewImage] = field(default_factory=list)
    card: LinkCard | None = None

    @property
    def empty(self) -> bool:
        return not any(s.text.strip() for s in self.segments) and not self.images


@dataclass
class ChannelPreview:
    channel: Channel
    network: str
    network_name: str
    display_name: str
    handle: str
    initials: str
    avatar_url: str  # "" when the page may not load it (CSP) or there is none
    content_warning: str
    visibility: str
    visibility_label: str
    language: str
    parts: list[PreviewPart]


def link_card(url: str) -> LinkCard:
    """The card shown for a link without fetching the page: the host, and host + path as the title."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/")
    return LinkCard(url=url, host=host, title=host + path)


def network_name(network: str) -> str:
    return {"bluesky": "Bluesky", "mastodon": "Mastodon"}.get(network, network.title())


def display_handle(channel: Channel) -> str:
    handle = channel.handle.strip()
    return handle if handle.startswith("@") or not handle else "@" + handle


def _first_grapheme(word: str) -> str:
    match = regex.match(r"\X", word)
    return match.group(0) if match else ""


def initials(channel: Channel) -> str:
    """Up to two letters for the avatar placeholder: of the display name's words, else of the handle."""
    name = channel.display_name.strip()
    if name:
        return "".join(_first_grapheme(w) for w in name.split()[:2]).upper()
    return _first_grapheme(channel.handle.strip().lstrip("@")).upper() or "?"


def _csp_allows_image(url: str) -> bool:
    """Whether the Content-Security-Policy lets the page load this (external) image."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        return False
    csp: dict[str, Any] = getattr(settings, "SECURE_CSP", {}) or {}
    sources = [str(s) for s in csp.get("img-src", csp.get("default-src", []))]
    origin = f"{parts.scheme}://{parts.netloc}"
    return any(s in {"*", f"{parts.scheme}:", origin} for s in sources)


def mastodon_visibilities() -> list[tuple[str, str]]:
    """Mastodon's four visibilities with the names its web app uses."""
    return [
        ("public", _("Public")),
        ("unlisted", _("Quiet public")),
        ("private", _("Followers only")),
        ("direct", _("Private mention")),
    ]


def channel_preview(
    *,
    channel: Channel,
    texts: Sequence[str],
    media: Sequence[tuple[MediaAsset, str, str]],
    content_warning: str = "",
    visibility: str = "public",
    language: str = "",
) -> ChannelPreview:
    """``media``: (asset, alt text, URL of the file) attached to the first part."""
    network = channel.network
    images = [
        PreviewImage(
            url=url, alt=alt, name=asset.original_name, is_video=asset.mime_type.startswith("video/")
        )
        for asset, alt, url in media
    ]
    parts = []
    for index, text in enumerate(texts):
        segments = segments_for(network, text)
        part = PreviewPart(number=index + 1, segments=segments, images=images if index == 0 else [])
        # Bluesky embeds either images or one link card; Mastodon shows a card only without attachments.
        first_link = next((s for s in segments if s.kind == "link"), None)
        if first_link is not None and not part.images:
            part.card = link_card(first_link.original)
        parts.append(part)
    labels = dict(mastodon_visibilities())
    return ChannelPreview(
        channel=channel,
        network=network,
        network_name=network_name(network),
        display_name=channel.display_name.strip() or channel.handle,
        handle=display_handle(channel),
        initials=initials(channel),
        avatar_url=channel.avatar_url if _csp_allows_image(channel.avatar_url) else "",
        content_warning=content_warning if network == "mastodon" else "",
        visibility=visibility,
        visibility_label=labels.get(visibility, visibility) if network == "mastodon" else "",
        language=language,
        parts=parts,
    )


def media_file_url(workspace: Workspace, asset: MediaAsset) -> str:
    return reverse("web:post_media_file", args=[workspace.pk, asset.pk])


def post_previews(
    *,
    workspace: Workspace,
    data: PostInput,
    channels: Iterable[Channel],
    assets: Iterable[MediaAsset] | None = None,
) -> list[ChannelPreview]:
    """One preview per selected channel, from the composer's input (nothing is saved). ``assets``: the
    attached files if the caller has them already (``media_asset_list``)."""
    by_id = {c.pk: c for c in channels if c.workspace_id == workspace.pk}
    overrides = {o.channel_id: o for o in data.overrides}
    if assets is None:
        assets = media_asset_list(workspace=workspace, asset_ids=[m.asset_id for m in data.media])
    files = {a.pk: a for a in assets if a.workspace_id == workspace.pk}
    media = [
        (files[m.asset_id], m.alt_text, media_file_url(workspace, files[m.asset_id]))
        for m in data.media
        if m.asset_id in files
    ]
    previews = []
    for channel_id in data.channel_ids:
        channel = by_id.get(channel_id)
        if channel is None:
            continue
        override = overrides.get(channel_id)
        texts = (override.parts if override and override.parts else None) or [data.text, *data.thread]
        previews.append(
            channel_preview(
                channel=channel,
                texts=texts,
                media=media,
                content_warning=override.content_warning if override else "",
                visibility=override.visibility if override else "public",
                language=override.language if override else "",
            )
        )
    return previews


# -- limits for the upload checks in the browser ----------------------------------------------------


@dataclass(frozen=True)
class MediaLimits:
    channel_id: int
    network: str
    accept: tuple[str, ...]  # MIME types the channel takes
    image_max_bytes: int  # refused above this before uploading
    video_max_bytes: int  # 0: no video
    recompress_over: int  # 0: never recompressed; else images above this are recompressed
    max_items: int


def channel_media_limits(channel: Channel) -> MediaLimits:
    """What the browser checks before an upload, from the connectors' numbers (the server checks again)."""
    if channel.network == "bluesky":
        # Bluesky takes images up to 1,000,000 bytes; larger ones are recompressed when publishing, so only
        # our own upload limit refuses a file.
        return MediaLimits(
            channel_id=channel.pk,
            network="bluesky",
            accept=IMAGE_TYPES,
            image_max_bytes=MAX_UPLOAD_BYTES,
            video_max_bytes=0,
            recompress_over=BLUESKY_MAX_IMAGE_BYTES,
            max_items=BLUESKY_MAX_IMAGES,
        )
    if channel.network == "mastodon":
        cached = (channel.settings or {}).get("instance")
        instance = cached if isinstance(cached, dict) else {}
        supported = instance.get("supported_mime_types") or mastodon_rules.DEFAULT_SUPPORTED_MIME_TYPES
        accept = tuple(t for t in (str(m).lower() for m in supported) if t in ALLOWED_MEDIA_TYPES)
        return MediaLimits(
            channel_id=channel.pk,
            network="mastodon",
            accept=accept,
            image_max_bytes=min(
                MAX_UPLOAD_BYTES,
                int(instance.get("image_size_limit") or mastodon_rules.DEFAULT_IMAGE_SIZE_LIMIT),
            ),
            video_max_bytes=min(
                MAX_UPLOAD_BYTES,
                int(instance.get("video_size_limit") or mastodon_rules.DEFAULT_VIDEO_SIZE_LIMIT),
            ),
            recompress_over=0,
            max_items=int(
                instance.get("max_media_attachments") or mastodon_rules.DEFAULT_MAX_MEDIA_ATTACHMENTS
            ),
        )
    return MediaLimits(
        channel_id=channel.pk,
        network=channel.network,
        accept=tuple(sorted(ALLOWED_MEDIA_TYPES)),
        image_max_bytes=MAX_UPLOAD_BYTES,
        video_max_bytes=MAX_UPLOAD_BYTES,
        recompress_over=0,
        max_items=BLUESKY_MAX_IMAGES,
    )
