"""The LinkedIn connector: posts for a member (``urn:li:person:…``) or an organisation page
(``urn:li:organization:…``) through the Posts API.

Publishing exactly once without an idempotency key: ``POST /rest/posts`` takes none. Three things stand
in for it:

* a record of the keys this channel published (``account.settings["published_keys"]``: key -> post URN,
  the last ``KEY_RECORD_SIZE``), consulted before every create;
* after an unknown outcome the engine calls :meth:`LinkedInConnector.find_published`, which reads the
  author's recent posts (``GET /rest/posts?q=author``, newest first) and matches the commentary as sent
  (little-escaped), the creation time and the attachment count;
* every create is read back (``GET /rest/posts/{urn}``): LinkedIn has answered 201 for posts that never
  appeared (reported by users of other tools); a 404 after the read-back retries is "not published", a
  temporary error, and the key is not recorded, so the engine's retry creates it again.

Tokens: 60-day access tokens; refresh tokens (365 days, fixed expiry) only for approved partners. The
access token is refreshed ``REFRESH_MARGIN`` before it expires when a refresh token exists;
:meth:`login_expires_at` tells the channel health check when the user must sign in again.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

import httpx
from django.utils.translation import gettext

from resonanz.connectors.base import (
    AD_ACCOUNT_SETTING,
    AccountInfo,
    AdAccount,
    AdResult,
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
from resonanz.connectors.base.preview import Segment, Span, drop_overlaps, split
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.base.spec import MediaKind, TextUnit
from resonanz.connectors.base.text import URL_RE

from . import oauth
from .client import LinkedInClient, request_id
from .spec import ALT_TEXT_MAX, MAX_IMAGES, SPEC
from .text import COMMENTARY_LIMIT, HASHTAG_RE, MENTION_RE, commentary_length, to_little

logger = logging.getLogger(__name__)

REFRESH_MARGIN = 3600
KEY_RECORD_SIZE = 200
FIND_CLOCK_MARGIN = timedelta(minutes=2)
FIND_PAGE_SIZE = 50  # GET /rest/posts?q=author: count up to 100
FIND_MAX_PAGES = 3
# Read-back after create: LinkedIn's read side may lag a moment behind the create.
READBACK_DELAYS = (0.0, 1.0, 2.0)
VIDEO_POLL_SECONDS = 120.0
# adAnalytics returns only the fields named (at most 20); pivotValues and dateRange must be asked for.
ANALYTICS_FIELDS = (
    "pivotValues,dateRange,costInLocalCurrency,impressions,clicks,externalWebsiteConversions,oneClickLeads,"
    "conversionValueInLocalCurrency"
)
_ORG_RE = re.compile(r"^(?:urn:li:organization:)?(\d+)$")


def _encode(urn: str) -> str:
    """A URN in a URL path or a Rest.li 2.0 query value is percent-encoded whole (":" too)."""
    return quote(urn, safe="")


def _media_kind(mime_type: str) -> MediaKind | None:
    rule = SPEC.media.rule_for_mime(mime_type or "")
    return rule.kind if rule else None


def _ms(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def post_url(urn: str) -> str:
    return f"https://www.linkedin.com/feed/update/{urn}/"


class LinkedInConnector(Connector):
    network = "linkedin"
    spec = SPEC

    def __init__(
        self,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        readback_delays: tuple[float, ...] = READBACK_DELAYS,
    ) -> None:
        self.timeout = timeout
        self.transport = transport
        self.readback_delays = readback_delays

    # -- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _session(self, account: ChannelAccount) -> Iterator[LinkedInClient]:
        self._refresh_if_due(account)
        token = str(account.credentials.get("access_token") or "")
        if not token:
            raise AuthExpired(
                "linkedin: no access token stored",
                network_message=gettext("This LinkedIn channel has no login. Please reconnect it."),
            )
        client = LinkedInClient(
            account.base_url, access_token=token, timeout=self.timeout, transport=self.transport
        )
        try:
            yield client
        finally:
            client.close()

    def _refresh_if_due(self, account: ChannelAccount) -> None:
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
                "linkedin: no refresh token",
                network_message=gettext(
                    "LinkedIn's login for this channel has expired (LinkedIn gives this app no refresh "
                    "tokens). Please reconnect the channel."
                ),
            )
        config = oauth.app_config(api_url=account.base_url)
        expires = account.credentials.get("refresh_expires_at")
        new = oauth.refresh(
            config=config,
            refresh_token=refresh_token,
            refresh_expires_at=int(expires) if isinstance(expires, int | float) else None,
            timeout=self.timeout,
        )
        account.update_credentials(**new)

    def login_expires_at(self, *, account: ChannelAccount) -> datetime | None:
        """When the user must sign in again: the refresh token's end if there is one, else the access
        token's (60 days)."""
        credentials = account.credentials
        key = "refresh_expires_at" if credentials.get("refresh_token") else "expires_at"
        value = credentials.get(key)
        if not isinstance(value, int | float):
            return None
        return datetime.fromtimestamp(float(value), tz=UTC)

    @staticmethod
    def author(account: ChannelAccount) -> str:
        organization = account.settings.get("organization_urn")
        if isinstance(organization, str) and organization:
            return organization
        return f"urn:li:person:{account.remote_id}" if account.remote_id else ""

    # -- connecting ------------------------------------------------------------------------------
    def connect_begin(
        self, *, values: Mapping[str, str], redirect_uri: str, state: str, clients: ClientRegistry
    ) -> ConnectStart:
        config = oauth.app_config()
        if not config.client_id or not config.client_secret:
            message = gettext(
                "LinkedIn is not set up on this Resonanz yet: the operator registers an app in LinkedIn's "
                "developer portal and sets RESONANZ_LINKEDIN_CLIENT_ID and RESONANZ_LINKEDIN_CLIENT_SECRET "
                "(see docs/connectors.md)."
            )
            raise Rejected("linkedin: client id or secret not set", network_message=message)
        wanted = (values.get("organization") or "").strip()
        page = bool(wanted)
        if page and wanted.lower() not in ("page", "seite") and not _ORG_RE.match(wanted):
            message = gettext(
                "“%(value)s” is not a page: write “page”, the page's number or urn:li:organization:…"
            ) % {"value": wanted}
            raise Rejected(f"linkedin: bad organization {wanted!r}", network_message=message)
        return ConnectStart(
            authorize_url=oauth.authorization_url(
                config=config, redirect_uri=redirect_uri, state=state, scopes=oauth.scopes_for(page=page)
            ),
            base_url=config.api_url,
            state_data={"redirect_uri": redirect_uri, "organization": wanted},
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
            message = gettext("LinkedIn did not grant access: %(error)s") % {
                "error": params.get("error_description") or params["error"]
            }
            raise Rejected(f"linkedin: {params['error']}", network_message=message)
        config = oauth.app_config(api_url=base_url)
        credentials = oauth.exchange_code(
            config=config,
            code=params.get("code", ""),
            redirect_uri=str(state_data["redirect_uri"]),
            timeout=self.timeout,
        )
        account = ChannelAccount(network=self.network, base_url=config.api_url, credentials=credentials)
        wanted = str(state_data.get("organization") or "")
        if wanted:
            account.update_settings(organization_urn=self._pick_organization(account, wanted))
        info = self.verify(account=account)
        return ConnectedAccount(
            base_url=config.api_url,
            info=info,
            credentials=dict(account.credentials),
            settings=dict(account.settings),
        )

    def administered_organizations(self, *, account: ChannelAccount) -> list[str]:
        """``GET /rest/organizationAcls?q=roleAssignee&role=ADMINISTRATOR&state=APPROVED``
        (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/
        organization-access-control-by-role): the pages the member administers."""
        with self._session(account) as client:
            body = client.get_json(
                "/rest/organizationAcls",
                params={"q": "roleAssignee", "role": "ADMINISTRATOR", "state": "APPROVED"},
            )
        return [
            str(e["organization"])
            for e in body.get("elements") or []
            if isinstance(e, dict) and e.get("organization") and e.get("state", "APPROVED") == "APPROVED"
        ]

    def _pick_organization(self, account: ChannelAccount, wanted: str) -> str:
        pages = self.administered_organizations(account=account)
        match = _ORG_RE.match(wanted)
        if match:
            urn = f"urn:li:organization:{match.group(1)}"
            if urn in pages:
                return urn
        elif len(pages) == 1:
            return pages[0]
        message = (
            gettext("You administer no LinkedIn page; connect without a page to post as yourself.")
            if not pages
            else gettext("Choose one of the pages you administer: %(pages)s") % {"pages": ", ".join(pages)}
        )
        raise Rejected(f"linkedin: organization {wanted!r} not among {pages}", network_message=message)

    # -- account ---------------------------------------------------------------------------------
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        """The member from ``GET /v2/userinfo`` (OpenID Connect,
        https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2);
        for a page also ``GET /rest/organizations/{id}``."""
        with self._session(account) as client:
            me = client.get_json("/v2/userinfo")
            if not isinstance(me, dict) or not me.get("sub"):
                raise Rejected("linkedin: /v2/userinfo returned no member")
            account.remote_id = str(me["sub"])
            organization = account.settings.get("organization_urn")
            if isinstance(organization, str) and organization:
                org_id = organization.rsplit(":", 1)[-1]
                page = client.get_json(f"/rest/organizations/{org_id}")
                name = str(page.get("localizedName") or org_id)
                vanity = str(page.get("vanityName") or "")
                account.handle = vanity or org_id
                return AccountInfo(
                    remote_id=organization,
                    handle=account.handle,
                    display_name=name,
                    profile_url=f"https://www.linkedin.com/company/{vanity or org_id}/",
                )
        name = str(me.get("name") or "")
        account.handle = name or str(me["sub"])
        return AccountInfo(
            remote_id=str(me["sub"]),
            handle=account.handle,
            display_name=name,
            avatar_url=str(me.get("picture") or ""),
        )

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        return TextCount(count=commentary_length(text), limit=COMMENTARY_LIMIT, unit=TextUnit.CHARACTERS)

    def preview_segments(self, *, text: str) -> list[Segment]:
        spans = [Span(m.start(), m.end(), "mention") for m in MENTION_RE.finditer(text)]
        spans += [Span(m.start(), m.end(), "link") for m in URL_RE.finditer(text)]
        spans += [Span(m.start(), m.end(), "tag") for m in HASHTAG_RE.finditer(text)]
        found = []
        for segment in split(text, drop_overlaps(spans)):
            mention = MENTION_RE.fullmatch(segment.text) if segment.kind == "mention" else None
            found.append(Segment("mention", mention.group(1), title=mention.group(2)) if mention else segment)
        return found

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if variant.content_warning:
            issues.append(
                ValidationIssue(
                    code="content_warning_unsupported",
                    message=gettext("LinkedIn has no content warnings; remove it or write it into the text."),
                    field="content_warning",
                )
            )
        if variant.visibility and variant.visibility != "public":
            issues.append(
                ValidationIssue(
                    code="invalid_visibility",
                    message=gettext("Resonanz posts to LinkedIn publicly; %(visibility)s is not offered.")
                    % {"visibility": variant.visibility},
                    field="visibility",
                )
            )
        if len(variant.parts) > self.max_thread_parts:
            issues.append(
                ValidationIssue(
                    code="too_many_parts",
                    message=gettext(
                        "LinkedIn has no threads: the post has %(count)s parts; at most %(limit)s is allowed."
                    )
                    % {"count": len(variant.parts), "limit": self.max_thread_parts},
                    field="parts",
                    count=len(variant.parts),
                    limit=self.max_thread_parts,
                )
            )
        for index, part in enumerate(variant.parts):
            issues.extend(self._validate_part(index, part))
        return issues

    def _validate_part(self, index: int, part: DraftPart) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        count = commentary_length(part.text)
        if count > COMMENTARY_LIMIT:
            issues.append(
                ValidationIssue(
                    code="too_many_characters",
                    message=gettext("The text has %(count)s characters; LinkedIn allows %(limit)s.")
                    % {"count": count, "limit": COMMENTARY_LIMIT},
                    part_index=index,
                    count=count,
                    limit=COMMENTARY_LIMIT,
                )
            )
        if not part.text.strip() and not part.media:
            issues.append(
                ValidationIssue(
                    code="empty_part",
                    message=gettext("The post has neither text nor media."),
                    part_index=index,
                )
            )
        kinds = [_media_kind(m.mime_type) for m in part.media]
        if len(part.media) > MAX_IMAGES:
            issues.append(
                ValidationIssue(
                    code="too_many_media",
                    message=gettext("The post has %(count)s attachments; LinkedIn allows %(limit)s images.")
                    % {"count": len(part.media), "limit": MAX_IMAGES},
                    part_index=index,
                    field="media",
                    count=len(part.media),
                    limit=MAX_IMAGES,
                )
            )
        elif len(part.media) > 1 and any(k != MediaKind.IMAGE for k in kinds):
            issues.append(
                ValidationIssue(
                    code="mixed_media",
                    message=gettext(
                        "LinkedIn takes up to 20 images, or one GIF, one video or one document per post."
                    ),
                    part_index=index,
                    field="media",
                )
            )
        for media, kind in zip(part.media, kinds, strict=True):
            issues.extend(self._validate_media(index, media, kind))
        return issues

    def _validate_media(self, index: int, media: DraftMedia, kind: MediaKind | None) -> list[ValidationIssue]:
        name = media.filename or media.mime_type or "?"
        rule = self.spec.media.rule(kind) if kind else None
        if rule is None:
            return [
                ValidationIssue(
                    code="unsupported_media_type",
                    message=gettext("LinkedIn does not accept %(type)s files (%(name)s).")
                    % {"type": media.mime_type or "?", "name": name},
                    part_index=index,
                    field="media",
                )
            ]
        issues: list[ValidationIssue] = []
        if rule.max_bytes is not None and len(media.data) > rule.max_bytes:
            issues.append(
                ValidationIssue(
                    code=f"{rule.kind.value}_too_large",
                    message=gettext("%(name)s has %(count)s bytes; LinkedIn allows %(limit)s.")
                    % {"name": name, "count": len(media.data), "limit": rule.max_bytes},
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
                        "The alt text of %(name)s has %(count)s characters; LinkedIn allows %(limit)s."
                    )
                    % {"name": name, "count": len(media.alt_text), "limit": ALT_TEXT_MAX},
                    part_index=index,
                    field="alt_text",
                    count=len(media.alt_text),
                    limit=ALT_TEXT_MAX,
                )
            )
        return issues

    # -- media -----------------------------------------------------------------------------------
    def _upload(self, client: LinkedInClient, owner: str, media: DraftMedia) -> str:
        """Images (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/
        images-api) and documents (…/documents-api): ``initializeUpload`` with the owner, then ``PUT`` the
        bytes to ``uploadUrl``; videos (…/videos-api): ``initializeUpload`` with ``fileSizeBytes``, a
        ``PUT`` per upload instruction (byte range), ``finalizeUpload`` with the parts' ETags. An upload
        without an answer is a plain retryable failure: an orphaned asset is never shown."""
        kind = _media_kind(media.mime_type)
        try:
            if kind == MediaKind.VIDEO:
                return self._upload_video(client, owner, media)
            resource = "documents" if kind == MediaKind.DOCUMENT else "images"
            started = client.post_json(
                f"/rest/{resource}",
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": owner}},
            )
            value = started.get("value") or {}
            urn = str(value.get("document" if resource == "documents" else "image") or "")
            upload_url = str(value.get("uploadUrl") or "")
            if not urn or not upload_url:
                raise Rejected(f"linkedin: initializeUpload returned no upload URL: {started}")
            client.request(
                "PUT", upload_url, content=media.data, headers={"Content-Type": "application/octet-stream"}
            )
        except OutcomeUnknown as exc:
            raise ConnectionFailed(f"linkedin: media upload got no answer: {exc}") from exc
        return urn

    def _upload_video(self, client: LinkedInClient, owner: str, media: DraftMedia) -> str:
        started = client.post_json(
            "/rest/videos",
            params={"action": "initializeUpload"},
            json={
                "initializeUploadRequest": {
                    "owner": owner,
                    "fileSizeBytes": len(media.data),
                    "uploadCaptions": False,
                    "uploadThumbnail": False,
                }
            },
        )
        value = started.get("value") or {}
        urn = str(value.get("video") or "")
        etags: list[str] = []
        for instruction in value.get("uploadInstructions") or []:
            first, last = int(instruction["firstByte"]), int(instruction["lastByte"])
            answer = client.request(
                "PUT",
                str(instruction["uploadUrl"]),
                content=media.data[first : last + 1],
                headers={"Content-Type": "application/octet-stream"},
            )
            etags.append(answer.headers.get("etag", ""))
        client.request(
            "POST",
            "/rest/videos",
            params={"action": "finalizeUpload"},
            json={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": str(value.get("uploadToken") or ""),
                    "uploadedPartIds": etags,
                }
            },
        )
        return urn

    def _content(self, client: LinkedInClient, owner: str, part: DraftPart) -> dict[str, Any] | None:
        """``content`` of the post: ``media`` for one image, video or document, ``multiImage`` for 2-20
        images (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/
        multiimage-post-api)."""
        if not part.media:
            return None
        uploaded = [(m, self._upload(client, owner, m)) for m in part.media]
        if len(uploaded) > 1:
            return {"multiImage": {"images": [{"id": urn, "altText": m.alt_text} for m, urn in uploaded]}}
        media, urn = uploaded[0]
        entry: dict[str, Any] = {"id": urn}
        kind = _media_kind(media.mime_type)
        if kind in (MediaKind.IMAGE, MediaKind.GIF):
            if media.alt_text:
                entry["altText"] = media.alt_text
        else:
            entry["title"] = media.filename or ("Video" if kind == MediaKind.VIDEO else "Document")
        return {"media": entry}

    # -- publishing ------------------------------------------------------------------------------
    @staticmethod
    def _recorded(account: ChannelAccount, key: PublishKey) -> str | None:
        return account.key_record_get(name="published_keys", key=key.key)

    @staticmethod
    def _record(account: ChannelAccount, key: PublishKey, urn: str) -> None:
        account.key_record_put(name="published_keys", key=key.key, value=urn, keep=KEY_RECORD_SIZE)

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
        """``POST /rest/posts`` (Posts API); the new post's URN comes in the ``x-restli-id`` header."""
        recorded = self._recorded(account, key)
        if recorded:
            return PublishedRef(remote_id=recorded, url=post_url(recorded))
        part = variant.parts[part_index]
        with self._session(account) as client:
            author = self.author(account) or self._author_from_verify(account)
            body: dict[str, Any] = {
                "author": author,
                "commentary": to_little(part.text),
                "visibility": "PUBLIC",
                "distribution": {
                    "feedDistribution": "MAIN_FEED",
                    "targetEntities": [],
                    "thirdPartyDistributionChannels": [],
                },
                "lifecycleState": "PUBLISHED",
                "isReshareDisabledByAuthor": False,
            }
            content = self._content(client, author, part)
            if content:
                body["content"] = content
            response = client.request("POST", "/rest/posts", json=body)
            urn = response.headers.get("x-restli-id", "")
            if not urn:
                raise Rejected(
                    f"linkedin: create answered {response.status_code} without x-restli-id "
                    f"(request {request_id(response.headers) or '-'})"
                )
            self._read_back(client, urn, response)
        self._record(account, key, urn)
        return PublishedRef(remote_id=urn, url=post_url(urn))

    def _read_back(self, client: LinkedInClient, urn: str, created: httpx.Response) -> None:
        """``GET /rest/posts/{urn}`` until it exists: a create LinkedIn answered but never shows is not
        published (a temporary error, so the engine tries again; nothing was recorded)."""
        for delay in self.readback_delays:
            if delay:
                time.sleep(delay)
            try:
                client.get_json(f"/rest/posts/{_encode(urn)}")
            except Rejected as exc:
                if exc.http_status != 404:
                    raise
                continue
            return
        rid = request_id(created.headers)
        raise TemporaryError(
            f"linkedin: post {urn} was reported created but does not exist (request {rid or '-'})",
            network_message=gettext(
                "LinkedIn reported the post as created, but it does not appear (request id %(id)s); "
                "Resonanz will try again."
            )
            % {"id": rid or "-"},
        )

    def _author_from_verify(self, account: ChannelAccount) -> str:
        self.verify(account=account)
        return self.author(account)

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        recorded = self._recorded(account, key)
        if recorded:
            return PublishedRef(remote_id=recorded, url=post_url(recorded))
        part = variant.parts[part_index]
        want = to_little(part.text)
        since = key.created_at - FIND_CLOCK_MARGIN
        with self._session(account) as client:
            author = self.author(account) or self._author_from_verify(account)
            for page in range(FIND_MAX_PAGES):
                # Rest.li 2.0: the URN is percent-encoded inside the query; built by hand so it is
                # encoded exactly once.
                query = (
                    f"q=author&author={_encode(author)}&count={FIND_PAGE_SIZE}&start={page * FIND_PAGE_SIZE}"
                )
                body = client.get_json(f"/rest/posts?{query}", headers={"X-RestLi-Method": "FINDER"})
                elements = body.get("elements") or []
                for post in elements:
                    created = _ms(post.get("createdAt"))
                    if created is not None and created < since:
                        return None  # newest first: everything after is older
                    if str(post.get("commentary") or "") != want:
                        continue
                    if self._attachments(post.get("content")) != len(part.media):
                        continue
                    urn = str(post["id"])
                    self._record(account, key, urn)
                    return PublishedRef(remote_id=urn, url=post_url(urn))
                if len(elements) < FIND_PAGE_SIZE:
                    break
        return None

    @staticmethod
    def _attachments(content: Any) -> int:
        if not isinstance(content, dict) or not content:
            return 0
        if "multiImage" in content:
            return len((content["multiImage"] or {}).get("images") or [])
        return 1 if "media" in content else 0

    def edit(
        self, *, account: ChannelAccount, ref: PublishedRef, variant: DraftVariant, part_index: int
    ) -> PublishedRef:
        """The commentary, by ``PARTIAL_UPDATE`` (Posts API, "Update Posts"); media cannot change."""
        text = to_little(variant.parts[part_index].text)
        with self._session(account) as client:
            client.request(
                "POST",
                f"/rest/posts/{_encode(ref.remote_id)}",
                json={"patch": {"$set": {"commentary": text}}},
                headers={"X-RestLi-Method": "PARTIAL_UPDATE"},
            )
        return ref

    def delete(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """``DELETE /rest/posts/{urn}``; 404 = already gone."""
        with self._session(account) as client:
            try:
                client.request(
                    "DELETE", f"/rest/posts/{_encode(ref.remote_id)}", headers={"X-RestLi-Method": "DELETE"}
                )
            except Rejected as exc:
                if exc.http_status != 404:
                    raise

    # -- answering (comments) --------------------------------------------------------------------
    @staticmethod
    def _comment_target(reply_to: PublishedRef, root: PublishedRef | None) -> tuple[str, str]:
        """(the post commented on, the parent comment or ""). A comment URN names its post's activity:
        ``urn:li:comment:(urn:li:activity:123,456)``; the comment is made on that object."""
        match = re.fullmatch(r"urn:li:comment:\((urn:li:[a-zA-Z]+:\d+),\d+\)", reply_to.remote_id)
        if match:
            return (root.remote_id if root is not None else match.group(1)), reply_to.remote_id
        return reply_to.remote_id, ""

    def reply(
        self,
        *,
        account: ChannelAccount,
        text: str,
        key: PublishKey,
        reply_to: PublishedRef,
        root: PublishedRef | None = None,
    ) -> PublishedRef:
        """A comment: ``POST /rest/socialActions/{post}/comments`` with the channel's author as ``actor``
        and ``parentComment`` when answering a comment (https://learn.microsoft.com/en-us/linkedin/
        marketing/community-management/shares/comments-api). ``message.text`` is plain text (the little
        format is for posts' commentary). Idempotent per key by the same record as posts."""
        recorded = self._recorded(account, key)
        if recorded:
            return PublishedRef(remote_id=recorded, url=reply_to.url)
        target, parent = self._comment_target(reply_to, root)
        with self._session(account) as client:
            author = self.author(account) or self._author_from_verify(account)
            body: dict[str, Any] = {"actor": author, "object": target, "message": {"text": text}}
            if parent:
                body["parentComment"] = parent
            response = client.request("POST", f"/rest/socialActions/{_encode(target)}/comments", json=body)
        created = response.json() if response.content else {}
        urn = str(created.get("commentUrn") or "") if isinstance(created, dict) else ""
        if not urn:
            comment_id = response.headers.get("x-restli-id", "")
            urn = f"urn:li:comment:({target},{comment_id})" if comment_id else ""
        if not urn:
            raise Rejected(f"linkedin: comment answered {response.status_code} without an id")
        self._record(account, key, urn)
        return PublishedRef(remote_id=urn, url=post_url(target))

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """The key's record, else our own comment with that text on the post, made since the key."""
        recorded = self._recorded(account, key)
        if recorded:
            return PublishedRef(remote_id=recorded, url=reply_to.url)
        target, _parent = self._comment_target(reply_to, None)
        since = key.created_at - FIND_CLOCK_MARGIN
        with self._session(account) as client:
            author = self.author(account) or self._author_from_verify(account)
            body = client.get_json(f"/rest/socialActions/{_encode(target)}/comments")
        for comment in body.get("elements") or []:
            created = _ms((comment.get("created") or {}).get("time"))
            if comment.get("actor") != author or (created is not None and created < since):
                continue
            if str((comment.get("message") or {}).get("text") or "") == text:
                urn = str(comment.get("commentUrn") or "")
                self._record(account, key, urn)
                return PublishedRef(remote_id=urn, url=post_url(target))
        return None

    # -- paid posts ------------------------------------------------------------------------------
    def list_ad_accounts(self, *, account: ChannelAccount) -> list[AdAccount]:
        """``GET /rest/adAccounts?q=search`` (the accounts this member may use,
        https://learn.microsoft.com/en-us/linkedin/marketing/integrations/ads/account-structure/
        create-and-manage-accounts): ``r_ads``."""
        query = "q=search&search=(status:(values:List(ACTIVE)))"
        with self._session(account) as client:
            body = client.get_json(f"/rest/adAccounts?{query}")
        return [
            AdAccount(
                remote_id=str(item.get("id")),
                name=str(item.get("name") or ""),
                currency=str(item.get("currency") or ""),
            )
            for item in body.get("elements") or []
            if isinstance(item, dict) and item.get("id") is not None
        ]

    @staticmethod
    def _ad_account_id(account: ChannelAccount) -> str:
        raw = (
            str(account.settings.get(AD_ACCOUNT_SETTING) or "")
            .strip()
            .removeprefix("urn:li:sponsoredAccount:")
        )
        if not raw.isdigit():
            raise Rejected(
                "linkedin: no ad account chosen",
                network_message=gettext("Choose the LinkedIn ad account of this channel first (its number)."),
            )
        return raw

    def fetch_ad_results(self, *, account: ChannelAccount, since: date, until: date) -> list[AdResult]:
        """Daily figures per sponsored creative from ``GET /rest/adAnalytics?q=analytics&pivot=CREATIVE
        &timeGranularity=DAILY`` (https://learn.microsoft.com/en-us/linkedin/marketing/integrations/
        ads-reporting/ads-reporting: Rest.li 2.0 ``dateRange`` and ``List(…)``; ``pivotValues`` and
        ``dateRange`` come back only when named in ``fields``; the Analytics finder is not paged). The
        money is in the account's currency (``costInLocalCurrency``), read from ``GET /rest/adAccounts/{id}``;
        each creative's ``content.reference`` is the promoted post's URN (``GET /rest/adAccounts/{id}/
        creatives/{urn}``), the campaign's name from ``adCampaigns``."""
        account_id = self._ad_account_id(account)
        sponsored = _encode(f"urn:li:sponsoredAccount:{account_id}")

        def when(day: date) -> str:
            return f"(year:{day.year},month:{day.month},day:{day.day})"

        query = (
            f"q=analytics&pivot=CREATIVE&timeGranularity=DAILY&dateRange=(start:{when(since)},end:{when(until)})"
            f"&accounts=List({sponsored})&fields={ANALYTICS_FIELDS}"
        )
        with self._session(account) as client:
            currency = str(client.get_json(f"/rest/adAccounts/{account_id}").get("currency") or "")
            elements = client.get_json(f"/rest/adAnalytics?{query}").get("elements") or []
            creatives: dict[str, dict[str, Any]] = {}
            campaigns: dict[str, str] = {}
            results: list[AdResult] = []
            for element in elements:
                if not isinstance(element, dict) or not element.get("pivotValues"):
                    continue
                urn = str(element["pivotValues"][0])
                if urn not in creatives:
                    creatives[urn] = client.get_json(
                        f"/rest/adAccounts/{account_id}/creatives/{_encode(urn)}"
                    )
                creative = creatives[urn]
                campaign = str(creative.get("campaign") or "")
                if campaign and campaign not in campaigns:
                    campaign_id = campaign.rsplit(":", 1)[-1]
                    found = client.get_json(f"/rest/adAccounts/{account_id}/adCampaigns/{campaign_id}")
                    campaigns[campaign] = str(found.get("name") or "")
                results.append(self._ad_result(element, urn, creative, currency, campaigns.get(campaign, "")))
        return results

    @staticmethod
    def _ad_result(
        element: dict[str, Any], urn: str, creative: dict[str, Any], currency: str, campaign_name: str
    ) -> AdResult:
        def decimal(value: Any) -> Decimal:
            try:
                return Decimal(str(value)) if value not in (None, "") else Decimal(0)
            except InvalidOperation:
                return Decimal(0)

        start = (element.get("dateRange") or {}).get("start") or {}
        return AdResult(
            remote_id=urn,
            day=date(int(start["year"]), int(start["month"]), int(start["day"])),
            spend=decimal(element.get("costInLocalCurrency")),
            currency=currency,
            impressions=int(element.get("impressions") or 0),
            clicks=int(element.get("clicks") or 0),
            # Lead Gen Form leads and website conversions both count as leads here (docs/ads.md).
            leads=int(element.get("oneClickLeads") or 0)
            + int(element.get("externalWebsiteConversions") or 0),
            conversion_value=decimal(element.get("conversionValueInLocalCurrency")),
            post_remote_id=str((creative.get("content") or {}).get("reference") or ""),
            campaign_remote_id=str(creative.get("campaign") or ""),
            campaign_name=campaign_name,
            name=str(creative.get("name") or urn),
        )

    # -- engagement ------------------------------------------------------------------------------
    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        """Likes and comments from ``GET /rest/socialActions/{urn}`` and its ``/comments``
        (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/
        network-update-social-actions); impressions and reshares for a page's posts from
        ``organizationalEntityShareStatistics`` (…/organizations/share-statistics). A member's
        impressions (``memberCreatorPostAnalytics``) need a scope Resonanz does not ask for yet."""
        urn = _encode(ref.remote_id)
        with self._session(account) as client:
            summary = client.get_json(f"/rest/socialActions/{urn}")
            comments = client.get_json(f"/rest/socialActions/{urn}/comments")
            statistics: dict[str, Any] = {}
            organization = account.settings.get("organization_urn")
            if isinstance(organization, str) and organization and ref.remote_id.startswith("urn:li:share:"):
                query = (
                    f"q=organizationalEntity&organizationalEntity={_encode(organization)}"
                    f"&shares=List({_encode(ref.remote_id)})"
                )
                body = client.get_json(f"/rest/organizationalEntityShareStatistics?{query}")
                for element in body.get("elements") or []:
                    statistics = element.get("totalShareStatistics") or {}
        mine = self.author(account)
        items = [
            self._reply(c, ref.remote_id)
            for c in comments.get("elements") or []
            if isinstance(c, dict) and c.get("actor") != mine
        ]
        likes = int((summary.get("likesSummary") or {}).get("totalLikes") or 0)
        replies = int((summary.get("commentsSummary") or {}).get("aggregatedTotalComments") or len(items))
        impressions = statistics.get("impressionCount")
        # totalShareStatistics: ``uniqueImpressionsCount`` (members reached) and ``clickCount`` (clicks on
        # the post, its content or the company name;
        # https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics).
        reach = statistics.get("uniqueImpressionsCount")
        clicks = statistics.get("clickCount")
        return Engagement(
            likes=likes,
            reposts=int(statistics.get("shareCount") or 0),
            replies=replies,
            quotes=None,
            impressions=int(impressions) if impressions is not None else None,
            reach=int(reach) if reach is not None else None,
            clicks=int(clicks) if clicks is not None else None,
            reply_items=items,
        )

    @staticmethod
    def _reply(comment: dict[str, Any], parent: str) -> RemoteReply:
        actor = str(comment.get("actor") or "")
        return RemoteReply(
            remote_id=str(comment.get("commentUrn") or comment.get("id") or ""),
            url=post_url(parent),
            author_id=actor,
            author_handle=actor.rsplit(":", 1)[-1],
            author_name=actor.rsplit(":", 1)[-1],
            text=str((comment.get("message") or {}).get("text") or ""),
            created_at=_ms((comment.get("created") or {}).get("time")) or datetime.now(UTC),
            in_reply_to_remote_id=str(comment.get("object") or parent),
        )


__all__ = ["LinkedInConnector", "post_url"]
