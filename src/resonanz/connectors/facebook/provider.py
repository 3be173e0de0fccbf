"""The Facebook Pages connector (Graph API, version pinned in ``graph.py``).

Publishing exactly once: the Graph API has no idempotency key. As for X, two things stand in for it:

* a record of the keys this Page published (``account.settings["published_keys"]``: key -> post id),
  consulted before every create, so a retry with the same key returns the first post;
* after an unknown outcome :meth:`FacebookConnector.find_published` reads the Page's own recent posts
  (``GET /{page-id}/posts`` with ``since`` a little before the key was recorded,
  https://developers.facebook.com/docs/graph-api/reference/page/feed) and matches message and number of
  attachments.

Answers from the inbox are comments (``POST /{object-id}/comments``), made exactly once the same way: the
record of keys, and :meth:`FacebookConnector.find_reply` reading the object's newest comments.

Native scheduling (``published=false`` + ``scheduled_publish_time``) is NOT used: Resonanz is the one
source of truth for when a post goes out. A post held by Facebook would be a second schedule (moving or
cancelling it in Resonanz would need a second call that can fail), and an unknown outcome of the create
would have to be reconciled against ``/scheduled_posts`` as well; publishing at the planned time keeps the
one reconcile path above.

Reels (``DraftVariant.format == "reel"``, https://developers.facebook.com/documentation/video-api/guides/reels-publishing)
are three phases on ``POST /{page-id}/video_reels``: ``upload_phase=start`` gives a video id and an upload
address, the bytes go there (``rupload.facebook.com``, headers ``offset``/``file_size``; the bytes rather than
a ``file_url`` so no public address of Resonanz is needed), and ``upload_phase=finish`` with
``video_state=PUBLISHED`` publishes it. The video id is recorded per key right after ``start``; ``finish`` is
the create. A retry or a reconcile first reads ``GET /{video-id}?fields=status``: once Facebook has the
finish (its processing or publishing phase moved), ``finish`` is never sent again.

Media: photos are uploaded with the bytes (``source``, multipart) and ``published=false``, then attached
to one feed post (``attached_media``), https://developers.facebook.com/docs/pages-api/posts#publish-a-photo;
one video goes to ``POST /{page-id}/videos``. An orphaned unpublished photo is invisible and harmless.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

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
    RateLimited,
    Rejected,
    RemoteReply,
    TemporaryError,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.preview import Segment, Span, split
from resonanz.connectors.base.provider import PublishKey, PushedActivity
from resonanz.connectors.base.spec import MediaKind, TextUnit
from resonanz.connectors.base.webhooks import WebhookReceiver

from . import login, webhooks
from .graph import GraphClient, GraphRejected
from .spec import FORMAT_FEED, FORMAT_REEL, SPEC, TEXT_LIMIT

logger = logging.getLogger(__name__)

# Facebook Login permissions for Pages (https://developers.facebook.com/docs/permissions): each needs
# Meta's app review before other people's Pages can be connected (docs/connectors.md). Answering from the
# inbox comments as the Page, which needs pages_manage_engagement
# (https://developers.facebook.com/documentation/pages-api/comments-mentions).
SCOPES = (
    "pages_show_list",
    "pages_manage_posts",
    "pages_manage_engagement",
    "pages_read_engagement",
    "business_management",
)
# Paid posts: the Marketing API's Insights are read with the user token and need ``ads_read``
# (https://developers.facebook.com/docs/marketing-api/insights, "Before you begin"). Asked for only when
# the operator turns ad reporting on (``RESONANZ_FACEBOOK_ADS=1``): without Advanced Access from Meta's
# app review the permission works only for people with a role on the app (docs/ads.md).
ADS_SCOPES = ("ads_read",)


def login_scopes() -> tuple[str, ...]:
    scopes = SCOPES + webhooks.push_scopes()
    return scopes + ADS_SCOPES if os.environ.get("RESONANZ_FACEBOOK_ADS") == "1" else scopes


# Which of an ad's ``actions`` count as leads, and which ``action_values`` as the value of conversions
# (ROAS). Meta reports each event under several overlapping types (``lead``, ``onsite_conversion.
# lead_grouped``, ``offsite_conversion.fb_pixel_lead``); ``lead`` is the aggregate of form and pixel
# leads, so only it is counted, never its parts (https://developers.facebook.com/docs/marketing-api/
# reference/ads-action-stats). The same for ``purchase``.
LEAD_ACTIONS = frozenset({"lead"})
VALUE_ACTIONS = frozenset({"purchase"})
INSIGHTS_FIELDS = (
    "ad_id,ad_name,campaign_id,campaign_name,account_currency,spend,impressions,clicks,actions,action_values"
)
ADS_PAGE_SIZE = 200
INSIGHTS_PAGE_SIZE = 200
ADS_MAX_PAGES = 100
KEY_RECORD_SIZE = 200
FIND_CLOCK_MARGIN = timedelta(minutes=2)
FIND_PAGE_SIZE = 50
FIND_MAX_PAGES = 3
# Post insights in force since the 2025 deprecations (spec.py): unique viewers of the post's media.
VIEWS_METRIC = "post_total_media_view_unique"
# Reel insights (``GET /{video-id}/video_insights``, Reels metrics of the Video Insights API,
# https://developers.facebook.com/docs/video-api/guides/reels-publishing#insights): plays. The reach metric
# of that list, ``post_impressions_unique``, is one of the metrics deprecated on 15 June 2025 and is not read.
REEL_PLAYS_METRIC = "blue_reels_play_count"
REEL_RECORD = "reel_uploads"  # key -> video id of the Reel's upload session
REEL_UPLOAD_RECORD = "reel_upload_urls"  # key -> where its bytes go (the answer of ``start``)
_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


def _trailing(url: str) -> str:
    """Sentence punctuation after a link ("… /blog/1." or "(… /blog/1)") is not part of it in the preview."""
    return url[len(url.rstrip(".,;:!?)]}")) :]


_WS = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _parse_time(value: Any) -> datetime | None:
    """Graph times look like ``2026-12-03T07:00:00+0000``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _media_kind(mime_type: str) -> MediaKind | None:
    rule = SPEC.media.rule_for_mime(mime_type or "")
    return rule.kind if rule else None


def _attachment_count(post: Mapping[str, Any]) -> int:
    attachments = (post.get("attachments") or {}).get("data") or []
    count = 0
    for attachment in attachments:
        if not isinstance(attachment, dict) or attachment.get("type") == "share":
            continue
        children = (attachment.get("subattachments") or {}).get("data") or []
        count += len(children) if children else 1
    return count


class FacebookConnector(Connector):
    network = "facebook"
    spec = SPEC

    def __init__(
        self,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
        poll_interval: float = 2.0,
        reel_timeout: float = 60.0,
    ) -> None:
        self.timeout = timeout
        self.transport = transport
        # A Reel's status is polled after ``finish`` until it is published, at most ``reel_timeout``
        # seconds; still processing then, it is accepted (Facebook publishes it once processed).
        self.poll_interval = poll_interval
        self.reel_timeout = reel_timeout

    # -- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _session(self, account: ChannelAccount) -> Iterator[GraphClient]:
        token = str(account.credentials.get("page_access_token") or "")
        if not token:
            raise AuthExpired(
                "facebook: no page token stored",
                network_message=gettext("This Facebook Page has no login. Please reconnect it."),
            )
        client = GraphClient(
            account.base_url, access_token=token, timeout=self.timeout, transport=self.transport
        )
        try:
            yield client
        finally:
            if client.usage:
                account.settings["graph_app_usage"] = client.usage
            client.close()

    @contextmanager
    def _ads_session(self, account: ChannelAccount) -> Iterator[GraphClient]:
        """The Marketing API is read with the *user* token (``ads_read`` is a user permission; a Page token
        sees no ad account)."""
        token = str(account.credentials.get("user_access_token") or "")
        if not token:
            raise AuthExpired(
                "facebook: no user token stored",
                network_message=gettext(
                    "This Facebook channel has no login that may read ads. Please reconnect it."
                ),
            )
        client = GraphClient(
            account.base_url, access_token=token, timeout=self.timeout, transport=self.transport
        )
        try:
            yield client
        finally:
            client.close()

    def refresh_credentials(self, *, account: ChannelAccount) -> None:
        """Page tokens have no refresh: one that Facebook refuses (190) was invalidated (password change,
        role removed, app removed), and only a new login brings it back."""
        raise AuthExpired(
            "facebook: page token invalidated",
            network_message=gettext(
                "Facebook no longer accepts the login of this Page (password changed, role or app removed). "
                "Please reconnect the channel."
            ),
        )

    # -- connecting ------------------------------------------------------------------------------
    def connect_begin(
        self, *, values: Mapping[str, str], redirect_uri: str, state: str, clients: ClientRegistry
    ) -> ConnectStart:
        config = login.app_config()
        if not config.app_id or not config.app_secret:
            message = gettext(
                "Facebook is not set up on this Resonanz yet: the operator registers an app at Meta for "
                "Developers and sets RESONANZ_FACEBOOK_APP_ID and RESONANZ_FACEBOOK_APP_SECRET "
                "(see docs/connectors.md)."
            )
            raise Rejected("facebook: RESONANZ_FACEBOOK_APP_ID/SECRET not set", network_message=message)
        return ConnectStart(
            authorize_url=login.authorization_url(
                config=config, redirect_uri=redirect_uri, state=state, scopes=login_scopes()
            ),
            base_url=config.api_url,
            state_data={"redirect_uri": redirect_uri, "page": str(values.get("page") or "")},
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
            reason = params.get("error_description") or params["error"]
            message = gettext("Facebook did not grant access: %(error)s") % {"error": reason}
            raise Rejected(f"facebook: {params['error']}", network_message=message)
        config = login.app_config()
        user = login.long_lived_user_token(
            config=config,
            code=params.get("code", ""),
            redirect_uri=str(state_data["redirect_uri"]),
            timeout=self.timeout,
        )
        pages = login.managed_pages(config=config, user_token=user["user_access_token"], timeout=self.timeout)
        page = login.pick_page(pages, str(state_data.get("page") or ""))
        if page is None:
            names = ", ".join(f"{p.get('name')} ({p.get('id')})" for p in pages) or "-"
            message = gettext("Please name the Facebook Page to connect; this login manages: %(pages)s") % {
                "pages": names
            }
            raise Rejected("facebook: page not chosen", network_message=message)
        if not page.get("access_token"):
            # A reconnect replaces the stored credentials whole: never store a Page without its token.
            message = gettext(
                "Facebook gave no token for the Page %(page)s (the permission pages_manage_posts is "
                "missing). The channel keeps its current login."
            ) % {"page": page.get("name")}
            raise Rejected("facebook: page without access_token", network_message=message)
        credentials = {
            "page_access_token": str(page["access_token"]),
            "user_access_token": user["user_access_token"],
            "user_token_expires_at": user["user_token_expires_at"],
        }
        account = ChannelAccount(network=self.network, base_url=config.api_url, credentials=credentials)
        info = self.verify(account=account)
        # Push (webhooks.py): only when the operator configured it; without, the inbox polls as before.
        webhooks.subscribe_page(
            api_url=config.api_url,
            page_id=info.remote_id,
            page_token=credentials["page_access_token"],
            timeout=self.timeout,
            transport=self.transport,
        )
        return ConnectedAccount(base_url=config.api_url, info=info, credentials=credentials)

    # -- push ------------------------------------------------------------------------------------
    def webhook_receiver(self) -> WebhookReceiver | None:
        return webhooks.MetaWebhookReceiver(object_type="page", read_change=self._read_change)

    @staticmethod
    def _read_change(page_id: str, field: str, value: Mapping[str, Any]) -> PushedActivity | None:
        """A Page ``feed`` or ``mention`` change (webhooks.py has the reference). A new comment (or a
        reply to one) under a post names the post: its reply sync files it with the thread (a post
        Resonanz did not publish is no variant and is skipped there). The Page's own comments (our
        answers) are left to the poll. A mention, or a visitor's post on the Page, carries no thread
        we read: the inbox poll runs."""
        item, verb = value.get("item"), value.get("verb")
        author = str((value.get("from") or {}).get("id") or "")
        if field == "feed" and item == "comment" and verb == "add":
            post_id = str(value.get("post_id") or "")
            if not post_id or author == page_id:
                return None
            return PushedActivity(account_remote_id=page_id, replied_posts=(post_id,))
        if (field == "mention" and verb == "add") or (
            field == "feed"
            and item in {"post", "status", "photo", "video"}
            and verb == "add"
            and author != page_id
        ):
            return PushedActivity(account_remote_id=page_id, resync=True)
        return None  # reactions, edits, removals, fields we do not read

    # -- account ---------------------------------------------------------------------------------
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        """``GET /me`` with the Page token is the Page (https://developers.facebook.com/docs/pages-api)."""
        with self._session(account) as client:
            me = client.get_json("/me", params={"fields": "id,name,username,link,picture"})
        if not isinstance(me, dict) or not me.get("id"):
            raise Rejected("facebook: /me returned no page")
        account.remote_id = str(me["id"])
        account.handle = str(me.get("username") or me.get("name") or me["id"])
        picture = ((me.get("picture") or {}).get("data") or {}).get("url") or ""
        return AccountInfo(
            remote_id=account.remote_id,
            handle=account.handle,
            display_name=str(me.get("name") or account.handle),
            avatar_url=str(picture),
            profile_url=str(me.get("link") or f"https://www.facebook.com/{me['id']}"),
        )

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        return TextCount(count=len(text), limit=TEXT_LIMIT, unit=TextUnit.CHARACTERS)

    def preview_segments(self, *, text: str) -> list[Segment]:
        """Links as the post will carry them: the first one is also the post's ``link`` (its card)."""
        return split(
            text, [Span(m.start(), m.end() - len(_trailing(m.group(0))), "link") for m in _URL.finditer(text)]
        )

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if variant.content_warning:
            issues.append(
                ValidationIssue(
                    code="content_warning_unsupported",
                    message=gettext("Facebook has no content warnings; remove it or write it into the text."),
                    field="content_warning",
                )
            )
        if variant.visibility and variant.visibility != "public":
            issues.append(
                ValidationIssue(
                    code="invalid_visibility",
                    message=gettext(
                        "Every post of a Facebook Page is public; visibility %(visibility)s does not exist."
                    )
                    % {"visibility": variant.visibility},
                    field="visibility",
                )
            )
        if len(variant.parts) > 1:
            issues.append(
                ValidationIssue(
                    code="too_many_parts",
                    message=gettext(
                        "Facebook has no threads: the post has %(count)s parts, %(limit)s is allowed."
                    )
                    % {"count": len(variant.parts), "limit": 1},
                    field="parts",
                    count=len(variant.parts),
                    limit=1,
                )
            )
        fmt = variant.format or FORMAT_FEED
        if fmt not in self.spec.format_labels():
            issues.append(
                ValidationIssue(
                    code="invalid_format",
                    message=gettext("Facebook has no format %(format)s; choose a feed post or a Reel.")
                    % {"format": variant.format},
                    field="format",
                )
            )
        for index, part in enumerate(variant.parts[:1]):
            issues.extend(self._validate_part(index, part))
            if fmt == FORMAT_REEL:
                issues.extend(self._validate_reel(index, part))
        return issues

    @staticmethod
    def _validate_reel(index: int, part: DraftPart) -> list[ValidationIssue]:
        """A Reel is one video (the reels guide's specifications); its duration (3-90 s), 9:16 shape and
        resolution are checked by Facebook while processing, as Resonanz reads no video metadata yet."""
        kinds = [_media_kind(m.mime_type) for m in part.media]
        if kinds == [MediaKind.VIDEO]:
            return []
        return [
            ValidationIssue(
                code="reel_needs_one_video",
                message=gettext(
                    "A Facebook Reel is exactly one video (vertical, 9:16, 3 to 90 seconds); this post has "
                    "%(count)s attachments and %(videos)s videos."
                )
                % {"count": len(part.media), "videos": kinds.count(MediaKind.VIDEO)},
                part_index=index,
                field="media",
                count=len(part.media),
                limit=1,
            )
        ]

    def _validate_part(self, index: int, part: DraftPart) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if len(part.text) > TEXT_LIMIT:
            issues.append(
                ValidationIssue(
                    code="too_many_characters",
                    message=gettext("The post has %(count)s characters; Facebook allows %(limit)s.")
                    % {"count": len(part.text), "limit": TEXT_LIMIT},
                    part_index=index,
                    count=len(part.text),
                    limit=TEXT_LIMIT,
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
        media = self.spec.media
        if len(part.media) > media.max_items:
            issues.append(
                ValidationIssue(
                    code="too_many_media",
                    message=gettext(
                        "The post has %(count)s attachments; Resonanz sends up to %(limit)s photos."
                    )
                    % {"count": len(part.media), "limit": media.max_items},
                    part_index=index,
                    field="media",
                    count=len(part.media),
                    limit=media.max_items,
                )
            )
        elif len(part.media) > 1 and MediaKind.VIDEO in kinds:
            issues.append(
                ValidationIssue(
                    code="mixed_media",
                    message=gettext("A Facebook post takes several photos or one video, not both."),
                    part_index=index,
                    field="media",
                )
            )
        for item, kind in zip(part.media, kinds, strict=True):
            rule = media.rule(kind) if kind else None
            name = item.filename or item.mime_type or "?"
            if rule is None:
                issues.append(
                    ValidationIssue(
                        code="unsupported_media_type",
                        message=gettext("Facebook does not accept %(type)s files (%(name)s).")
                        % {"type": item.mime_type or "?", "name": name},
                        part_index=index,
                        field="media",
                    )
                )
            elif rule.max_bytes is not None and len(item.data) > rule.max_bytes:
                issues.append(
                    ValidationIssue(
                        code=f"{rule.kind.value}_too_large",
                        message=gettext("%(name)s has %(count)s bytes; Facebook allows %(limit)s.")
                        % {"name": name, "count": len(item.data), "limit": rule.max_bytes},
                        part_index=index,
                        field="media",
                        count=len(item.data),
                        limit=rule.max_bytes,
                    )
                )
        return issues

    # -- publishing ------------------------------------------------------------------------------
    @staticmethod
    def _ref(post_id: str) -> PublishedRef:
        return PublishedRef(remote_id=post_id, url=f"https://www.facebook.com/{post_id}")

    @staticmethod
    def _recorded(account: ChannelAccount, key: PublishKey) -> str | None:
        return account.key_record_get(name="published_keys", key=key.key)

    @staticmethod
    def _record(account: ChannelAccount, key: PublishKey, post_id: str) -> None:
        account.key_record_put(name="published_keys", key=key.key, value=post_id, keep=KEY_RECORD_SIZE)

    def _upload_photo(self, client: GraphClient, page_id: str, media: DraftMedia) -> str:
        """``POST /{page-id}/photos`` with ``published=false``: a photo to attach, not a post yet."""
        data = {"published": "false"}
        if media.alt_text:
            data["alt_text_custom"] = media.alt_text
        files = {"source": (media.filename or "photo", media.data, media.mime_type)}
        try:
            body = client.post_json(f"/{page_id}/photos", data=data, files=files)
        except OutcomeUnknown as exc:
            raise ConnectionFailed(f"facebook: photo upload got no answer: {exc}") from exc
        return str(body["id"])

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
        recorded = self._recorded(account, key)
        if recorded:
            return self._reel_ref(recorded) if variant.format == FORMAT_REEL else self._ref(recorded)
        part = variant.parts[part_index]
        if variant.format == FORMAT_REEL:
            return self._publish_reel(account, part, key)
        with self._session(account) as client:
            page_id = account.remote_id or self.verify(account=account).remote_id
            kinds = [_media_kind(m.mime_type) for m in part.media]
            if kinds == [MediaKind.VIDEO]:
                video = part.media[0]
                body = client.post_json(
                    f"/{page_id}/videos",
                    data={"description": part.text},
                    files={"source": (video.filename or "video.mp4", video.data, video.mime_type)},
                )
                post_id = str(body.get("post_id") or body["id"])
            else:
                photo_ids = [self._upload_photo(client, page_id, m) for m in part.media]
                payload: dict[str, Any] = {"message": part.text}
                if photo_ids:
                    payload["attached_media"] = [{"media_fbid": p} for p in photo_ids]
                else:
                    link = _URL.search(part.text)
                    if link:
                        payload["link"] = link.group(0)
                body = client.post_json(f"/{page_id}/feed", json=payload)
                post_id = str(body["id"])
        self._record(account, key, post_id)
        return self._ref(post_id)

    # -- Reels ------------------------------------------------------------------------------------
    @staticmethod
    def _reel_ref(video_id: str) -> PublishedRef:
        return PublishedRef(
            remote_id=video_id, url=f"https://www.facebook.com/reel/{video_id}", extra={"format": FORMAT_REEL}
        )

    @staticmethod
    def _is_reel(ref: PublishedRef) -> bool:
        # The engagement sync hands over id and URL only, so the URL says it too.
        return ref.extra.get("format") == FORMAT_REEL or "/reel/" in ref.url

    @staticmethod
    def _reel_status(client: GraphClient, video_id: str) -> dict[str, Any]:
        body = client.get_json(f"/{video_id}", params={"fields": "id,status"})
        status = body.get("status") if isinstance(body, dict) else None
        return dict(status) if isinstance(status, dict) else {}

    @staticmethod
    def _phase(status: Mapping[str, Any], name: str) -> str:
        phase = status.get(name)
        return str(phase.get("status") or "") if isinstance(phase, dict) else ""

    @classmethod
    def _reel_state(cls, status: Mapping[str, Any]) -> str:
        """What the status (``video_status`` and the uploading / processing / publishing phases) says
        about our calls: ``published``; ``finished`` (Facebook has the finish and is publishing);
        ``failed``; ``processing`` (it may or may not have the finish: ask again later); ``uploaded``
        (the bytes are there, no finish yet); ``empty`` (the upload must be sent)."""
        publishing = cls._phase(status, "publishing_phase")
        processing = cls._phase(status, "processing_phase")
        video_status = str(status.get("video_status") or "")
        if (
            publishing == "complete"
            or (status.get("publishing_phase") or {}).get("publish_status") == "published"
        ):
            return "published"
        if (
            "error" in (publishing, processing, cls._phase(status, "uploading_phase"))
            or video_status == "error"
        ):
            return "failed"
        if publishing == "in_progress":
            return "finished"
        if processing == "in_progress":
            return "processing"
        if cls._phase(status, "uploading_phase") == "complete":
            return "uploaded"
        return "empty"

    @classmethod
    def _reel_error(cls, status: Mapping[str, Any]) -> Rejected:
        detail = ""
        for name in ("uploading_phase", "processing_phase", "publishing_phase"):
            phase = status.get(name)
            errors = phase.get("errors") if isinstance(phase, dict) else None
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                detail = str(errors[0].get("message") or "")
                break
        detail = detail or str(status.get("video_status") or "error")
        return Rejected(
            f"facebook: reel failed: {detail}",
            network_message=gettext("Facebook could not publish the Reel: %(detail)s") % {"detail": detail},
        )

    def _upload_reel(
        self, client: GraphClient, account: ChannelAccount, upload_url: str, video: DraftMedia
    ) -> None:
        """The bytes in one request to the upload address ``start`` gave (``Authorization: OAuth``,
        ``offset``, ``file_size``). An upload without an answer is harmless: the retry reads the status
        and sends it again."""
        token = str(account.credentials.get("page_access_token") or "")
        try:
            client.post_json(
                upload_url,
                content=video.data,
                headers={
                    "Authorization": f"OAuth {token}",
                    "offset": "0",
                    "file_size": str(len(video.data)),
                    "Content-Type": "application/octet-stream",
                },
            )
        except OutcomeUnknown as exc:
            raise ConnectionFailed(f"facebook: reel upload got no answer: {exc}") from exc

    def _publish_reel(self, account: ChannelAccount, part: DraftPart, key: PublishKey) -> PublishedRef:
        video = part.media[0] if part.media else None
        if video is None or _media_kind(video.mime_type) != MediaKind.VIDEO:
            raise Rejected(
                "facebook: a reel needs one video",
                network_message=gettext("A Facebook Reel is exactly one video."),
            )
        with self._session(account) as client:
            page_id = account.remote_id or self.verify(account=account).remote_id
            video_id = account.key_record_get(name=REEL_RECORD, key=key.key)
            state = "empty"
            if video_id:
                state = self._reel_state(self._reel_status(client, video_id))
                if state == "processing":
                    raise TemporaryError(
                        f"facebook: reel {video_id} still processing",
                        network_message=gettext(
                            "Facebook is still processing the Reel; Resonanz will look again."
                        ),
                    )
            if state in ("published", "finished"):  # an earlier attempt's finish arrived: never again
                return self._reel_done(client, account, key, str(video_id))
            if not video_id or state == "failed":
                try:
                    start = client.post_json(f"/{page_id}/video_reels", json={"upload_phase": "start"})
                except OutcomeUnknown as exc:  # an upload session without a video expires unused
                    raise ConnectionFailed(f"facebook: reel start got no answer: {exc}") from exc
                video_id = str(start["video_id"])
                account.key_record_put(name=REEL_RECORD, key=key.key, value=video_id, keep=KEY_RECORD_SIZE)
                account.key_record_put(
                    name=REEL_UPLOAD_RECORD, key=key.key, value=str(start["upload_url"]), keep=KEY_RECORD_SIZE
                )
                self._upload_reel(client, account, str(start["upload_url"]), video)
            elif state == "empty":  # the session is there, its bytes are not (an upload without answer)
                upload_url = account.key_record_get(name=REEL_UPLOAD_RECORD, key=key.key) or ""
                self._upload_reel(client, account, upload_url, video)
            try:
                client.post_json(
                    f"/{page_id}/video_reels",
                    json={
                        "upload_phase": "finish",
                        "video_id": video_id,
                        "video_state": "PUBLISHED",
                        "description": part.text,
                    },
                )
            except (OutcomeUnknown, RateLimited, AuthExpired):
                raise  # no answer: the engine reconciles through find_published, which reads the status
            except (Rejected, TemporaryError):
                if self._reel_state(self._reel_status(client, str(video_id))) not in (
                    "published",
                    "finished",
                ):
                    raise
            return self._reel_done(client, account, key, str(video_id))

    def _reel_done(
        self, client: GraphClient, account: ChannelAccount, key: PublishKey, video_id: str
    ) -> PublishedRef:
        """Poll the status until the Reel is published (an error is a rejection with Facebook's words);
        still processing after ``reel_timeout``, it is accepted: Facebook publishes it when done."""
        deadline = time.monotonic() + self.reel_timeout
        while True:
            status = self._reel_status(client, video_id)
            state = self._reel_state(status)
            if state == "failed":
                raise self._reel_error(status)
            if state == "published" or time.monotonic() > deadline:
                break
            time.sleep(self.poll_interval)
        self._record(account, key, video_id)
        return self._reel_ref(video_id)

    def _find_reel(self, account: ChannelAccount, key: PublishKey) -> PublishedRef | None:
        """After an unknown outcome: no recorded upload session = no Reel (``start`` comes first); else
        the status decides: finish received -> the Reel; still processing -> cannot tell yet (temporary,
        the engine asks again); only uploaded -> certainly not published."""
        video_id = account.key_record_get(name=REEL_RECORD, key=key.key)
        if not video_id:
            return None
        with self._session(account) as client:
            status = self._reel_status(client, video_id)
        state = self._reel_state(status)
        if state in ("published", "finished"):
            self._record(account, key, video_id)
            return self._reel_ref(video_id)
        if state == "processing":
            raise TemporaryError(
                f"facebook: reel {video_id} still processing",
                network_message=gettext("Facebook is still processing the Reel; Resonanz will look again."),
            )
        return None

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        recorded = self._recorded(account, key)
        if recorded:
            return self._reel_ref(recorded) if variant.format == FORMAT_REEL else self._ref(recorded)
        if variant.format == FORMAT_REEL:
            return self._find_reel(account, key)
        part = variant.parts[part_index]
        want = normalise_text(part.text)
        with self._session(account) as client:
            page_id = account.remote_id or self.verify(account=account).remote_id
            params: dict[str, Any] = {
                "fields": "id,message,created_time,attachments{type,subattachments}",
                "since": int((key.created_at - FIND_CLOCK_MARGIN).timestamp()),
                "limit": FIND_PAGE_SIZE,
            }
            for _ in range(FIND_MAX_PAGES):
                page = client.get_json(f"/{page_id}/posts", params=params)
                for post in page.get("data") or []:
                    if normalise_text(str(post.get("message") or "")) != want:
                        continue
                    if _attachment_count(post) != len(part.media):
                        continue
                    self._record(account, key, str(post["id"]))
                    return self._ref(str(post["id"]))
                after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
                if not after or not (page.get("paging") or {}).get("next"):
                    break
                params["after"] = after
        return None

    def edit(
        self, *, account: ChannelAccount, ref: PublishedRef, variant: DraftVariant, part_index: int
    ) -> PublishedRef:
        """``POST /{post-id}`` with a new ``message`` (https://developers.facebook.com/docs/pages-api/posts#update-a-post);
        photos and video of a published post cannot be changed."""
        field = "description" if self._is_reel(ref) else "message"  # a Reel is a video: its description
        with self._session(account) as client:
            client.post_json(f"/{ref.remote_id}", json={field: variant.parts[part_index].text})
        return ref

    def delete(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """``DELETE /{post-id}``; an object that no longer exists (code 100, subcode 33) is gone already."""
        with self._session(account) as client:
            try:
                client.request("DELETE", f"/{ref.remote_id}")
            except GraphRejected as exc:
                if not (exc.graph_code == 100 and exc.graph_subcode == 33) and exc.http_status != 404:
                    raise

    # -- inbox actions ---------------------------------------------------------------------------
    def hide(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """``POST /{comment-id}`` with ``is_hidden=true``: the comment disappears for everyone but its
        author and their friends (https://developers.facebook.com/docs/graph-api/reference/comment/,
        "Updating"; needs ``pages_manage_engagement``). Hiding twice leaves it hidden."""
        with self._session(account) as client:
            client.post_json(f"/{ref.remote_id}", json={"is_hidden": True})

    def delete_reply(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """Our answer is a comment of the Page: ``DELETE /{comment-id}`` like a post (gone = done)."""
        self.delete(account=account, ref=ref)

    # -- answering (the inbox) --------------------------------------------------------------------
    @staticmethod
    def _comment_ref(comment_id: str) -> PublishedRef:
        return PublishedRef(remote_id=comment_id, url=f"https://www.facebook.com/{comment_id}")

    def reply(
        self,
        *,
        account: ChannelAccount,
        text: str,
        key: PublishKey,
        reply_to: PublishedRef,
        root: PublishedRef | None = None,
    ) -> PublishedRef:
        """An answer on Facebook is a comment: ``POST /{object-id}/comments`` with ``message``, the
        object being the post or the comment answered (Facebook threads it under that comment),
        https://developers.facebook.com/docs/graph-api/reference/object/comments/. The Graph API takes
        no idempotency key: the key -> comment id record (with the posts' record) makes a retry with the
        same key return the first comment, and ``find_reply`` reconciles an unknown outcome."""
        recorded = self._recorded(account, key)
        if recorded:
            return self._comment_ref(recorded)
        with self._session(account) as client:
            body = client.post_json(f"/{reply_to.remote_id}/comments", json={"message": text})
        comment_id = str(body.get("id") or "") if isinstance(body, dict) else ""
        if not comment_id:
            raise Rejected("facebook: the comment was answered without an id")
        self._record(account, key, comment_id)
        return self._comment_ref(comment_id)

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """The key's record, else the object's newest comments (``order=reverse_chronological``, at most
        ``FIND_MAX_PAGES`` pages) for one by this Page with this text, made since the key was recorded."""
        recorded = self._recorded(account, key)
        if recorded:
            return self._comment_ref(recorded)
        want = normalise_text(text)
        since = key.created_at - FIND_CLOCK_MARGIN
        with self._session(account) as client:
            page_id = account.remote_id or self.verify(account=account).remote_id
            params: dict[str, Any] = {
                "fields": "id,message,from,created_time",
                "order": "reverse_chronological",
                "limit": FIND_PAGE_SIZE,
            }
            for _ in range(FIND_MAX_PAGES):
                page = client.get_json(f"/{reply_to.remote_id}/comments", params=params)
                for comment in page.get("data") or []:
                    created = _parse_time(comment.get("created_time"))
                    if created is not None and created < since:
                        return None  # newest first: everything further down is older than the key
                    if str((comment.get("from") or {}).get("id") or "") != page_id:
                        continue
                    if normalise_text(str(comment.get("message") or "")) != want:
                        continue
                    self._record(account, key, str(comment["id"]))
                    return self._comment_ref(str(comment["id"]))
                after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
                if not after or not (page.get("paging") or {}).get("next"):
                    break
                params["after"] = after
        return None

    # -- paid posts ------------------------------------------------------------------------------
    @staticmethod
    def _pages(client: GraphClient, path: str, params: dict[str, Any], *, max_pages: int) -> Iterator[Any]:
        """Every item of a cursor-paged edge: follow ``paging.cursors.after`` while ``paging.next`` is
        there (https://developers.facebook.com/docs/graph-api/results)."""
        query = dict(params)
        for _page in range(max_pages):
            body = client.get_json(path, params=query)
            yield from body.get("data") or []
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            query["after"] = after

    def list_ad_accounts(self, *, account: ChannelAccount) -> list[AdAccount]:
        """``GET /me/adaccounts`` (https://developers.facebook.com/docs/marketing-api/reference/user/adaccounts)."""
        with self._ads_session(account) as client:
            items = list(
                self._pages(
                    client,
                    "/me/adaccounts",
                    {"fields": "id,account_id,name,currency", "limit": 100},
                    max_pages=10,
                )
            )
        return [
            AdAccount(
                remote_id=str(item.get("account_id") or str(item.get("id", "")).removeprefix("act_")),
                name=str(item.get("name") or item.get("id") or ""),
                currency=str(item.get("currency") or ""),
            )
            for item in items
            if isinstance(item, dict)
        ]

    @staticmethod
    def _ad_account_node(account: ChannelAccount) -> str:
        raw = str(account.settings.get(AD_ACCOUNT_SETTING) or "").strip().removeprefix("act_")
        if not raw.isdigit():
            raise Rejected(
                "facebook: no ad account chosen",
                network_message=gettext(
                    "Choose the Facebook ad account of this channel first (the number after act_)."
                ),
            )
        return f"act_{raw}"

    def fetch_ad_results(self, *, account: ChannelAccount, since: date, until: date) -> list[AdResult]:
        """One row per ad and day from the ad account's Insights
        (``GET /act_<id>/insights?level=ad&time_increment=1&time_range=…``,
        https://developers.facebook.com/docs/marketing-api/reference/ad-account/insights), and which Page
        post each ad promotes from its creative's ``effective_object_story_id`` (``GET /act_<id>/ads``,
        https://developers.facebook.com/docs/marketing-api/reference/ad-creative): a boosted post's id is
        the ``{page-id}_{post-id}`` the connector stored when it published it."""
        node = self._ad_account_node(account)
        with self._ads_session(account) as client:
            stories: dict[str, str] = {}
            for ad in self._pages(
                client,
                f"/{node}/ads",
                {"fields": "id,creative{effective_object_story_id}", "limit": ADS_PAGE_SIZE},
                max_pages=ADS_MAX_PAGES,
            ):
                story = ((ad.get("creative") or {}) if isinstance(ad, dict) else {}).get(
                    "effective_object_story_id"
                )
                if story:
                    stories[str(ad["id"])] = str(story)
            rows = list(
                self._pages(
                    client,
                    f"/{node}/insights",
                    {
                        "level": "ad",
                        "time_increment": 1,
                        "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
                        "fields": INSIGHTS_FIELDS,
                        "limit": INSIGHTS_PAGE_SIZE,
                    },
                    max_pages=ADS_MAX_PAGES,
                )
            )
        return [self._ad_result(row, stories) for row in rows if isinstance(row, dict) and row.get("ad_id")]

    @staticmethod
    def _ad_result(row: Mapping[str, Any], stories: Mapping[str, str]) -> AdResult:
        def decimal(value: Any) -> Decimal:
            try:
                return Decimal(str(value)) if value not in (None, "") else Decimal(0)
            except InvalidOperation:
                return Decimal(0)

        def summed(key: str, types: frozenset[str]) -> Decimal:
            return sum(
                (
                    decimal(a.get("value"))
                    for a in row.get(key) or []
                    if isinstance(a, dict) and a.get("action_type") in types
                ),
                Decimal(0),
            )

        ad_id = str(row["ad_id"])
        return AdResult(
            remote_id=ad_id,
            day=date.fromisoformat(str(row.get("date_start"))),
            spend=decimal(row.get("spend")),
            currency=str(row.get("account_currency") or ""),
            impressions=int(decimal(row.get("impressions"))),
            clicks=int(decimal(row.get("clicks"))),
            leads=int(summed("actions", LEAD_ACTIONS)),
            conversion_value=summed("action_values", VALUE_ACTIONS),
            post_remote_id=stories.get(ad_id, ""),
            campaign_remote_id=str(row.get("campaign_id") or ""),
            campaign_name=str(row.get("campaign_name") or ""),
            name=str(row.get("ad_name") or ""),
        )

    # -- engagement ------------------------------------------------------------------------------
    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        """Counts from the post (``reactions``/``comments`` summaries, ``shares``,
        https://developers.facebook.com/docs/graph-api/reference/pagepost), comments from
        ``/{post-id}/comments`` (``filter=stream``: replies to comments too) and the views from
        ``/{post-id}/insights`` (``post_total_media_view_unique``). A Reel is a video: its counts come from
        the video, its plays from ``/{video-id}/video_insights``."""
        if self._is_reel(ref):
            return self._reel_engagement(account, ref)
        with self._session(account) as client:
            post = client.get_json(
                f"/{ref.remote_id}",
                params={
                    "fields": (
                        "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
                    )
                },
            )
            comments = client.get_json(
                f"/{ref.remote_id}/comments",
                params={
                    "fields": "id,message,from,created_time,parent,permalink_url",
                    "filter": "stream",
                    "limit": 100,
                },
            )
            impressions: int | None = None
            try:
                insights = client.get_json(f"/{ref.remote_id}/insights", params={"metric": VIEWS_METRIC})
            except Rejected as exc:  # insights need pages_read_engagement and a Page with 100+ likes
                logger.info("facebook insights unavailable for %s: %s", ref.remote_id, exc)
            else:
                for metric in insights.get("data") or []:
                    if metric.get("name") == VIEWS_METRIC and metric.get("values"):
                        impressions = int(metric["values"][-1].get("value") or 0)
        reply_items = [self._reply(c, ref) for c in comments.get("data") or [] if isinstance(c, dict)]
        return Engagement(
            likes=int(((post.get("reactions") or {}).get("summary") or {}).get("total_count") or 0),
            reposts=int((post.get("shares") or {}).get("count") or 0),
            replies=int(((post.get("comments") or {}).get("summary") or {}).get("total_count") or 0),
            quotes=None,
            impressions=impressions,
            reply_items=reply_items,
        )

    def _reel_engagement(self, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        with self._session(account) as client:
            video = client.get_json(
                f"/{ref.remote_id}",
                params={
                    "fields": "likes.summary(total_count).limit(0),comments.summary(total_count).limit(0)"
                },
            )
            comments = client.get_json(
                f"/{ref.remote_id}/comments",
                params={
                    "fields": "id,message,from,created_time,parent,permalink_url",
                    "filter": "stream",
                    "limit": 100,
                },
            )
            plays: int | None = None
            try:
                insights = client.get_json(
                    f"/{ref.remote_id}/video_insights", params={"metric": REEL_PLAYS_METRIC}
                )
            except Rejected as exc:
                logger.info("facebook reel insights unavailable for %s: %s", ref.remote_id, exc)
            else:
                for metric in insights.get("data") or []:
                    if metric.get("name") == REEL_PLAYS_METRIC and metric.get("values"):
                        plays = int(metric["values"][-1].get("value") or 0)
        return Engagement(
            likes=int(((video.get("likes") or {}).get("summary") or {}).get("total_count") or 0),
            reposts=0,  # Facebook reports no shares count on a video object
            replies=int(((video.get("comments") or {}).get("summary") or {}).get("total_count") or 0),
            quotes=None,
            impressions=plays,
            video_views=plays,
            reply_items=[self._reply(c, ref) for c in comments.get("data") or [] if isinstance(c, dict)],
        )

    @staticmethod
    def _reply(comment: Mapping[str, Any], ref: PublishedRef) -> RemoteReply:
        author = comment.get("from") or {}
        parent = (comment.get("parent") or {}).get("id") or ref.remote_id
        return RemoteReply(
            remote_id=str(comment["id"]),
            url=str(comment.get("permalink_url") or f"https://www.facebook.com/{comment['id']}"),
            author_id=str(author.get("id") or ""),
            author_handle=str(author.get("name") or ""),
            author_name=str(author.get("name") or ""),
            text=str(comment.get("message") or ""),
            created_at=_parse_time(comment.get("created_time")) or datetime.now(UTC),
            in_reply_to_remote_id=str(parent),
        )


__all__ = ["SCOPES", "FacebookConnector"]
