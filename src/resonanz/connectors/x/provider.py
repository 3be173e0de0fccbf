"""The X connector (API v2).

Publishing exactly once without an idempotency key: X has none (``POST /2/tweets`` takes no such header,
https://docs.x.com/x-api/posts/create-post). Two things stand in for it:

* a record of the keys this account published (``account.settings["published_keys"]``: key -> post id,
  the last ``KEY_RECORD_SIZE``), consulted before every create, so a retry with the same key returns the
  first post;
* after an unknown outcome the engine calls :meth:`XConnector.find_published`, which reads the account's
  own recent posts (``GET /2/users/:id/tweets`` with ``start_time`` a little before the key was recorded)
  and matches the text (URLs compared as X's t.co links, entities unescaped), the reply target and the
  number of attachments. X's own refusal of duplicate content (403) is a last safety net: the connector
  then reconciles the same way and returns the post it finds.

Tokens: the access token lives two hours; it is refreshed before it expires (``REFRESH_MARGIN``), and the
refresh token is never replaced by an empty one (``oauth.credentials_from``).
"""

from __future__ import annotations

import base64
import html
import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext, ngettext

from resonanz.connectors.base import (
    AccountInfo,
    AuthExpired,
    ChannelAccount,
    ClientRegistry,
    ConnectedAccount,
    ConnectionFailed,
    Connector,
    ConnectStart,
    DraftMedia,
    DraftPart,
    DraftVariant,
    Engagement,
    MentionPage,
    OutcomeUnknown,
    PublishedRef,
    Rejected,
    RemoteReply,
    TemporaryError,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.preview import Segment
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import MediaKind, MediaSpec, TextUnit

from . import oauth
from .client import DuplicateContent, XClient, XRateLimit
from .preview import segments
from .spec import ALT_TEXT_MAX, SPEC
from .text import LONG_POST_LIMIT, STANDARD_LIMIT, url_spans, weighted_length

logger = logging.getLogger(__name__)

# Refresh this long before the access token's expiry (two hours), so no call meets a 401 on the way.
REFRESH_MARGIN = 300
KEY_RECORD_SIZE = 200
FIND_CLOCK_MARGIN = timedelta(minutes=2)
# GET /2/users/:id/tweets: max_results 5-100 (https://docs.x.com/x-api/users/get-posts).
FIND_PAGE_SIZE = 100
FIND_MAX_PAGES = 3
# Non-public and organic metrics exist only for posts of the last 30 days
# (https://docs.x.com/x-api/fundamentals/metrics).
PRIVATE_METRICS_WINDOW = timedelta(days=30)
# Chunked upload segments (https://docs.x.com/x-api/media/quickstart/media-upload-chunked): at most 5 MB.
CHUNK_SIZE = 4 * 1024 * 1024
SIMPLE_UPLOAD_CATEGORY = "tweet_image"
# ``subscription_type`` of the user (https://docs.x.com/x-api/fundamentals/data-dictionary, User): the
# X Premium plans include longer posts (https://help.x.com/en/using-x/x-premium).
LONG_POST_SUBSCRIPTIONS = frozenset({"Basic", "Premium", "PremiumPlus"})

_URL_PLACEHOLDER = "\x00url\x00"
_WS = re.compile(r"\s+")
# The hosts of X's post URLs: https://x.com/<handle>/status/<id> (and the older twitter.com forms).
QUOTE_HOSTS = frozenset({"x.com", "twitter.com", "mobile.twitter.com", "mobile.x.com"})
_STATUS_PATH = re.compile(r"^/(?:[A-Za-z0-9_]{1,15}|i/web|i)/status(?:es)?/(\d{1,20})/?$")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_text(text: str) -> str:
    """A comparison key: X answers with every URL replaced by a t.co link and ``&``, ``<``, ``>`` as HTML
    entities (https://docs.x.com/x-api/fundamentals/data-dictionary, Post ``text``)."""
    text = unicodedata.normalize("NFC", html.unescape(text))
    pieces: list[str] = []
    position = 0
    for start, end in url_spans(text):
        pieces += [text[position:start], _URL_PLACEHOLDER]
        position = end
    pieces.append(text[position:])
    return _WS.sub(" ", "".join(pieces)).strip()


def _media_kind(mime_type: str) -> MediaKind | None:
    rule = SPEC.media.rule_for_mime(mime_type or "")
    return rule.kind if rule else None


def _cap(value: str) -> int | None:
    """The connect form's optional daily cap; anything but a positive whole number is no cap."""
    value = (value or "").strip().replace(".", "").replace(" ", "")
    return int(value) if value.isdigit() and int(value) > 0 else None


# Mentions: pages of 100 (the documented maximum) per sync; the rest arrives with the next sync.
MENTION_PAGES = 5


class XConnector(Connector):
    network = "x"
    spec = SPEC

    def __init__(
        self,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        media_poll_timeout: float = 120.0,
    ) -> None:
        self.timeout = timeout
        self.transport = transport
        self.media_poll_timeout = media_poll_timeout

    # -- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _session(self, account: ChannelAccount) -> Iterator[XClient]:
        self._refresh_if_due(account)
        token = str(account.credentials.get("access_token") or "")
        if not token:
            raise AuthExpired(
                "x: no access token stored",
                network_message=gettext("This X channel has no login. Please reconnect it."),
            )
        client = XClient(account.base_url, access_token=token, timeout=self.timeout, transport=self.transport)
        try:
            yield client
        finally:
            if client.rate_limit is not None:
                self._remember_day_budget(account, client.rate_limit)
            client.close()

    def _refresh_if_due(self, account: ChannelAccount) -> None:
        """Proactive refresh: X's access tokens live two hours."""
        expires_at = account.credentials.get("expires_at")
        if not expires_at or not account.credentials.get("refresh_token"):
            return
        try:
            due = float(expires_at) <= time.time() + REFRESH_MARGIN
        except (TypeError, ValueError):
            return
        if due:
            self.refresh_credentials(account=account)

    def refresh_credentials(self, *, account: ChannelAccount) -> None:
        refresh_token = str(account.credentials.get("refresh_token") or "")
        if not refresh_token:
            raise AuthExpired(
                "x: no refresh token",
                network_message=gettext("X no longer accepts this login. Please reconnect the channel."),
            )
        config = replace(oauth.app_config(), api_url=account.base_url.rstrip("/"))
        new = oauth.refresh(config=config, refresh_token=refresh_token, timeout=self.timeout)
        account.update_credentials(**new)

    # -- connecting ------------------------------------------------------------------------------
    def connect_begin(
        self, *, values: Mapping[str, str], redirect_uri: str, state: str, clients: ClientRegistry
    ) -> ConnectStart:
        config = oauth.app_config()
        if not config.client_id:
            message = gettext(
                "X is not set up on this Resonanz yet: the operator registers an app in X's developer "
                "portal and sets RESONANZ_X_CLIENT_ID (see docs/connectors.md)."
            )
            raise Rejected("x: RESONANZ_X_CLIENT_ID is not set", network_message=message)
        verifier, challenge = oauth.pkce_pair()
        return ConnectStart(
            authorize_url=oauth.authorization_url(
                config=config, redirect_uri=redirect_uri, state=state, code_challenge=challenge
            ),
            base_url=config.api_url,
            state_data={
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
                "daily_post_cap": _cap(values.get("daily_post_cap", "")),
            },
        )

    def connect_complete(
        self,
        *,
        base_url: str,
        state_data: Mapping[str, Any],
        params: Mapping[str, str],
        clients: ClientRegistry,
    ) -> ConnectedAccount:
        if params.get("error"):
            message = gettext("X did not grant access: %(error)s") % {"error": params["error"]}
            raise Rejected(f"x: {params['error']}", network_message=message)
        config = replace(oauth.app_config(), api_url=base_url.rstrip("/"))
        credentials = oauth.exchange_code(
            config=config,
            code=params.get("code", ""),
            redirect_uri=str(state_data["redirect_uri"]),
            code_verifier=str(state_data["code_verifier"]),
            timeout=self.timeout,
        )
        if not credentials.get("refresh_token"):
            # A reconnect replaces the stored credentials whole: refusing here keeps the channel's valid
            # refresh token instead of storing a login that dies in two hours.
            message = gettext(
                "X gave no refresh token (the offline.access permission is missing), so the channel would "
                "stop working in two hours. Check the app's permissions in X's developer portal and "
                "connect again; the channel keeps its current login."
            )
            raise Rejected("x: token response without refresh_token", network_message=message)
        granted = set(str(credentials.get("scope") or "").split())
        missing = [s for s in oauth.SCOPES if s not in granted]
        if missing:
            message = gettext("X did not grant the permissions %(scopes)s. Please connect again.") % {
                "scopes": ", ".join(missing)
            }
            raise Rejected(f"x: scopes missing: {missing}", network_message=message)
        account = ChannelAccount(network=self.network, base_url=config.api_url, credentials=credentials)
        cap = state_data.get("daily_post_cap")
        if isinstance(cap, int) and cap > 0:
            account.update_settings(daily_post_cap=cap)
        info = self.verify(account=account)
        return ConnectedAccount(
            base_url=config.api_url,
            info=info,
            credentials=dict(account.credentials),
            settings=dict(account.settings),
        )

    # -- account ---------------------------------------------------------------------------------
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        """``GET /2/users/me`` (https://docs.x.com/x-api/users/get-my-user)."""
        with self._session(account) as client:
            body = client.get_json(
                "/2/users/me", params={"user.fields": "profile_image_url,subscription_type"}
            )
        me = body.get("data") if isinstance(body, dict) else None
        if not isinstance(me, dict) or not me.get("id"):
            raise Rejected("x: /2/users/me returned no user")
        account.remote_id = str(me["id"])
        account.handle = str(me.get("username") or "")
        subscription = str(me.get("subscription_type") or "None")
        if account.settings.get("x_subscription") != subscription:
            account.update_settings(x_subscription=subscription)
        return AccountInfo(
            remote_id=str(me["id"]),
            handle=account.handle,
            display_name=str(me.get("name") or account.handle),
            avatar_url=str(me.get("profile_image_url") or ""),
            profile_url=f"https://x.com/{account.handle}" if account.handle else "",
        )

    # -- limits ----------------------------------------------------------------------------------
    def text_limit(self, *, account: ChannelAccount) -> int:
        """280, or 25,000 for an account on an X Premium plan (``subscription_type``, read by ``verify``);
        the channel setting ``long_posts`` (true/false) overrides what X reported."""
        explicit = account.settings.get("long_posts")
        if isinstance(explicit, bool):
            return LONG_POST_LIMIT if explicit else STANDARD_LIMIT
        subscribed = account.settings.get("x_subscription") in LONG_POST_SUBSCRIPTIONS
        return LONG_POST_LIMIT if subscribed else STANDARD_LIMIT

    def daily_cap(self, *, account: ChannelAccount) -> int | None:
        """The posts this account may create per 24 hours on the operator's API tier (channel setting
        ``daily_post_cap``), or the cap X last reported (``x-user-limit-24hour-limit``)."""
        for name in ("daily_post_cap", "x_day_limit"):
            value = account.settings.get(name)
            if isinstance(value, int) and value > 0:
                return value
        return None

    def posts_left_today(self, *, account: ChannelAccount, now: float | None = None) -> int | None:
        """How many more posts this account can create today (None: no cap known). X's own count
        (``x-user-limit-24hour-remaining`` of the last create) wins while its window lasts; otherwise the
        posts Resonanz made in the last 24 hours are counted against the tier's cap."""
        now = time.time() if now is None else now
        cap = self.daily_cap(account=account)
        reset_at = account.settings.get("x_day_reset_at")
        remaining = account.settings.get("x_day_remaining")
        if isinstance(remaining, int) and isinstance(reset_at, int | float) and now < float(reset_at):
            return max(0, min(remaining, cap) if cap is not None else remaining)
        if cap is None:
            return None
        recent = [t for t in account.settings.get("x_post_times") or [] if now - float(t) < 86400]
        return max(0, cap - len(recent))

    def _remember_day_budget(self, account: ChannelAccount, state: XRateLimit) -> None:
        if state.day_remaining is None:
            return
        values: dict[str, Any] = {"x_day_remaining": state.day_remaining}
        if state.day_reset_at is not None:
            values["x_day_reset_at"] = int(state.day_reset_at)
        if state.day_limit is not None:
            values["x_day_limit"] = state.day_limit
        if any(account.settings.get(k) != v for k, v in values.items()):
            account.update_settings(**values)

    def media_rules(self, *, account: ChannelAccount) -> MediaSpec:
        return self.spec.media

    def preview_segments(self, *, text: str) -> list[Segment]:
        return segments(text)

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        return TextCount(
            count=weighted_length(text), limit=self.text_limit(account=account), unit=TextUnit.CHARACTERS
        )

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if variant.content_warning:
            issues.append(
                ValidationIssue(
                    code="content_warning_unsupported",
                    message=gettext("X has no content warnings; remove it or write it into the text."),
                    field="content_warning",
                )
            )
        if variant.visibility and variant.visibility != "public":
            issues.append(
                ValidationIssue(
                    code="invalid_visibility",
                    message=gettext("Every post on X is public; visibility %(visibility)s does not exist.")
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
        limit = self.text_limit(account=account)
        for index, part in enumerate(variant.parts):
            issues.extend(self._validate_part(index, part, limit))
        left = self.posts_left_today(account=account)
        # A first comment is a reply of our own on X: it counts against the same daily cap.
        needed = len(variant.parts) + (1 if variant.first_comment.strip() else 0)
        if left is not None and needed > left:
            issues.append(
                ValidationIssue(
                    code="daily_cap",
                    message=ngettext(
                        "This X account can post %(left)s more time today; this post needs %(parts)s.",
                        "This X account can post %(left)s more times today; this post needs %(parts)s.",
                        left,
                    )
                    % {"left": left, "parts": needed},
                    field="schedule",
                    count=needed,
                    limit=left,
                )
            )
        return issues

    def _validate_part(self, index: int, part: DraftPart, limit: int) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        number = index + 1
        count = weighted_length(part.text)
        if count > limit:
            issues.append(
                ValidationIssue(
                    code="too_many_characters",
                    message=gettext(
                        "Part %(part)s has %(count)s characters as X counts them; X allows %(limit)s."
                    )
                    % {"part": number, "count": count, "limit": limit},
                    part_index=index,
                    count=count,
                    limit=limit,
                )
            )
        if not part.text.strip() and not part.media:
            issues.append(
                ValidationIssue(
                    code="empty_part",
                    message=gettext("Part %(part)s has neither text nor media.") % {"part": number},
                    part_index=index,
                )
            )
        kinds = [_media_kind(m.mime_type) for m in part.media]
        if len(part.media) > self.spec.media.max_items:
            issues.append(
                ValidationIssue(
                    code="too_many_media",
                    message=gettext("Part %(part)s has %(count)s attachments; X allows %(limit)s images.")
                    % {"part": number, "count": len(part.media), "limit": self.spec.media.max_items},
                    part_index=index,
                    field="media",
                    count=len(part.media),
                    limit=self.spec.media.max_items,
                )
            )
        elif len(part.media) > 1 and any(k in (MediaKind.GIF, MediaKind.VIDEO) for k in kinds):
            issues.append(
                ValidationIssue(
                    code="mixed_media",
                    message=gettext(
                        "Part %(part)s combines a GIF or video with other attachments; X takes up to 4 "
                        "images, or one GIF, or one video."
                    )
                    % {"part": number},
                    part_index=index,
                    field="media",
                )
            )
        for media, kind in zip(part.media, kinds, strict=True):
            issues.extend(self._validate_media(index, media, kind))
        return issues

    def _validate_media(self, index: int, media: DraftMedia, kind: MediaKind | None) -> list[ValidationIssue]:
        number = index + 1
        name = media.filename or media.mime_type or "?"
        rule = self.spec.media.rule(kind) if kind else None
        if rule is None:
            return [
                ValidationIssue(
                    code="unsupported_media_type",
                    message=gettext("Part %(part)s: X does not accept %(type)s files (%(name)s).")
                    % {"part": number, "type": media.mime_type or "?", "name": name},
                    part_index=index,
                    field="media",
                )
            ]
        issues: list[ValidationIssue] = []
        if rule.max_bytes is not None and len(media.data) > rule.max_bytes:
            issues.append(
                ValidationIssue(
                    code=f"{rule.kind.value}_too_large",
                    message=gettext("Part %(part)s: %(name)s has %(count)s bytes; X allows %(limit)s.")
                    % {"part": number, "name": name, "count": len(media.data), "limit": rule.max_bytes},
                    part_index=index,
                    field="media",
                    count=len(media.data),
                    limit=rule.max_bytes,
                )
            )
        if len(media.alt_text) > ALT_TEXT_MAX:
            issues.append(
                ValidationIssue(
                    code="alt_text_too_long",
                    message=gettext(
                        "Part %(part)s: the alt text of %(name)s has %(count)s characters; "
                        "X allows %(limit)s."
                    )
                    % {"part": number, "name": name, "count": len(media.alt_text), "limit": ALT_TEXT_MAX},
                    part_index=index,
                    field="alt_text",
                    count=len(media.alt_text),
                    limit=ALT_TEXT_MAX,
                )
            )
        return issues

    # -- media -----------------------------------------------------------------------------------
    def _upload(self, client: XClient, media: DraftMedia) -> str:
        """An image in one ``POST /2/media/upload`` (https://docs.x.com/x-api/media/media-upload); a GIF
        or video in chunks: initialize, append, finalize, then status until processing succeeded
        (https://docs.x.com/x-api/media/quickstart/media-upload-chunked). The alt text goes to
        ``POST /2/media/metadata``. An orphaned upload is harmless (it expires unattached), so an upload
        without an answer is a plain retryable failure, not an unknown publish outcome."""
        kind = _media_kind(media.mime_type)
        try:
            if kind == MediaKind.IMAGE:
                body = client.post_json(
                    "/2/media/upload",
                    json={
                        "media": base64.b64encode(media.data).decode("ascii"),
                        "media_category": SIMPLE_UPLOAD_CATEGORY,
                    },
                )
                media_id = str(body["data"]["id"])
            else:
                media_id = self._upload_chunked(client, media, kind)
            if media.alt_text and kind in (MediaKind.IMAGE, MediaKind.GIF):
                client.post_json(
                    "/2/media/metadata",
                    json={"id": media_id, "metadata": {"alt_text": {"text": media.alt_text}}},
                )
        except OutcomeUnknown as exc:
            raise ConnectionFailed(f"x: media upload got no answer: {exc}") from exc
        return media_id

    def _upload_chunked(self, client: XClient, media: DraftMedia, kind: MediaKind | None) -> str:
        category = "tweet_gif" if kind == MediaKind.GIF else "tweet_video"
        started = client.post_json(
            "/2/media/upload/initialize",
            json={"media_type": media.mime_type, "total_bytes": len(media.data), "media_category": category},
        )
        media_id = str(started["data"]["id"])
        for segment, offset in enumerate(range(0, len(media.data), CHUNK_SIZE)):
            chunk = media.data[offset : offset + CHUNK_SIZE]
            client.post_json(
                f"/2/media/upload/{media_id}/append",
                json={"media": base64.b64encode(chunk).decode("ascii"), "segment_index": segment},
            )
        finished = client.post_json(f"/2/media/upload/{media_id}/finalize")
        info = (finished.get("data") or {}).get("processing_info")
        deadline = time.monotonic() + self.media_poll_timeout
        while isinstance(info, dict) and info.get("state") in ("pending", "in_progress"):
            if time.monotonic() > deadline:
                raise TemporaryError(
                    f"x: media {media_id} still processing",
                    network_message=gettext("X is still processing the video; will retry."),
                )
            time.sleep(min(float(info.get("check_after_secs") or 1), 5.0))
            status = client.get_json("/2/media/upload", params={"command": "STATUS", "media_id": media_id})
            info = (status.get("data") or {}).get("processing_info")
        if isinstance(info, dict) and info.get("state") == "failed":
            error = info.get("error") or {}
            message = str(error.get("message") or "processing failed")
            raise Rejected(f"x: media {media_id}: {message}", network_message=message)
        return media_id

    # -- publishing ------------------------------------------------------------------------------
    @staticmethod
    def _ref(post_id: str, handle: str) -> PublishedRef:
        user = handle or "i/web"
        return PublishedRef(remote_id=post_id, url=f"https://x.com/{user}/status/{post_id}")

    @staticmethod
    def _recorded(account: ChannelAccount, key: PublishKey) -> str | None:
        return account.key_record_get(name="published_keys", key=key.key)

    @staticmethod
    def _record(account: ChannelAccount, key: PublishKey, post_id: str) -> None:
        account.key_record_put(name="published_keys", key=key.key, value=post_id, keep=KEY_RECORD_SIZE)
        times = [
            float(t) for t in account.settings.get("x_post_times") or [] if time.time() - float(t) < 86400
        ]
        times.append(time.time())
        account.update_settings(x_post_times=times[-1000:])

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
        """``POST /2/tweets`` (https://docs.x.com/x-api/posts/create-post): text, ``reply`` for the parts
        of a thread, ``media.media_ids``; ``quote_tweet_id`` from ``PublishedRef.extra`` of ``reply_to``
        is not used (a quote is :meth:`quote`)."""
        recorded = self._recorded(account, key)
        if recorded:
            return self._ref(recorded, account.handle)
        part = variant.parts[part_index]
        with self._session(account) as client:
            media_ids = [self._upload(client, m) for m in part.media]
            body: dict[str, Any] = {"text": part.text}
            if reply_to is not None:
                body["reply"] = {"in_reply_to_tweet_id": reply_to.remote_id}
            if media_ids:
                body["media"] = {"media_ids": media_ids}
            if part_index == 0 and variant.quote_url:
                # The first part quotes: ``quote_tweet_id`` on the same create call (docs.x.com/x-api/
                # posts/create-post), so the same exactly-once record and reconcile apply.
                body["quote_tweet_id"] = self.parse_quote_url(url=variant.quote_url).remote_id
            try:
                created = client.post_json("/2/tweets", json=body)
            except DuplicateContent:
                found = self._find_on_timeline(client, account, variant, part_index, key)
                if found is None:
                    raise
                self._record(account, key, found.remote_id)
                return found
        data = created.get("data") if isinstance(created, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            raise Rejected("x: create returned no post")
        self._record(account, key, str(data["id"]))
        return self._ref(str(data["id"]), account.handle)

    def quote(
        self, *, account: ChannelAccount, text: str, quoted: PublishedRef, key: PublishKey
    ) -> PublishedRef:
        """A quote post: ``quote_tweet_id`` (same create call, same exactly-once record)."""
        recorded = self._recorded(account, key)
        if recorded:
            return self._ref(recorded, account.handle)
        with self._session(account) as client:
            created = client.post_json("/2/tweets", json={"text": text, "quote_tweet_id": quoted.remote_id})
        post_id = str(created["data"]["id"])
        self._record(account, key, post_id)
        return self._ref(post_id, account.handle)

    def parse_quote_url(self, *, url: str) -> PublishedRef:
        """``https://x.com/<handle>/status/<id>`` (also twitter.com and ``/i/web/status/<id>``): the id is
        what ``quote_tweet_id`` takes."""
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().removeprefix("www.")
        match = _STATUS_PATH.match(parts.path) if host in QUOTE_HOSTS else None
        if parts.scheme not in {"http", "https"} or match is None:
            raise Rejected(
                f"x: not a post URL: {url}",
                network_message=gettext(
                    "%(url)s is not a post on X. Copy the post's address, e.g. "
                    "https://x.com/name/status/1234567890."
                )
                % {"url": url},
            )
        post_id = match.group(1)
        return PublishedRef(remote_id=post_id, url=f"https://x.com/i/web/status/{post_id}")

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        recorded = self._recorded(account, key)
        if recorded:
            return self._ref(recorded, account.handle)
        with self._session(account) as client:
            found = self._find_on_timeline(client, account, variant, part_index, key)
        if found is not None:
            self._record(account, key, found.remote_id)
        return found

    def _find_on_timeline(
        self,
        client: XClient,
        account: ChannelAccount,
        variant: DraftVariant,
        part_index: int,
        key: PublishKey,
    ) -> PublishedRef | None:
        """The account's posts since the key was recorded (``GET /2/users/:id/tweets``, newest first,
        https://docs.x.com/x-api/users/get-posts), matched by text, reply or not, and attachment count.

        Limits: a post edited or deleted meanwhile is not found; an identical post made by another app
        in the window would be taken as ours (X refuses identical texts anyway)."""
        part = variant.parts[part_index]
        want = normalise_text(part.text)
        for post in self._own_recent_posts(client, account, key):
            if normalise_text(str(post.get("text") or "")) != want:
                continue
            parent = self._replied_to(post)
            if (parent is not None) != (part_index > 0):
                continue
            if parent is not None and not self._parent_matches(client, parent, variant, part_index):
                continue
            keys = (post.get("attachments") or {}).get("media_keys") or []
            if len(keys) != len(part.media):
                continue
            return self._ref(str(post["id"]), account.handle)
        return None

    def _own_recent_posts(
        self, client: XClient, account: ChannelAccount, key: PublishKey
    ) -> Iterator[dict[str, Any]]:
        """The account's posts since the key was made, newest first, a bounded number of pages."""
        user_id = account.remote_id or self.verify(account=account).remote_id
        params: dict[str, Any] = {
            "max_results": FIND_PAGE_SIZE,
            "start_time": _rfc3339(key.created_at - FIND_CLOCK_MARGIN),
            "tweet.fields": "created_at,referenced_tweets,attachments",
            "exclude": "retweets",
        }
        for _ in range(FIND_MAX_PAGES):
            page = client.get_json(f"/2/users/{user_id}/tweets", params=params)
            yield from page.get("data") or []
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return
            params["pagination_token"] = token

    @staticmethod
    def _replied_to(post: dict[str, Any]) -> str | None:
        return next(
            (str(r["id"]) for r in post.get("referenced_tweets") or [] if r.get("type") == "replied_to"),
            None,
        )

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """Reconcile an answer from the inbox: our record of the key, else our recent posts for one with
        this text that replies to ``reply_to`` (``referenced_tweets`` type ``replied_to``,
        https://docs.x.com/x-api/fundamentals/data-dictionary#tweet). X has no idempotency key."""
        recorded = self._recorded(account, key)
        if recorded:
            return self._ref(recorded, account.handle)
        want = normalise_text(text)
        with self._session(account) as client:
            for post in self._own_recent_posts(client, account, key):
                if normalise_text(str(post.get("text") or "")) == want and (
                    self._replied_to(post) == reply_to.remote_id
                ):
                    found = self._ref(str(post["id"]), account.handle)
                    self._record(account, key, found.remote_id)
                    return found
        return None

    @staticmethod
    def _parent_matches(client: XClient, parent_id: str, variant: DraftVariant, part_index: int) -> bool:
        """A thread part replies to the previous part: the parent's text must be that part's (the
        contract does not pass ``reply_to`` to ``find_published``)."""
        try:
            body = client.get_json(f"/2/tweets/{parent_id}")
        except Rejected:
            return False
        parent = body.get("data") if isinstance(body, dict) else None
        if not isinstance(parent, dict):
            return False
        previous = variant.parts[part_index - 1].text
        return normalise_text(str(parent.get("text") or "")) == normalise_text(previous)

    def delete(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """``DELETE /2/tweets/:id`` (https://docs.x.com/x-api/posts/delete-post); 404 = already gone."""
        with self._session(account) as client:
            try:
                client.request("DELETE", f"/2/tweets/{ref.remote_id}")
            except Rejected as exc:
                if exc.http_status != 404:
                    raise

    # -- engagement ------------------------------------------------------------------------------
    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        """``GET /2/tweets/:id`` with ``public_metrics`` and, for posts of the last 30 days,
        ``non_public_metrics`` and ``organic_metrics`` (owner's user context; asking for them on an older
        post is an error). Replies come from the mentions timeline (a reply names the author)."""
        fields = ["created_at", "public_metrics"]
        with self._session(account) as client:
            body = client.get_json(f"/2/tweets/{ref.remote_id}", params={"tweet.fields": ",".join(fields)})
            post = body.get("data") or {}
            created_at = _parse_time(post.get("created_at"))
            recent = created_at is not None and datetime.now(UTC) - created_at < PRIVATE_METRICS_WINDOW
            if recent:
                private = client.get_json(
                    f"/2/tweets/{ref.remote_id}",
                    params={"tweet.fields": "public_metrics,non_public_metrics,organic_metrics"},
                )
                post = {**post, **(private.get("data") or {})}
            replies = [
                r
                for r in self._mentions(client, account, since_id=ref.remote_id)
                if r.in_reply_to_remote_id == ref.remote_id
            ]
        public = post.get("public_metrics") or {}
        private_metrics = post.get("non_public_metrics") or {}
        organic = post.get("organic_metrics") or {}
        impressions = private_metrics.get("impression_count", organic.get("impression_count"))
        if impressions is None:
            impressions = public.get("impression_count")
        return Engagement(
            likes=int(public.get("like_count") or 0),
            reposts=int(public.get("retweet_count") or 0),
            replies=int(public.get("reply_count") or 0),
            quotes=int(public.get("quote_count") or 0),
            impressions=int(impressions) if impressions is not None else None,
            # ``bookmark_count`` is public_metrics' count of bookmarks
            # (https://docs.x.com/x-api/fundamentals/metrics#public-metrics).
            saves=int(public["bookmark_count"]) if "bookmark_count" in public else None,
            reply_items=replies,
        )

    def fetch_mentions(self, *, account: ChannelAccount, cursor: str | None) -> MentionPage:
        """New mentions since ``cursor`` (``GET /2/users/:id/mentions`` with ``since_id``,
        https://docs.x.com/x-api/users/get-mentions; the cursor is the newest post id seen). X counts a
        reply to our post as a mention too: the inbox keeps those with the replies of that post."""
        with self._session(account) as client:
            found = self._mentions(client, account, since_id=cursor or None)
        newest = max((int(r.remote_id) for r in found if r.remote_id.isdigit()), default=None)
        found.sort(key=lambda r: int(r.remote_id) if r.remote_id.isdigit() else 0)
        return MentionPage(items=found, cursor=str(newest) if newest is not None else cursor)

    def _mentions(
        self, client: XClient, account: ChannelAccount, *, since_id: str | None
    ) -> list[RemoteReply]:
        user_id = account.remote_id or self.verify(account=account).remote_id
        params: dict[str, Any] = {
            "max_results": 100,
            "tweet.fields": "created_at,author_id,referenced_tweets,conversation_id",
            "expansions": "author_id",
            "user.fields": "username,name",
        }
        if since_id:
            params["since_id"] = since_id
        posts: list[dict[str, Any]] = []
        users: dict[str, dict[str, Any]] = {}
        # Newest first; with ``since_id`` the pages (``next_token``) go back to it, so following them
        # leaves no gap when more than one page arrived between two syncs. Without one: the newest page.
        for _page in range(MENTION_PAGES):
            body = client.get_json(f"/2/users/{user_id}/mentions", params=params)
            posts.extend(body.get("data") or [])
            users.update({str(u["id"]): u for u in (body.get("includes") or {}).get("users") or []})
            next_token = (body.get("meta") or {}).get("next_token")
            if not since_id or not next_token:
                break
            params["pagination_token"] = str(next_token)
        found: list[RemoteReply] = []
        for post in posts:
            author_id = str(post.get("author_id") or "")
            if author_id == account.remote_id:
                continue
            author = users.get(author_id, {})
            parent = next(
                (str(r["id"]) for r in post.get("referenced_tweets") or [] if r.get("type") == "replied_to"),
                "",
            )
            handle = str(author.get("username") or "")
            found.append(
                RemoteReply(
                    remote_id=str(post["id"]),
                    url=f"https://x.com/{handle or 'i/web'}/status/{post['id']}",
                    author_id=author_id,
                    author_handle=handle,
                    author_name=str(author.get("name") or handle),
                    text=html.unescape(str(post.get("text") or "")),
                    created_at=_parse_time(post.get("created_at")) or datetime.now(UTC),
                    in_reply_to_remote_id=parent,
                )
            )
        return found


__all__ = ["XConnector", "normalise_text"]
