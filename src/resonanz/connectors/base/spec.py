"""What a network can do, declared once per connector (``Connector.spec``) and read by everything else.

The composer, previews, validation messages, the calendar, bulk import/export, the API schema and the docs
take a network's name, colour, limits and options from here (through :mod:`resonanz.connectors.registry`),
so no code outside ``connectors/<network>/`` needs to know a network. The values are the network's
*defaults*: where a limit depends on the account's server (a Mastodon instance publishes its own), the
connector refines it per :class:`~.provider.ChannelAccount` (``Connector.media_rules``, ``count_text``).

Everything is frozen dataclasses of plain values; labels are lazy translations so a spec can be built at
import time and shown in the user's language later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise

    Label = str | _StrPromise
else:
    Label = str


class Capability(StrEnum):
    """Coarse capabilities, derived from a connector's :class:`NetworkSpec` (``capabilities()``)."""

    PUBLISH = "publish"
    THREADS = "threads"
    MEDIA = "media"
    ALT_TEXT = "alt_text"
    EDIT = "edit"
    DELETE = "delete"
    ENGAGEMENT = "engagement"
    CONTENT_WARNING = "content_warning"
    VISIBILITY = "visibility"
    REFRESH = "refresh"
    AD_REPORTING = "ad_reporting"  # spend and results of paid posts (``Connector.fetch_ad_results``)
    FIRST_COMMENT = "first_comment"  # a comment under the post right after it (``publish_first_comment``)
    QUOTE = "quote"  # a post that quotes another post of the network (``parse_quote_url``)
    DAILY_CAP = "daily_cap"  # the account may create only so many posts a day (``posts_left_today``)
    RESHARES = "reshares"  # who reposted/quoted a public post (``Connector.fetch_reshares``)
    STREAMING = "streaming"  # the inbox is pushed over a long-lived connection (``Connector.stream_open``)


class TextUnit(StrEnum):
    """How a network counts a text against its limit."""

    GRAPHEMES = "graphemes"  # user-perceived characters (Unicode grapheme clusters)
    CHARACTERS = "characters"  # the network's own "characters" (see ``TextLimit.how``)
    BYTES = "bytes"  # UTF-8 bytes


class MediaKind(StrEnum):
    IMAGE = "image"
    GIF = "gif"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"  # a PDF or slide deck shown as a carousel of pages


class Metric(StrEnum):
    LIKES = "likes"
    REPOSTS = "reposts"
    REPLIES = "replies"
    QUOTES = "quotes"
    IMPRESSIONS = "impressions"
    REACH = "reach"  # distinct accounts that saw the post (impressions count each view)
    SAVES = "saves"  # bookmarks / saves
    CLICKS = "clicks"  # clicks on the post counted by the network (short-link clicks are our own)
    VIDEO_VIEWS = "video_views"


METRIC_LABELS: dict[Metric, Label] = {
    Metric.LIKES: _("likes"),
    Metric.REPOSTS: _("reposts"),
    Metric.REPLIES: _("replies"),
    Metric.QUOTES: _("quotes"),
    Metric.IMPRESSIONS: _("impressions"),
    Metric.REACH: _("reach"),
    Metric.SAVES: _("saves"),
    Metric.CLICKS: _("clicks"),
    Metric.VIDEO_VIEWS: _("video views"),
}


class RateBase(StrEnum):
    """What an engagement rate divides by."""

    IMPRESSIONS = "impressions"
    REACH = "reach"
    FOLLOWERS = "followers"  # the channel's followers at the end of the period


RATE_BASE_LABELS: dict[RateBase, Label] = {
    RateBase.IMPRESSIONS: _("impressions"),
    RateBase.REACH: _("reach"),
    RateBase.FOLLOWERS: _("followers"),
}


@dataclass(frozen=True)
class EngagementRate:
    """A network's definition of the engagement rate, as data: the sum of ``counted`` metrics divided by
    ``base``. Analytics evaluates it (``evaluate``) and shows it in words (``definition``), so the number
    and its explanation cannot disagree."""

    counted: tuple[Metric, ...]
    base: RateBase

    @property
    def definition(self) -> str:
        """ "(likes + reposts + replies) ÷ impressions" in the active language."""
        summed = " + ".join(str(METRIC_LABELS[m]) for m in self.counted)
        return f"({summed}) ÷ {RATE_BASE_LABELS[self.base]}"

    def evaluate(self, values: Mapping[str, int | None], *, followers: int | None = None) -> float | None:
        """The rate (0.05 = 5 %) from metric values keyed by ``Metric`` value; ``None`` when the base is
        unknown or zero (a rate of nothing is not 0 %)."""
        base = followers if self.base == RateBase.FOLLOWERS else values.get(self.base.value)
        if not base:
            return None
        return sum(values.get(m.value) or 0 for m in self.counted) / base


class InboxKind(StrEnum):
    REPLIES = "replies"
    MENTIONS = "mentions"
    DIRECT_MESSAGES = "direct_messages"


class InboxAction(StrEnum):
    """What the inbox may do to a message on the network besides answering (``NetworkSpec.inbox_actions``;
    the inbox offers only what the channel's connector declares)."""

    LIKE = "like"  # like / favourite a message of someone else
    HIDE = "hide"  # hide someone else's comment under our post from the public
    DELETE_REPLY = "delete_reply"  # delete an answer we sent


class ConnectMethod(StrEnum):
    # The form's values are enough: the connector logs in and returns the account (app passwords, tokens).
    CREDENTIALS = "credentials"
    # The form starts an authorization on the network (OAuth 2); the network sends the user back to our
    # callback, which completes it.
    OAUTH = "oauth"


class FieldKind(StrEnum):
    TEXT = "text"
    URL = "url"
    PASSWORD = "password"  # noqa: S105 - a field kind, not a secret; never echoed back into a re-rendered form


@dataclass(frozen=True)
class Brand:
    display_name: str  # the network's own name, never translated ("Bluesky")
    colour: str  # "#rrggbb", the network's brand colour (calendar, previews, channel list)
    # The icon as the ``d`` of one SVG path in a 24x24 viewBox, drawn in ``colour``; "" = the initial.
    icon_path: str = ""


@dataclass(frozen=True)
class TextLimit:
    """One limit on one text of a post. A network may have several (Bluesky: graphemes *and* bytes)."""

    limit: int
    unit: TextUnit
    field: str = "text"  # "text" | "content_warning" | "alt_text"
    # What else counts, in words for the user and the docs (e.g. "links count as 23 characters").
    how: Label = ""
    url_weight: int | None = None  # every link counts as this many units regardless of its length
    includes_content_warning: bool = False  # the content warning is counted together with the text


@dataclass(frozen=True)
class MediaRule:
    """What one kind of attachment may be."""

    kind: MediaKind
    mime_types: tuple[str, ...]
    max_bytes: int | None = None  # refused above this (None: no limit known)
    # Above this size a file is recompressed when publishing instead of refused (0: never).
    recompress_over: int = 0
    max_per_post: int = 1
    max_duration_seconds: float | None = None
    min_duration_seconds: float | None = None
    # Width / height allowed, (min, max); None = any. For a video: checked before scheduling from the
    # size it is shown at (posts/video.py), like its duration.
    aspect_ratio: tuple[float, float] | None = None
    # The post formats (``NetworkSpec.formats``) this rule is for; empty = every format. A format's own
    # rule for a kind is listed in ``MediaSpec.format_rules`` and wins over the general one.
    formats: tuple[str, ...] = ()


@dataclass(frozen=True)
class MediaSpec:
    rules: tuple[MediaRule, ...] = ()
    max_items: int = 0  # attachments per post (part) in total
    # Whether a video or audio file may share a post with other attachments.
    mix_video_with_images: bool = True
    # The network downloads attachments from an address of ours (connectors/base/media.py) instead of
    # taking an upload: the channels page warns when that address cannot be reached from outside.
    fetched_from_url: bool = False
    # Rules of one kind for some formats only (``MediaRule.formats``), e.g. a Reel's duration and shape;
    # kept apart from ``rules`` so what lists the accepted types and sizes sees each kind once.
    format_rules: tuple[MediaRule, ...] = ()

    def rule(self, kind: MediaKind, *, format: str = "") -> MediaRule | None:  # noqa: A002 - the spec's word
        """The rule for ``kind``; for a variant of ``format`` that format's own rule where one is declared."""
        if format:
            own = next((r for r in self.format_rules if r.kind == kind and format in r.formats), None)
            if own is not None:
                return own
        return next((r for r in self.rules if r.kind == kind), None)

    def rule_for_mime(self, mime_type: str) -> MediaRule | None:
        mime = mime_type.lower()
        return next((r for r in self.rules if mime in r.mime_types), None)

    @property
    def mime_types(self) -> tuple[str, ...]:
        return tuple(m for r in self.rules for m in r.mime_types)


@dataclass(frozen=True)
class Choice:
    value: str
    label: Label
    description: Label = ""
    # Other words a user may write for it (bulk import; compared case- and umlaut-insensitively).
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ConnectField:
    """One input of the connect form (also a field of the API's connect request)."""

    name: str
    label: Label
    kind: FieldKind = FieldKind.TEXT
    initial: str = ""
    placeholder: str = ""
    help_text: Label = ""
    autocomplete: str = ""
    max_length: int = 300
    required: bool = True


@dataclass(frozen=True)
class ConnectSpec:
    method: ConnectMethod
    fields: tuple[ConnectField, ...]
    title: Label  # heading of the connect box ("Connect Bluesky")
    submit_label: Label  # its button
    intro: Label = ""  # one sentence above the fields (optional)
    # The connect box on the channels page, rendered with ``box`` (network, spec, form); "" = the generic
    # ``channels/_connect_box.html``.
    form_template: str = ""
    # OAUTH only: the page with the link to the network (a link, not a redirect: the CSP's form-action
    # also covers redirects after a form submission), rendered with ``authorize_url`` and ``network_name``.
    # "" = the generic ``channels/connect_continue.html``.
    continue_template: str = ""
    # A person may connect their own account of this network as a personal channel for employee
    # advocacy (docs/advocacy.md): the network has personal accounts that post in the person's name
    # and the connect flow signs in as that person (not as a page or business account).
    personal: bool = False


@dataclass(frozen=True)
class TextFold:
    """Where the network's feed cuts a long text and shows a "more" link: after ``lines`` lines or
    ``characters`` characters, whichever comes first (both are what the feed shows on a phone; the real
    cut depends on the reader's screen, so the preview shows the earliest likely one)."""

    characters: int
    lines: int
    label: Label  # the link the network shows, e.g. "… more"


class MediaLayout(StrEnum):
    GRID = "grid"  # all attachments at once, in a grid
    CAROUSEL = "carousel"  # one at a time, swiped, with dots and arrows


@dataclass(frozen=True)
class PreviewSpec:
    """The composer's preview of a post: one partial template per network, in the connector's folder,
    and what the shared preview code prepares for it (``posts/previews.py``)."""

    template: str  # e.g. "connectors/<network>/preview.html", rendered with ``pv`` (a ChannelPreview)
    stylesheet: str = ""  # a static file, e.g. "connectors/<network>/preview.css"
    fold: TextFold | None = None  # None = the whole text is shown
    media_layout: MediaLayout = MediaLayout.GRID
    # Width/height range the network shows pictures in (the first picture's shape, clamped to it, is the
    # frame every picture of the post is cropped to); None = each picture as it is.
    media_frame: tuple[float, float] | None = None
    part_counts: bool = False  # each part shows its count against the limit (the network counts oddly)

    @classmethod
    def in_folder(cls, network: str, *, stylesheet: bool = True, **options: Any) -> PreviewSpec:
        """The layout docs/connectors.md prescribes: ``templates/connectors/<network>/preview.html`` and
        ``static/connectors/<network>/preview.css`` in the connector's own folder."""
        return cls(
            template=f"connectors/{network}/preview.html",
            stylesheet=f"connectors/{network}/preview.css" if stylesheet else "",
            **options,
        )


@dataclass(frozen=True)
class NetworkSpec:
    """Everything a network declares about itself. See docs/connectors.md for each field."""

    brand: Brand
    text: tuple[TextLimit, ...]
    media: MediaSpec = field(default_factory=MediaSpec)
    max_thread_parts: int = 1  # 1 = no threads
    alt_text: TextLimit | None = None  # None = the network takes no alt text
    content_warning: TextLimit | None = None  # None = no free-text content warning
    visibility: tuple[Choice, ...] = ()  # empty = every post is public
    # What kind of post a variant becomes (Facebook: feed post / Reel; Instagram: feed / Reel / Story).
    # The first is the default (a variant that names none gets it); empty = the network has one format.
    # The connector's ``validate`` checks each format's own rules (``DraftVariant.format``).
    formats: tuple[Choice, ...] = ()
    edit: bool = False  # published posts can be edited in place
    delete: bool = False
    native_scheduling: bool = False  # the network can hold a post until a time itself
    # The engine posts ``DraftVariant.first_comment`` under the published post
    # (``Connector.publish_first_comment`` / ``find_first_comment``); the composer offers the field.
    first_comment: bool = False
    # A post may quote another post of the same network, named by its web URL (``DraftVariant.quote_url``,
    # ``Connector.parse_quote_url``); the composer offers the field.
    quotes: bool = False
    # The account has a daily posting cap (a plan's tier): ``Connector.posts_left_today`` says how many
    # posts are left; the composer shows it beside the schedule field.
    daily_cap: bool = False
    link_cards: bool = False  # a link in the text becomes a card
    link_card_with_media: bool = False  # a card is shown even when the post has attachments
    metrics: frozenset[Metric] = frozenset()
    # How the network's engagement rate is computed (None: no rate is shown for it).
    engagement_rate: EngagementRate | None = None
    # The connector's ``fetch_followers`` reports the account's follower count.
    followers: bool = False
    inbox: frozenset[InboxKind] = frozenset()
    inbox_actions: frozenset[InboxAction] = frozenset()
    refresh: bool = False  # expired credentials can be renewed without the user
    # The network's ad reporting API can be read (``Connector.fetch_ad_results``, ``list_ad_accounts``);
    # the channel names the ad account in its settings (``AD_ACCOUNT_SETTING``).
    ad_reporting: bool = False
    # ``Connector.fetch_reshares`` lists the reposts and quotes of a public post (listening's projection).
    reshares: bool = False
    # ``Connector.stream_open`` keeps a long-lived connection that pushes the account's inbox as it
    # happens (``resonanz stream`` runs it, engagement/streams.py); the poll stays the safety net.
    streaming: bool = False
    connect: ConnectSpec | None = None
    preview: PreviewSpec | None = None
    # Requests in flight to this network across all workers (settings.RESONANZ_NETWORK_CONCURRENCY wins).
    network_concurrency: int = 5

    @property
    def display_name(self) -> str:
        return self.brand.display_name

    @property
    def threads(self) -> bool:
        return self.max_thread_parts > 1

    def text_limit(self, unit: TextUnit | None = None, *, field: str = "text") -> TextLimit | None:
        return next((t for t in self.text if t.field == field and (unit is None or t.unit == unit)), None)

    def visibility_labels(self) -> dict[str, str]:
        return {c.value: str(c.label) for c in self.visibility}

    def format_labels(self) -> dict[str, str]:
        return {c.value: str(c.label) for c in self.formats}

    def default_format(self) -> str:
        """The format a variant without one gets ("" when the network has only one)."""
        return self.formats[0].value if self.formats else ""

    def capabilities(self) -> frozenset[Capability]:
        """The coarse capability set, derived (never declared twice)."""
        found = {Capability.PUBLISH}
        flags: Sequence[tuple[bool, Capability]] = (
            (self.threads, Capability.THREADS),
            (self.media.max_items > 0, Capability.MEDIA),
            (self.alt_text is not None, Capability.ALT_TEXT),
            (self.edit, Capability.EDIT),
            (self.delete, Capability.DELETE),
            (bool(self.metrics), Capability.ENGAGEMENT),
            (self.content_warning is not None, Capability.CONTENT_WARNING),
            (bool(self.visibility), Capability.VISIBILITY),
            (self.refresh, Capability.REFRESH),
            (self.ad_reporting, Capability.AD_REPORTING),
            (self.first_comment, Capability.FIRST_COMMENT),
            (self.quotes, Capability.QUOTE),
            (self.daily_cap, Capability.DAILY_CAP),
            (self.reshares, Capability.RESHARES),
            (self.streaming, Capability.STREAMING),
        )
        found.update(cap for present, cap in flags if present)
        return frozenset(found)


__all__ = [
    "METRIC_LABELS",
    "RATE_BASE_LABELS",
    "Brand",
    "Choice",
    "ConnectField",
    "ConnectMethod",
    "ConnectSpec",
    "EngagementRate",
    "FieldKind",
    "InboxAction",
    "InboxKind",
    "MediaKind",
    "MediaRule",
    "MediaSpec",
    "Metric",
    "NetworkSpec",
    "PreviewSpec",
    "RateBase",
    "TextLimit",
    "TextUnit",
]
