"""The connector contract.

A connector is a stateless object that talks to one network's real HTTP API through
:class:`~resonanz.connectors.base.http.NetworkHttpClient`. It knows nothing about Django models: the
engine hands it a :class:`ChannelAccount` (credentials decrypted, mutable so a refresh can update them)
and plain dataclasses describing the post. That keeps every connector testable against a real or emulated
server with one shared contract suite (``resonanz/connectors/tests/contract.py``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from .errors import NotSupported
from .spec import Capability, InboxKind

if TYPE_CHECKING:
    import threading

    from .preview import Segment
    from .spec import MediaSpec, NetworkSpec
    from .webhooks import WebhookReceiver


@dataclass
class ChannelAccount:
    """What a connector needs to act for one connected account."""

    network: str
    base_url: str  # Bluesky: the PDS URL; Mastodon: the instance URL
    remote_id: str = ""  # Bluesky: DID; Mastodon: account id
    handle: str = ""
    credentials: dict[str, Any] = field(default_factory=dict)
    # Cached facts about the network for this account, e.g. Mastodon's /api/v2/instance configuration.
    settings: dict[str, Any] = field(default_factory=dict)
    credentials_changed: bool = False
    settings_changed: bool = False

    def update_credentials(self, **values: Any) -> None:
        self.credentials.update(values)
        self.credentials_changed = True

    def update_settings(self, **values: Any) -> None:
        self.settings.update(values)
        self.settings_changed = True

    # Networks without an idempotency key (X, Meta, LinkedIn, ...) keep what each publish key created in
    # the account's settings, so a retry with the same key returns it instead of posting again. One
    # shared record per ``name`` ("published_keys", "reply_keys", ...), bounded to the newest ``keep``.
    def key_record_get(self, *, name: str, key: str) -> str | None:
        record = self.settings.get(name) or {}
        value = record.get(key) if isinstance(record, dict) else None
        return str(value) if value else None

    def key_record_put(self, *, name: str, key: str, value: str, keep: int = 200) -> None:
        record = self.settings.get(name) or {}
        record = dict(record) if isinstance(record, dict) else {}
        record[key] = value
        self.update_settings(**{name: dict(list(record.items())[-keep:])})


@dataclass(frozen=True)
class AccountInfo:
    remote_id: str
    handle: str
    display_name: str = ""
    avatar_url: str = ""
    profile_url: str = ""


@dataclass
class DraftMedia:
    data: bytes
    mime_type: str
    alt_text: str = ""
    filename: str = ""
    # A video's length and shown size as read on upload (None: unknown; the checks before scheduling then
    # leave it to the network).
    duration_seconds: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class DraftPart:
    text: str
    media: list[DraftMedia] = field(default_factory=list)


@dataclass
class DraftVariant:
    """One post as it will go to one channel; ``parts`` > 1 is a thread (published in order)."""

    parts: list[DraftPart]
    content_warning: str = ""  # Mastodon spoiler_text
    visibility: str = "public"  # Mastodon: public | unlisted | private | direct
    language: str = ""  # ISO 639-1, e.g. "de"
    # One of the network's ``spec.formats`` ("reel", "story", ...); "" = its default (the first).
    format: str = ""
    # Posted by the engine as a comment under the published post (``spec.first_comment``), not here.
    first_comment: str = ""
    # The web URL of a post of the same network that the first part quotes (``spec.quotes``).
    quote_url: str = ""


@dataclass(frozen=True)
class ValidationIssue:
    code: str  # stable machine code, e.g. "too_many_graphemes"
    message: str  # translated, names the count and the limit
    part_index: int | None = None
    field: str = "text"
    count: int | None = None
    limit: int | None = None


@dataclass(frozen=True)
class TextCount:
    """The number a network will count for a text, shown live in the composer."""

    count: int
    limit: int
    unit: str  # "graphemes" | "characters"
    bytes: int | None = None
    byte_limit: int | None = None

    @property
    def ok(self) -> bool:
        return self.count <= self.limit and (self.byte_limit is None or (self.bytes or 0) <= self.byte_limit)


@dataclass(frozen=True)
class PublishKey:
    """The idempotency identity of one publish of one part, recorded before the first network call.

    ``key`` is unique and stable across retries; ``created_at`` is when it was first recorded (Bluesky
    derives its deterministic record key, a TID, from both).
    """

    key: str
    created_at: datetime


@dataclass(frozen=True)
class PublishedRef:
    remote_id: str  # Bluesky: at:// URI; Mastodon: status id
    url: str  # public web URL
    cid: str = ""  # Bluesky content id (needed for replies/likes)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteReply:
    remote_id: str
    url: str
    author_id: str
    author_handle: str
    author_name: str
    text: str
    created_at: datetime
    in_reply_to_remote_id: str
    # Seen only by the accounts it addresses (a direct message). A connector that declares
    # ``InboxKind.DIRECT_MESSAGES`` files these through ``fetch_direct_messages``: the mentions sync
    # leaves them to it, so one message never makes two conversations.
    direct: bool = False


@dataclass(frozen=True)
class FoundPost:
    """A public post found by a search (listening): who wrote what, when, where."""

    remote_id: str
    url: str
    author_handle: str
    text: str
    created_at: datetime
    author_name: str = ""


@dataclass(frozen=True)
class SearchPage:
    """One page of search results, newest first, and the cursor the next poll starts from (opaque to the
    caller: a connector chooses what it means, e.g. "newer than this id")."""

    posts: list[FoundPost]
    cursor: str


@dataclass(frozen=True)
class Reshare:
    """A repost or quote of a public post (listening's spread projection): who, when, their reach.

    ``created_at`` is ``None`` where the network does not report when a repost happened (Bluesky's
    ``getRepostedBy`` and Mastodon's ``reblogged_by`` list only the accounts): the caller then dates it
    by when it first saw it. ``followers`` is ``None`` where unknown."""

    remote_id: str  # the repost's or quote's own id (a repost without one: "<kind>:<post>:<author>")
    kind: str  # RESHARE_REPOST or RESHARE_QUOTE
    subject_remote_id: str  # the post it reshares
    author_handle: str
    created_at: datetime | None = None
    followers: int | None = None
    url: str = ""
    text: str = ""


RESHARE_REPOST = "repost"
RESHARE_QUOTE = "quote"


@dataclass(frozen=True)
class Engagement:
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int | None = None  # None = the network does not report it
    impressions: int | None = None
    reach: int | None = None
    saves: int | None = None
    clicks: int | None = None
    video_views: int | None = None
    reply_items: list[RemoteReply] = field(default_factory=list)


@dataclass(frozen=True)
class MentionPage:
    """What ``Connector.fetch_mentions`` returns: posts of others that name the account (mentions, and
    quotes where the network reports them), oldest first, and the cursor to ask from next time.

    ``cursor`` is opaque to the caller (a notification id, a post id, a timestamp): pass it back
    unchanged. It is the one given in when nothing new arrived, so keeping it is always safe."""

    items: list[RemoteReply]
    cursor: str | None


@dataclass(frozen=True)
class DirectConversation:
    """One private conversation of the account on the network (``Connector.fetch_direct_messages``).

    ``remote_id`` is opaque and stable for the conversation: the inbox files all its messages under it
    and passes it back as ``root`` when answering. ``messages`` are those of others the connector could
    read this time (oldest first; the inbox ignores the ones it already has); ``unread`` is the network's
    own flag."""

    remote_id: str
    messages: list[RemoteReply]
    unread: bool = False


@dataclass(frozen=True)
class DirectMessagePage:
    """What ``Connector.fetch_direct_messages`` returns: the conversations with new activity since the
    cursor and the cursor to ask from next time (opaque; the one given in when nothing is new)."""

    conversations: list[DirectConversation]
    cursor: str | None


@dataclass(frozen=True)
class PushedActivity:
    """What a network pushed to Resonanz on its own (a webhook delivery, a streaming event), as the
    connector reads it: for which connected account, and what to file or fetch. Polling with cursors
    stays the safety net: whatever is filed here is skipped when the poll brings it again (dedup by the
    message's ``remote_id``), and whatever a push missed the next poll brings.

    ``mentions`` are filed like polled mentions, ``direct_messages`` like polled direct conversations;
    ``replied_posts`` are the remote ids of our published posts that got new replies or comments (their
    reply sync runs now, which files them under the post's conversation with the thread around them);
    ``resync`` says something changed that the payload does not carry (the channel's inbox is polled
    now)."""

    account_remote_id: str  # ``Channel.remote_id`` of the account it concerns
    mentions: tuple[RemoteReply, ...] = ()
    direct_messages: tuple[DirectConversation, ...] = ()
    replied_posts: tuple[str, ...] = ()
    resync: bool = False


# The key of ``ChannelAccount.settings`` that names the ad account a channel reports paid posts from.
AD_ACCOUNT_SETTING = "ad_account_id"


@dataclass(frozen=True)
class AdAccount:
    """An ad account the login may read (``Connector.list_ad_accounts``)."""

    remote_id: str  # as the channel stores it in ``settings[AD_ACCOUNT_SETTING]``
    name: str
    currency: str = ""  # ISO 4217


@dataclass(frozen=True)
class AdResult:
    """Spend and results of one ad (or sponsored creative) on one day, as the network reports them.

    ``spend`` is in ``currency`` (the ad account's, ISO 4217), never converted. ``post_remote_id`` is the
    remote id of the organic post the ad promotes when the network says so (a boosted post), so the
    caller can match it to the variant it published; empty for an ad made from scratch."""

    remote_id: str  # the ad's / creative's id
    day: date
    spend: Decimal
    currency: str
    impressions: int = 0
    clicks: int = 0
    leads: int = 0  # leads and conversions as the network counts them
    conversion_value: Decimal = Decimal(0)
    post_remote_id: str = ""
    campaign_remote_id: str = ""
    campaign_name: str = ""
    name: str = ""


@dataclass(frozen=True)
class ConnectedAccount:
    """A newly connected account: what the channel stores."""

    base_url: str
    info: AccountInfo
    credentials: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConnectStart:
    """The first step of an authorization on the network (``ConnectMethod.OAUTH``)."""

    authorize_url: str  # where the user approves access
    base_url: str
    state_data: dict[str, Any]  # kept (encrypted) until the callback, then passed to ``connect_complete``


class ClientRegistry(Protocol):
    """Our own app registrations on a network's servers, one per server and redirect URI (kept encrypted
    by the channels app; networks that register per server, like the fediverse, need it)."""

    def get(self, *, base_url: str, redirect_uri: str) -> dict[str, Any] | None: ...

    def save(self, *, base_url: str, redirect_uri: str, credentials: dict[str, Any]) -> dict[str, Any]:
        """Store unless one exists already (a concurrent registration); return the stored credentials."""
        ...


class Connector(ABC):
    network: ClassVar[str]
    # Everything the network declares about itself: name, colour, limits, options, connect flow, preview.
    spec: ClassVar[NetworkSpec]
    # How many posts of ONE account the engine may create at the same time. 1 unless the connector is
    # known to be safe with parallel calls on one ChannelAccount: a refresh that rotates tokens (Bluesky's
    # refreshSession invalidates the old refresh JWT) must not race another call using the old one.
    publish_concurrency_per_account: ClassVar[int] = 1

    # -- declared capabilities (all from ``spec``) ----------------------------------------------
    @property
    def display_name(self) -> str:
        return self.spec.brand.display_name

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.spec.capabilities()

    @property
    def max_thread_parts(self) -> int:
        return self.spec.max_thread_parts

    def media_rules(self, *, account: ChannelAccount) -> MediaSpec:
        """The media this account may post: the spec's defaults, refined from what is cached on the account
        (never a network call: the composer asks for every channel on every page)."""
        return self.spec.media

    def preview_segments(self, *, text: str) -> list[Segment]:
        """The text split the way the network links it (links, mentions, tags) for the composer's preview."""
        from .preview import Segment

        return [Segment("text", text)] if text else []

    # -- connecting an account (``spec.connect``) ----------------------------------------------
    def connect_with_credentials(self, *, values: Mapping[str, str]) -> ConnectedAccount:
        """``ConnectMethod.CREDENTIALS``: log in with the form's values."""
        raise NotSupported(f"{self.network}: no credentials login")

    def connect_begin(
        self, *, values: Mapping[str, str], redirect_uri: str, state: str, clients: ClientRegistry
    ) -> ConnectStart:
        """``ConnectMethod.OAUTH``: prepare the authorization (register our app if needed)."""
        raise NotSupported(f"{self.network}: no authorization flow")

    def connect_complete(
        self,
        *,
        base_url: str,
        state_data: Mapping[str, Any],
        params: Mapping[str, str],
        clients: ClientRegistry,
    ) -> ConnectedAccount:
        """``ConnectMethod.OAUTH``: the network sent the user back with ``params`` (the callback's query)."""
        raise NotSupported(f"{self.network}: no authorization flow")

    # -- account ---------------------------------------------------------------------------------
    @abstractmethod
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        """Check the credentials work (channel health); refresh cached settings if useful."""

    def refresh_credentials(self, *, account: ChannelAccount) -> None:
        """Renew an expired access token in place. Raise ``AuthExpired`` when that is impossible."""
        raise NotSupported(f"{self.network}: credentials cannot be refreshed")

    def login_expires_at(self, *, account: ChannelAccount) -> datetime | None:
        """When the user must sign in again because no refresh can extend the login (e.g. a token with a
        fixed lifetime, or a refresh token that itself expires); ``None`` = unknown or never. The channel
        health check warns ahead of it (``settings.RESONANZ_LOGIN_EXPIRY_WARNING_DAYS``)."""
        return None

    # -- rules -----------------------------------------------------------------------------------
    @abstractmethod
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        """Count ``text`` exactly as the network does."""

    @abstractmethod
    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        """Every rule the network enforces, checked before scheduling. Empty list = will be accepted."""

    def prepare_media(self, *, account: ChannelAccount, media: DraftMedia) -> DraftMedia:
        """Bring media within the network's limits (e.g. recompress); raise ``Rejected`` if impossible."""
        return media

    # -- publishing ------------------------------------------------------------------------------
    @abstractmethod
    def publish_part(
        self,
        *,
        account: ChannelAccount,
        variant: DraftVariant,
        part_index: int,
        key: PublishKey,
        reply_to: PublishedRef | None = None,
        root: PublishedRef | None = None,
    ) -> PublishedRef:
        """Create one part (the first, or a reply in a thread). Must be idempotent for the same ``key``."""

    @abstractmethod
    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        """After an unknown outcome: did the network create this part? ``None`` = certainly not."""

    def delete(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        raise NotSupported(f"{self.network}: posts cannot be deleted through the API")

    def edit(
        self, *, account: ChannelAccount, ref: PublishedRef, variant: DraftVariant, part_index: int
    ) -> PublishedRef:
        raise NotSupported(f"{self.network}: published posts cannot be edited")

    # -- answering (the inbox) --------------------------------------------------------------------
    def reply(
        self,
        *,
        account: ChannelAccount,
        text: str,
        key: PublishKey,
        reply_to: PublishedRef,
        root: PublishedRef | None = None,
    ) -> PublishedRef:
        """Answer ``reply_to`` (someone's message; ``root`` is the thread's first post) with ``text``.

        The same exactly-once contract as ``publish_part``: idempotent for the same ``key``, and after an
        unknown outcome ``find_reply`` says whether it was created. The default publishes a one-part post
        as a reply, which is how both networks of today answer; a network with a separate call for
        answers (comments, direct messages) overrides this."""
        if InboxKind.REPLIES not in self.spec.inbox:
            raise NotSupported(f"{self.network}: no replies")
        return self.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text=text)]),
            part_index=0,
            key=key,
            reply_to=reply_to,
            root=root,
        )

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """After an unknown outcome of ``reply``: did the network create it? ``None`` = certainly not."""
        raise NotSupported(f"{self.network}: replies cannot be looked up")

    # -- after publishing: the first comment (``spec.first_comment``) ---------------------------------
    def publish_first_comment(
        self, *, account: ChannelAccount, ref: PublishedRef, text: str, key: PublishKey
    ) -> PublishedRef:
        """Comment ``text`` under our own published post ``ref`` (the first part). Same exactly-once
        contract as ``publish_part``: idempotent for the same ``key`` (committed by the engine before
        the call), ``OutcomeUnknown`` when the network may have created it, then ``find_first_comment``.

        The default answers the post through ``reply`` (a comment on the Graph API and LinkedIn, a reply
        in the thread on X), which already keeps key -> comment records and reconciles by reading back."""
        if not self.spec.first_comment:
            raise NotSupported(f"{self.network}: no first comment")
        return self.reply(account=account, text=text, key=key, reply_to=ref, root=ref)

    def find_first_comment(
        self, *, account: ChannelAccount, ref: PublishedRef, text: str, key: PublishKey
    ) -> PublishedRef | None:
        """After an unknown outcome (or a crash after the call was committed): the comment if the
        network has it under ``ref``, ``None`` when it certainly does not exist."""
        if not self.spec.first_comment:
            raise NotSupported(f"{self.network}: no first comment")
        return self.find_reply(account=account, text=text, key=key, reply_to=ref)

    # -- quotes (``spec.quotes``) and daily caps (``spec.daily_cap``) --------------------------------
    def parse_quote_url(self, *, url: str) -> PublishedRef:
        """The post a web URL names, as far as the URL alone tells (no network call: the composer checks
        on every keystroke). Raises ``Rejected`` with a message in the user's language when the URL is
        not a post of this network."""
        raise NotSupported(f"{self.network}: no quotes")

    def posts_left_today(self, *, account: ChannelAccount, now: float | None = None) -> int | None:
        """How many more posts the account may create in its current daily window (``None``: no cap).
        From what the connector cached on the account; never a network call."""
        return None

    # -- engagement ------------------------------------------------------------------------------
    # -- inbox actions (optional; declared in ``spec.inbox_actions``) --------------------------------
    def like(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """Like someone else's message ``ref``. Idempotent: liking twice leaves one like."""
        raise NotSupported(f"{self.network}: like is not supported")

    def hide(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """Hide someone else's comment ``ref`` under our post from the public (it stays on the network)."""
        raise NotSupported(f"{self.network}: hide is not supported")

    def delete_reply(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """Delete an answer we sent (``ref`` as ``reply`` returned it). A reply already gone is no error."""
        raise NotSupported(f"{self.network}: delete_reply is not supported")

    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        raise NotSupported(f"{self.network}: no engagement data")

    def fetch_followers(self, *, account: ChannelAccount) -> int | None:
        """The account's follower count now; ``None`` = the network does not report it (the default).
        A connector that implements it sets ``NetworkSpec.followers``."""
        return None

    def fetch_mentions(self, *, account: ChannelAccount, cursor: str | None) -> MentionPage:
        """Posts of others naming the account since ``cursor`` (``None``: the most recent ones), for the
        inbox. Only called for connectors whose spec declares ``InboxKind.MENTIONS``. Each item's
        ``remote_id``/``url`` are those of the mentioning post; ``in_reply_to_remote_id`` is its parent
        (empty when it starts a thread), so the inbox can tell a mention that is a reply to our post."""
        raise NotSupported(f"{self.network}: no mentions")

    def fetch_direct_messages(self, *, account: ChannelAccount, cursor: str | None) -> DirectMessagePage:
        """The account's private conversations with activity since ``cursor`` (``None``: the most recent
        ones), for the inbox. Only called for connectors whose spec declares
        ``InboxKind.DIRECT_MESSAGES``; the answer goes through ``reply`` with ``root`` the conversation's
        ``remote_id``, and must reach the same participants and no one else."""
        raise NotSupported(f"{self.network}: no direct messages")

    # -- push (``base.webhooks``) ----------------------------------------------------------------------
    def webhook_receiver(self) -> WebhookReceiver | None:
        """What answers the network's webhook deliveries at ``/hooks/<network>/``; ``None`` (the
        default): the network pushes nothing, polling only."""
        return None

    # -- paid posts (``spec.ad_reporting``) -----------------------------------------------------------
    def list_ad_accounts(self, *, account: ChannelAccount) -> list[AdAccount]:
        """The ad accounts this login may read, for choosing ``settings[AD_ACCOUNT_SETTING]``."""
        raise NotSupported(f"{self.network}: no ad reporting")

    def fetch_ad_results(self, *, account: ChannelAccount, since: date, until: date) -> list[AdResult]:
        """Spend and results per ad and day from ``since`` to ``until`` (both inclusive) of the ad account
        the channel names in ``settings[AD_ACCOUNT_SETTING]``. The same day asked twice gives the same
        rows (the network may still correct recent days), so the caller upserts by ad and day."""
        raise NotSupported(f"{self.network}: no ad reporting")

    # -- listening -------------------------------------------------------------------------------
    def search_posts(self, *, account: ChannelAccount, query: str, cursor: str) -> SearchPage:
        """Public posts matching ``query`` (terms separated by spaces, a ``#tag`` a hashtag) that are newer
        than ``cursor`` (``""``: the latest page). Listening polls this with the cursor it got last time."""
        raise NotSupported(f"{self.network}: no search")

    # -- streaming (``spec.streaming``) -----------------------------------------------------------------
    def stream_open(self, *, account: ChannelAccount, stop: threading.Event) -> Iterator[PushedActivity]:
        """Open the network's push connection for the account and yield what it pushes, as it arrives.

        Blocks between items. The first item is yielded as soon as the connection is up (an empty
        ``PushedActivity`` is fine: it says "connected", and the caller polls the inbox once to cover the
        time it was not). Returns when the network ends the connection or soon after ``stop`` is set
        (within about a second, even while waiting for the next event); raises typed ``ConnectorError``s
        (``AuthExpired`` when the login is refused, ``ConnectionFailed``/``ServerError``/``RateLimited``
        when it cannot connect or the connection breaks). Only called for connectors whose spec sets
        ``streaming``."""
        raise NotSupported(f"{self.network}: no streaming")

    def fetch_reshares(self, *, account: ChannelAccount, remote_id: str) -> list[Reshare]:
        """Everyone who reposted or quoted the public post ``remote_id`` so far (as ``search_posts``
        returned its id), newest first as the network lists them, each with the account's follower
        count where the network reports it. Only called for connectors whose spec sets ``reshares``."""
        raise NotSupported(f"{self.network}: reshares are not reported")
