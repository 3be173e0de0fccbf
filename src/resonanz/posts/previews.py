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
from django.utils.translation import gettext

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.channels.services import channel_account
from resonanz.connectors.base.preview import Segment
from resonanz.connectors.base.provider import TextCount
from resonanz.connectors.base.spec import MediaKind, MediaLayout, MediaSpec, PreviewSpec, TextFold
from resonanz.connectors.registry import (
    find_spec,
    get_connector,
    network_display_name,
    registered_connectors,
)
from resonanz.posts.media import media_asset_list
from resonanz.posts.models import MediaAsset
from resonanz.posts.services import ALLOWED_MEDIA_TYPES, DOCUMENT_TYPES, MAX_UPLOAD_BYTES, PostInput

# Attachments per post the composer takes at least; it takes as many as the most generous registered
# network allows (``max_media_items``), and each channel's check refuses more than its own network takes.
MAX_MEDIA_ITEMS = 4


def max_media_items() -> int:
    """The most attachments any registered network takes in one post (a carousel of 10
    needs 10 here; the per-channel check refuses them where the network takes fewer)."""
    return max([MAX_MEDIA_ITEMS, *(c.spec.media.max_items for c in registered_connectors())])


IMAGE_TYPES = tuple(sorted(t for t in ALLOWED_MEDIA_TYPES if t.startswith("image/")))
GENERIC_PREVIEW = "posts/composer/_preview_generic.html"


def segments_for(network: str, text: str) -> list[Segment]:
    """The text as the network will link it; plain text for a network without a connector."""
    if find_spec(network) is None:
        return [Segment("text", text)] if text else []
    return get_connector(network).preview_segments(text=text)


# -- previews ---------------------------------------------------------------------------------------


# The frame a picture is drawn in when the network crops (``PreviewSpec.media_frame``): this wide, and as
# high as the frame's shape says (an SVG viewBox, so no inline style is needed for the shape).
FRAME_WIDTH = 1080


@dataclass(frozen=True)
class PreviewImage:
    url: str
    alt: str
    name: str
    is_video: bool
    is_document: bool = False  # a PDF or slide deck (shown as a document card)
    width: int | None = None
    height: int | None = None
    # Set when the network crops to a frame: its size (FRAME_WIDTH x frame_height) and, when this picture
    # is cut, a sentence saying how much.
    frame_height: int = 0
    cut: str = ""

    @property
    def framed(self) -> bool:
        return self.frame_height > 0


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
    # Where the feed folds the text (``PreviewSpec.fold``): ``segments`` is what shows before the "more"
    # link, ``folded`` the rest (empty: the whole text shows).
    folded: list[Segment] = field(default_factory=list)
    full: list[Segment] = field(default_factory=list)  # the whole text (shown once the fold is opened)
    count: TextCount | None = None  # the part's count, where the preview shows it (``part_counts``)

    @property
    def empty(self) -> bool:
        return not any(s.text.strip() for s in [*self.segments, *self.folded]) and not self.images

    @property
    def over(self) -> bool:
        return self.count is not None and not self.count.ok

    @property
    def documents(self) -> list[PreviewImage]:
        return [i for i in self.images if i.is_document]

    @property
    def pictures(self) -> list[PreviewImage]:
        """Images and videos (what a grid or carousel shows), without documents."""
        return [i for i in self.images if not i.is_document]


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
    fold_label: str = ""  # the network's "more" link where it folds long texts
    carousel: bool = False  # pictures one at a time (dots and arrows) rather than a grid
    quote: LinkCard | None = None  # the post this one quotes, where the network embeds it


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


def fold_segments(segments: Sequence[Segment], fold: TextFold) -> tuple[list[Segment], list[Segment]]:
    """``segments`` cut where the feed shows its "more" link: after ``fold.lines`` lines or
    ``fold.characters`` visible characters, whichever comes first, at the last space before (a link or
    mention is never cut: it moves behind the fold whole). ([], ...) is never returned for a text that
    fits: then the second list is empty."""
    visible = "".join(s.text for s in segments)
    cut = len(visible)
    newlines = [i for i, c in enumerate(visible) if c == "\n"]
    if len(newlines) >= fold.lines:
        cut = newlines[fold.lines - 1]
    if cut > fold.characters:
        space = visible.rfind(" ", 0, fold.characters + 1)
        cut = space if space > fold.characters // 2 else fold.characters
    if not visible[cut:].strip():
        return list(segments), []
    shown: list[Segment] = []
    rest: list[Segment] = []
    pos = 0
    for segment in segments:
        end = pos + len(segment.text)
        if end <= cut and not rest:
            shown.append(segment)
        elif pos < cut and segment.kind == "text" and not rest:
            shown.append(Segment("text", segment.text[: cut - pos].rstrip()))
            rest.append(Segment("text", segment.text[cut - pos :]))
        else:
            rest.append(segment)
        pos = end
    return shown, rest


def _ratio_label(ratio: float) -> str:
    known = {0.8: "4:5", 1.0: "1:1", 1.91: "1.91:1", 0.5625: "9:16", 1.7778: "16:9"}
    for value, label in known.items():
        if abs(ratio - value) < 0.01:
            return label
    return f"{ratio:.2f}:1"


def _framed(images: list[PreviewImage], frame: tuple[float, float], network_label: str) -> list[PreviewImage]:
    """Each picture in the frame the network crops to: the first picture's shape, clamped to the
    network's range (``PreviewSpec.media_frame``); a picture of another shape is cut in the middle."""
    pictures = [i for i in images if not i.is_document]
    sized = [i for i in pictures if i.width and i.height]
    low, high = frame
    first = sized[0] if sized and sized[0] is pictures[0] else None
    ratio = 1.0 if first is None else min(max(first.width / first.height, low), high)  # type: ignore[operator]
    frame_height = round(FRAME_WIDTH / ratio)
    framed = []
    for image in images:
        if image.is_document:
            framed.append(image)
            continue
        cut = ""
        if image.width and image.height:
            own = image.width / image.height
            if own > ratio * 1.01:
                percent = round(100 * (1 - ratio / own))
                cut = gettext(
                    "%(network)s shows %(ratio)s: %(percent)s %% of the width is cut off (left and right)."
                ) % {"network": network_label, "ratio": _ratio_label(ratio), "percent": percent}
            elif own < ratio / 1.01:
                percent = round(100 * (1 - own / ratio))
                cut = gettext(
                    "%(network)s shows %(ratio)s: %(percent)s %% of the height is cut off (top and bottom)."
                ) % {"network": network_label, "ratio": _ratio_label(ratio), "percent": percent}
        framed.append(
            PreviewImage(
                url=image.url,
                alt=image.alt,
                name=image.name,
                is_video=image.is_video,
                width=image.width,
                height=image.height,
                frame_height=frame_height,
                cut=cut,
            )
        )
    return framed


def channel_preview(
    *,
    channel: Channel,
    texts: Sequence[str],
    media: Sequence[tuple[MediaAsset, str, str]],
    content_warning: str = "",
    visibility: str = "public",
    language: str = "",
    quote_url: str = "",
) -> ChannelPreview:
    """``media``: (asset, alt text, URL of the file) attached to the first part. ``quote_url``: the
    address of a post this one quotes (shown as an embedded card where the network's preview has one)."""
    network = channel.network
    spec = find_spec(network)
    options = spec.preview if spec is not None and spec.preview else PreviewSpec(template=GENERIC_PREVIEW)
    images = [
        PreviewImage(
            url=url,
            alt=alt,
            name=asset.original_name,
            is_video=asset.mime_type.startswith("video/"),
            is_document=asset.mime_type in DOCUMENT_TYPES,
            width=asset.width,
            height=asset.height,
        )
        for asset, alt, url in media
    ]
    if options.media_frame is not None and images:
        images = _framed(images, options.media_frame, network_name(network))
    counter = get_connector(network) if spec is not None and options.part_counts else None
    account = channel_account(channel=channel) if counter is not None else None
    parts = []
    for index, text in enumerate(texts):
        segments = segments_for(network, text)
        part = PreviewPart(number=index + 1, segments=segments, images=images if index == 0 else [])
        if options.fold is not None:
            part.segments, part.folded = fold_segments(segments, options.fold)
            part.full = segments
        if counter is not None and account is not None:
            part.count = counter.count_text(account=account, text=text, content_warning=content_warning)
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
        template=options.template,
        fold_label=str(options.fold.label) if options.fold is not None else "",
        carousel=options.media_layout == MediaLayout.CAROUSEL,
        quote=link_card(quote_url) if quote_url else None,
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
                quote_url=override.quote_url if override else "",
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
