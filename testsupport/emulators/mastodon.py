"""An in-process emulator of the Mastodon 4.3+ REST API for connector tests.

``MastodonEmulator`` is a stateful server on the shared emulator base
(``testsupport.emulators.base.EmulatorServer``: 127.0.0.1 on a free port, request log, tokens, faults)
that behaves like a real Mastodon instance for the endpoints a publishing connector uses; this module
holds only Mastodon's contract and its dialect (``MastodonDialect``: error bodies, ``X-RateLimit-*``).
It complements the ``mastodon-mock`` package (see
``testsupport.servers.mastodon_mock``), which does not model OAuth PKCE, Mastodon's length
counting, per-instance limits, ISO-8601 rate-limit headers or transport faults.

Every behaviour is taken from the published API documentation at https://docs.joinmastodon.org
(source: github.com/mastodon/documentation); each handler's docstring names the page it follows.
Where the documentation is silent, the behaviour of Mastodon's own code (Doorkeeper, rack-attack,
``StatusLengthValidator``, ``PostStatusService``) is used and marked as such.

Usage::

    with MastodonEmulator(max_characters=500) as masto:
        token = masto.issue_token()                     # or run the OAuth PKCE flow over HTTP
        masto.faults.fail("/api/v1/statuses", 503)      # fault injection (or masto.fail_next(...))
        httpx.post(f"{masto.base_url}/api/v1/statuses", ...)
        assert len(masto.statuses) == 1

State is guarded by one lock, so the emulator may be driven from several client threads at once.
Requests are processed one at a time under that lock; only injected delays/hangs run outside it.
"""

from __future__ import annotations

import dataclasses
import html
import itertools
import json
import queue
import re
import secrets
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal, TypedDict, Unpack
from urllib.parse import urlencode, urlsplit

import regex

from testsupport.emulators.base import (
    ApiError,
    Dialect,
    EmulatorServer,
    FixedWindow,
    LoggedRequest,
    Params,
    RateLimitState,
    Request,
    Response,
    Token,
    TokenStore,
    client_credentials,
    json_response,
    pkce_challenge,
)

__all__ = [
    "DEFAULT_SUPPORTED_MIME_TYPES",
    "EmulatedAccount",
    "EmulatorConfig",
    "EmulatorOptions",
    "LoggedRequest",
    "MastodonEmulator",
    "countable_length",
    "pkce_challenge",
]

JSONDict = dict[str, Any]

DOCS: Final = "https://docs.joinmastodon.org"
OOB_REDIRECT_URI: Final = "urn:ietf:wg:oauth:2.0:oob"

#: ``configuration.media_attachments.supported_mime_types`` of a stock 4.3 instance
#: (docs: /entities/Instance/#supported_mime_types).
# fmt: off
DEFAULT_SUPPORTED_MIME_TYPES: Final[tuple[str, ...]] = (
    "image/jpeg", "image/png", "image/gif", "image/heic", "image/heif", "image/webp", "image/avif",
    "video/webm", "video/mp4", "video/quicktime", "video/ogg", "audio/wave", "audio/wav", "audio/x-wav",
    "audio/x-pn-wave", "audio/vnd.wave", "audio/ogg", "audio/vorbis", "audio/mpeg", "audio/mp3",
    "audio/webm", "audio/flac", "audio/aac", "audio/m4a", "audio/x-m4a", "audio/mp4", "audio/3gpp",
    "video/x-ms-asf",
)
# fmt: on

#: Scopes a 4.3 server knows (docs: /api/oauth-scopes/, /methods/oauth/#authorization-server-metadata).
_READ_SCOPES: Final = (
    "accounts blocks bookmarks favourites filters follows lists mutes notifications search statuses"
)
_WRITE_SCOPES: Final = (
    "accounts blocks bookmarks conversations favourites filters follows lists media mutes notifications "
    "reports statuses"
)
KNOWN_SCOPES: Final[frozenset[str]] = frozenset(
    {"read", "write", "follow", "push", "profile", "admin:read", "admin:write"}
    | {f"read:{s}" for s in _READ_SCOPES.split(" ")}
    | {f"write:{s}" for s in _WRITE_SCOPES.split(" ")}
)

# Doorkeeper's error descriptions (Mastodon answers OAuth errors with these; docs: /entities/Error/).
_OAUTH_ERRORS: Final[dict[str, str]] = {
    "invalid_grant": (
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection "
        "URI used in the authorization request, or was issued to another client."
    ),
    "invalid_client": (
        "Client authentication failed due to unknown client, no client authentication included, "
        "or unsupported authentication method."
    ),
    "invalid_scope": "The requested scope is invalid, unknown, or malformed.",
    "invalid_request": (
        "The request is missing a required parameter, includes an unsupported parameter value, "
        "or is otherwise malformed."
    ),
    "unsupported_grant_type": "The authorization grant type is not supported by the authorization server.",
    "unsupported_response_type": "The authorization server does not support this response type.",
    "invalid_redirect_uri": "The requested redirect uri is malformed or doesn't match client redirect URI.",
    "access_denied": "The resource owner or authorization server denied the request.",
    "unauthorized_client": "You are not authorized to revoke this token",
}

# 401 bodies: docs /methods/statuses/#create ("The access token is invalid"); revoked/expired tokens get
# Doorkeeper's InvalidToken descriptions, which Mastodon's Api::BaseController renders verbatim.
TOKEN_INVALID: Final = "The access token is invalid"
TOKEN_REVOKED: Final = "The access token was revoked"
TOKEN_EXPIRED: Final = "The access token expired"

_VISIBILITIES: Final = ("public", "unlisted", "private", "direct")
_SCHEDULE_MIN_LEAD_SECONDS: Final = 300.0  # docs /methods/statuses/#create: scheduled_at >= 5 min ahead


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------


@dataclass
class EmulatorConfig:
    """Per-instance configuration, advertised by ``GET /api/v2/instance`` and enforced on writes.

    The object is live: a test may change a field while the emulator runs
    (``emulator.config.max_characters = 100``). Defaults are a stock Mastodon 4.3 server
    (docs: /entities/Instance/#configuration, /api/rate-limits/).
    """

    max_characters: int = 500
    max_media_attachments: int = 4
    characters_reserved_per_url: int = 23
    image_size_limit: int = 16_777_216
    image_matrix_limit: int = 33_177_600
    video_size_limit: int = 103_809_024
    video_frame_rate_limit: int = 120
    video_matrix_limit: int = 8_294_400
    description_limit: int = 1500
    supported_mime_types: tuple[str, ...] = DEFAULT_SUPPORTED_MIME_TYPES
    version: str = "4.3.0"
    api_version: int = 2
    title: str = "Resonanz Mastodon Emulator"
    #: Per access token (rack-attack ``throttle_per_token_api``), or per IP without a token.
    rate_limit: int = 300
    rate_limit_period: int = 300
    #: ``POST /api/v1/media`` and ``/api/v2/media``, per account.
    media_rate_limit: int = 30
    media_rate_limit_period: int = 1800
    #: ``DELETE /api/v1/statuses/:id`` (and unreblog, not emulated), per account.
    delete_rate_limit: int = 30
    delete_rate_limit_period: int = 1800
    #: docs /methods/statuses/#create: "Idempotency keys are stored for up to 1 hour".
    idempotency_ttl: float = 3600.0
    #: Stock Mastodon issues non-expiring tokens without ``refresh_token``; enable to emulate a
    #: server with Doorkeeper refresh tokens (``refresh_token`` + ``expires_in`` in the Token).
    issue_refresh_tokens: bool = False
    access_token_ttl: float | None = None
    authorization_code_ttl: float = 600.0
    #: How many ``GET /api/v1/media/:id`` polls answer 206 before an async (video/audio) upload is ready.
    media_processing_polls: int = 1
    #: A local account created at start-up; it approves ``/oauth/authorize`` unless ``approve_as`` is used.
    default_username: str = "resonanz"


class EmulatorOptions(TypedDict, total=False):
    """Keyword overrides accepted by ``MastodonEmulator(...)``; same names as ``EmulatorConfig``."""

    max_characters: int
    max_media_attachments: int
    characters_reserved_per_url: int
    image_size_limit: int
    image_matrix_limit: int
    video_size_limit: int
    video_frame_rate_limit: int
    video_matrix_limit: int
    description_limit: int
    supported_mime_types: tuple[str, ...]
    version: str
    api_version: int
    title: str
    rate_limit: int
    rate_limit_period: int
    media_rate_limit: int
    media_rate_limit_period: int
    delete_rate_limit: int
    delete_rate_limit_period: int
    idempotency_ttl: float
    issue_refresh_tokens: bool
    access_token_ttl: float | None
    authorization_code_ttl: float
    media_processing_polls: int
    default_username: str


# --------------------------------------------------------------------------------------------------
# Public value types
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmulatedAccount:
    """A local account of the emulated instance."""

    id: str
    username: str
    display_name: str


# --------------------------------------------------------------------------------------------------
# Text helpers: length counting (StatusLengthValidator) and HTML rendering
# --------------------------------------------------------------------------------------------------

# twitter-text's valid_url (protocol required, as Mastodon calls it with extract_url_without_protocol:
# false): not preceded by a letter/digit/@/$/#; host with a dot and an alphabetic TLD.
_URL_RE: Final = re.compile(
    r"(?<![A-Za-z0-9@$#\uff20\uff03])"
    r"https?://"
    r"(?:[^\s/?#<>\"'()\[\]{}.,;:!@]+\.)+(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]+)"
    r"(?::\d{1,5})?"
    r"(?:[/?#][^\s<>\"]*)?",
    re.IGNORECASE,
)
_URL_TRAILING_JUNK: Final = ".,:;!?'\"*\u2026"
# Mastodon's Account::MENTION_RE (USERNAME_RE with an optional @domain).
_MENTION_RE: Final = re.compile(
    r"(?<![=/\w])@(([a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\w]+(?:[.-]+[\w]+)*)?)", re.IGNORECASE
)
_HASHTAG_RE: Final = re.compile(r"(?<![=/)\w#])#(\w*[^\W\d_]\w*)")


@dataclass(frozen=True)
class _Entity:
    start: int
    end: int
    kind: Literal["url", "mention", "hashtag"]
    value: str  # the URL, the screen name ("user" or "user@domain"), or the tag name


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets, as twitter-text does."""
    while url:
        last = url[-1]
        if last in _URL_TRAILING_JUNK or (last == ")" and url.count("(") < url.count(")")):
            url = url[:-1]
        else:
            break
    return url


def _extract_entities(text: str, *, hashtags: bool = False) -> list[_Entity]:
    """URLs and mentions (and optionally hashtags), overlapping ones removed (first wins)."""
    found = [
        _Entity(m.start(), m.start() + len(url), "url", url)
        for m in _URL_RE.finditer(text)
        if (url := _trim_url(m.group(0)))
    ]
    found.extend(_Entity(m.start(), m.end(), "mention", m.group(1)) for m in _MENTION_RE.finditer(text))
    if hashtags:
        found.extend(_Entity(m.start(), m.end(), "hashtag", m.group(1)) for m in _HASHTAG_RE.finditer(text))
    found.sort(key=lambda e: (e.start, -e.end))
    result: list[_Entity] = []
    for entity in found:
        if not result or entity.start >= result[-1].end:
            result.append(entity)
    return result


# ``regex`` (a Resonanz dependency) implements UAX #29 extended grapheme clusters with \X.
_GRAPHEME_RE: Final = regex.compile(r"\X")


def _grapheme_count(text: str) -> int:
    return len(_GRAPHEME_RE.findall(text))


def countable_length(text: str, spoiler_text: str = "", *, characters_reserved_per_url: int = 23) -> int:
    """Length of a status as Mastodon's ``StatusLengthValidator`` counts it.

    Grapheme clusters of ``spoiler_text + text`` after every ``http(s)://`` URL in ``text`` is replaced
    by ``characters_reserved_per_url`` characters and every ``@user@domain`` mention by ``@user``
    (docs: /api/guidelines/#links, /user/posting/ "links are counted as 23 characters").
    """
    pieces: list[str] = []
    index = 0
    for entity in _extract_entities(text):
        pieces.append(text[index : entity.start])
        if entity.kind == "url":
            pieces.append("x" * characters_reserved_per_url)
        else:
            pieces.append("@" + entity.value.split("@", 1)[0])
        index = entity.end
    pieces.append(text[index:])
    return _grapheme_count(spoiler_text + "".join(pieces))


# --------------------------------------------------------------------------------------------------
# Internal records
# --------------------------------------------------------------------------------------------------


@dataclass
class _Account:
    id: str
    username: str
    display_name: str
    note: str
    locked: bool
    bot: bool
    created_at: datetime


@dataclass
class _App:
    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uris: list[str]
    client_id: str
    client_secret: str


@dataclass
class _AuthCode:
    code: str
    client_id: str
    account_id: str
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    code_challenge_method: str | None
    expires_at: float
    used: bool = False


@dataclass
class _Media:
    id: str
    account_id: str
    kind: str
    mime_type: str
    filename: str
    data: bytes
    description: str | None
    focus: tuple[float, float] | None
    width: int | None
    height: int | None
    status_id: str | None = None
    processing_polls_left: int = 0


@dataclass
class _Status:
    id: str
    account_id: str
    text: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str | None
    created_at: datetime
    in_reply_to_id: str | None = None
    in_reply_to_account_id: str | None = None
    reblog_of_id: str | None = None
    media_ids: list[str] = field(default_factory=list)
    mention_ids: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    client_id: str | None = None
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    history: list[JSONDict] = field(default_factory=list)
    idempotency_key: str | None = None


@dataclass
class _Notification:
    id: str
    kind: str
    recipient_id: str
    from_account_id: str
    status_id: str | None
    created_at: datetime


@dataclass
class _Conversation:
    """An AccountConversation (app/models/account_conversation.rb): one account's view of a thread of
    direct statuses with one set of participants; ``last_status_id`` is what the list is paged by."""

    id: str
    account_id: str
    thread_id: str  # the root status of the thread (Mastodon's status.conversation_id)
    participant_ids: tuple[str, ...]  # everyone but ``account_id``
    status_ids: list[str]
    last_status_id: str
    unread: bool


@dataclass
class _Scheduled:
    id: str
    account_id: str
    scheduled_at: datetime
    params: JSONDict
    media_ids: list[str]


def _oauth_error(status: int, code: str) -> ApiError:
    return ApiError(status, code, body={"error": code, "error_description": _OAUTH_ERRORS[code]})


# --------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    """Mastodon's datetime format, e.g. ``2019-12-05T11:34:47.196Z`` (docs: /api/datetime-format/)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso_micro(timestamp: float) -> str:
    """``Time#iso8601(6)`` as used for ``X-RateLimit-Reset``, e.g. ``2020-09-08T13:25:00.019685Z``."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_datetime(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG, read from its header."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in {b"GIF87a", b"GIF89a"} and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8"):
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                return None
            marker = data[index + 1]
            (length,) = struct.unpack(">H", data[index + 2 : index + 4])
            if 0xC0 <= marker <= 0xCF and marker not in {0xC4, 0xC8, 0xCC}:
                height, width = struct.unpack(">HH", data[index + 5 : index + 9])
                return int(width), int(height)
            index += 2 + int(length)
    return None


def _sniff_mime(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in {b"GIF87a", b"GIF89a"}:
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    return None


def _human_size(size: int) -> str:
    for unit in ("Bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "Bytes" else f"{size:g} {unit}"
        size //= 1024
    return f"{size} GB"  # pragma: no cover


def _scope_list(raw: str | None, default: str = "read") -> list[str]:
    text = raw if raw not in (None, "") else default
    assert text is not None
    return [scope for scope in re.split(r"[\s+]+", text.strip()) if scope]


class MastodonDialect(Dialect):
    """Mastodon's error shapes (docs: /entities/Error/, /api/rate-limits/)."""

    rejection_status = 422
    rate_limited_message = "Too many requests"
    expired_token_message = TOKEN_EXPIRED
    send_retry_after = False  # Mastodon sends X-RateLimit-Reset only (docs: /api/rate-limits/)

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        return {"error": message}

    def expired_token(self, request: Request) -> Response:
        response = self.error(401, TOKEN_EXPIRED)
        response.headers.append(("WWW-Authenticate", _www_authenticate(TOKEN_EXPIRED)))
        return response

    def credentials_refused(self, request: Request) -> Response:
        # Doorkeeper's answer to a used, revoked or unknown refresh token.
        return json_response(
            400, {"error": "invalid_grant", "error_description": _OAUTH_ERRORS["invalid_grant"]}
        )

    def rate_limit_headers(self, state: RateLimitState) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(state.limit)),
            ("X-RateLimit-Remaining", str(state.remaining)),
            ("X-RateLimit-Reset", _iso_micro(state.reset_at)),
        ]


def _www_authenticate(message: str) -> str:
    return f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{message}"'


# --------------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------------


class MastodonEmulator(EmulatorServer):
    """A Mastodon 4.3+ API server on ``127.0.0.1:<free port>`` with Python-side fault injection.

    Construct with an ``EmulatorConfig`` and/or keyword overrides
    (``MastodonEmulator(max_characters=1000)``), then use it as a context manager or call
    ``start()``/``stop()``. ``base_url`` is ``http://127.0.0.1:<port>``. Server, request log and faults
    come from :class:`testsupport.emulators.base.EmulatorServer` (``emulator.faults``).
    """

    dialect = MastodonDialect()
    server_header = "Mastodon"

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        /,
        *,
        host: str = "127.0.0.1",
        **overrides: Unpack[EmulatorOptions],
    ) -> None:
        base = config if config is not None else EmulatorConfig()
        self.config: EmulatorConfig = dataclasses.replace(base, **overrides)
        super().__init__(host=host)
        self._last_snowflake = 0
        self._app_ids = itertools.count(1)
        self.tokens = TokenStore(self.now)

        self._accounts: dict[str, _Account] = {}
        self._apps: dict[str, _App] = {}
        self._codes: dict[str, _AuthCode] = {}
        self._media: dict[str, _Media] = {}
        self._statuses: dict[str, _Status] = {}
        self._favourites: dict[tuple[str, str], datetime] = {}
        self._follows: set[tuple[str, str]] = set()  # (follower id, followed id)
        self._notifications: list[_Notification] = []
        self._conversations: dict[str, _Conversation] = {}
        self._conversation_ids = itertools.count(1)
        self._scheduled: dict[str, _Scheduled] = {}
        self._idempotency: dict[tuple[str, str], tuple[float, str]] = {}
        self._windows: dict[str, FixedWindow] = {}
        self._approver_id: str | None = None
        # Open streaming connections: account id -> one queue per connection (``None`` drops it).
        self._streams: dict[str, list[queue.Queue[bytes | None]]] = {}
        self.stream_heartbeat_seconds = 0.5  # ``:thump`` every so often (the real server's is longer)

        self.create_account(self.config.default_username, display_name="Resonanz Test")
        for method, pattern, handler in (
            ("GET", r"/api/v2/instance", self._instance_v2),
            ("GET", r"/api/v1/instance", self._instance_v1),
            ("POST", r"/api/v1/apps", self._create_app),
            ("GET", r"/oauth/authorize", self._authorize),
            ("POST", r"/oauth/token", self._oauth_token),
            ("POST", r"/oauth/revoke", self._oauth_revoke),
            ("GET", r"/api/v1/accounts/verify_credentials", self._verify_credentials),
            ("GET", r"/api/v1/accounts/(?P<id>[^/]+)/statuses", self._account_statuses),
            ("POST", r"/api/v1/accounts/(?P<id>[^/]+)/follow", self._follow),
            ("POST", r"/api/v2/media", self._upload_media),
            ("POST", r"/api/v1/media", self._upload_media),
            ("GET", r"/api/v1/media/(?P<id>[^/]+)", self._get_media),
            ("PUT", r"/api/v1/media/(?P<id>[^/]+)", self._update_media),
            ("GET", r"/system/media_attachments/(?P<id>[^/]+)/(?P<name>[^/]+)", self._media_file),
            ("POST", r"/api/v1/statuses", self._create_status),
            ("GET", r"/api/v1/statuses/(?P<id>[^/]+)", self._get_status),
            ("PUT", r"/api/v1/statuses/(?P<id>[^/]+)", self._edit_status),
            ("DELETE", r"/api/v1/statuses/(?P<id>[^/]+)", self._delete_status),
            ("GET", r"/api/v1/statuses/(?P<id>[^/]+)/context", self._status_context),
            ("GET", r"/api/v1/statuses/(?P<id>[^/]+)/history", self._status_history),
            ("POST", r"/api/v1/statuses/(?P<id>[^/]+)/favourite", self._favourite),
            ("POST", r"/api/v1/statuses/(?P<id>[^/]+)/reblog", self._reblog),
            ("GET", r"/api/v1/statuses/(?P<id>[^/]+)/reblogged_by", self._reblogged_by),
            ("GET", r"/api/v1/notifications", self._list_notifications),
            ("GET", r"/api/v1/conversations", self._list_conversations),
            ("POST", r"/api/v1/conversations/(?P<id>[^/]+)/read", self._read_conversation),
            ("GET", r"/api/v1/timelines/tag/(?P<hashtag>[^/]+)", self._tag_timeline),
            ("GET", r"/api/v2/search", self._search),
            ("GET", r"/api/v1/scheduled_statuses", self._list_scheduled),
            ("GET", r"/api/v1/streaming/health", self._streaming_health),
            ("GET", r"/api/v1/streaming/user(?:/notification)?", self._stream_user),
        ):
            self.route(method, pattern, handler)

    @property
    def domain(self) -> str:
        """``host:port``, the instance's ``domain`` in ``GET /api/v2/instance``."""
        return f"{self.host}:{self.port}" if self._server is not None else self.host

    # ---- test-side API: accounts and tokens ---------------------------------------------------------

    def create_account(
        self, username: str, *, display_name: str | None = None, note: str = "", bot: bool = False
    ) -> EmulatedAccount:
        """Create a local account (usernames are unique, case-insensitively)."""
        with self.lock:
            if self._find_account(username) is not None:
                raise ValueError(f"account {username!r} already exists")
            account = _Account(
                id=self._snowflake(),
                username=username,
                display_name=display_name if display_name is not None else username,
                note=note,
                locked=False,
                bot=bot,
                created_at=self._now_dt(),
            )
            self._accounts[account.id] = account
            if self._approver_id is None:
                self._approver_id = account.id
            return EmulatedAccount(account.id, account.username, account.display_name)

    def account(self, username: str) -> EmulatedAccount:
        """Look up a local account by username."""
        with self.lock:
            account = self._find_account(username)
            if account is None:
                raise KeyError(username)
            return EmulatedAccount(account.id, account.username, account.display_name)

    def approve_as(self, username: str) -> None:
        """Make ``username`` the user who approves ``/oauth/authorize`` requests (default: the first
        account, ``config.default_username``)."""
        with self.lock:
            account = self._find_account(username)
            if account is None:
                raise KeyError(username)
            self._approver_id = account.id

    def issue_token(
        self,
        username: str | None = None,
        *,
        scopes: str = "read write follow push",
        app_name: str = "Resonanz tests",
    ) -> str:
        """Create an app + user access token without the OAuth dance (creates the account if missing)."""
        with self.lock:
            name = username or self.config.default_username
            account = self._find_account(name)
            if account is None:
                self.create_account(name)
                account = self._find_account(name)
            assert account is not None
            app = self._new_app(app_name, None, _scope_list(scopes), [OOB_REDIRECT_URI])
            return self._new_token(app.client_id, account.id, _scope_list(scopes)).access_token

    def revoke_token(self, token: str) -> None:
        """Revoke an access token; later API calls with it get 401 ``The access token was revoked``."""
        with self.lock:
            self.tokens.revoke(token)

    def expire_token(self, token: str) -> None:
        """Expire an access token; later API calls with it get 401 ``The access token expired``."""
        with self.lock:
            self.tokens.expire(token)

    # ---- test-side API: fault injection --------------------------------------------------------------

    # Shorthands over ``self.faults`` (testsupport.emulators.base.Faults) with Mastodon's usual routes.

    def fail_next(
        self,
        path_prefix: str,
        status: int = 503,
        times: int = 1,
        *,
        method: str | None = None,
        body: str | bytes | JSONDict | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (``{"error": "<reason>"}``)."""
        self.faults.fail(path_prefix, status, times=times, method=method, body=body, headers=headers)

    def rate_limit_next(
        self,
        times: int = 1,
        reset_in_seconds: float = 2.0,
        *,
        path_prefix: str = "/api/",
        method: str | None = None,
    ) -> None:
        """429 ``{"error": "Too many requests"}``, ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset``
        ``reset_in_seconds`` from now (docs: /api/rate-limits/)."""
        self.faults.rate_limit(path_prefix, retry_after=reset_in_seconds, method=method, times=times)

    def accept_then_hang(
        self,
        seconds: float,
        *,
        path_prefix: str = "/api/v1/statuses",
        method: str | None = "POST",
        times: int = 1,
    ) -> None:
        """Create the status, then hold the answer ``seconds`` (the client times out after the write)."""
        self.faults.timeout_after_accept(path_prefix, seconds, method=method, times=times)

    def accept_then_drop(
        self, *, path_prefix: str = "/api/v1/statuses", method: str | None = "POST", times: int = 1
    ) -> None:
        """Create the status, then close the connection without any answer."""
        self.faults.timeout_after_accept(path_prefix, method=method, times=times)

    # ---- test-side API: inspection -----------------------------------------------------------------

    @property
    def statuses(self) -> list[JSONDict]:
        """Existing (not deleted) statuses, oldest first, as Status entities plus the source ``text``."""
        return self._status_records(deleted=False)

    @property
    def deleted_statuses(self) -> list[JSONDict]:
        """Statuses deleted through the API, oldest first."""
        return self._status_records(deleted=True)

    def _status_records(self, *, deleted: bool) -> list[JSONDict]:
        with self.lock:
            return [
                {**self._serialize_status(s, None), "text": s.text}
                for s in self._sorted_statuses()
                if (s.deleted_at is not None) == deleted
            ]

    @property
    def media_attachments(self) -> list[JSONDict]:
        """All uploaded media as MediaAttachment entities, oldest first."""
        with self.lock:
            return [self._serialize_media(m) for m in sorted(self._media.values(), key=lambda m: int(m.id))]

    @property
    def scheduled_statuses(self) -> list[JSONDict]:
        """Statuses scheduled with ``scheduled_at`` (never published by the emulator)."""
        with self.lock:
            return [self._serialize_scheduled(s) for s in self._scheduled.values()]

    def notifications_for(self, username: str) -> list[JSONDict]:
        """Notifications of ``username``, newest first."""
        with self.lock:
            account = self._find_account(username)
            if account is None:
                raise KeyError(username)
            return [
                self._serialize_notification(n, account.id)
                for n in reversed(self._notifications)
                if n.recipient_id == account.id
            ]

    # ---- rate limiting (docs: /api/rate-limits/) -----------------------------------------------------

    def default_rate_limit(self) -> int:
        return self.config.rate_limit

    def rate_limit(self, request: Request) -> RateLimitState | None:
        """Fixed windows like rack-attack: per token (or IP), plus per account for media uploads and
        deletes. The headers describe the limit the caller is closest to exceeding ("The headers return
        information about the one you are closest to exceeding")."""
        if not request.path.startswith("/api/"):
            return None
        cfg = self.config
        token, problem = self.tokens.check(request)
        valid = token if problem is None else None
        key = f"token:{valid.access_token}" if valid is not None else f"ip:{request.client_ip}"
        limits = [("api", key, cfg.rate_limit, cfg.rate_limit_period)]
        if valid is not None and valid.subject is not None:
            account_key = f"account:{valid.subject}"
            if request.method == "POST" and re.fullmatch(r"/api/v\d+/media", request.path):
                limits.append(("media", account_key, cfg.media_rate_limit, cfg.media_rate_limit_period))
            if request.method == "DELETE" and re.fullmatch(r"/api/v1/statuses/[^/]+", request.path):
                limits.append(("delete", account_key, cfg.delete_rate_limit, cfg.delete_rate_limit_period))
        now = self.now()
        states = []
        for name, bucket_key, limit, period in limits:
            window = self._windows.get(f"{name}:{limit}:{period}")
            if window is None:
                window = self._windows[f"{name}:{limit}:{period}"] = FixedWindow(limit, period)
            states.append(window.hit(bucket_key, now))
        limited = [s for s in states if s.limited]
        return limited[0] if limited else min(states, key=lambda s: s.remaining)

    def handle(self, request: Request) -> Response:
        try:
            return super().handle(request)
        except ApiError as error:
            if error.status == 401 and not request.path.startswith("/oauth/"):
                error.headers.append(("WWW-Authenticate", _www_authenticate(error.message)))
            raise

    # ---- clock and ids ----------------------------------------------------------------------------

    def _now_dt(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)

    def _snowflake(self) -> str:
        """Mastodon-style ids: millisecond timestamp << 16 plus a sequence, as decimal strings."""
        candidate = int(self.now() * 1000) << 16
        self._last_snowflake = max(candidate, self._last_snowflake + 1)
        return str(self._last_snowflake)

    # ---- lookups ----------------------------------------------------------------------------------

    def _find_account(self, username: str) -> _Account | None:
        wanted = username.lower()
        for account in self._accounts.values():
            if account.username.lower() == wanted:
                return account
        return None

    def _authenticate(
        self,
        request: Request,
        *,
        scopes: Sequence[str] = (),
        user: bool = True,
        required: bool = True,
    ) -> Token | None:
        """Doorkeeper-style bearer check (docs: /api/oauth-scopes/, /entities/Error/#401).

        Missing/unknown token -> 401 ``The access token is invalid``; revoked -> 401 ``The access token
        was revoked``; expired -> 401 ``The access token expired``; app token where a user is needed ->
        422 ``This method requires an authenticated user``; missing scope -> 403.
        """
        record, problem = self.tokens.check(request)
        if problem == "missing":
            if required:
                raise ApiError(401, TOKEN_INVALID)
            return None
        if record is None or problem == "invalid":
            raise ApiError(401, TOKEN_INVALID)
        if problem == "revoked":
            raise ApiError(401, TOKEN_REVOKED)
        if problem == "expired":
            raise ApiError(401, TOKEN_EXPIRED)
        if scopes and not set(scopes) & set(record.scopes):
            raise ApiError(403, "This action is outside the authorized scopes")
        if user and record.subject is None:
            raise ApiError(422, "This method requires an authenticated user")
        return record

    def _viewer(self, request: Request, scopes: Sequence[str]) -> str | None:
        token = self._authenticate(request, scopes=scopes, user=False, required=False)
        return token.subject if token is not None else None

    def _user(self, request: Request, scopes: Sequence[str]) -> tuple[Token, _Account]:
        token = self._authenticate(request, scopes=scopes, user=True)
        assert token is not None
        assert token.subject is not None
        return token, self._accounts[token.subject]

    def _can_see(self, status: _Status, viewer_id: str | None) -> bool:
        if status.deleted_at is not None:
            return False
        if status.visibility in {"public", "unlisted"}:
            return True
        return viewer_id is not None and (viewer_id == status.account_id or viewer_id in status.mention_ids)

    def _visible_status(self, status_id: str, viewer_id: str | None) -> _Status:
        status = self._statuses.get(status_id)
        if status is None or not self._can_see(status, viewer_id):
            raise ApiError(404, "Record not found")
        return status

    def _sorted_statuses(self) -> list[_Status]:
        return sorted(self._statuses.values(), key=lambda s: int(s.id))

    # ---- OAuth (docs: /methods/apps/, /methods/oauth/, /spec/oauth/) -------------------------------

    def _new_app(self, name: str, website: str | None, scopes: list[str], redirect_uris: list[str]) -> _App:
        app = _App(
            id=str(next(self._app_ids)),
            name=name,
            website=website,
            scopes=scopes,
            redirect_uris=redirect_uris,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
        )
        self._apps[app.client_id] = app
        return app

    def _new_token(self, client_id: str | None, account_id: str | None, scopes: list[str]) -> Token:
        return self.tokens.issue(
            subject=account_id,
            client_id=client_id,
            scopes=scopes,
            ttl=self.config.access_token_ttl,
            refreshable=self.config.issue_refresh_tokens and account_id is not None,
        )

    def _token_entity(self, token: Token) -> JSONDict:
        """Token entity (docs: /entities/Token/)."""
        payload: JSONDict = {
            "access_token": token.access_token,
            "token_type": "Bearer",
            "scope": " ".join(token.scopes),
            "created_at": int(token.created_at),
        }
        if token.refresh_token is not None:
            payload["refresh_token"] = token.refresh_token
        if token.expires_at is not None:
            payload["expires_in"] = max(int(token.expires_at - self.now()), 0)
        return payload

    def _create_app(self, request: Request, _match: re.Match[str]) -> Response:
        """``POST /api/v1/apps`` -> CredentialApplication (docs: /methods/apps/#create)."""
        params = request.params()
        name = (params.get("client_name") or "").strip()
        if not name:
            raise ApiError(422, "Validation failed: Application name can't be blank")
        raw_uris = params.get_list("redirect_uris")
        redirect_uris = [u.strip() for raw in raw_uris for u in raw.splitlines() if u.strip()]
        if not redirect_uris:
            raise ApiError(422, "Validation failed: Redirect URI can't be blank")
        for uri in redirect_uris:
            if uri != OOB_REDIRECT_URI and not urlsplit(uri).scheme:
                raise ApiError(422, "Validation failed: Redirect URI must be an absolute URI.")
        scopes = _scope_list(params.get("scopes"))
        if any(scope not in KNOWN_SCOPES for scope in scopes):
            raise ApiError(422, "Validation failed: Scopes must be a valid list of scopes")
        app = self._new_app(name, params.get("website"), scopes, redirect_uris)
        return json_response(
            200,
            {
                **self._application_entity(app),
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "client_secret_expires_at": 0,
            },
        )

    def _application_entity(self, app: _App) -> JSONDict:
        return {
            "id": app.id,
            "name": app.name,
            "website": app.website,
            "scopes": app.scopes,
            "redirect_uri": "\n".join(app.redirect_uris),
            "redirect_uris": app.redirect_uris,
            "vapid_key": "BEmulatorVapidKeyNotForProduction=",
        }

    def _authorize(self, request: Request, _match: re.Match[str]) -> Response:
        """``GET /oauth/authorize`` (docs: /methods/oauth/#authorize).

        Unknown client or unregistered ``redirect_uri`` -> 400 error page (no redirect). Other errors
        redirect with ``error``/``error_description``/``state``. The approving account (see ``approve_as``)
        consents at once: 302 to ``redirect_uri?code=…&state=…``, or an HTML page showing the code for
        ``urn:ietf:wg:oauth:2.0:oob``.
        """
        params = request.params()
        app, redirect_uri = self._check_client_and_redirect(params)
        error = self._authorization_error(params, app)
        if error is not None:
            return self._redirect_with(
                redirect_uri, {"error": error, "error_description": _OAUTH_ERRORS[error]}, params.get("state")
            )
        return self._grant_code(params, app, redirect_uri)

    def _check_client_and_redirect(self, params: Params) -> tuple[_App, str]:
        app = self._apps.get(params.get("client_id") or "")
        if app is None:
            raise _oauth_error(401, "invalid_client")
        redirect_uri = params.get("redirect_uri") or ""
        if redirect_uri not in app.redirect_uris:
            raise _oauth_error(400, "invalid_redirect_uri")
        return app, redirect_uri

    def _authorization_error(self, params: Params, app: _App) -> str | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type"
        if any(scope not in app.scopes for scope in _scope_list(params.get("scope"))):
            return "invalid_scope"
        if params.get("code_challenge"):
            if params.get("code_challenge_method") != "S256":
                return "invalid_request"
        elif params.get("code_challenge_method"):
            return "invalid_request"
        return None

    def _grant_code(self, params: Params, app: _App, redirect_uri: str) -> Response:
        approver = self._approver_id
        if approver is None:
            raise ApiError(500, "No account can approve the authorization")
        code = _AuthCode(
            code=secrets.token_urlsafe(32),
            client_id=app.client_id,
            account_id=approver,
            redirect_uri=redirect_uri,
            scopes=_scope_list(params.get("scope")),
            code_challenge=params.get("code_challenge") or None,
            code_challenge_method=params.get("code_challenge_method") or None,
            expires_at=self.now() + self.config.authorization_code_ttl,
        )
        self._codes[code.code] = code
        if redirect_uri == OOB_REDIRECT_URI:
            page = (
                "<!doctype html><html><body>"
                "<p>Copy this authorization code and paste it to the application.</p>"
                f'<input class="oauth-code" readonly type="text" value="{html.escape(code.code)}">'
                "</body></html>"
            )
            return Response(200, page.encode(), "text/html; charset=utf-8")
        return self._redirect_with(redirect_uri, {"code": code.code}, params.get("state"))

    @staticmethod
    def _redirect_with(redirect_uri: str, values: dict[str, str], state: str | None) -> Response:
        query = dict(values)
        if state:
            query["state"] = state
        separator = "&" if "?" in redirect_uri else "?"
        location = f"{redirect_uri}{separator}{urlencode(query)}"
        return Response(302, b"", "text/html; charset=utf-8", [("Location", location)])

    def _client_credentials(self, request: Request, params: Params) -> _App:
        client_id, client_secret = client_credentials(request)
        app = self._apps.get(client_id or "")
        if app is None or not secrets.compare_digest(app.client_secret, client_secret or ""):
            raise _oauth_error(401, "invalid_client")
        return app

    def _oauth_token(self, request: Request, _match: re.Match[str]) -> Response:
        """``POST /oauth/token`` -> Token (docs: /methods/oauth/#token).

        ``authorization_code``: single-use code, same client and ``redirect_uri``; PKCE (4.3+): when the
        code carries a ``code_challenge`` the ``code_verifier`` must hash (S256) to it, and a verifier
        for a code without challenge is rejected too (Doorkeeper) -> 400 ``invalid_grant``.
        ``client_credentials``: an app token (no user). ``refresh_token``: only with
        ``config.issue_refresh_tokens``; otherwise 400 ``unsupported_grant_type`` like stock Mastodon.
        """
        params = request.params()
        grant_type = params.get("grant_type")
        if not grant_type:
            raise _oauth_error(400, "invalid_request")
        if grant_type not in {"authorization_code", "client_credentials", "refresh_token"} or (
            grant_type == "refresh_token" and not self.config.issue_refresh_tokens
        ):
            raise _oauth_error(400, "unsupported_grant_type")
        app = self._client_credentials(request, params)
        if grant_type == "client_credentials":
            scopes = _scope_list(params.get("scope"))
            if any(scope not in app.scopes for scope in scopes):
                raise _oauth_error(400, "invalid_scope")
            return json_response(200, self._token_entity(self._new_token(app.client_id, None, scopes)))
        if grant_type == "refresh_token":
            # Refresh tokens are single-use (Doorkeeper revokes the old token on use).
            old = self.tokens.redeem_refresh(params.get("refresh_token") or "", client_id=app.client_id)
            if old is None:
                raise _oauth_error(400, "invalid_grant")
            return json_response(
                200, self._token_entity(self._new_token(app.client_id, old.subject, old.scopes))
            )
        code = self._codes.get(params.get("code") or "")
        if (
            code is None
            or code.used
            or code.client_id != app.client_id
            or code.redirect_uri != (params.get("redirect_uri") or "")
            or self.now() >= code.expires_at
        ):
            raise _oauth_error(400, "invalid_grant")
        verifier = params.get("code_verifier")
        if verifier:
            if code.code_challenge is None or not secrets.compare_digest(
                pkce_challenge(verifier), code.code_challenge
            ):
                raise _oauth_error(400, "invalid_grant")
        elif code.code_challenge is not None:
            raise _oauth_error(400, "invalid_grant")
        code.used = True
        return json_response(
            200, self._token_entity(self._new_token(app.client_id, code.account_id, code.scopes))
        )

    def _oauth_revoke(self, request: Request, _match: re.Match[str]) -> Response:
        """``POST /oauth/revoke`` (docs: /methods/oauth/#revoke): ``{}`` and idempotent; a token of
        another client -> 403 ``unauthorized_client``."""
        params = request.params()
        try:
            app = self._client_credentials(request, params)
        except ApiError as exc:
            raise _oauth_error(403, "unauthorized_client") from exc
        value = params.get("token") or ""
        token = self.tokens.find(value)
        if token is not None:
            if token.client_id != app.client_id:
                raise _oauth_error(403, "unauthorized_client")
            token.revoked = True
        return json_response(200, {})

    # ---- instance (docs: /methods/instance/#v2, /entities/Instance/) ---------------------------------

    # The limits V1 and V2 both publish; V2's ``media_attachments`` adds ``description_limit``.
    def _statuses_configuration(self) -> JSONDict:
        cfg = self.config
        return {
            "max_characters": cfg.max_characters,
            "max_media_attachments": cfg.max_media_attachments,
            "characters_reserved_per_url": cfg.characters_reserved_per_url,
        }

    def _media_configuration(self) -> JSONDict:
        cfg = self.config
        return {
            "supported_mime_types": list(cfg.supported_mime_types),
            "image_size_limit": cfg.image_size_limit,
            "image_matrix_limit": cfg.image_matrix_limit,
            "video_size_limit": cfg.video_size_limit,
            "video_frame_rate_limit": cfg.video_frame_rate_limit,
            "video_matrix_limit": cfg.video_matrix_limit,
        }

    def _instance_v2(self, _request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v2/instance`` with ``configuration`` taken from ``self.config``."""
        cfg = self.config
        contact = self._accounts.get(self._approver_id or "")
        return json_response(
            200,
            {
                "domain": self.domain,
                "title": cfg.title,
                "version": cfg.version,
                "source_url": "https://github.com/mastodon/mastodon",
                "description": "A local emulator of the Mastodon API for Resonanz tests.",
                "usage": {"users": {"active_month": len(self._accounts)}},
                "thumbnail": {"url": f"{self.base_url}/packs/media/images/preview.png"},
                "icon": [],
                "languages": ["en", "de"],
                "configuration": {
                    "urls": {
                        "streaming": f"ws://{self.domain}",
                        "status": None,
                        "about": f"{self.base_url}/about",
                        "privacy_policy": f"{self.base_url}/privacy-policy",
                        "terms_of_service": None,
                    },
                    "vapid": {"public_key": "BEmulatorVapidKeyNotForProduction="},
                    "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                    "statuses": self._statuses_configuration(),
                    "media_attachments": {
                        **self._media_configuration(),
                        "description_limit": cfg.description_limit,
                    },
                    "polls": {
                        "max_options": 4,
                        "max_characters_per_option": 50,
                        "min_expiration": 300,
                        "max_expiration": 2629746,
                    },
                    "translation": {"enabled": False},
                },
                "registrations": {"enabled": False, "approval_required": False, "message": None},
                "api_versions": {"mastodon": cfg.api_version},
                "contact": {
                    "email": "admin@example.invalid",
                    "account": self._serialize_account(contact) if contact is not None else None,
                },
                "rules": [],
            },
        )

    def _instance_v1(self, _request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v1/instance`` (deprecated V1_Instance; docs: /entities/V1_Instance/)."""
        cfg = self.config
        return json_response(
            200,
            {
                "uri": self.domain,
                "title": cfg.title,
                "short_description": "",
                "description": "",
                "email": "admin@example.invalid",
                "version": cfg.version,
                "urls": {"streaming_api": f"ws://{self.domain}"},
                "stats": {
                    "user_count": len(self._accounts),
                    "status_count": len(self._statuses),
                    "domain_count": 0,
                },
                "languages": ["en", "de"],
                "registrations": False,
                "approval_required": False,
                "invites_enabled": False,
                "configuration": {
                    "statuses": self._statuses_configuration(),
                    "media_attachments": self._media_configuration(),
                },
                "rules": [],
            },
        )

    # ---- accounts (docs: /methods/accounts/) --------------------------------------------------------

    def _verify_credentials(self, request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v1/accounts/verify_credentials`` -> CredentialAccount.

        docs: /methods/accounts/#verify_credentials
        """
        _token, account = self._user(request, ("read", "read:accounts", "profile"))
        entity = self._serialize_account(account)
        entity["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "note": account.note,
            "fields": [],
            "follow_requests_count": 0,
            "hide_collections": False,
            "discoverable": True,
            "indexable": False,
        }
        entity["role"] = {"id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": False}
        return json_response(200, entity)

    def _account_statuses(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /api/v1/accounts/:id/statuses`` (docs: /methods/accounts/#statuses): newest first,
        ``limit`` (20, max 40), ``max_id``/``since_id``/``min_id``, ``exclude_replies``,
        ``exclude_reblogs``, ``only_media``, ``pinned`` (nothing is pinned here); ``Link`` header."""
        viewer = self._viewer(request, ("read", "read:statuses"))
        account = self._accounts.get(match["id"])
        if account is None:
            raise ApiError(404, "Record not found")
        params = request.params()
        if params.get_bool("pinned"):
            return json_response(200, [])
        items = [
            s
            for s in reversed(self._sorted_statuses())
            if s.account_id == account.id
            and self._can_see(s, viewer)
            and not (params.get_bool("exclude_reblogs") and s.reblog_of_id is not None)
            and not (
                params.get_bool("exclude_replies")
                and s.in_reply_to_id is not None
                and s.in_reply_to_account_id != account.id
            )
            and not (params.get_bool("only_media") and not s.media_ids)
        ]
        page = self._paginate(items, params, default_limit=20, max_limit=40)
        return json_response(
            200, [self._serialize_status(s, viewer) for s in page], self._link_header(request, page)
        )

    def _tag_timeline(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /api/v1/timelines/tag/:hashtag`` (docs: /methods/timelines/#tag): public statuses with the
        hashtag (or any of ``any[]``; all of ``all[]``; none of ``none[]``), newest first, ``limit`` (20,
        max 40), ``max_id``/``since_id``/``min_id``; public, a token is optional."""
        viewer = self._viewer(request, ("read", "read:statuses"))
        params = request.params()
        wanted = {match["hashtag"].lower(), *(t.lower() for t in params.get_list("any"))}
        every = {t.lower() for t in params.get_list("all")}
        never = {t.lower() for t in params.get_list("none")}
        items = [
            s
            for s in reversed(self._sorted_statuses())
            if s.visibility == "public"
            and self._can_see(s, viewer)
            and wanted & set(s.tags)
            and every <= set(s.tags)
            and not never & set(s.tags)
        ]
        page = self._paginate(items, params, default_limit=20, max_limit=40)
        return json_response(
            200, [self._serialize_status(s, viewer) for s in page], self._link_header(request, page)
        )

    def _search(self, request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v2/search`` (docs: /methods/search/#v2) with ``type=statuses``: public statuses whose
        text contains ``q`` (case-insensitive; the real server needs its full-text index for this), newest
        first, ``limit`` (20, max 40), ``max_id``/``min_id``; accounts and hashtags are not emulated."""
        viewer = self._viewer(request, ("read", "read:search"))
        params = request.params()
        q = (params.get("q") or "").strip().casefold()
        if not q:
            raise ApiError(400, "Validation failed: q is missing")
        kind = params.get("type")
        statuses: list[_Status] = []
        if kind in (None, "", "statuses"):
            statuses = [
                s
                for s in reversed(self._sorted_statuses())
                if s.visibility == "public" and self._can_see(s, viewer) and q in s.text.casefold()
            ]
            statuses = self._paginate(statuses, params, default_limit=20, max_limit=40)
        return json_response(
            200,
            {
                "accounts": [],
                "statuses": [self._serialize_status(s, viewer) for s in statuses],
                "hashtags": [],
            },
        )

    # ---- media (docs: /methods/media/) -------------------------------------------------------------

    def _upload_media(self, request: Request, _match: re.Match[str]) -> Response:
        """``POST /api/v2/media`` (and deprecated v1) -> MediaAttachment (docs: /methods/media/#v2).

        Images are processed synchronously (200, ``url`` set); video/audio answer 202 with ``url: null``
        until polled (``config.media_processing_polls``). Unsupported type -> 422 ``Validation failed:
        File content type is invalid, File is invalid``; too large (``image_size_limit``/
        ``video_size_limit``) -> 422; description longer than ``description_limit`` -> 422.
        """
        _token, account = self._user(request, ("write", "write:media"))
        params = request.params()
        upload = params.files.get("file")
        if upload is None:
            raise ApiError(422, "Validation failed: File can't be blank")
        mime = upload.content_type.split(";", 1)[0].strip().lower()
        if mime in {"", "application/octet-stream"}:
            mime = _sniff_mime(upload.data) or mime
        if mime not in self.config.supported_mime_types:
            raise ApiError(422, "Validation failed: File content type is invalid, File is invalid")
        kind = mime.split("/", 1)[0]
        kind = {"image": "image", "video": "video", "audio": "audio"}.get(kind, "unknown")
        limit = self.config.image_size_limit if kind == "image" else self.config.video_size_limit
        if len(upload.data) > limit:
            raise ApiError(422, f"Validation failed: File file size must be less than {_human_size(limit)}")
        description = params.get("description")
        self._check_description(description)
        size = _image_size(upload.data) if kind == "image" else None
        media = _Media(
            id=self._snowflake(),
            account_id=account.id,
            kind=kind,
            mime_type=mime,
            filename=upload.filename or "file",
            data=upload.data,
            description=description or None,
            focus=_parse_focus(params.get("focus")),
            width=size[0] if size else None,
            height=size[1] if size else None,
            processing_polls_left=(
                self.config.media_processing_polls
                if kind != "image" and request.path.startswith("/api/v2/")
                else 0
            ),
        )
        self._media[media.id] = media
        status = 202 if media.processing_polls_left > 0 else 200
        return json_response(status, self._serialize_media(media))

    def _check_description(self, description: str | None) -> None:
        limit = self.config.description_limit
        if description is not None and _grapheme_count(description) > limit:
            raise ApiError(422, f"Validation failed: Description is too long (maximum is {limit} characters)")

    def _owned_unattached_media(self, media_id: str, account: _Account) -> _Media:
        media = self._media.get(media_id)
        if media is None or media.account_id != account.id or media.status_id is not None:
            raise ApiError(404, "Record not found")
        return media

    def _get_media(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /api/v1/media/:id`` (docs: /methods/media/#get): 206 while processing, then 200."""
        _token, account = self._user(request, ("write", "write:media"))
        media = self._owned_unattached_media(match["id"], account)
        if media.processing_polls_left > 0:
            media.processing_polls_left -= 1
            return json_response(206, self._serialize_media(media))
        return json_response(200, self._serialize_media(media))

    def _update_media(self, request: Request, match: re.Match[str]) -> Response:
        """``PUT /api/v1/media/:id`` (docs: /methods/media/#update): ``description`` and ``focus`` of a
        not-yet-attached attachment; attached ones are 404 (edit them via ``PUT /api/v1/statuses/:id``)."""
        _token, account = self._user(request, ("write", "write:media"))
        media = self._owned_unattached_media(match["id"], account)
        params = request.params()
        if params.has("description"):
            description = params.get("description")
            self._check_description(description)
            media.description = description or None
        if params.has("focus"):
            media.focus = _parse_focus(params.get("focus"))
        return json_response(200, self._serialize_media(media))

    def _media_file(self, _request: Request, match: re.Match[str]) -> Response:
        """The uploaded bytes, served at the attachment's ``url``."""
        media = self._media.get(match["id"])
        if media is None or media.processing_polls_left > 0:
            raise ApiError(404, "Record not found")
        return Response(200, media.data, media.mime_type)

    # ---- statuses (docs: /methods/statuses/) -------------------------------------------------------

    def _validate_text(self, text: str, spoiler_text: str, has_media: bool) -> None:
        """Mastodon's status validations: blank text without media -> ``Validation failed: Text can't be
        blank``; over ``max_characters`` (StatusLengthValidator, see ``countable_length``) ->
        ``Validation failed: Text character limit of <max> exceeded``."""
        if not text.strip() and not has_media:
            raise ApiError(422, "Validation failed: Text can't be blank")
        length = countable_length(
            text, spoiler_text, characters_reserved_per_url=self.config.characters_reserved_per_url
        )
        if length > self.config.max_characters:
            raise ApiError(
                422, f"Validation failed: Text character limit of {self.config.max_characters} exceeded"
            )

    def _resolve_media(self, media_ids: list[str], account: _Account, status_id: str | None) -> list[str]:
        """PostStatusService#validate_media!: at most ``max_media_attachments``; own, unattached and
        processed attachments only (422 otherwise)."""
        if len(media_ids) > self.config.max_media_attachments:
            raise ApiError(422, f"Cannot attach more than {self.config.max_media_attachments} files")
        missing = [
            mid
            for mid in media_ids
            if (m := self._media.get(mid)) is None
            or m.account_id != account.id
            or m.status_id not in (None, status_id)
        ]
        if missing:
            raise ApiError(422, f"Media {', '.join(missing)} not found or already attached to another post")
        if any(self._media[mid].processing_polls_left > 0 for mid in media_ids):
            raise ApiError(
                422, "Cannot attach files that have not finished processing. Try again in a moment!"
            )
        return media_ids

    def _create_status(self, request: Request, _match: re.Match[str]) -> Response:
        """``POST /api/v1/statuses`` (docs: /methods/statuses/#create).

        Form or JSON params ``status``, ``media_ids[]``, ``spoiler_text``, ``sensitive``, ``visibility``,
        ``in_reply_to_id``, ``language``, ``scheduled_at``. ``Idempotency-Key``: "Idempotency keys are
        stored for up to 1 hour" - a repeated key (scoped per account, as PostStatusService does) within
        ``config.idempotency_ttl`` returns the first status (or scheduled status) and creates nothing.
        A reply target the user cannot see -> 404 ``The post you are trying to reply to does not appear
        to exist.``; ``scheduled_at`` less than 5 minutes ahead -> 422, in the past -> posted now.
        """
        token, account = self._user(request, ("write", "write:statuses"))
        key = request.headers.get("idempotency-key")
        if key:
            self._expire_idempotency()
            known = self._idempotency.get((account.id, key))
            if known is not None:
                status = self._statuses.get(known[1])
                if status is not None:
                    return json_response(200, self._serialize_status(status, account.id))
                scheduled = self._scheduled.get(known[1])
                if scheduled is not None:
                    return json_response(200, self._serialize_scheduled(scheduled))
        params = request.params()
        text = params.get("status") or ""
        spoiler_text = params.get("spoiler_text") or ""
        media_ids = self._resolve_media(params.get_list("media_ids"), account, None)
        self._validate_text(text, spoiler_text, bool(media_ids))
        visibility = params.get("visibility") or "public"
        if visibility not in _VISIBILITIES:
            raise ApiError(422, "Validation failed: Visibility is not included in the list")
        parent: _Status | None = None
        if params.get("in_reply_to_id"):
            parent = self._statuses.get(params.get("in_reply_to_id") or "")
            if parent is None or not self._can_see(parent, account.id) or parent.reblog_of_id is not None:
                raise ApiError(404, "The post you are trying to reply to does not appear to exist.")
        scheduled_at = self._scheduled_time(params.get("scheduled_at"))
        if scheduled_at is not None:
            scheduled = _Scheduled(
                id=self._snowflake(),
                account_id=account.id,
                scheduled_at=scheduled_at,
                params={
                    "text": text,
                    "media_ids": media_ids or None,
                    "sensitive": params.get_bool("sensitive") if params.has("sensitive") else None,
                    "spoiler_text": spoiler_text or None,
                    "visibility": visibility,
                    "scheduled_at": None,
                    "poll": None,
                    "idempotency": key,
                    "in_reply_to_id": parent.id if parent else None,
                    "language": params.get("language"),
                    "application_id": token.client_id,
                },
                media_ids=media_ids,
            )
            self._scheduled[scheduled.id] = scheduled
            if key:
                self._idempotency[(account.id, key)] = (self.now(), scheduled.id)
            return json_response(200, self._serialize_scheduled(scheduled))
        status = _Status(
            id=self._snowflake(),
            account_id=account.id,
            text=text,
            spoiler_text=spoiler_text,
            sensitive=params.get_bool("sensitive") or bool(spoiler_text),
            visibility=visibility,
            language=params.get("language") or "en",
            created_at=self._now_dt(),
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_account_id=parent.account_id if parent else None,
            media_ids=media_ids,
            client_id=token.client_id,
            idempotency_key=key,
        )
        self._apply_text(status, text)
        for mid in media_ids:
            self._media[mid].status_id = status.id
        self._statuses[status.id] = status
        if key:
            self._idempotency[(account.id, key)] = (self.now(), status.id)
        for mentioned in status.mention_ids:
            if mentioned != account.id:
                self._notify("mention", mentioned, account.id, status.id)
        if status.visibility == "direct":
            self._add_to_conversations(status)
        return json_response(200, self._serialize_status(status, account.id))

    def _scheduled_time(self, raw: str | None) -> datetime | None:
        if not raw:
            return None
        moment = _parse_datetime(raw)
        if moment is None:
            raise ApiError(422, "Validation failed: Scheduled at is invalid")
        lead = moment.timestamp() - self.now()
        if lead <= 0:
            return None  # PostStatusService posts immediately when scheduled_at is in the past
        if lead < _SCHEDULE_MIN_LEAD_SECONDS:
            raise ApiError(422, "Validation failed: Scheduled at The scheduled date must be in the future")
        return moment

    def _expire_idempotency(self) -> None:
        cutoff = self.now() - self.config.idempotency_ttl
        for key in [k for k, (created, _id) in self._idempotency.items() if created <= cutoff]:
            del self._idempotency[key]

    def _apply_text(self, status: _Status, text: str) -> None:
        mention_ids: list[str] = []
        tags: list[str] = []
        for entity in _extract_entities(text, hashtags=True):
            if entity.kind == "mention":
                username, _, domain = entity.value.partition("@")
                account = self._find_account(username) if domain in {"", self.domain} else None
                if account is not None and account.id not in mention_ids:
                    mention_ids.append(account.id)
            elif entity.kind == "hashtag" and entity.value.lower() not in tags:
                tags.append(entity.value.lower())
        status.text = text
        status.mention_ids = mention_ids
        status.tags = tags

    def _get_status(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /api/v1/statuses/:id`` (docs: /methods/statuses/#get): public without a token; 404
        ``Record not found`` for unknown, deleted or invisible statuses."""
        viewer = self._viewer(request, ("read", "read:statuses"))
        status = self._visible_status(match["id"], viewer)
        return json_response(200, self._serialize_status(status, viewer))

    def _own_status(
        self, request: Request, match: re.Match[str], scopes: Sequence[str]
    ) -> tuple[_Account, _Status]:
        _token, account = self._user(request, scopes)
        status = self._statuses.get(match["id"])
        if status is None or status.deleted_at is not None or status.account_id != account.id:
            raise ApiError(404, "Record not found")
        return account, status

    def _edit_status(self, request: Request, match: re.Match[str]) -> Response:
        """``PUT /api/v1/statuses/:id`` (docs: /methods/statuses/#edit): own statuses only (else 404),
        same validations as posting, sets ``edited_at`` and records a StatusEdit; reblogs are 404."""
        account, status = self._own_status(request, match, ("write", "write:statuses"))
        if status.reblog_of_id is not None:
            raise ApiError(404, "Record not found")
        params = request.params()
        text = params.get("status") if params.has("status") else status.text
        spoiler_text = params.get("spoiler_text") if params.has("spoiler_text") else status.spoiler_text
        media_ids = (
            self._resolve_media(params.get_list("media_ids"), account, status.id)
            if params.has("media_ids")
            else status.media_ids
        )
        self._validate_text(text or "", spoiler_text or "", bool(media_ids))
        if not status.history:
            status.history.append(self._edit_snapshot(status, status.created_at))
        for mid in status.media_ids:
            if mid not in media_ids:
                self._media[mid].status_id = None
        for mid in media_ids:
            self._media[mid].status_id = status.id
        status.media_ids = list(media_ids)
        status.spoiler_text = spoiler_text or ""
        if params.has("sensitive"):
            status.sensitive = params.get_bool("sensitive")
        if params.get("language"):
            status.language = params.get("language")
        self._apply_text(status, text or "")
        status.edited_at = self._now_dt()
        status.history.append(self._edit_snapshot(status, status.edited_at))
        for reblog in self._statuses.values():
            if reblog.reblog_of_id == status.id and reblog.deleted_at is None:
                self._notify("update", reblog.account_id, account.id, status.id)
        return json_response(200, self._serialize_status(status, account.id))

    def _edit_snapshot(self, status: _Status, moment: datetime) -> JSONDict:
        return {
            "content": self._render_html(status.text),
            "spoiler_text": status.spoiler_text,
            "sensitive": status.sensitive,
            "created_at": _iso(moment),
            "media_ids": list(status.media_ids),
        }

    def _delete_status(self, request: Request, match: re.Match[str]) -> Response:
        """``DELETE /api/v1/statuses/:id`` (docs: /methods/statuses/#delete): the Status with its source
        ``text`` (for delete-and-redraft); later reads are 404. Reblogs of it disappear too."""
        account, status = self._own_status(request, match, ("write", "write:statuses"))
        entity = self._serialize_status(status, account.id)
        entity["text"] = status.text
        status.deleted_at = self._now_dt()
        for other in self._statuses.values():
            if other.reblog_of_id == status.id and other.deleted_at is None:
                other.deleted_at = status.deleted_at
        delete_media = request.params().get_bool("delete_media")
        for mid in status.media_ids:
            if delete_media:
                self._media.pop(mid, None)
            else:
                self._media[mid].status_id = None
        return json_response(200, entity)

    def _status_context(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /api/v1/statuses/:id/context`` -> Context (docs: /methods/statuses/#context):
        ``ancestors`` root first, ``descendants`` depth-first, both filtered by visibility."""
        viewer = self._viewer(request, ("read", "read:statuses"))
        status = self._visible_status(match["id"], viewer)
        ancestors: list[_Status] = []
        current = status
        while current.in_reply_to_id is not None:
            parent = self._statuses.get(current.in_reply_to_id)
            if parent is None or not self._can_see(parent, viewer):
                break
            ancestors.insert(0, parent)
            current = parent
        children: dict[str, list[_Status]] = {}
        for candidate in self._sorted_statuses():
            if candidate.in_reply_to_id is not None:
                children.setdefault(candidate.in_reply_to_id, []).append(candidate)
        descendants: list[_Status] = []

        def walk(parent_id: str) -> None:
            for child in children.get(parent_id, []):
                if self._can_see(child, viewer):
                    descendants.append(child)
                    walk(child.id)

        walk(status.id)
        return json_response(
            200,
            {
                "ancestors": [self._serialize_status(s, viewer) for s in ancestors],
                "descendants": [self._serialize_status(s, viewer) for s in descendants],
            },
        )

    def _status_history(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /api/v1/statuses/:id/history`` -> StatusEdit[] (docs: /methods/statuses/#history)."""
        viewer = self._viewer(request, ("read", "read:statuses"))
        status = self._visible_status(match["id"], viewer)
        account = self._serialize_account(self._accounts[status.account_id])
        snapshots = status.history or [self._edit_snapshot(status, status.created_at)]
        return json_response(
            200,
            [
                {
                    "content": snap["content"],
                    "spoiler_text": snap["spoiler_text"],
                    "sensitive": snap["sensitive"],
                    "created_at": snap["created_at"],
                    "account": account,
                    "poll": None,
                    "media_attachments": [
                        self._serialize_media(self._media[mid])
                        for mid in snap["media_ids"]
                        if mid in self._media
                    ],
                    "emojis": [],
                }
                for snap in snapshots
            ],
        )

    def _follow(self, request: Request, match: re.Match[str]) -> Response:
        """``POST /api/v1/accounts/:id/follow`` (docs: /methods/accounts/#follow): idempotent; returns the
        Relationship (no locked accounts here: the follow takes effect at once); following oneself is 403."""
        _token, account = self._user(request, ("write", "write:follows", "follow"))
        target = self._accounts.get(match["id"])
        if target is None:
            raise ApiError(404, "Record not found")
        if target.id == account.id:
            raise ApiError(403, "This action is not allowed")
        if (account.id, target.id) not in self._follows:
            self._follows.add((account.id, target.id))
            self._notify("follow", target.id, account.id, None)
        return json_response(
            200,
            {
                "id": target.id,
                "following": True,
                "showing_reblogs": True,
                "notifying": False,
                "followed_by": (target.id, account.id) in self._follows,
                "blocking": False,
                "blocked_by": False,
                "muting": False,
                "muting_notifications": False,
                "requested": False,
                "domain_blocking": False,
                "endorsed": False,
                "note": "",
            },
        )

    def _favourite(self, request: Request, match: re.Match[str]) -> Response:
        """``POST /api/v1/statuses/:id/favourite`` (docs: /methods/statuses/#favourite): idempotent;
        notifies the author (``favourite``) once."""
        _token, account = self._user(request, ("write", "write:favourites"))
        status = self._visible_status(match["id"], account.id)
        target = self._statuses[status.reblog_of_id] if status.reblog_of_id else status
        if (account.id, target.id) not in self._favourites:
            self._favourites[(account.id, target.id)] = self._now_dt()
            if target.account_id != account.id:
                self._notify("favourite", target.account_id, account.id, target.id)
        return json_response(200, self._serialize_status(target, account.id))

    def _reblogged_by(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /api/v1/statuses/:id/reblogged_by`` (docs: /methods/statuses/#reblogged_by): the accounts
        that boosted a visible status, newest boost first (Account entities; no boost times)."""
        viewer = self._viewer(request, ("read", "read:statuses"))
        status = self._visible_status(match["id"], viewer)
        boosts = sorted(
            (s for s in self._statuses.values() if s.reblog_of_id == status.id and s.deleted_at is None),
            key=lambda s: int(s.id),
            reverse=True,
        )
        limit = min(int(request.params().get("limit") or 40), 80)
        return json_response(
            200, [self._serialize_account(self._accounts[s.account_id]) for s in boosts[:limit]]
        )

    def _reblog(self, request: Request, match: re.Match[str]) -> Response:
        """``POST /api/v1/statuses/:id/reblog`` (docs: /methods/statuses/#boost): returns the reblog
        wrapper with the original in ``reblog``; idempotent; private/direct posts -> 403."""
        _token, account = self._user(request, ("write", "write:statuses"))
        status = self._visible_status(match["id"], account.id)
        original = self._statuses[status.reblog_of_id] if status.reblog_of_id else status
        if original.visibility in {"private", "direct"}:
            raise ApiError(403, "This action is not allowed")
        existing = next(
            (
                s
                for s in self._statuses.values()
                if s.reblog_of_id == original.id and s.account_id == account.id and s.deleted_at is None
            ),
            None,
        )
        if existing is None:
            visibility = request.params().get("visibility") or "public"
            if visibility not in {"public", "unlisted", "private"}:
                raise ApiError(422, "Validation failed: Visibility is not included in the list")
            existing = _Status(
                id=self._snowflake(),
                account_id=account.id,
                text="",
                spoiler_text="",
                sensitive=False,
                visibility=visibility,
                language=None,
                created_at=self._now_dt(),
                reblog_of_id=original.id,
            )
            self._statuses[existing.id] = existing
            if original.account_id != account.id:
                self._notify("reblog", original.account_id, account.id, original.id)
        return json_response(200, self._serialize_status(existing, account.id))

    # ---- notifications (docs: /methods/notifications/) -------------------------------------------

    def _notify(self, kind: str, recipient_id: str, from_id: str, status_id: str | None) -> None:
        notification = _Notification(
            self._snowflake(), kind, recipient_id, from_id, status_id, self._now_dt()
        )
        self._notifications.append(notification)
        queues = self._streams.get(recipient_id) or []
        if queues:
            payload = json.dumps(self._serialize_notification(notification, recipient_id))
            event = f"event: notification\ndata: {payload}\n\n".encode()
            for q in queues:
                q.put(event)

    # ---- streaming (docs: /methods/streaming/) ----------------------------------------------------

    def _streaming_health(self, _request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v1/streaming/health`` (docs: /methods/streaming/#health): ``OK`` as plain text."""
        return Response(200, b"OK", "text/plain; charset=utf-8")

    def _stream_user(self, request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v1/streaming/user[/notification]`` (docs: /methods/streaming/#user, #notification):
        server-sent events for the token's account; ``notification`` events as notifications are made,
        ``:thump`` heartbeat comments in between (docs: /methods/streaming/#http). The connection stays
        open until the client leaves, :meth:`drop_streams` or the server stops."""
        _token, account = self._user(request, ("read", "read:notifications", "read:statuses"))
        channel: queue.Queue[bytes | None] = queue.Queue()
        self._streams.setdefault(account.id, []).append(channel)

        def events() -> Iterator[bytes]:
            try:
                while not self._stop_event.is_set():
                    try:
                        item = channel.get(timeout=self.stream_heartbeat_seconds)
                    except queue.Empty:
                        yield b":thump\n"
                        continue
                    if item is None:
                        return
                    yield item
            finally:
                with self.lock:
                    self._streams[account.id].remove(channel)

        return Response(200, b":)\n", "text/event-stream", stream=events())

    def streams_open(self, username: str | None = None) -> int:
        """How many streaming connections are open (for ``username``'s account, or all)."""
        with self.lock:
            if username is None:
                return sum(len(q) for q in self._streams.values())
            account = self._find_account(username)
            return len(self._streams.get(account.id, [])) if account is not None else 0

    def drop_streams(self) -> None:
        """End every open streaming connection (the server restarted, a proxy timed out)."""
        with self.lock:
            for queues in self._streams.values():
                for q in queues:
                    q.put(None)

    def _list_notifications(self, request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v1/notifications`` (docs: /methods/notifications/#get): newest first, ``limit``
        (40, max 80), ``max_id``/``since_id``/``min_id``, ``types[]``, ``exclude_types[]``,
        ``account_id``; ``Link`` header for paging."""
        _token, account = self._user(request, ("read", "read:notifications"))
        params = request.params()
        types = set(params.get_list("types"))
        excluded = set(params.get_list("exclude_types"))
        from_account = params.get("account_id")
        items = [
            n
            for n in reversed(self._notifications)
            if n.recipient_id == account.id
            and (not types or n.kind in types)
            and n.kind not in excluded
            and (from_account is None or n.from_account_id == from_account)
            and (n.status_id is None or self._statuses[n.status_id].deleted_at is None)
        ]
        page = self._paginate(items, params, default_limit=40, max_limit=80)
        return json_response(
            200,
            [self._serialize_notification(n, account.id) for n in page],
            self._link_header(request, page),
        )

    # ---- conversations (docs: /methods/conversations/) --------------------------------------------

    def _add_to_conversations(self, status: _Status) -> None:
        """AccountConversation.add_status: for the author and each mentioned account, the conversation of
        this thread with the same other participants gets the status (a new one otherwise); it is unread
        for everyone but the author."""
        thread = status
        while thread.in_reply_to_id and thread.in_reply_to_id in self._statuses:
            thread = self._statuses[thread.in_reply_to_id]
        everyone = [status.account_id, *[m for m in status.mention_ids if m != status.account_id]]
        for recipient in everyone:
            participants = tuple(sorted(a for a in everyone if a != recipient))
            found = next(
                (
                    c
                    for c in self._conversations.values()
                    if c.account_id == recipient
                    and c.thread_id == thread.id
                    and c.participant_ids == participants
                ),
                None,
            )
            if found is None:
                found = _Conversation(
                    id=str(next(self._conversation_ids)),
                    account_id=recipient,
                    thread_id=thread.id,
                    participant_ids=participants,
                    status_ids=[],
                    last_status_id=status.id,
                    unread=False,
                )
                self._conversations[found.id] = found
            found.status_ids.append(status.id)
            found.last_status_id = status.id
            found.unread = recipient != status.account_id

    def conversations_for(self, username: str) -> list[JSONDict]:
        """Test-side: ``username``'s conversations as ``GET /api/v1/conversations`` shows them."""
        with self.lock:
            account = self._find_account(username)
            if account is None:
                raise KeyError(username)
            mine = [c for c in self._conversations.values() if c.account_id == account.id]
            mine.sort(key=lambda c: int(c.last_status_id), reverse=True)
            return [self._serialize_conversation(c, account.id) for c in mine]

    def _list_conversations(self, request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v1/conversations`` (docs: /methods/conversations/#get, scope ``read:statuses``):
        ``limit`` 20 by default, at most 40; ``max_id``/``since_id``/``min_id`` compare with the
        conversation's last status id (AccountConversation.to_a_paginated_by_id), and so does the
        ``Link`` header (``max_id`` of the page's last, ``min_id`` of its first), newest activity first."""
        _token, account = self._user(request, ("read", "read:statuses"))
        params = request.params()
        try:
            limit = int(params.get("limit") or 20)
        except ValueError:
            limit = 20
        limit = max(1, min(limit, 40))
        max_id, since_id, min_id = params.get("max_id"), params.get("since_id"), params.get("min_id")
        mine = sorted(
            (c for c in self._conversations.values() if c.account_id == account.id),
            key=lambda c: int(c.last_status_id),
            reverse=True,
        )
        selected = [
            c
            for c in mine
            if (not max_id or int(c.last_status_id) < int(max_id))
            and (not since_id or int(c.last_status_id) > int(since_id))
        ]
        if min_id:
            newer = [c for c in selected if int(c.last_status_id) > int(min_id)]
            page = list(reversed(list(reversed(newer))[:limit]))
        else:
            page = selected[:limit]
        headers: list[tuple[str, str]] = []
        if page:
            base = f"{self.base_url}{request.path}"
            next_query = urlencode({"limit": limit, "max_id": page[-1].last_status_id})
            prev_query = urlencode({"limit": limit, "min_id": page[0].last_status_id})
            headers.append(("Link", f'<{base}?{next_query}>; rel="next", <{base}?{prev_query}>; rel="prev"'))
        return json_response(200, [self._serialize_conversation(c, account.id) for c in page], headers)

    def _read_conversation(self, request: Request, match: re.Match[str]) -> Response:
        """``POST /api/v1/conversations/:id/read`` (docs: /methods/conversations/#read, scope
        ``write:conversations``): ``unread`` becomes false; another account's or unknown id -> 404."""
        _token, account = self._user(request, ("write", "write:conversations"))
        conversation = self._conversations.get(match["id"])
        if conversation is None or conversation.account_id != account.id:
            raise ApiError(404, "Record not found")
        conversation.unread = False
        return json_response(200, self._serialize_conversation(conversation, account.id))

    def _serialize_conversation(self, conversation: _Conversation, viewer_id: str) -> JSONDict:
        """Conversation entity (docs: /entities/Conversation/): ``id``, ``unread``, ``accounts`` (the
        participants but the viewer), ``last_status`` (null when it was deleted)."""
        last = self._statuses.get(conversation.last_status_id)
        return {
            "id": conversation.id,
            "unread": conversation.unread,
            "accounts": [self._serialize_account(self._accounts[a]) for a in conversation.participant_ids],
            "last_status": (
                self._serialize_status(last, viewer_id)
                if last is not None and last.deleted_at is None
                else None
            ),
        }

    def _list_scheduled(self, request: Request, _match: re.Match[str]) -> Response:
        """``GET /api/v1/scheduled_statuses`` (docs: /methods/scheduled_statuses/#get)."""
        _token, account = self._user(request, ("read", "read:statuses"))
        return json_response(
            200,
            [self._serialize_scheduled(s) for s in self._scheduled.values() if s.account_id == account.id],
        )

    # ---- paging (docs: /api/guidelines/#pagination) ----------------------------------------------

    def _paginate[T: (_Status, _Notification)](
        self, items: list[T], params: Params, *, default_limit: int, max_limit: int
    ) -> list[T]:
        """``items`` are newest first; ``min_id`` returns the page right after it (still newest first)."""
        try:
            limit = int(params.get("limit") or default_limit)
        except ValueError:
            limit = default_limit
        limit = max(1, min(limit, max_limit))
        max_id, since_id, min_id = params.get("max_id"), params.get("since_id"), params.get("min_id")
        selected = [
            item
            for item in items
            if (not max_id or int(item.id) < int(max_id)) and (not since_id or int(item.id) > int(since_id))
        ]
        if min_id:
            newer = [item for item in selected if int(item.id) > int(min_id)]
            return list(reversed(list(reversed(newer))[:limit]))
        return selected[:limit]

    def _link_header(
        self, request: Request, page: Sequence[_Status | _Notification]
    ) -> list[tuple[str, str]]:
        if not page:
            return []
        base = f"{self.base_url}{request.path}"
        extra = {k: v for k, v in request.params().values.items() if k in {"limit", "types", "exclude_types"}}

        def url(key: str, value: str) -> str:
            query = [(k if k == "limit" else f"{k}[]", item) for k, vals in extra.items() for item in vals]
            query.append((key, value))
            return f"{base}?{urlencode(query)}"

        return [
            ("Link", f'<{url("max_id", page[-1].id)}>; rel="next", <{url("min_id", page[0].id)}>; rel="prev"')
        ]

    # ---- serialization (docs: /entities/) ------------------------------------------------------

    def _serialize_account(self, account: _Account) -> JSONDict:
        """Account entity (docs: /entities/Account/)."""
        statuses = [s for s in self._statuses.values() if s.account_id == account.id and s.deleted_at is None]
        last = max((s.created_at for s in statuses), default=None)
        created = account.created_at.replace(hour=0, minute=0, second=0, microsecond=0)
        return {
            "id": account.id,
            "username": account.username,
            "acct": account.username,
            "display_name": account.display_name,
            "locked": account.locked,
            "bot": account.bot,
            "discoverable": True,
            "indexable": False,
            "group": False,
            "hide_collections": False,
            "noindex": False,
            "created_at": _iso(created),
            "note": f"<p>{html.escape(account.note)}</p>" if account.note else "",
            "url": f"{self.base_url}/@{account.username}",
            "uri": f"{self.base_url}/users/{account.username}",
            "avatar": f"{self.base_url}/avatars/original/missing.png",
            "avatar_static": f"{self.base_url}/avatars/original/missing.png",
            "header": f"{self.base_url}/headers/original/missing.png",
            "header_static": f"{self.base_url}/headers/original/missing.png",
            "followers_count": sum(1 for _f, followed in self._follows if followed == account.id),
            "following_count": sum(1 for follower, _f in self._follows if follower == account.id),
            "statuses_count": sum(1 for s in statuses if s.reblog_of_id is None),
            "last_status_at": last.strftime("%Y-%m-%d") if last else None,
            "emojis": [],
            "fields": [],
        }

    def _serialize_media(self, media: _Media) -> JSONDict:
        """MediaAttachment entity (docs: /entities/MediaAttachment/); ``url`` is null while processing."""
        url = f"{self.base_url}/system/media_attachments/{media.id}/{media.filename}"
        meta: JSONDict = {}
        if media.width and media.height:
            dims = {
                "width": media.width,
                "height": media.height,
                "size": f"{media.width}x{media.height}",
                "aspect": media.width / media.height,
            }
            meta["original"] = dims
            meta["small"] = dims
        if media.focus is not None:
            meta["focus"] = {"x": media.focus[0], "y": media.focus[1]}
        return {
            "id": media.id,
            "type": media.kind,
            "url": None if media.processing_polls_left > 0 else url,
            "preview_url": url,
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": meta,
            "description": media.description,
            "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}" if media.kind == "image" else None,
        }

    def _serialize_status(self, status: _Status, viewer_id: str | None) -> JSONDict:
        """Status entity (docs: /entities/Status/); viewer-dependent flags need ``viewer_id``."""
        account = self._accounts[status.account_id]
        app = self._apps.get(status.client_id or "")
        reblog: JSONDict | None = None
        if status.reblog_of_id is not None:
            reblog = self._serialize_status(self._statuses[status.reblog_of_id], viewer_id)
        live = [s for s in self._statuses.values() if s.deleted_at is None]
        return self._status_payload(
            status, viewer_id=viewer_id, account=account, app=app, reblog=reblog, live=live
        )

    def _status_payload(
        self,
        status: _Status,
        *,
        viewer_id: str | None,
        account: _Account,
        app: _App | None,
        reblog: JSONDict | None,
        live: list[_Status],
    ) -> JSONDict:
        payload: JSONDict = {
            "id": status.id,
            "uri": f"{self.base_url}/users/{account.username}/statuses/{status.id}",
            "url": f"{self.base_url}/@{account.username}/{status.id}" if reblog is None else None,
            "created_at": _iso(status.created_at),
            "edited_at": _iso(status.edited_at) if status.edited_at else None,
            "account": self._serialize_account(account),
            "content": self._render_html(status.text) if reblog is None else "",
            "visibility": status.visibility,
            "sensitive": status.sensitive,
            "spoiler_text": status.spoiler_text,
            "media_attachments": [
                self._serialize_media(self._media[m]) for m in status.media_ids if m in self._media
            ],
            "application": {"name": app.name, "website": app.website} if app and reblog is None else None,
            "mentions": [
                {
                    "id": a.id,
                    "username": a.username,
                    "url": f"{self.base_url}/@{a.username}",
                    "acct": a.username,
                }
                for a in (self._accounts[m] for m in status.mention_ids)
            ],
            "tags": [{"name": t, "url": f"{self.base_url}/tags/{t}"} for t in status.tags],
            "emojis": [],
            "reblogs_count": sum(1 for s in live if s.reblog_of_id == status.id),
            "favourites_count": sum(1 for (_a, sid) in self._favourites if sid == status.id),
            "replies_count": sum(1 for s in live if s.in_reply_to_id == status.id),
            "in_reply_to_id": status.in_reply_to_id,
            "in_reply_to_account_id": status.in_reply_to_account_id,
            "reblog": reblog,
            "poll": None,
            "card": None,
            "language": status.language,
            "filtered": [],
        }
        if viewer_id is not None:
            payload["favourited"] = (viewer_id, status.id) in self._favourites
            payload["reblogged"] = any(
                s.reblog_of_id == status.id and s.account_id == viewer_id for s in live
            )
            payload["muted"] = False
            payload["bookmarked"] = False
            payload["pinned"] = False
        return payload

    def _serialize_notification(self, notification: _Notification, viewer_id: str) -> JSONDict:
        """Notification entity (docs: /entities/Notification/); ``group_key`` as for ungrouped ones."""
        status = self._statuses.get(notification.status_id or "")
        return {
            "id": notification.id,
            "type": notification.kind,
            "group_key": f"ungrouped-{notification.id}",
            "created_at": _iso(notification.created_at),
            "account": self._serialize_account(self._accounts[notification.from_account_id]),
            "status": self._serialize_status(status, viewer_id) if status is not None else None,
        }

    def _serialize_scheduled(self, scheduled: _Scheduled) -> JSONDict:
        """ScheduledStatus entity (docs: /entities/ScheduledStatus/)."""
        return {
            "id": scheduled.id,
            "scheduled_at": _iso(scheduled.scheduled_at),
            "params": scheduled.params,
            "media_attachments": [
                self._serialize_media(self._media[m]) for m in scheduled.media_ids if m in self._media
            ],
        }

    def _render_html(self, text: str) -> str:
        """Mastodon's TextFormatter in brief: paragraphs, ``<br />``, linkified URLs (``invisible``/
        ``ellipsis`` spans, docs: /api/guidelines/#links), local mentions as h-cards, hashtags."""
        if not text:
            return ""
        out: list[str] = []
        index = 0
        for entity in _extract_entities(text, hashtags=True):
            out.append(html.escape(text[index : entity.start], quote=False))
            original = text[entity.start : entity.end]
            if entity.kind == "url":
                scheme, _, rest = entity.value.partition("://")
                visible, invisible = rest[:30], rest[30:]
                out.append(
                    f'<a href="{html.escape(entity.value)}" target="_blank" '
                    'rel="nofollow noopener" translate="no">'
                    f'<span class="invisible">{html.escape(scheme)}://</span>'
                    f'<span class="{"ellipsis" if invisible else ""}">{html.escape(visible)}</span>'
                    f'<span class="invisible">{html.escape(invisible)}</span></a>'
                )
            elif entity.kind == "mention":
                username, _, domain = entity.value.partition("@")
                account = self._find_account(username) if domain in {"", self.domain} else None
                if account is None:
                    out.append(html.escape(original, quote=False))
                else:
                    out.append(
                        f'<span class="h-card" translate="no"><a href="{self.base_url}/@{account.username}" '
                        f'class="u-url mention">@<span>{html.escape(account.username)}</span></a></span>'
                    )
            else:
                out.append(
                    f'<a href="{self.base_url}/tags/{html.escape(entity.value.lower())}" '
                    'class="mention hashtag" '
                    f'rel="tag">#<span>{html.escape(entity.value)}</span></a>'
                )
            index = entity.end
        out.append(html.escape(text[index:], quote=False))
        rendered = "".join(out).replace("\r\n", "\n")
        paragraphs = [p for p in re.split(r"\n{2,}", rendered.strip("\n")) if p]
        return "".join("<p>" + p.replace("\n", "<br />") + "</p>" for p in paragraphs)


def _parse_focus(raw: str | None) -> tuple[float, float] | None:
    if not raw:
        return None
    try:
        x, y = (float(part) for part in raw.split(",", 1))
    except ValueError:
        return None
    return max(-1.0, min(1.0, x)), max(-1.0, min(1.0, y))
