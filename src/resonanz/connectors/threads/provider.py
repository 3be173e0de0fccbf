"""The Threads connector: text posts, threads as chained replies, delete, insights and replies.

Publishing is two calls (https://developers.facebook.com/documentation/threads/posts): a media container
(``POST /{user-id}/threads``, harmless if orphaned: it expires after 24 hours) and its publication
(``POST /{user-id}/threads_publish``, the create). Exactly once without an idempotency key: the container
id is recorded per key before publishing, so a retry publishes the same container; after an unknown
outcome :meth:`ThreadsConnector.find_published` asks the container (``GET /{container-id}?fields=status``):
``PUBLISHED`` means it went live and the post is found on the profile's timeline by its text, any other
status means it certainly did not.

Media (https://developers.facebook.com/documentation/threads/posts): one picture or video is a container
with ``media_type=IMAGE``/``VIDEO`` and ``image_url``/``video_url``; several make a carousel, one
``is_carousel_item`` container per item and a ``CAROUSEL`` container with their ``children``. Threads fetches
each file from a public address (``connectors.base.media``, as for Instagram) and processes it: every media
container is polled (``GET /{container}?fields=status,error_message``) until FINISHED before it is used;
ERROR is a rejection with Threads' ``error_message``, still IN_PROGRESS past ``container_timeout`` a
temporary error (the recorded container is polled again by the retry, never made twice).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.utils.translation import gettext

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
    OutcomeUnknown,
    PublishedRef,
    Rejected,
    RemoteReply,
    TemporaryError,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.media import media_address_setting, media_host, unreachable_reason
from resonanz.connectors.base.preview import Segment, Span, split
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import MediaKind, TextUnit

from . import oauth
from .client import API_VERSION, ThreadsClient
from .spec import MAX_CAROUSEL, SPEC
from .text import LINK_RE, MAX_LINKS, TEXT_LIMIT, threads_length, unique_links

# Refresh a long-lived token this long before it ends (it must be at least 24 hours old).
REFRESH_BEFORE = timedelta(days=7)
MIN_TOKEN_AGE = 86400
KEY_RECORD_SIZE = 200
FIND_CLOCK_MARGIN = timedelta(minutes=2)
INSIGHT_METRICS = ("views", "likes", "replies", "reposts", "quotes")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ThreadsConnector(Connector):
    network = "threads"
    spec = SPEC

    def __init__(
        self,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        poll_interval: float = 2.0,
        container_timeout: float = 120.0,
        allow_private_media_urls: bool = False,
    ) -> None:
        self.timeout = timeout
        self.transport = transport
        # Threads processes media before a container can be published; its docs suggest waiting for
        # FINISHED (status polled every ``poll_interval`` seconds, at most ``container_timeout``).
        self.poll_interval = poll_interval
        self.container_timeout = container_timeout
        # Tests only: the emulator runs on this machine and fetches from 127.0.0.1.
        self.allow_private_media_urls = allow_private_media_urls

    # -- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _session(self, account: ChannelAccount) -> Iterator[ThreadsClient]:
        self._refresh_if_due(account)
        token = str(account.credentials.get("access_token") or "")
        if not token:
            raise AuthExpired(
                "threads: no access token stored",
                network_message=gettext("This Threads channel has no login. Please reconnect it."),
            )
        client = ThreadsClient(
            account.base_url, access_token=token, timeout=self.timeout, transport=self.transport
        )
        try:
            yield client
        finally:
            client.close()

    def _refresh_if_due(self, account: ChannelAccount) -> None:
        credentials = account.credentials
        try:
            expires_at = float(credentials.get("expires_at") or 0)
            obtained_at = float(credentials.get("obtained_at") or 0)
        except (TypeError, ValueError):
            return
        now = time.time()
        if (
            expires_at
            and now < expires_at <= now + REFRESH_BEFORE.total_seconds()
            and now - obtained_at >= MIN_TOKEN_AGE
        ):
            self.refresh_credentials(account=account)

    def refresh_credentials(self, *, account: ChannelAccount) -> None:
        token = str(account.credentials.get("access_token") or "")
        if not token:
            raise AuthExpired("threads: no token to refresh")
        new = oauth.refresh(
            config=oauth.app_config(api_url=account.base_url), access_token=token, timeout=self.timeout
        )
        account.update_credentials(**new)

    def _path(self, account: ChannelAccount, tail: str) -> str:
        user = account.remote_id or str(account.credentials.get("user_id") or "me")
        return f"/{API_VERSION}/{user}/{tail}"

    # -- connecting ------------------------------------------------------------------------------
    def connect_begin(
        self, *, values: Mapping[str, str], redirect_uri: str, state: str, clients: ClientRegistry
    ) -> ConnectStart:
        config = oauth.app_config()
        if not config.client_id or not config.client_secret:
            message = gettext(
                "Threads is not set up on this Resonanz yet: the operator registers an app with Meta and "
                "sets RESONANZ_THREADS_CLIENT_ID and RESONANZ_THREADS_CLIENT_SECRET (see docs/connectors.md)."
            )
            raise Rejected("threads: client id or secret not set", network_message=message)
        return ConnectStart(
            authorize_url=oauth.authorization_url(config=config, redirect_uri=redirect_uri, state=state),
            base_url=config.api_url,
            state_data={"redirect_uri": redirect_uri},
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
            message = gettext("Threads did not grant access: %(error)s") % {
                "error": params.get("error_description") or params["error"]
            }
            raise Rejected(f"threads: {params['error']}", network_message=message)
        config = oauth.app_config(api_url=base_url)
        credentials = oauth.exchange_code(
            config=config,
            code=params.get("code", ""),
            redirect_uri=str(state_data["redirect_uri"]),
            timeout=self.timeout,
        )
        account = ChannelAccount(network=self.network, base_url=config.api_url, credentials=credentials)
        info = self.verify(account=account)
        return ConnectedAccount(base_url=config.api_url, info=info, credentials=dict(account.credentials))

    # -- account ---------------------------------------------------------------------------------
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        """``GET /me?fields=id,username,name,threads_profile_picture_url``."""
        with self._session(account) as client:
            me = client.get_json(
                f"/{API_VERSION}/me", params={"fields": "id,username,name,threads_profile_picture_url"}
            )
        if not isinstance(me, dict) or not me.get("id"):
            raise Rejected("threads: /me returned no profile")
        account.remote_id = str(me["id"])
        account.handle = str(me.get("username") or me["id"])
        return AccountInfo(
            remote_id=account.remote_id,
            handle=account.handle,
            display_name=str(me.get("name") or account.handle),
            avatar_url=str(me.get("threads_profile_picture_url") or ""),
            profile_url=f"https://www.threads.com/@{account.handle}",
        )

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        return TextCount(count=threads_length(text), limit=TEXT_LIMIT, unit=TextUnit.CHARACTERS)

    def preview_segments(self, *, text: str) -> list[Segment]:
        return split(text, [Span(m.start(), m.end(), "link") for m in LINK_RE.finditer(text)])

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if variant.content_warning:
            issues.append(
                ValidationIssue(
                    code="content_warning_unsupported",
                    message=gettext(
                        "Threads has no content warnings here; remove it or write it into the text."
                    ),
                    field="content_warning",
                )
            )
        if variant.visibility and variant.visibility != "public":
            issues.append(
                ValidationIssue(
                    code="invalid_visibility",
                    message=gettext("Posts on Threads are public; %(visibility)s is not offered.")
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
            number = index + 1
            count = threads_length(part.text)
            if count > TEXT_LIMIT:
                issues.append(
                    ValidationIssue(
                        code="too_many_characters",
                        message=gettext(
                            "Part %(part)s has %(count)s characters as Threads counts them (emoji by their "
                            "bytes); Threads allows %(limit)s."
                        )
                        % {"part": number, "count": count, "limit": TEXT_LIMIT},
                        part_index=index,
                        count=count,
                        limit=TEXT_LIMIT,
                    )
                )
            links = len(unique_links(part.text))
            if links > MAX_LINKS:
                issues.append(
                    ValidationIssue(
                        code="too_many_links",
                        message=gettext("Part %(part)s has %(count)s links; Threads allows %(limit)s.")
                        % {"part": number, "count": links, "limit": MAX_LINKS},
                        part_index=index,
                        count=links,
                        limit=MAX_LINKS,
                    )
                )
            issues.extend(self._validate_media(index, part.media))
            if not part.text.strip() and not part.media:
                issues.append(
                    ValidationIssue(
                        code="empty_part",
                        message=gettext("Part %(part)s has no text.") % {"part": number},
                        part_index=index,
                    )
                )
        return issues

    def _validate_media(self, index: int, media: Sequence[DraftMedia]) -> list[ValidationIssue]:
        number = index + 1
        issues: list[ValidationIssue] = []
        if len(media) > MAX_CAROUSEL:
            issues.append(
                ValidationIssue(
                    code="too_many_media",
                    message=gettext(
                        "Part %(part)s has %(count)s attachments; a Threads carousel takes at most %(limit)s."
                    )
                    % {"part": number, "count": len(media), "limit": MAX_CAROUSEL},
                    part_index=index,
                    field="media",
                    count=len(media),
                    limit=MAX_CAROUSEL,
                )
            )
        for item in media:
            rule = self.spec.media.rule_for_mime(item.mime_type or "")
            name = item.filename or item.mime_type or "?"
            if rule is None:
                issues.append(
                    ValidationIssue(
                        code="unsupported_media_type",
                        message=gettext("Threads does not accept %(type)s files (%(name)s).")
                        % {"type": item.mime_type or "?", "name": name},
                        part_index=index,
                        field="media",
                    )
                )
            elif rule.max_bytes is not None and len(item.data) > rule.max_bytes:
                issues.append(
                    ValidationIssue(
                        code=f"{rule.kind.value}_too_large",
                        message=gettext("%(name)s has %(count)s bytes; Threads allows %(limit)s.")
                        % {"name": name, "count": len(item.data), "limit": rule.max_bytes},
                        part_index=index,
                        field="media",
                        count=len(item.data),
                        limit=rule.max_bytes,
                    )
                )
        return issues

    # -- media -----------------------------------------------------------------------------------
    def _media_url(self, media: DraftMedia) -> str:
        url = media_host().public_url(data=media.data, mime_type=media.mime_type, filename=media.filename)
        reason = unreachable_reason(url)
        allow_private = self.allow_private_media_urls or settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE
        if reason and not (allow_private and reason in ("loopback", "private")):
            message = gettext(
                "Threads must fetch pictures and videos from a public address; set %(setting)s to an address "
                "the internet reaches (on a laptop: a tunnel or S3-compatible storage, see "
                "docs/operations.md). Current address: %(url)s"
            ) % {"setting": media_address_setting(), "url": url or "-"}
            raise Rejected(f"threads: media URL not public ({reason}): {url!r}", network_message=message)
        return url

    def _media_form(self, media: DraftMedia) -> dict[str, str]:
        rule = self.spec.media.rule_for_mime(media.mime_type or "")
        video = rule is not None and rule.kind == MediaKind.VIDEO
        form = {
            "media_type": "VIDEO" if video else "IMAGE",
            ("video_url" if video else "image_url"): self._media_url(media),
        }
        if media.alt_text:
            form["alt_text"] = media.alt_text
        return form

    def _create(self, client: ThreadsClient, account: ChannelAccount, form: Mapping[str, str]) -> str:
        try:
            created = client.post_json(self._path(account, "threads"), data=dict(form))
        except OutcomeUnknown as exc:  # an orphaned container is never shown
            raise ConnectionFailed(f"threads: container creation got no answer: {exc}") from exc
        return str(created["id"])

    def _wait_finished(self, client: ThreadsClient, container: str) -> str:
        """Poll the container until FINISHED (or PUBLISHED / EXPIRED, returned as they are)."""
        deadline = time.monotonic() + self.container_timeout
        while True:
            body = client.get_json(
                f"/{API_VERSION}/{container}", params={"fields": "id,status,error_message"}
            )
            status = str(body.get("status") or "")
            if status in ("FINISHED", "PUBLISHED", "EXPIRED"):
                return status
            if status == "ERROR":
                detail = str(body.get("error_message") or "ERROR")
                raise Rejected(
                    f"threads: container {container}: {detail}",
                    network_message=gettext("Threads could not process the media: %(detail)s")
                    % {"detail": detail},
                )
            if time.monotonic() > deadline:
                raise TemporaryError(
                    f"threads: container {container} still {status or 'IN_PROGRESS'}",
                    network_message=gettext(
                        "Threads is still processing the media; Resonanz will try again."
                    ),
                )
            time.sleep(self.poll_interval)

    def _build_container(
        self, client: ThreadsClient, account: ChannelAccount, part: DraftPart, reply_to: PublishedRef | None
    ) -> str:
        """The part's container: text only, one picture or video, or a carousel of its items."""
        form: dict[str, str] = {"text": part.text} if part.text else {}
        if reply_to is not None:
            form["reply_to_id"] = reply_to.remote_id
        if not part.media:
            return self._create(client, account, {"media_type": "TEXT", **form})
        if len(part.media) == 1:
            return self._create(client, account, {**self._media_form(part.media[0]), **form})
        children = [
            self._create(client, account, {**self._media_form(m), "is_carousel_item": "true"})
            for m in part.media
        ]
        for child in children:
            self._wait_finished(client, child)
        return self._create(
            client, account, {"media_type": "CAROUSEL", "children": ",".join(children), **form}
        )

    # -- publishing ------------------------------------------------------------------------------
    @staticmethod
    def _record_of(account: ChannelAccount, name: str) -> dict[str, str]:
        record = account.settings.get(name) or {}
        return dict(record) if isinstance(record, dict) else {}

    def _remember(self, account: ChannelAccount, name: str, key: PublishKey, value: str) -> None:
        account.key_record_put(name=name, key=key.key, value=value, keep=KEY_RECORD_SIZE)

    def _ref(self, account: ChannelAccount, post_id: str) -> PublishedRef:
        return PublishedRef(
            remote_id=post_id, url=f"https://www.threads.com/@{account.handle}/post/{post_id}"
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
        published = self._record_of(account, "published_keys").get(key.key)
        if published:
            return self._ref(account, published)
        part = variant.parts[part_index]
        with self._session(account) as client:
            if not account.remote_id:
                self.verify(account=account)
            container = self._record_of(account, "containers").get(key.key)
            if container and part.media:
                status = self._wait_finished(client, container)
                if status == "PUBLISHED":  # an earlier attempt went live: the reconcile finds it
                    found = self.find_published(
                        account=account, variant=variant, part_index=part_index, key=key
                    )
                    if found is not None:
                        return found
                if status != "FINISHED":  # expired (24 hours): a new container
                    container = ""
            if not container:
                container = self._build_container(client, account, part, reply_to)
                self._remember(account, "containers", key, container)
                if part.media:
                    self._wait_finished(client, container)
            answer = client.post_json(self._path(account, "threads_publish"), data={"creation_id": container})
        post_id = str(answer.get("id") or "")
        if not post_id:
            raise Rejected(f"threads: threads_publish returned no id: {answer}")
        self._remember(account, "published_keys", key, post_id)
        return self._ref(account, post_id)

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        published = self._record_of(account, "published_keys").get(key.key)
        if published:
            return self._ref(account, published)
        container = self._record_of(account, "containers").get(key.key)
        with self._session(account) as client:
            if container:
                status = client.get_json(f"/{API_VERSION}/{container}", params={"fields": "id,status"})
                if str(status.get("status") or "") != "PUBLISHED":
                    return None  # FINISHED, IN_PROGRESS, ERROR or EXPIRED: not live
            if not account.remote_id:
                self.verify(account=account)
            since = int((key.created_at - FIND_CLOCK_MARGIN).timestamp())
            body = client.get_json(
                self._path(account, "threads"),
                params={"fields": "id,text,timestamp", "since": since, "limit": 100},
            )
        want = variant.parts[part_index].text
        for post in body.get("data") or []:
            if str(post.get("text") or "") == want:
                post_id = str(post["id"])
                self._remember(account, "published_keys", key, post_id)
                return self._ref(account, post_id)
        return None

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """An answer is a reply post (``reply`` is ``publish_part`` with ``reply_to``): the key's record,
        else the container's status, else our own reply with that text under ``reply_to``
        (``GET /{media-id}/replies``)."""
        published = self._record_of(account, "published_keys").get(key.key)
        if published:
            return self._ref(account, published)
        container = self._record_of(account, "containers").get(key.key)
        with self._session(account) as client:
            if container:
                status = client.get_json(f"/{API_VERSION}/{container}", params={"fields": "id,status"})
                if str(status.get("status") or "") != "PUBLISHED":
                    return None
            if not account.handle:
                self.verify(account=account)
            body = client.get_json(
                f"/{API_VERSION}/{reply_to.remote_id}/replies",
                params={"fields": "id,text,username,timestamp"},
            )
        for reply in body.get("data") or []:
            if str(reply.get("username") or "") == account.handle and str(reply.get("text") or "") == text:
                post_id = str(reply["id"])
                self._remember(account, "published_keys", key, post_id)
                return self._ref(account, post_id)
        return None

    def delete(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """``DELETE /{threads-media-id}`` (100 per 24 hours); 404 = already gone."""
        with self._session(account) as client:
            try:
                client.request("DELETE", f"/{API_VERSION}/{ref.remote_id}")
            except Rejected as exc:
                if exc.http_status != 404:
                    raise

    # -- engagement ------------------------------------------------------------------------------
    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        """``GET /{media-id}/insights?metric=views,likes,replies,reposts,quotes`` and
        ``GET /{media-id}/replies``."""
        with self._session(account) as client:
            insights = client.get_json(
                f"/{API_VERSION}/{ref.remote_id}/insights", params={"metric": ",".join(INSIGHT_METRICS)}
            )
            replies = client.get_json(
                f"/{API_VERSION}/{ref.remote_id}/replies",
                params={"fields": "id,text,username,timestamp,permalink,replied_to"},
            )
        values: dict[str, int] = {}
        for metric in insights.get("data") or []:
            points = metric.get("values") or [{}]
            values[str(metric.get("name"))] = int(points[0].get("value") or 0)
        items = [
            RemoteReply(
                remote_id=str(r["id"]),
                url=str(r.get("permalink") or ""),
                author_id=str(r.get("username") or ""),
                author_handle=str(r.get("username") or ""),
                author_name=str(r.get("username") or ""),
                text=str(r.get("text") or ""),
                created_at=_parse_time(r.get("timestamp")) or datetime.now(UTC),
                in_reply_to_remote_id=str((r.get("replied_to") or {}).get("id") or ref.remote_id),
            )
            for r in replies.get("data") or []
            if str(r.get("username") or "") != account.handle
        ]
        return Engagement(
            likes=values.get("likes", 0),
            reposts=values.get("reposts", 0),
            replies=values.get("replies", len(items)),
            quotes=values.get("quotes"),
            impressions=values.get("views"),
            reply_items=items,
        )


__all__ = ["ThreadsConnector"]
