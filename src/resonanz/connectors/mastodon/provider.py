"""The Mastodon connector (https://docs.joinmastodon.org/client/intro/).

Stateless apart from a small, lock-guarded memo of the last ``X-RateLimit-*`` headers per account, which
the engine may read (:meth:`MastodonConnector.last_rate_limit`) to slow down before Mastodon's
300 requests / 5 minutes per account budget runs out (https://docs.joinmastodon.org/api/rate-limits/).

Limits are never hard-coded: ``verify`` reads ``GET /api/v2/instance`` and caches
:func:`~.rules.instance_limits` in ``account.settings`` (``instance`` + ``instance_fetched_at``);
``count_text``/``validate`` use that cache and re-read it when it is missing or older than a day.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
from django.utils.translation import gettext

from resonanz.connectors.base import (
    RESHARE_REPOST,
    AccountInfo,
    AuthExpired,
    ChannelAccount,
    ClientRegistry,
    ConnectedAccount,
    ConnectionFailed,
    Connector,
    ConnectorError,
    ConnectStart,
    DirectConversation,
    DirectMessagePage,
    DraftMedia,
    DraftPart,
    DraftVariant,
    Engagement,
    FoundPost,
    MentionPage,
    OutcomeUnknown,
    PublishedRef,
    PushedActivity,
    Rejected,
    RemoteReply,
    Reshare,
    SearchPage,
    ServerError,
    TemporaryError,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.http import stream_server_sent_events
from resonanz.connectors.base.preview import Segment
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import MediaKind, MediaSpec

from . import oauth
from .client import MastodonClient, RateLimitState
from .preview import segments
from .rules import MENTION_RE, count_status, instance_limits
from .spec import SPEC

logger = logging.getLogger(__name__)

# https://docs.joinmastodon.org/methods/statuses/#form-data-parameters (visibility)
VISIBILITIES = frozenset(choice.value for choice in SPEC.visibility)
INSTANCE_MAX_AGE = timedelta(days=1)
# find_published: statuses created this long before the key was recorded still count (clock skew between
# us and the instance); and how far back we page through the account's statuses (40 per page, the API max:
# https://docs.joinmastodon.org/methods/accounts/#statuses).
FIND_CLOCK_MARGIN = timedelta(minutes=2)
FIND_PAGE_SIZE = 40
FIND_MAX_PAGES = 5
# Mentions: notifications per page (the documented maximum is 80) and pages per sync (the rest next run).
MENTION_PAGE_SIZE = 80
MENTION_PAGES = 5
# Direct conversations: per page (the documented maximum is 40) and pages per sync; the inbox files them
# under "conversation:<id>" (opaque to it), which ``reply`` recognises as its ``root``.
DIRECT_PAGE_SIZE = 40
DIRECT_PAGES = 5
DIRECT_PREFIX = "conversation:"
# Silence on the stream longer than this (no event, no heartbeat comment) counts as a broken connection:
# the streaming server sends heartbeats far more often, so a minute without one means it is gone.
STREAM_READ_TIMEOUT = 60.0


def _mention_item(notification: Mapping[str, Any], account: ChannelAccount) -> RemoteReply | None:
    """A ``mention``/``quote`` Notification (https://docs.joinmastodon.org/entities/Notification/) as the
    inbox files it, polled or streamed alike; None when it carries no status or is our own."""
    status = notification.get("status") or {}
    author = status.get("account") or notification.get("account") or {}
    if not status or str(author.get("id") or "") == account.remote_id:
        return None
    # A direct status naming us is also a mention notification; it belongs to its conversation
    # (``fetch_direct_messages``), not to a mention of its own.
    return _status_item(status, author, direct=status.get("visibility") == "direct")


def _status_item(status: dict[str, Any], author: dict[str, Any], *, direct: bool) -> RemoteReply:
    """A Status (https://docs.joinmastodon.org/entities/Status/) as the inbox files it."""
    return RemoteReply(
        remote_id=str(status["id"]),
        url=str(status.get("url") or status.get("uri") or ""),
        author_id=str(author.get("id") or ""),
        author_handle=str(author.get("acct") or author.get("username") or ""),
        author_name=str(author.get("display_name") or author.get("username") or ""),
        text=html_to_text(str(status.get("content") or "")),
        created_at=_parse_time(status.get("created_at")) or datetime.now(UTC),
        in_reply_to_remote_id=str(status.get("in_reply_to_id") or ""),
        direct=direct,
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class _HtmlText(HTMLParser):
    """Mastodon returns ``content`` as HTML (``<p>``, ``<br>``, links split into invisible/ellipsis
    spans that together hold the full URL: https://docs.joinmastodon.org/spec/microformats/ and
    https://docs.joinmastodon.org/entities/Status/#content). Turn it back into plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._paragraphs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p":
            if self._paragraphs:
                self.parts.append("\n\n")
            self._paragraphs += 1

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _HtmlText()
    parser.feed(content or "")
    parser.close()
    return html.unescape("".join(parser.parts)).strip()


_WS = re.compile(r"\s+")
# Markdown-rendering forks (glitch-soc, and mastodon-mock) turn *x*, **x**, `x`, ~~x~~ into tags; compare
# without those markers so a status still matches its source text.
_MARKUP = re.compile(r"[*`~]")


def normalise_text(text: str) -> str:
    """A comparison key for a status text: NFC, remote mentions shortened to ``@user`` (Mastodon renders
    ``@bob@example.social`` as ``@bob``), formatting markers dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = MENTION_RE.sub(lambda m: "@" + m.group("user"), text)
    text = _MARKUP.sub("", text)
    return _WS.sub(" ", text).strip()


def _digest(media: DraftMedia) -> str:
    return hashlib.sha256(media.data).hexdigest()


class MastodonConnector(Connector):
    network = "mastodon"
    spec = SPEC

    def __init__(
        self,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        media_poll_timeout: float = 60.0,
        media_poll_interval: float = 0.5,
    ) -> None:
        self.timeout = timeout
        self.transport = transport
        self.media_poll_timeout = media_poll_timeout
        self.media_poll_interval = media_poll_interval
        self._rate_limits: dict[tuple[str, str], RateLimitState] = {}
        self._lock = threading.Lock()

    # -- plumbing --------------------------------------------------------------------------------
    @staticmethod
    def _account_key(account: ChannelAccount) -> tuple[str, str]:
        return (account.base_url.rstrip("/"), account.remote_id or account.handle)

    def last_rate_limit(self, *, account: ChannelAccount) -> RateLimitState | None:
        """The last ``X-RateLimit-*`` values seen for this account (None = no call made yet)."""
        with self._lock:
            return self._rate_limits.get(self._account_key(account))

    @contextmanager
    def _session(self, account: ChannelAccount, *, authenticated: bool = True) -> Iterator[MastodonClient]:
        token = ""
        if authenticated:
            self._refresh_if_expired(account)
            token = str(account.credentials.get("access_token") or "")
            if not token:
                raise AuthExpired(
                    "mastodon: no access token stored",
                    network_message=gettext("This Mastodon channel has no login. Please reconnect it."),
                )
        client = MastodonClient(
            account.base_url, access_token=token, timeout=self.timeout, transport=self.transport
        )
        try:
            yield client
        finally:
            if client.rate_limit is not None and authenticated:
                with self._lock:
                    self._rate_limits[self._account_key(account)] = client.rate_limit
            client.close()

    def _refresh_if_expired(self, account: ChannelAccount) -> None:
        """Renew a token that is known to be expired before using it (saves a guaranteed 401)."""
        expires_at = account.credentials.get("expires_at")
        if not expires_at or not account.credentials.get("refresh_token"):
            return
        try:
            expired = float(expires_at) <= time.time() + 30
        except (TypeError, ValueError):
            return
        if expired:
            self.refresh_credentials(account=account)

    # -- account ---------------------------------------------------------------------------------
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        # https://docs.joinmastodon.org/methods/accounts/#verify_credentials
        with self._session(account) as client:
            me = client.get_json("/api/v1/accounts/verify_credentials")
            if not isinstance(me, dict) or not me.get("id"):
                raise Rejected("mastodon: verify_credentials returned no account")
            # Set before the session closes so the rate-limit memo is filed under this account.
            account.remote_id = str(me["id"])
            limits = self._fetch_limits(account, client)
        host = limits.get("domain") or urlsplit(account.base_url).hostname or ""
        acct = str(me.get("acct") or me.get("username") or "")
        # Local accounts have acct == username; the fediverse handle adds the instance's domain
        # (https://docs.joinmastodon.org/entities/Account/#acct).
        handle = acct if "@" in acct else f"{acct}@{host}"
        account.handle = handle
        return AccountInfo(
            remote_id=str(me["id"]),
            handle=handle,
            display_name=str(me.get("display_name") or me.get("username") or ""),
            avatar_url=str(me.get("avatar") or ""),
            profile_url=str(me.get("url") or ""),
        )

    def refresh_credentials(self, *, account: ChannelAccount) -> None:
        """Mastodon ≥ 4.3 may issue refresh tokens (https://docs.joinmastodon.org/methods/oauth/#token);
        older servers issue non-expiring tokens only, so a 401 there means the user revoked access."""
        creds = account.credentials
        refresh_token = creds.get("refresh_token")
        client_id = creds.get("client_id")
        client_secret = creds.get("client_secret")
        if not refresh_token or not client_id or not client_secret:
            raise AuthExpired(
                "mastodon: no refresh token",
                network_message=gettext(
                    "The Mastodon server no longer accepts this login and issued no refresh token. "
                    "Please reconnect the channel."
                ),
            )
        new = oauth.refresh(
            base_url=account.base_url,
            client_id=str(client_id),
            client_secret=str(client_secret),
            refresh_token=str(refresh_token),
            timeout=self.timeout,
        )
        if "expires_at" not in new:
            account.credentials.pop("expires_at", None)
        account.update_credentials(**new)

    # -- connecting (OAuth 2 + PKCE, our app registered once per instance) --------------------------
    def connect_begin(
        self, *, values: Mapping[str, str], redirect_uri: str, state: str, clients: ClientRegistry
    ) -> ConnectStart:
        """Register our app on the instance (once per instance and redirect URI) and return the
        authorization URL (PKCE S256)."""
        base_url = (values.get("instance_url") or "").strip().rstrip("/")
        if not base_url.startswith(("http://", "https://")):
            base_url = f"https://{base_url}"
        app = clients.get(base_url=base_url, redirect_uri=redirect_uri)
        if app is None:
            try:
                registered = oauth.register_app(
                    base_url=base_url, redirect_uri=redirect_uri, timeout=self.timeout
                )
            except TemporaryError:
                raise  # unreachable or failing, not refusing: the channels service says so to the user
            except ConnectorError as exc:
                message = gettext("The Mastodon server %(url)s refused the app registration: %(message)s") % {
                    "url": base_url,
                    "message": exc.network_message,
                }
                raise Rejected(message, network_message=message) from exc
            app = clients.save(base_url=base_url, redirect_uri=redirect_uri, credentials=registered)
        verifier, challenge = oauth.pkce_pair()
        return ConnectStart(
            authorize_url=oauth.authorization_url(
                base_url=base_url,
                client_id=str(app["client_id"]),
                redirect_uri=redirect_uri,
                state=state,
                code_challenge=challenge,
            ),
            base_url=base_url,
            state_data={"code_verifier": verifier, "redirect_uri": redirect_uri},
        )

    def connect_complete(
        self,
        *,
        base_url: str,
        state_data: Mapping[str, Any],
        params: Mapping[str, str],
        clients: ClientRegistry,
    ) -> ConnectedAccount:
        redirect_uri = str(state_data["redirect_uri"])
        app = clients.get(base_url=base_url, redirect_uri=redirect_uri)
        if app is None:
            raise Rejected("mastodon: the app registration for this server is gone; connect again")
        credentials = oauth.exchange_code(
            base_url=base_url,
            client_id=str(app["client_id"]),
            client_secret=str(app["client_secret"]),
            redirect_uri=redirect_uri,
            code=params.get("code", ""),
            code_verifier=str(state_data["code_verifier"]),
            timeout=self.timeout,
        )
        account = ChannelAccount(network=self.network, base_url=base_url, credentials=credentials)
        info = self.verify(account=account)
        # The channel keeps the app's credentials next to the tokens: refresh_credentials needs them.
        stored = {
            **account.credentials,
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
        return ConnectedAccount(
            base_url=base_url, info=info, credentials=stored, settings=dict(account.settings)
        )

    # -- limits ----------------------------------------------------------------------------------
    def _fetch_limits(self, account: ChannelAccount, client: MastodonClient) -> dict[str, Any]:
        # https://docs.joinmastodon.org/methods/instance/#v2 (4.0+); servers without v2 still have
        # v1 with the same configuration block (https://docs.joinmastodon.org/methods/instance/#v1).
        try:
            body = client.get_json("/api/v2/instance")
        except Rejected as exc:
            if exc.http_status not in (404, 410):
                raise
            body = client.get_json("/api/v1/instance")
        if not isinstance(body, dict):
            raise Rejected("mastodon: instance information is not an object")
        limits = instance_limits(body)
        account.update_settings(instance=limits, instance_fetched_at=datetime.now(UTC).isoformat())
        return limits

    def limits(self, *, account: ChannelAccount) -> dict[str, Any]:
        """Cached instance limits; fetched when missing or older than a day. A stale cache is used when
        the instance cannot be reached (better than guessing); no cache at all raises."""
        cached = account.settings.get("instance")
        fetched_at = _parse_time(account.settings.get("instance_fetched_at"))
        if isinstance(cached, dict) and fetched_at and datetime.now(UTC) - fetched_at < INSTANCE_MAX_AGE:
            return cached
        try:
            with self._session(account, authenticated=False) as client:
                return self._fetch_limits(account, client)
        except TemporaryError:
            if isinstance(cached, dict):
                logger.warning("mastodon: instance %s unreachable; using cached limits", account.base_url)
                return cached
            raise

    def media_rules(self, *, account: ChannelAccount) -> MediaSpec:
        """The spec's media rules with the limits the instance published (cached by ``verify``)."""
        cached = account.settings.get("instance")
        instance: dict[str, Any] = cached if isinstance(cached, dict) else {}
        if not instance:
            return self.spec.media
        supported = [str(m).lower() for m in instance.get("supported_mime_types") or []]
        max_items = int(instance.get("max_media_attachments") or self.spec.media.max_items)
        sizes = {
            MediaKind.IMAGE: instance.get("image_size_limit"),
            MediaKind.VIDEO: instance.get("video_size_limit"),
            MediaKind.AUDIO: instance.get("video_size_limit"),  # Mastodon applies the video limit
        }
        rules = []
        for rule in self.spec.media.rules:
            prefix = f"{rule.kind.value}/"
            types = tuple(m for m in supported if m.startswith(prefix)) if supported else rule.mime_types
            rules.append(
                replace(
                    rule,
                    mime_types=types,
                    max_bytes=int(sizes.get(rule.kind) or rule.max_bytes or 0) or None,
                    max_per_post=max_items if rule.kind == MediaKind.IMAGE else rule.max_per_post,
                )
            )
        return replace(self.spec.media, rules=tuple(rules), max_items=max_items)

    def preview_segments(self, *, text: str) -> list[Segment]:
        return segments(text)

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        limits = self.limits(account=account)
        count = count_status(
            text, content_warning=content_warning, chars_per_url=int(limits["characters_reserved_per_url"])
        )
        return TextCount(count=count, limit=int(limits["max_characters"]), unit="characters")

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        limits = self.limits(account=account)
        max_chars = int(limits["max_characters"])
        max_media = int(limits["max_media_attachments"])
        per_url = int(limits["characters_reserved_per_url"])
        mime_types = {str(m).lower() for m in limits["supported_mime_types"]}
        issues: list[ValidationIssue] = []

        if variant.visibility and variant.visibility not in VISIBILITIES:
            issues.append(
                ValidationIssue(
                    code="invalid_visibility",
                    message=gettext(
                        "Visibility %(visibility)s does not exist on Mastodon; use public, unlisted, "
                        "private or direct."
                    )
                    % {"visibility": variant.visibility},
                    field="visibility",
                )
            )
        if len(variant.parts) > self.max_thread_parts:
            issues.append(
                ValidationIssue(
                    code="too_many_parts",
                    message=gettext("The thread has %(count)s parts; at most %(limit)s are allowed.")
                    % {"count": len(variant.parts), "limit": self.max_thread_parts},
                    field="parts",
                    count=len(variant.parts),
                    limit=self.max_thread_parts,
                )
            )
        for index, part in enumerate(variant.parts):
            issues.extend(
                self._validate_part(
                    index,
                    part,
                    variant,
                    limits,
                    max_chars=max_chars,
                    max_media=max_media,
                    per_url=per_url,
                    mime_types=mime_types,
                )
            )
        return issues

    def _validate_part(
        self,
        index: int,
        part: DraftPart,
        variant: DraftVariant,
        limits: dict[str, Any],
        *,
        max_chars: int,
        max_media: int,
        per_url: int,
        mime_types: set[str],
    ) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        number = index + 1  # users count parts from 1
        count = count_status(part.text, content_warning=variant.content_warning, chars_per_url=per_url)
        if count > max_chars:
            issues.append(
                ValidationIssue(
                    code="too_many_characters",
                    message=gettext(
                        "Part %(part)s has %(count)s characters; this Mastodon server allows %(limit)s."
                    )
                    % {"part": number, "count": count, "limit": max_chars},
                    part_index=index,
                    count=count,
                    limit=max_chars,
                )
            )
        if not part.text.strip() and not part.media:
            # "Validation failed: Text can't be blank" (PostStatusService requires text or media).
            issues.append(
                ValidationIssue(
                    code="empty_part",
                    message=gettext("Part %(part)s has neither text nor media.") % {"part": number},
                    part_index=index,
                )
            )
        if len(part.media) > max_media:
            issues.append(
                ValidationIssue(
                    code="too_many_media",
                    message=gettext(
                        "Part %(part)s has %(count)s attachments; this Mastodon server allows %(limit)s."
                    )
                    % {"part": number, "count": len(part.media), "limit": max_media},
                    part_index=index,
                    field="media",
                    count=len(part.media),
                    limit=max_media,
                )
            )
        # PostStatusService#validate_media!: one video/audio file may not be combined with other media.
        if len(part.media) > 1 and any(m.mime_type.startswith(("video/", "audio/")) for m in part.media):
            issues.append(
                ValidationIssue(
                    code="mixed_media",
                    message=gettext(
                        "Part %(part)s combines a video or audio file with other attachments; Mastodon "
                        "allows a video or audio file only on its own."
                    )
                    % {"part": number},
                    part_index=index,
                    field="media",
                )
            )
        for media in part.media:
            issues.extend(self._validate_media(index, media, limits, mime_types))
        return issues

    def _validate_media(
        self, index: int, media: DraftMedia, limits: dict[str, Any], mime_types: set[str]
    ) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        number = index + 1
        name = media.filename or media.mime_type or "?"
        mime = (media.mime_type or "").lower()
        if mime not in mime_types:
            issues.append(
                ValidationIssue(
                    code="unsupported_media_type",
                    message=gettext(
                        "Part %(part)s: this Mastodon server does not accept %(type)s files (%(name)s)."
                    )
                    % {"part": number, "type": mime or "?", "name": name},
                    part_index=index,
                    field="media",
                )
            )
        # https://docs.joinmastodon.org/entities/Instance/#image_size_limit and #video_size_limit
        # (Mastodon applies the video limit to audio too).
        if mime.startswith("image/"):
            size_limit, code = int(limits["image_size_limit"]), "image_too_large"
        else:
            size_limit, code = int(limits["video_size_limit"]), "video_too_large"
        if len(media.data) > size_limit:
            issues.append(
                ValidationIssue(
                    code=code,
                    message=gettext(
                        "Part %(part)s: %(name)s has %(count)s bytes; this Mastodon server allows %(limit)s."
                    )
                    % {"part": number, "name": name, "count": len(media.data), "limit": size_limit},
                    part_index=index,
                    field="media",
                    count=len(media.data),
                    limit=size_limit,
                )
            )
        description_limit = int(limits.get("description_limit") or 1500)
        alt_length = len(media.alt_text)
        if alt_length > description_limit:
            issues.append(
                ValidationIssue(
                    code="alt_text_too_long",
                    message=gettext(
                        "Part %(part)s: the alt text of %(name)s has %(count)s characters; this Mastodon "
                        "server allows %(limit)s."
                    )
                    % {"part": number, "name": name, "count": alt_length, "limit": description_limit},
                    part_index=index,
                    field="alt_text",
                    count=alt_length,
                    limit=description_limit,
                )
            )
        return issues

    # -- media -----------------------------------------------------------------------------------
    def _upload(self, client: MastodonClient, media: DraftMedia) -> str:
        """Upload one attachment and wait until the server has processed it.

        ``POST /api/v2/media`` answers 200 when processed synchronously (small images) or 202 with
        ``url: null`` while processing continues; ``GET /api/v1/media/:id`` answers 206 until done
        (https://docs.joinmastodon.org/methods/media/#v2, #get). A status that references unprocessed
        media is refused with 422, so we poll, bounded by ``media_poll_timeout``.
        """
        filename = media.filename or "upload"
        data = {"description": media.alt_text} if media.alt_text else {}
        files = {"file": (filename, media.data, media.mime_type or "application/octet-stream")}
        try:
            try:
                response = client.request("POST", "/api/v2/media", data=data, files=files)
            except Rejected as exc:
                if exc.http_status != 404:
                    raise
                # Servers older than 3.1.3 only have the synchronous v1 endpoint.
                response = client.request("POST", "/api/v1/media", data=data, files=files)
        except OutcomeUnknown as exc:
            # An orphaned upload is harmless (Mastodon deletes unattached media after a day) and no
            # status exists yet, so this is a plain retryable failure, not an unknown publish outcome.
            raise ConnectionFailed(f"mastodon: media upload got no answer: {exc}") from exc
        body = response.json()
        media_id = str(body["id"])
        if response.status_code == 200 and body.get("url"):
            return media_id
        deadline = time.monotonic() + self.media_poll_timeout
        interval = self.media_poll_interval
        while time.monotonic() < deadline:
            time.sleep(interval)
            interval = min(interval * 2, 5.0)
            polled = client.request("GET", f"/api/v1/media/{media_id}")
            if polled.status_code == 200 and polled.json().get("url"):
                return media_id
        raise TemporaryError(
            f"mastodon: media {media_id} still processing after {self.media_poll_timeout:.0f}s",
            network_message=gettext("The Mastodon server is still processing the media; will retry."),
        )

    # -- publishing ------------------------------------------------------------------------------
    @staticmethod
    def _ref(status: dict[str, Any], media: list[dict[str, str]] | None = None) -> PublishedRef:
        extra: dict[str, Any] = {}
        if media is not None:
            extra["media"] = media
        return PublishedRef(
            remote_id=str(status["id"]), url=str(status.get("url") or status.get("uri") or ""), extra=extra
        )

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
        """``POST /api/v1/statuses`` with ``Idempotency-Key``: Mastodon remembers the key per account for
        one hour and answers a repeated create with the original status instead of a duplicate
        (https://docs.joinmastodon.org/methods/statuses/#create, header ``Idempotency-Key``)."""
        part = variant.parts[part_index]
        with self._session(account) as client:
            media = [{"id": self._upload(client, m), "sha256": _digest(m)} for m in part.media]
            fields: list[tuple[str, str]] = [("status", part.text)]
            fields += [("media_ids[]", m["id"]) for m in media]
            if variant.content_warning:
                fields.append(("spoiler_text", variant.content_warning))
            if variant.visibility:
                fields.append(("visibility", variant.visibility))
            if variant.language:
                fields.append(("language", variant.language))
            if reply_to is not None:
                fields.append(("in_reply_to_id", reply_to.remote_id))
            status = client.post_json(
                "/api/v1/statuses",
                content=_form(fields),
                headers={**_FORM_HEADERS, "Idempotency-Key": key.key},
            )
        if not isinstance(status, dict) or "id" not in status:
            raise Rejected("mastodon: status create returned no status")
        if status.get("scheduled_at") and "params" in status:
            # A ScheduledStatus means the server treated the call as scheduling; we never send
            # scheduled_at, so this would be a server bug worth surfacing rather than a silent success.
            raise Rejected("mastodon: the server scheduled the status instead of publishing it")
        return self._ref(status, media)

    def reply(
        self,
        *,
        account: ChannelAccount,
        text: str,
        key: PublishKey,
        reply_to: PublishedRef,
        root: PublishedRef | None = None,
    ) -> PublishedRef:
        """An answer keeps the visibility of what it answers when that is narrower than public, and names
        its author, as Mastodon's own client does (https://docs.joinmastodon.org/entities/Status/#visibility:
        a ``direct`` status reaches only the accounts it mentions). Otherwise an answer to a direct
        message would be published for everyone. A parent we cannot read is answered publicly, as before.
        Direct answers are not listed on the account's timeline, so after an unknown outcome
        ``find_reply`` cannot see them; the retry with the same Idempotency-Key is what stays exactly-once."""
        visibility = "public"
        with self._session(account) as client:
            try:
                parent = client.get_json(f"/api/v1/statuses/{reply_to.remote_id}") or {}
            except Rejected:
                parent = {}
        if isinstance(parent, dict) and parent.get("visibility") in {"unlisted", "private", "direct"}:
            visibility = str(parent["visibility"])
            named = [str((parent.get("account") or {}).get("acct") or "")]
            if visibility == "direct":
                # A direct status reaches exactly the accounts it mentions: the answer names the author
                # and everyone else the message named (but us), so it goes to the same participants.
                named += [
                    str(m.get("acct") or "")
                    for m in parent.get("mentions") or []
                    if str(m.get("id") or "") != account.remote_id
                ]
            if visibility != "unlisted":
                missing = [
                    f"@{acct}"
                    for acct in dict.fromkeys(a for a in named if a)
                    if f"@{acct}".casefold() not in text.casefold()
                ]
                if missing:
                    text = f"{' '.join(missing)} {text}"
        ref = self.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text=text)], visibility=visibility),
            part_index=0,
            key=key,
            reply_to=reply_to,
            root=root,
        )
        if root is not None and root.remote_id.startswith(DIRECT_PREFIX):
            self._conversation_read(account, root.remote_id.removeprefix(DIRECT_PREFIX))
        return ref

    def _conversation_read(self, account: ChannelAccount, conversation_id: str) -> None:
        """``POST /api/v1/conversations/:id/read`` (https://docs.joinmastodon.org/methods/conversations/#read):
        answered from the inbox, the conversation is no longer unread in the account's own apps. Best
        effort: the answer is already out, and a failure here must not make the inbox send it again."""
        try:
            with self._session(account) as client:
                client.request("POST", f"/api/v1/conversations/{quote(conversation_id, safe='')}/read")
        except ConnectorError as exc:
            logger.info("mastodon: marking conversation %s read failed: %s", conversation_id, exc)

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        """Reconcile after an unknown outcome by looking at the account's recent statuses.

        Approach: page through ``GET /api/v1/accounts/:id/statuses`` (newest first, reblogs excluded,
        at most ``FIND_MAX_PAGES`` pages of 40) down to ``key.created_at`` minus a clock-skew margin, and pick
        the status whose text (``content`` HTML turned back into text, normalised) and content warning
        equal this part's, with the same number of attachments, and whose reply target fits: part 0 is
        not a reply; part *n* replies to one of our own statuses whose text is part *n-1*'s (the contract
        does not pass ``reply_to`` here, so the parent is checked by text).

        Limits: Mastodon exposes no lookup by Idempotency-Key. Statuses with ``direct`` visibility are not
        listed on the account timeline, an account that posted more than 200 statuses since the key was
        recorded pushes the status out of reach, a status edited meanwhile no longer matches, and an
        identical status posted by another app in the window would be taken as ours. None of this risks a
        duplicate inside the first hour: a re-POST with the same Idempotency-Key returns the original
        status (https://docs.joinmastodon.org/methods/statuses/#create).
        """
        part = variant.parts[part_index]
        want_text = normalise_text(part.text)
        want_cw = normalise_text(variant.content_warning)
        parent_text = normalise_text(variant.parts[part_index - 1].text) if part_index > 0 else None

        def matches(
            client: MastodonClient, status: dict[str, Any], account_id: str, seen: dict[str, dict[str, Any]]
        ) -> bool:
            return (
                normalise_text(html_to_text(str(status.get("content") or ""))) == want_text
                and normalise_text(str(status.get("spoiler_text") or "")) == want_cw
                and len(status.get("media_attachments") or []) == len(part.media)
                and self._reply_matches(client, status, account_id, parent_text, seen)
            )

        return self._scan_own_statuses(account, key, matches)

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """Reconcile an answer from the inbox: the same scan of our recent statuses as ``find_published``,
        for a status with this text whose ``in_reply_to_id`` is the status answered
        (https://docs.joinmastodon.org/entities/Status/#in_reply_to_id). The same limits apply."""
        want_text = normalise_text(text)

        def matches(
            client: MastodonClient, status: dict[str, Any], account_id: str, seen: dict[str, dict[str, Any]]
        ) -> bool:
            return str(status.get("in_reply_to_id") or "") == reply_to.remote_id and (
                normalise_text(html_to_text(str(status.get("content") or ""))) == want_text
            )

        return self._scan_own_statuses(account, key, matches)

    def _scan_own_statuses(
        self,
        account: ChannelAccount,
        key: PublishKey,
        matches: Callable[[MastodonClient, dict[str, Any], str, dict[str, dict[str, Any]]], bool],
    ) -> PublishedRef | None:
        cutoff = key.created_at - FIND_CLOCK_MARGIN
        with self._session(account) as client:
            account_id = account.remote_id or self._own_id(client)
            seen: dict[str, dict[str, Any]] = {}
            max_id: str | None = None
            for _ in range(FIND_MAX_PAGES):
                params: dict[str, str | int] = {"limit": FIND_PAGE_SIZE, "exclude_reblogs": "true"}
                if max_id:
                    params["max_id"] = max_id
                page = client.get_json(f"/api/v1/accounts/{account_id}/statuses", params=params)
                if not isinstance(page, list) or not page:
                    break
                reached_cutoff = False
                for status in page:
                    seen[str(status["id"])] = status
                    created = _parse_time(status.get("created_at"))
                    if created is not None and created < cutoff:
                        reached_cutoff = True
                        continue
                    if status.get("reblog"):
                        continue
                    if matches(client, status, account_id, seen):
                        return self._ref(status)
                if reached_cutoff:
                    break
                max_id = str(page[-1]["id"])
        return None

    @staticmethod
    def _own_id(client: MastodonClient) -> str:
        me = client.get_json("/api/v1/accounts/verify_credentials")
        return str(me["id"])

    @staticmethod
    def _reply_matches(
        client: MastodonClient,
        status: dict[str, Any],
        account_id: str,
        parent_text: str | None,
        seen: dict[str, dict[str, Any]],
    ) -> bool:
        parent_id = status.get("in_reply_to_id")
        if parent_text is None:
            return parent_id is None
        if parent_id is None or str(status.get("in_reply_to_account_id") or "") != str(account_id):
            return False
        parent = seen.get(str(parent_id))
        if parent is None:
            try:
                parent = client.get_json(f"/api/v1/statuses/{parent_id}")
            except Rejected:
                return False
        return normalise_text(html_to_text(str(parent.get("content") or ""))) == parent_text

    def delete(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """https://docs.joinmastodon.org/methods/statuses/#delete. A 404 means it is already gone."""
        with self._session(account) as client:
            try:
                client.request("DELETE", f"/api/v1/statuses/{ref.remote_id}")
            except Rejected as exc:
                if exc.http_status != 404:
                    raise

    def like(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """https://docs.joinmastodon.org/methods/statuses/#favourite: idempotent (a favourited status stays
        favourited once)."""
        with self._session(account) as client:
            client.request("POST", f"/api/v1/statuses/{ref.remote_id}/favourite")

    def delete_reply(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """Our answer is a status of ours: the same call as deleting a post (a 404 means it is gone)."""
        self.delete(account=account, ref=ref)

    def edit(
        self, *, account: ChannelAccount, ref: PublishedRef, variant: DraftVariant, part_index: int
    ) -> PublishedRef:
        """``PUT /api/v1/statuses/:id`` (https://docs.joinmastodon.org/methods/statuses/#edit).

        The edit sends the complete new state: text, content warning, language, the attachment ids to keep
        (``media_ids``, empty = remove all) and their alt texts (``media_attributes``). An attachment
        is kept when its bytes equal the one recorded at publish time (``ref.extra["media"]``: id + SHA-256);
        anything else is uploaded anew.
        """
        part = variant.parts[part_index]
        recorded = ref.extra.get("media")
        previous: list[Any] = recorded if isinstance(recorded, list) else []
        with self._session(account) as client:
            media: list[dict[str, str]] = []
            attributes: list[dict[str, str]] = []
            for i, item in enumerate(part.media):
                digest = _digest(item)
                old = previous[i] if i < len(previous) else None
                if isinstance(old, dict) and old.get("sha256") == digest and old.get("id"):
                    media_id = str(old["id"])
                    attributes.append({"id": media_id, "description": item.alt_text})
                else:
                    media_id = self._upload(client, item)
                media.append({"id": media_id, "sha256": digest})
            # JSON rather than form data: "query strings, form data, and JSON submitted via POST body are
            # equally understood" (https://docs.joinmastodon.org/client/intro/#parameters), and only JSON
            # can say "no attachments" (an empty media_ids array) and keep each media_attributes
            # {id, description} pair together.
            body: dict[str, Any] = {
                "status": part.text,
                "spoiler_text": variant.content_warning,
                "media_ids": [m["id"] for m in media],
            }
            if attributes:
                body["media_attributes"] = attributes
            if variant.language:
                body["language"] = variant.language
            status = client.request("PUT", f"/api/v1/statuses/{ref.remote_id}", json=body).json()
        return self._ref(status, media)

    # -- engagement ------------------------------------------------------------------------------
    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        """Counts from the Status entity (https://docs.joinmastodon.org/entities/Status/#favourites_count);
        Mastodon has no impressions. ``quotes_count`` exists only on servers with quote posts (4.5+).
        Replies come from ``GET /api/v1/statuses/:id/context`` (direct replies only; our own replies,
        i.e. the next parts of our thread, are not engagement and are left out of ``reply_items``)."""
        with self._session(account) as client:
            status = client.get_json(f"/api/v1/statuses/{ref.remote_id}")
            context = client.get_json(f"/api/v1/statuses/{ref.remote_id}/context")
        replies: list[RemoteReply] = []
        for item in (context or {}).get("descendants") or []:
            if str(item.get("in_reply_to_id") or "") != str(ref.remote_id):
                continue
            author = item.get("account") or {}
            if account.remote_id and str(author.get("id") or "") == account.remote_id:
                continue
            replies.append(
                RemoteReply(
                    remote_id=str(item["id"]),
                    url=str(item.get("url") or item.get("uri") or ""),
                    author_id=str(author.get("id") or ""),
                    author_handle=str(author.get("acct") or author.get("username") or ""),
                    author_name=str(author.get("display_name") or author.get("username") or ""),
                    text=html_to_text(str(item.get("content") or "")),
                    created_at=_parse_time(item.get("created_at")) or datetime.now(UTC),
                    in_reply_to_remote_id=str(ref.remote_id),
                )
            )
        quotes = status.get("quotes_count")
        return Engagement(
            likes=int(status.get("favourites_count") or 0),
            reposts=int(status.get("reblogs_count") or 0),
            replies=int(status.get("replies_count") or 0),
            quotes=int(quotes) if isinstance(quotes, int) else None,
            impressions=None,
            reply_items=replies,
        )

    def fetch_followers(self, *, account: ChannelAccount) -> int | None:
        """``followers_count`` of the Account entity (https://docs.joinmastodon.org/entities/Account/#followers_count)
        from ``verify_credentials``."""
        with self._session(account) as client:
            me = client.get_json("/api/v1/accounts/verify_credentials")
        count = me.get("followers_count") if isinstance(me, dict) else None
        return int(count) if isinstance(count, int) else None

    def fetch_mentions(self, *, account: ChannelAccount, cursor: str | None) -> MentionPage:
        """Mentions and quotes of the account from ``GET /api/v1/notifications`` with ``types[]=mention``
        and ``types[]=quote`` (quote notifications exist from Mastodon 4.5; older servers ignore the
        unknown type), https://docs.joinmastodon.org/methods/notifications/#get. The cursor is the
        newest notification id: ``min_id`` returns the page right after it, so paging forward from it
        leaves no gap however many arrived (``since_id`` would return only the newest page)."""
        items: list[RemoteReply] = []
        newest = cursor
        with self._session(account) as client:
            for _page in range(MENTION_PAGES):
                params: list[tuple[str, str]] = [
                    ("types[]", "mention"),
                    ("types[]", "quote"),
                    ("limit", str(MENTION_PAGE_SIZE)),
                ]
                if newest:
                    params.append(("min_id", newest))
                page = client.get_json("/api/v1/notifications", params=params) or []
                if not page:
                    break
                for notification in sorted(page, key=lambda n: int(str(n.get("id") or 0))):
                    newest = str(notification["id"])
                    item = _mention_item(notification, account)
                    if item is not None:
                        items.append(item)
                if not cursor or len(page) < MENTION_PAGE_SIZE:
                    # The first run takes the newest page only: the inbox starts now, not with the past.
                    break
        return MentionPage(items=items, cursor=newest)

    def fetch_direct_messages(self, *, account: ChannelAccount, cursor: str | None) -> DirectMessagePage:
        """Direct conversations from ``GET /api/v1/conversations`` (https://docs.joinmastodon.org/methods/conversations/#get,
        entity https://docs.joinmastodon.org/entities/Conversation/). The list is ordered and paged by each
        conversation's last status id, so the cursor is the newest last status seen and the ``Link``
        header's ``prev`` (``min_id``) gives the page of conversations with newer activity: a conversation
        someone wrote in again comes back, with its ``last_status``. Statuses written in between are the
        last status's ancestors (``GET /api/v1/statuses/:id/context``); only direct ones are taken (a
        direct answer to a public post keeps the public post out of the private conversation)."""
        conversations: list[DirectConversation] = []
        newest = cursor
        with self._session(account) as client:
            own_id = account.remote_id or self._own_id(client)
            for _page in range(DIRECT_PAGES):
                params: dict[str, str | int] = {"limit": DIRECT_PAGE_SIZE}
                if newest:
                    params["min_id"] = newest
                response = client.request("GET", "/api/v1/conversations", params=params)
                page = response.json() or []
                if not page:
                    break
                for entry in page:
                    last = entry.get("last_status") or {}
                    if not last:
                        continue  # its last status was deleted: nothing to read
                    statuses = [last]
                    if last.get("in_reply_to_id"):
                        context = client.get_json(f"/api/v1/statuses/{last['id']}/context") or {}
                        statuses = [*(context.get("ancestors") or []), last]
                    messages = [
                        self._direct_item(status)
                        for status in statuses
                        if status.get("visibility") == "direct"
                        and str((status.get("account") or {}).get("id") or "") != own_id
                    ]
                    conversations.append(
                        DirectConversation(
                            remote_id=f"{DIRECT_PREFIX}{entry['id']}",
                            messages=messages,
                            unread=bool(entry.get("unread")),
                        )
                    )
                    if not newest or int(str(last["id"])) > int(newest):
                        newest = str(last["id"])
                prev = response.links.get("prev", {}).get("url")
                min_id = dict(parse_qsl(urlsplit(prev).query)).get("min_id") if prev else None
                if min_id and (not newest or int(min_id) > int(newest)):
                    newest = min_id
                if not cursor or len(page) < DIRECT_PAGE_SIZE:
                    # The first run takes the newest page only, as for mentions: the inbox starts now.
                    break
        conversations.reverse()  # oldest activity first, like the mentions
        return DirectMessagePage(conversations=conversations, cursor=newest)

    def _direct_item(self, status: dict[str, Any]) -> RemoteReply:
        return _status_item(status, status.get("account") or {}, direct=True)

    # -- streaming -------------------------------------------------------------------------------
    def _streaming_base(self, client: MastodonClient, account: ChannelAccount) -> str:
        """The streaming server may live on another host: ``configuration.urls.streaming`` of
        ``GET /api/v2/instance`` names it as a WebSocket URL (https://docs.joinmastodon.org/methods/streaming/#hostname-discovery,
        https://docs.joinmastodon.org/entities/Instance/#streaming); the same host serves the HTTP
        (SSE) form, so ``wss://`` becomes ``https://``. Without it (v1-only servers): the instance."""
        try:
            body = client.get_json("/api/v2/instance")
        except Rejected:
            body = None
        url = ""
        if isinstance(body, dict):
            url = str(((body.get("configuration") or {}).get("urls") or {}).get("streaming") or "")
        if url.startswith(("ws://", "wss://")):
            return "http" + url[2:].rstrip("/")
        return url.rstrip("/") if url.startswith(("http://", "https://")) else account.base_url.rstrip("/")

    def stream_open(self, *, account: ChannelAccount, stop: threading.Event) -> Iterator[PushedActivity]:
        """The account's notifications as they happen, from ``GET /api/v1/streaming/user/notification``
        (Server-Sent Events: ``event: notification`` with a Notification entity as ``data``, heartbeat
        comments ``:thump``; https://docs.joinmastodon.org/methods/streaming/#notification and #http),
        after checking ``GET /api/v1/streaming/health`` ("OK", https://docs.joinmastodon.org/methods/streaming/#health).

        A mention (or quote) is filed as the poll files it (``_mention_item``); one that answers a
        status also names that status in ``replied_posts`` (if it is one of our posts, its reply sync
        files the reply under it). A direct status asks for a poll (``resync``): the stream's
        notification does not say which conversation it belongs to, ``GET /api/v1/conversations`` does.
        ``notifications_merged`` (accepted notification requests) asks for a poll too; the rest is
        ignored."""
        with self._session(account) as client:
            base = self._streaming_base(client, account)
            token = str(account.credentials.get("access_token") or "")
        stream = MastodonClient(base, access_token=token, timeout=self.timeout, transport=self.transport)
        try:
            health = stream.request("GET", "/api/v1/streaming/health")
            if health.text.strip() != "OK":
                raise ServerError(f"mastodon: the streaming server is not healthy: {health.text[:100]!r}")
            events = stream_server_sent_events(
                stream, "/api/v1/streaming/user/notification", stop=stop, read_timeout=STREAM_READ_TIMEOUT
            )
            for event in events:
                if event is None:  # the stream is open: nothing pushed yet, but the caller may poll now
                    yield PushedActivity(account_remote_id=account.remote_id)
                    continue
                activity = self._pushed(event.event, event.data, account)
                if activity is not None:
                    yield activity
        finally:
            stream.close()

    @staticmethod
    def _pushed(kind: str, data: str, account: ChannelAccount) -> PushedActivity | None:
        if kind == "notifications_merged":
            return PushedActivity(account_remote_id=account.remote_id, resync=True)
        if kind != "notification":
            return None
        try:
            notification = json.loads(data)
        except ValueError:
            logger.info("mastodon stream: a notification that is no JSON: %.100r", data)
            return None
        if not isinstance(notification, dict) or notification.get("type") not in {"mention", "quote"}:
            return None
        item = _mention_item(notification, account)
        if item is None:
            return None
        if item.direct:
            return PushedActivity(account_remote_id=account.remote_id, resync=True)
        replied = (item.in_reply_to_remote_id,) if item.in_reply_to_remote_id else ()
        return PushedActivity(account_remote_id=account.remote_id, mentions=(item,), replied_posts=replied)

    def search_posts(self, *, account: ChannelAccount, query: str, cursor: str) -> SearchPage:
        """Listening. A ``#tag`` reads the hashtag timeline (``GET /api/v1/timelines/tag/:hashtag``,
        https://docs.joinmastodon.org/methods/timelines/#tag: every public post of the tag the server
        knows); other words the status search (``GET /api/v2/search?type=statuses``,
        https://docs.joinmastodon.org/methods/search/#v2, which needs the server's full-text search).
        The cursor is the newest status id seen: ``min_id`` returns the page right after it."""
        query = query.strip()
        params: dict[str, str | int] = {"limit": 40}
        if cursor:
            params["min_id"] = cursor
        with self._session(account) as client:
            if query.startswith("#"):
                tag = query.lstrip("#")
                items = client.get_json(f"/api/v1/timelines/tag/{quote(tag, safe='')}", params=params) or []
            else:
                params.update({"q": query, "type": "statuses", "resolve": "false"})
                items = (client.get_json("/api/v2/search", params=params) or {}).get("statuses") or []
        posts = []
        newest = int(cursor) if cursor.isdigit() else 0
        for item in items:
            author = item.get("account") or {}
            status_id = str(item.get("id") or "")
            if status_id.isdigit():
                newest = max(newest, int(status_id))
            posts.append(
                FoundPost(
                    remote_id=status_id,
                    url=str(item.get("url") or item.get("uri") or ""),
                    author_handle=str(author.get("acct") or author.get("username") or ""),
                    author_name=str(author.get("display_name") or ""),
                    text=html_to_text(str(item.get("content") or "")),
                    created_at=_parse_time(item.get("created_at")) or datetime.now(UTC),
                )
            )
        return SearchPage(posts=posts, cursor=str(newest) if newest else cursor)

    def fetch_reshares(self, *, account: ChannelAccount, remote_id: str) -> list[Reshare]:
        """Boosts from ``GET /api/v1/statuses/:id/reblogged_by`` (Account entities with
        ``followers_count``, newest first, no boost times: the caller dates them;
        https://docs.joinmastodon.org/methods/statuses/#reblogged_by), one page of 80. Quotes are not
        read: Mastodon's quote posts (4.5) list them only to the quoted author."""
        with self._session(account) as client:
            accounts = (
                client.get_json(
                    f"/api/v1/statuses/{quote(remote_id, safe='')}/reblogged_by", params={"limit": 80}
                )
                or []
            )
        out = []
        for item in accounts:
            if not isinstance(item, dict):
                continue
            count = item.get("followers_count")
            out.append(
                Reshare(
                    remote_id=f"repost:{remote_id}:{item.get('id') or ''}",
                    kind=RESHARE_REPOST,
                    subject_remote_id=remote_id,
                    author_handle=str(item.get("acct") or item.get("username") or ""),
                    followers=count if isinstance(count, int) else None,
                    url=str(item.get("url") or ""),
                )
            )
        return out


_FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


def _form(fields: list[tuple[str, str]]) -> bytes:
    """Form-encode ``fields`` in the documented Rails bracket notation (``media_ids[]=1&media_ids[]=2``,
    https://docs.joinmastodon.org/client/intro/#parameters), keeping their order."""
    return urlencode(fields).encode("ascii")


__all__ = ["MastodonConnector", "html_to_text", "normalise_text"]
