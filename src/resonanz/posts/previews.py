"""Previews of a post as each network will show it, for the composer (server-rendered, no network calls).

The text is split into segments the way the network will link it (``Connector.preview_segments``), and each
network's preview is its own partial template (``spec.preview.template``, in the connector's folder).
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

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.channels.services import channel_account
from resonanz.connectors.base.preview import Segment
from resonanz.connectors.base.spec import MediaKind, MediaSpec
from resonanz.connectors.registry import (
    find_spec,
    get_connector,
    network_display_name,
    registered_connectors,
)
from resonanz.posts.media import media_asset_list
from resonanz.posts.models import MediaAsset
from resonanz.posts.services import ALLOWED_MEDIA_TYPES, MAX_UPLOAD_BYTES, PostInput

# Attachments per post the composer takes (the most any registered network allows is checked per channel).
MAX_MEDIA_ITEMS = 4
IMAGE_TYPES = tuple(sorted(t for t in ALLOWED_MEDIA_TYPES if t.startswith("image/")))
GENERIC_PREVIEW = "posts/composer/_preview_generic.html"


def segments_for(network: str, text: str) -> list[Segment]:
    """The text as the network will link it; plain text for a network without a connector."""
    if find_spec(network) is None:
        return [Segment("text", text)] if text else []
    return get_connector(network).preview_segments(text=text)


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
    template: str = GENERIC_PREVIEW  # the network's partial (spec.preview.template)


def link_card(url: str) -> LinkCard:
    """The card shown for a link without fetching the page: the host, and host + path as the title."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    path = parts.path.rstrip("/")
    return LinkCard(url=url, host=host, title=host + path)


def network_name(network: str) -> str:
    return network_display_name(network)


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


def visibility_choices(network: str) -> list[tuple[str, str]]:
    """The network's visibility options with their labels ([] = every post is public)."""
    spec = find_spec(network)
    return [(c.value, str(c.label)) for c in spec.visibility] if spec is not None else []


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
    spec = find_spec(network)
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
        # A link becomes a card where the network makes cards, and only without attachments unless the
        # network shows both (spec.link_cards, spec.link_card_with_media).
        first_link = next((s for s in segments if s.kind == "link"), None)
        cards = spec is not None and spec.link_cards
        if first_link is not None and cards and (not part.images or spec.link_card_with_media):  # type: ignore[union-attr]
            part.card = link_card(first_link.original)
        parts.append(part)
    labels = spec.visibility_labels() if spec is not None else {}
    return ChannelPreview(
        channel=channel,
        network=network,
        network_name=network_name(network),
        display_name=channel.display_name.strip() or channel.handle,
        handle=display_handle(channel),
        initials=initials(channel),
        avatar_url=channel.avatar_url if _csp_allows_image(channel.avatar_url) else "",
        content_warning=content_warning if spec is not None and spec.content_warning else "",
        visibility=visibility,
        visibility_label=labels.get(visibility, visibility) if labels else "",
        language=language,
        parts=parts,
        template=spec.preview.template if spec is not None and spec.preview else GENERIC_PREVIEW,
    )


def preview_stylesheets() -> list[str]:
    """The registered networks' preview stylesheets (static paths), for the composer page."""
    sheets = []
    for connector in registered_connectors():
        preview = connector.spec.preview
        if preview is not None and preview.stylesheet and preview.stylesheet not in sheets:
            sheets.append(preview.stylesheet)
    return sheets


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


def _limits_from(channel: Channel, media: MediaSpec) -> MediaLimits:
    image = media.rule(MediaKind.IMAGE)
    videos = [r for r in media.rules if r.kind == MediaKind.VIDEO]
    accept = tuple(t for t in (m.lower() for m in media.mime_types) if t in ALLOWED_MEDIA_TYPES)
    return MediaLimits(
        channel_id=channel.pk,
        network=channel.network,
        accept=accept,
        image_max_bytes=min(MAX_UPLOAD_BYTES, (image.max_bytes if image else None) or MAX_UPLOAD_BYTES),
        video_max_bytes=min(MAX_UPLOAD_BYTES, videos[0].max_bytes or MAX_UPLOAD_BYTES) if videos else 0,
        recompress_over=image.recompress_over if image else 0,
        max_items=media.max_items,
    )


def channel_media_limits(channel: Channel) -> MediaLimits:
    """What the browser checks before an upload, from the connector's rules for this account (its spec,
    refined from the account's cached settings; the server checks again)."""
    if find_spec(channel.network) is None:
        return MediaLimits(
            channel_id=channel.pk,
            network=channel.network,
            accept=tuple(sorted(ALLOWED_MEDIA_TYPES)),
            image_max_bytes=MAX_UPLOAD_BYTES,
            video_max_bytes=MAX_UPLOAD_BYTES,
            recompress_over=0,
            max_items=MAX_MEDIA_ITEMS,
        )
    connector = get_connector(channel.network)
    return _limits_from(channel, connector.media_rules(account=channel_account(channel=channel)))
