"""The Instagram connector (professional accounts through Facebook Login, Graph API version pinned in
``connectors/facebook/graph.py``).

Publishing is two steps (https://developers.facebook.com/docs/instagram-platform/content-publishing):
a container (``POST /{ig-user-id}/media``; for a carousel one per item plus the carousel itself), polled
(``GET /{container}?fields=status_code``) until FINISHED, then ``POST /{ig-user-id}/media_publish``.

* Before the first call, ``GET /{ig-user-id}/content_publishing_limit`` is read: when ``quota_usage``
  reached ``config.quota_total`` (100 posts per 24 hours) the publish is refused clearly, not attempted.
* A container still IN_PROGRESS after ``container_timeout`` is a temporary error (the container id is kept
  and reused by the retry); ERROR is a rejection with Instagram's status text; EXPIRED (24 hours) makes a
  new container.
* A post that went live is never marked failed: after any error of ``media_publish`` except a rate limit
  or a dead token, the connector reads the container's status and the account's recent media before
  deciding; a timeout (unknown outcome) is raised, and the engine's reconcile (``find_published``) reads
  back the same way. The record of keys (key -> media id, key -> container id) makes retries idempotent.

Formats (``DraftVariant.format``): a feed post (picture, carousel, or one video, which Instagram shares as
a Reel), a Reel (one video, ``media_type=REELS``) or a Story (``media_type=STORIES``, one picture or video,
no caption). A Story goes the same container -> FINISHED -> ``media_publish`` way; after an unknown outcome
its container must say PUBLISHED before the account's stories (``GET /{ig-user-id}/stories``) are read for
it, since a story has no caption to recognise it by.

Media are fetched by Instagram from a public URL (``connectors.base.media``): images are converted to
JPEG (Pillow), scaled up to 320 px where narrower, and handed to the media host; an address a server on
the internet cannot reach is refused with a clear message before anything is sent.
"""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
from collections.abc import Iterator, Mapping
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
    NotSupported,
    OutcomeUnknown,
    PublishedRef,
    RateLimited,
    Rejected,
    RemoteReply,
    TemporaryError,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.media import media_address_setting, media_host, unreachable_reason
from resonanz.connectors.base.provider import PublishKey, PushedActivity
from resonanz.connectors.base.spec import MediaKind, TextUnit
from resonanz.connectors.base.webhooks import WebhookReceiver
from resonanz.connectors.facebook import login, webhooks
from resonanz.connectors.facebook.graph import GraphClient, GraphRejected

from .spec import (
    ASPECT_MAX,
    ASPECT_MIN,
    CAPTION_LIMIT,
    FORMAT_FEED,
    FORMAT_REEL,
    FORMAT_STORY,
    MAX_CAROUSEL,
    MAX_HASHTAGS,
    MAX_MENTIONS,
    MAX_WIDTH,
    MIN_WIDTH,
    SPEC,
)

logger = logging.getLogger(__name__)

# Facebook Login permissions (https://developers.facebook.com/docs/instagram-platform/overview#permissions).
SCOPES = (
    "instagram_basic",
    "instagram_content_publish",
    "instagram_manage_comments",
    "instagram_manage_insights",
    "pages_show_list",
    "pages_read_engagement",
    "business_management",
)
KEY_RECORD_SIZE = 200
FIND_CLOCK_MARGIN = timedelta(minutes=2)
FIND_PAGE_SIZE = 50
FIND_MAX_PAGES = 3  # comments read back per reconcile: at most 150 on the object answered
# Media insights since v22.0 (``impressions`` deprecated): views, reach and the interaction counts.
INSIGHT_METRICS = ("views", "reach", "likes", "comments", "shares", "saved")
# Story insights (Media Insights reference, "Stories"): what Resonanz reads while the story is up (24 h).
STORY_METRICS = ("views", "reach", "replies", "shares")
_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")
_WS = re.compile(r"\s+")


def normalise_text(text: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFC", text)).strip()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None


def _kind(mime_type: str) -> MediaKind | None:
    rule = SPEC.media.rule_for_mime(mime_type or "")
    return rule.kind if rule else None


def image_size(data: bytes) -> tuple[int, int] | None:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # noqa: BLE001 - anything Pillow cannot read is "unknown size"
        return None


def to_jpeg(data: bytes) -> bytes:
    """Instagram takes JPEG only: convert (flattening transparency on white) and scale up to 320 px wide,
    down to 1440 px, as Instagram would."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as source:
        image = source.convert("RGBA") if source.mode in ("RGBA", "LA", "P") else source.convert("RGB")
        if image.mode == "RGBA":
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image.split()[3])
            image = background
        width, height = image.size
        if width < MIN_WIDTH or width > MAX_WIDTH:
            target = MIN_WIDTH if width < MIN_WIDTH else MAX_WIDTH
            image = image.resize((target, max(1, round(height * target / width))))
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=90)
        return out.getvalue()


def text_card(text: str) -> bytes:
    """A square JPEG with the text on it, for a post without picture (Instagram refuses a caption alone)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1080, 1080), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    words, lines, line = text.split(), [], ""
    for word in words:
        candidate = f"{line} {word}".strip()
        if len(candidate) > 40 and line:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    for index, value in enumerate(lines[:20]):
        draw.text((80, 80 + index * 44), value, fill=(20, 20, 20), font_size=36)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


class InstagramConnector(Connector):
    network = "instagram"
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
        self.poll_interval = poll_interval
        self.container_timeout = container_timeout
        # Tests only: the emulator runs on this machine and fetches from 127.0.0.1.
        self.allow_private_media_urls = allow_private_media_urls

    # -- plumbing --------------------------------------------------------------------------------
    @contextmanager
    def _session(self, account: ChannelAccount) -> Iterator[GraphClient]:
        token = str(account.credentials.get("page_access_token") or "")
        if not token:
            raise AuthExpired(
                "instagram: no token stored",
                network_message=gettext("This Instagram channel has no login. Please reconnect it."),
            )
        client = GraphClient(
            account.base_url, access_token=token, timeout=self.timeout, transport=self.transport
        )
        try:
            yield client
        finally:
            client.close()

    def refresh_credentials(self, *, account: ChannelAccount) -> None:
        raise AuthExpired(
            "instagram: token invalidated",
            network_message=gettext(
                "Facebook no longer accepts the login of this Instagram account (password changed, role or "
                "app removed). Please reconnect the channel."
            ),
        )

    # -- connecting ------------------------------------------------------------------------------
    def connect_begin(
        self, *, values: Mapping[str, str], redirect_uri: str, state: str, clients: ClientRegistry
    ) -> ConnectStart:
        config = login.app_config()
        if not config.app_id or not config.app_secret:
            message = gettext(
                "Instagram is not set up on this Resonanz yet: the operator registers an app at Meta for "
                "Developers and sets RESONANZ_FACEBOOK_APP_ID and RESONANZ_FACEBOOK_APP_SECRET "
                "(see docs/connectors.md)."
            )
            raise Rejected("instagram: app not configured", network_message=message)
        return ConnectStart(
            authorize_url=login.authorization_url(
                config=config, redirect_uri=redirect_uri, state=state, scopes=SCOPES + webhooks.push_scopes()
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
            raise Rejected(
                f"instagram: {params['error']}",
                network_message=gettext("Facebook did not grant access: %(error)s") % {"error": reason},
            )
        config = login.app_config()
        user = login.long_lived_user_token(
            config=config,
            code=params.get("code", ""),
            redirect_uri=str(state_data["redirect_uri"]),
            timeout=self.timeout,
        )
        pages = [
            p
            for p in login.managed_pages(
                config=config, user_token=user["user_access_token"], timeout=self.timeout
            )
            if (p.get("instagram_business_account") or {}).get("id")
        ]
        page = login.pick_page(pages, str(state_data.get("page") or ""))
        if page is None or not page.get("access_token"):
            names = ", ".join(f"{p.get('name')} ({p.get('id')})" for p in pages) or "-"
            message = gettext(
                "Please name the Facebook Page whose Instagram account to connect; Pages with an Instagram "
                "professional account: %(pages)s"
            ) % {"pages": names}
            raise Rejected("instagram: page not chosen", network_message=message)
        credentials = {
            "page_access_token": str(page["access_token"]),
            "user_access_token": user["user_access_token"],
            "user_token_expires_at": user["user_token_expires_at"],
        }
        account = ChannelAccount(
            network=self.network,
            base_url=config.api_url,
            remote_id=str(page["instagram_business_account"]["id"]),
            credentials=credentials,
        )
        info = self.verify(account=account)
        # Instagram's webhooks come for accounts whose linked Page installed our app
        # (connectors/facebook/webhooks.py); only when the operator configured push.
        webhooks.subscribe_page(
            api_url=config.api_url,
            page_id=str(page["id"]),
            page_token=credentials["page_access_token"],
            timeout=self.timeout,
            transport=self.transport,
        )
        return ConnectedAccount(base_url=config.api_url, info=info, credentials=credentials)

    # -- push ------------------------------------------------------------------------------------
    def webhook_receiver(self) -> WebhookReceiver | None:
        return webhooks.MetaWebhookReceiver(object_type="instagram", read_change=self._read_change)

    @staticmethod
    def _read_change(ig_user_id: str, field: str, value: Mapping[str, Any]) -> PushedActivity | None:
        """An Instagram ``comments`` or ``mentions`` change (connectors/facebook/webhooks.py has the
        reference). A comment names the media it is under: the media's reply sync files it with its
        replies (media Resonanz did not publish is no variant and is skipped there); the account's own
        comments (our answers) are left to the poll. A mention carries only ids: the inbox poll runs."""
        if field == "comments":
            media_id = str((value.get("media") or {}).get("id") or "")
            author = str((value.get("from") or {}).get("id") or "")
            if not media_id or author == ig_user_id:
                return None
            return PushedActivity(account_remote_id=ig_user_id, replied_posts=(media_id,))
        if field == "mentions":
            return PushedActivity(account_remote_id=ig_user_id, resync=True)
        return None  # live comments, story insights, messaging: not read here

    # -- account ---------------------------------------------------------------------------------
    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        """``GET /{ig-user-id}`` (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user)."""
        if not account.remote_id:
            raise Rejected("instagram: no account id")
        with self._session(account) as client:
            me = client.get_json(
                f"/{account.remote_id}", params={"fields": "id,username,name,profile_picture_url"}
            )
        account.handle = str(me.get("username") or account.remote_id)
        return AccountInfo(
            remote_id=str(me["id"]),
            handle=account.handle,
            display_name=str(me.get("name") or account.handle),
            avatar_url=str(me.get("profile_picture_url") or ""),
            profile_url=f"https://www.instagram.com/{account.handle}/",
        )

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        return TextCount(count=len(text), limit=CAPTION_LIMIT, unit=TextUnit.CHARACTERS)

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if variant.content_warning:
            issues.append(
                ValidationIssue(
                    code="content_warning_unsupported",
                    message=gettext(
                        "Instagram has no content warnings; remove it or write it into the text."
                    ),
                    field="content_warning",
                )
            )
        if variant.visibility and variant.visibility != "public":
            issues.append(
                ValidationIssue(
                    code="invalid_visibility",
                    message=gettext(
                        "Every Instagram post is public; visibility %(visibility)s does not exist."
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
                        "Instagram has no threads: the post has %(count)s parts, %(limit)s is allowed."
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
                    message=gettext(
                        "Instagram has no format %(format)s; choose a feed post, a Reel or a Story."
                    )
                    % {"format": variant.format},
                    field="format",
                )
            )
        if variant.parts:
            issues.extend(self._validate_part(0, variant.parts[0], story=fmt == FORMAT_STORY))
            if fmt in (FORMAT_REEL, FORMAT_STORY):
                issues.extend(self._validate_single(fmt, variant.parts[0]))
        return issues

    @staticmethod
    def _validate_single(fmt: str, part: DraftPart) -> list[ValidationIssue]:
        """A Reel is one video; a Story one picture or one video. Durations (Reel 3 s - 15 min, Story up
        to 60 s) are checked by Instagram when it fetches the file: Resonanz reads no video metadata."""
        kinds = [_kind(m.mime_type) for m in part.media]
        if fmt == FORMAT_REEL and kinds != [MediaKind.VIDEO]:
            return [
                ValidationIssue(
                    code="reel_needs_one_video",
                    message=gettext(
                        "An Instagram Reel is exactly one video; this post has %(count)s attachments and "
                        "%(videos)s videos."
                    )
                    % {"count": len(part.media), "videos": kinds.count(MediaKind.VIDEO)},
                    part_index=0,
                    field="media",
                    count=len(part.media),
                    limit=1,
                )
            ]
        if fmt == FORMAT_STORY and (len(kinds) != 1 or kinds[0] not in (MediaKind.IMAGE, MediaKind.VIDEO)):
            return [
                ValidationIssue(
                    code="story_needs_one_media",
                    message=gettext(
                        "An Instagram Story is exactly one picture or one video; this post has %(count)s "
                        "attachments."
                    )
                    % {"count": len(part.media)},
                    part_index=0,
                    field="media",
                    count=len(part.media),
                    limit=1,
                )
            ]
        return []

    def _validate_part(self, index: int, part: DraftPart, *, story: bool = False) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if len(part.text) > CAPTION_LIMIT:
            issues.append(
                ValidationIssue(
                    code="too_many_characters",
                    message=gettext("The caption has %(count)s characters; Instagram allows %(limit)s.")
                    % {"count": len(part.text), "limit": CAPTION_LIMIT},
                    part_index=index,
                    count=len(part.text),
                    limit=CAPTION_LIMIT,
                )
            )
        for code, pattern, limit, label in (
            ("too_many_hashtags", _HASHTAG, MAX_HASHTAGS, gettext("hashtags")),
            ("too_many_mentions", _MENTION, MAX_MENTIONS, gettext("mentions")),
        ):
            found = len(pattern.findall(part.text))
            if found > limit:
                issues.append(
                    ValidationIssue(
                        code=code,
                        message=gettext("The caption has %(count)s %(what)s; Instagram allows %(limit)s.")
                        % {"count": found, "what": label, "limit": limit},
                        part_index=index,
                        count=found,
                        limit=limit,
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
        if len(part.media) > MAX_CAROUSEL:
            issues.append(
                ValidationIssue(
                    code="too_many_media",
                    message=gettext(
                        "A carousel takes at most %(limit)s photos or videos; this post has %(count)s."
                    )
                    % {"count": len(part.media), "limit": MAX_CAROUSEL},
                    part_index=index,
                    field="media",
                    count=len(part.media),
                    limit=MAX_CAROUSEL,
                )
            )
        for media in part.media:
            issues.extend(self._validate_media(index, media, story=story))
        return issues

    def _validate_media(self, index: int, media: DraftMedia, *, story: bool = False) -> list[ValidationIssue]:
        kind = _kind(media.mime_type)
        name = media.filename or media.mime_type or "?"
        rule = self.spec.media.rule(kind) if kind else None
        if rule is None:
            return [
                ValidationIssue(
                    code="unsupported_media_type",
                    message=gettext("Instagram does not accept %(type)s files (%(name)s).")
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
                    message=gettext("%(name)s has %(count)s bytes; Instagram allows %(limit)s.")
                    % {"name": name, "count": len(media.data), "limit": rule.max_bytes},
                    part_index=index,
                    field="media",
                    count=len(media.data),
                    limit=rule.max_bytes,
                )
            )
        if kind == MediaKind.IMAGE:
            size = image_size(media.data)
            if size is None:
                issues.append(
                    ValidationIssue(
                        code="unreadable_image",
                        message=gettext("%(name)s cannot be read as an image.") % {"name": name},
                        part_index=index,
                        field="media",
                    )
                )
            else:
                ratio = size[0] / size[1]
                # The feed's 4:5 - 1.91:1 rule; a Story is shown full screen (9:16) whatever its shape.
                if not story and not ASPECT_MIN - 0.005 <= ratio <= ASPECT_MAX + 0.005:
                    issues.append(
                        ValidationIssue(
                            code="aspect_ratio",
                            message=gettext(
                                "%(name)s is %(width)s x %(height)s pixels; Instagram takes pictures from "
                                "4:5 (portrait) to 1.91:1 (landscape). Crop it to fit."
                            )
                            % {"name": name, "width": size[0], "height": size[1]},
                            part_index=index,
                            field="media",
                        )
                    )
        return issues

    # -- media -----------------------------------------------------------------------------------
    def _media_url(self, data: bytes, mime_type: str, filename: str) -> str:
        url = media_host().public_url(data=data, mime_type=mime_type, filename=filename)
        reason = unreachable_reason(url)
        allow_private = self.allow_private_media_urls or settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE
        if reason and not (allow_private and reason in ("loopback", "private")):
            message = gettext(
                "Instagram must fetch the image from a public address; set %(setting)s to an address the "
                "internet reaches (on a laptop: a tunnel or S3-compatible storage, see docs/operations.md). "
                "Current address: %(url)s"
            ) % {"setting": media_address_setting(), "url": url or "-"}
            raise Rejected(f"instagram: media URL not public ({reason}): {url!r}", network_message=message)
        return url

    def _container_params(self, media: DraftMedia, *, child: bool, story: bool = False) -> dict[str, Any]:
        if _kind(media.mime_type) == MediaKind.VIDEO:
            params: dict[str, Any] = {
                "media_type": "STORIES" if story else "VIDEO" if child else "REELS",
                "video_url": self._media_url(media.data, media.mime_type, media.filename),
            }
        else:
            data = (
                media.data
                if media.mime_type == "image/jpeg" and self._fits(media.data)
                else to_jpeg(media.data)
            )
            params = {"image_url": self._media_url(data, "image/jpeg", media.filename)}
            if story:
                params["media_type"] = "STORIES"
            elif media.alt_text and not child:
                params["alt_text"] = media.alt_text
        if child:
            params["is_carousel_item"] = True
        return params

    @staticmethod
    def _fits(data: bytes) -> bool:
        size = image_size(data)
        return size is not None and MIN_WIDTH <= size[0] <= MAX_WIDTH

    def _create_container(self, client: GraphClient, ig_id: str, params: Mapping[str, Any]) -> str:
        try:
            body = client.post_json(f"/{ig_id}/media", json=dict(params))
        except OutcomeUnknown as exc:  # an orphaned container expires unpublished after 24 h
            raise ConnectionFailed(f"instagram: container got no answer: {exc}") from exc
        return str(body["id"])

    def _wait_finished(self, client: GraphClient, container_id: str) -> str:
        """Poll ``status_code`` until FINISHED; returns the final status (FINISHED, PUBLISHED, EXPIRED)."""
        deadline = time.monotonic() + self.container_timeout
        while True:
            body = client.get_json(f"/{container_id}", params={"fields": "status_code,status"})
            status = str(body.get("status_code") or "")
            if status in ("FINISHED", "PUBLISHED", "EXPIRED"):
                return status
            if status == "ERROR":
                detail = str(body.get("status") or "ERROR")
                raise Rejected(
                    f"instagram: container {container_id}: {detail}",
                    network_message=gettext("Instagram could not process the media: %(detail)s")
                    % {"detail": detail},
                )
            if time.monotonic() > deadline:
                raise TemporaryError(
                    f"instagram: container {container_id} still {status or 'IN_PROGRESS'}",
                    network_message=gettext(
                        "Instagram is still processing the media; Resonanz will try again."
                    ),
                )
            time.sleep(self.poll_interval)

    def _check_quota(self, client: GraphClient, ig_id: str) -> None:
        """``GET /{ig-user-id}/content_publishing_limit`` (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/content_publishing_limit)."""
        body = client.get_json(f"/{ig_id}/content_publishing_limit", params={"fields": "config,quota_usage"})
        data = (body.get("data") or [{}])[0]
        total = (data.get("config") or {}).get("quota_total")
        used = data.get("quota_usage")
        if isinstance(total, int) and isinstance(used, int) and used >= total:
            hours = round(int((data.get("config") or {}).get("quota_duration") or 86400) / 3600)
            raise RateLimited(
                f"instagram: publishing quota spent ({used}/{total})",
                retry_after=3600.0,
                network_message=gettext(
                    "This Instagram account has used all %(total)s posts Instagram allows in %(hours)s "
                    "hours; Resonanz publishes it when the quota frees up."
                )
                % {"total": total, "hours": hours},
                http_status=None,
            )

    # -- publishing ------------------------------------------------------------------------------
    @staticmethod
    def _ref(media_id: str, permalink: str = "") -> PublishedRef:
        return PublishedRef(remote_id=media_id, url=permalink or f"https://www.instagram.com/p/{media_id}/")

    @staticmethod
    def _recorded(account: ChannelAccount, name: str, key: PublishKey) -> str | None:
        return account.key_record_get(name=name, key=key.key)

    @staticmethod
    def _record(account: ChannelAccount, name: str, key: PublishKey, value: str) -> None:
        account.key_record_put(name=name, key=key.key, value=value, keep=KEY_RECORD_SIZE)

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
        recorded = self._recorded(account, "published_keys", key)
        if recorded:
            return self._ref(recorded)
        part = variant.parts[part_index]
        story = variant.format == FORMAT_STORY
        if story and len(part.media) != 1:  # validate says so before scheduling; never guess here
            raise Rejected(
                "instagram: a story needs one picture or video",
                network_message=gettext("An Instagram Story is exactly one picture or one video."),
            )
        ig_id = account.remote_id
        with self._session(account) as client:
            self._check_quota(client, ig_id)
            container = self._recorded(account, "containers", key)
            status = self._wait_finished(client, container) if container else "EXPIRED"
            if status == "PUBLISHED":  # an earlier attempt went live: find its media
                found = (
                    self._find_story(client, account, key)
                    if story
                    else self._find_recent(client, account, part, key)
                )
                if found is not None:
                    return found
            if status != "FINISHED":
                container = (
                    self._create_container(
                        client, ig_id, self._container_params(part.media[0], child=False, story=True)
                    )
                    if story
                    else self._build_container(client, ig_id, part)
                )
                self._record(account, "containers", key, container)
                self._wait_finished(client, container)
            if container is None:  # pragma: no cover - set above for every status but FINISHED
                raise Rejected("instagram: no container")
            try:
                body = client.post_json(f"/{ig_id}/media_publish", json={"creation_id": container})
            except (OutcomeUnknown, RateLimited, AuthExpired):
                raise
            except (Rejected, TemporaryError):
                # Instagram answers errors for posts that went live: read back before deciding.
                found = self._read_back(client, account, part, key, container, story=story)
                if found is None:
                    raise
                return found
        media_id = str(body["id"])
        self._record(account, "published_keys", key, media_id)
        return self._story_ref(account, media_id) if story else self._ref(media_id)

    def _build_container(self, client: GraphClient, ig_id: str, part: DraftPart) -> str:
        media = list(part.media) or [
            DraftMedia(data=text_card(part.text), mime_type="image/jpeg", filename="text.jpg")
        ]
        if len(media) == 1:
            params = self._container_params(media[0], child=False)
            params["caption"] = part.text
            return self._create_container(client, ig_id, params)
        children = [
            self._create_container(client, ig_id, self._container_params(m, child=True)) for m in media
        ]
        for child in children:
            self._wait_finished(client, child)
        return self._create_container(
            client, ig_id, {"media_type": "CAROUSEL", "children": children, "caption": part.text}
        )

    def _read_back(
        self,
        client: GraphClient,
        account: ChannelAccount,
        part: DraftPart,
        key: PublishKey,
        container: str,
        *,
        story: bool = False,
    ) -> PublishedRef | None:
        try:
            status = client.get_json(f"/{container}", params={"fields": "status_code"}).get("status_code")
            if status != "PUBLISHED":
                return None
            return (
                self._find_story(client, account, key)
                if story
                else self._find_recent(client, account, part, key)
            )
        except (Rejected, TemporaryError) as exc:
            logger.info("instagram read-back failed: %s", exc)
            return None

    def _find_recent(
        self, client: GraphClient, account: ChannelAccount, part: DraftPart, key: PublishKey
    ) -> PublishedRef | None:
        """The account's recent media (``GET /{ig-user-id}/media``, newest first) matched by caption, time
        and number of carousel items."""
        want = normalise_text(part.text)
        since = key.created_at - FIND_CLOCK_MARGIN
        body = client.get_json(
            f"/{account.remote_id}/media",
            params={
                "fields": "id,caption,timestamp,media_type,permalink,children{id}",
                "limit": FIND_PAGE_SIZE,
            },
        )
        for media in body.get("data") or []:
            stamp = _parse_time(media.get("timestamp"))
            if stamp is not None and stamp < since:
                break
            if normalise_text(str(media.get("caption") or "")) != want:
                continue
            children = len(((media.get("children") or {}).get("data")) or [])
            if children != (len(part.media) if len(part.media) > 1 else 0):
                continue
            self._record(account, "published_keys", key, str(media["id"]))
            return self._ref(str(media["id"]), str(media.get("permalink") or ""))
        return None

    @staticmethod
    def _story_ref(account: ChannelAccount, media_id: str, permalink: str = "") -> PublishedRef:
        url = permalink or f"https://www.instagram.com/stories/{account.handle}/{media_id}/"
        return PublishedRef(remote_id=media_id, url=url, extra={"format": FORMAT_STORY})

    @staticmethod
    def _is_story(ref: PublishedRef) -> bool:
        return ref.extra.get("format") == FORMAT_STORY or "/stories/" in ref.url

    def _find_story(
        self, client: GraphClient, account: ChannelAccount, key: PublishKey
    ) -> PublishedRef | None:
        """Only after the key's container said PUBLISHED: the newest of the account's stories
        (``GET /{ig-user-id}/stories``) made since the key that no other key of ours claims. A story has
        no caption, so time and ownership are all there is to match."""
        since = key.created_at - FIND_CLOCK_MARGIN
        claimed = set((account.settings.get("published_keys") or {}).values())
        body = client.get_json(
            f"/{account.remote_id}/stories",
            params={"fields": "id,media_type,timestamp,permalink", "limit": FIND_PAGE_SIZE},
        )
        candidates = [
            s
            for s in body.get("data") or []
            if isinstance(s, dict)
            and str(s.get("id")) not in claimed
            and (_parse_time(s.get("timestamp")) or since) >= since
        ]
        if not candidates:
            return None
        story = max(candidates, key=lambda s: str(s.get("timestamp") or ""))
        self._record(account, "published_keys", key, str(story["id"]))
        return self._story_ref(account, str(story["id"]), str(story.get("permalink") or ""))

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        story = variant.format == FORMAT_STORY
        recorded = self._recorded(account, "published_keys", key)
        if recorded:
            return self._story_ref(account, recorded) if story else self._ref(recorded)
        with self._session(account) as client:
            if story:
                container = self._recorded(account, "containers", key)
                if not container:
                    return None  # the container comes first: without one nothing was published
                status = client.get_json(f"/{container}", params={"fields": "status_code"}).get("status_code")
                return self._find_story(client, account, key) if status == "PUBLISHED" else None
            return self._find_recent(client, account, variant.parts[part_index], key)

    # -- answering (the inbox) --------------------------------------------------------------------
    @staticmethod
    def _comment_ref(comment_id: str) -> PublishedRef:
        return PublishedRef(remote_id=comment_id, url="")

    @staticmethod
    def _answer_edge(client: GraphClient, object_id: str, root: PublishedRef | None) -> str:
        """The edge an answer to ``object_id`` goes to: ``/{ig-media-id}/comments`` on our media, or
        ``/{ig-comment-id}/replies`` on a comment. Instagram takes replies to top-level comments only
        (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies),
        so an answer to a reply goes to its parent. Without ``root`` to tell, the object is asked for
        ``parent_id``, a field only comments have (a media answers code 100, nonexisting field)."""
        if root is not None and root.remote_id == object_id:
            return f"/{object_id}/comments"
        try:
            comment = client.get_json(f"/{object_id}", params={"fields": "id,parent_id"})
        except GraphRejected as exc:
            if exc.graph_code != 100 or root is not None:
                raise
            return f"/{object_id}/comments"
        parent = str(comment.get("parent_id") or "") if isinstance(comment, dict) else ""
        return f"/{parent or object_id}/replies"

    def reply(
        self,
        *,
        account: ChannelAccount,
        text: str,
        key: PublishKey,
        reply_to: PublishedRef,
        root: PublishedRef | None = None,
    ) -> PublishedRef:
        """An answer on Instagram is a comment: ``POST /{ig-media-id}/comments`` on our media
        (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments)
        or ``POST /{ig-comment-id}/replies`` to answer a comment, both with ``message`` and answered
        ``{"id": ...}``. No idempotency key exists: the key -> comment id record makes a retry return the
        first comment, ``find_reply`` reconciles an unknown outcome."""
        recorded = self._recorded(account, "reply_keys", key)
        if recorded:
            return self._comment_ref(recorded)
        with self._session(account) as client:
            edge = self._answer_edge(client, reply_to.remote_id, root)
            body = client.post_json(edge, json={"message": text})
        comment_id = str(body.get("id") or "") if isinstance(body, dict) else ""
        if not comment_id:
            raise Rejected("instagram: the comment was answered without an id")
        self._record(account, "reply_keys", key, comment_id)
        return self._comment_ref(comment_id)

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """The key's record, else the comments (or replies) of the object answered, at most
        ``FIND_MAX_PAGES`` pages, for one by this account with this text made since the key. The edges
        take no order parameter, so every comment read is checked, not only the first."""
        recorded = self._recorded(account, "reply_keys", key)
        if recorded:
            return self._comment_ref(recorded)
        want = normalise_text(text)
        since = key.created_at - FIND_CLOCK_MARGIN
        with self._session(account) as client:
            edge = self._answer_edge(client, reply_to.remote_id, None)
            params: dict[str, Any] = {"fields": "id,text,username,timestamp,from", "limit": FIND_PAGE_SIZE}
            for _ in range(FIND_MAX_PAGES):
                page = client.get_json(edge, params=params)
                for comment in page.get("data") or []:
                    if not isinstance(comment, dict) or not self._ours(account, comment):
                        continue
                    created = _parse_time(comment.get("timestamp"))
                    if created is not None and created < since:
                        continue
                    if normalise_text(str(comment.get("text") or "")) != want:
                        continue
                    self._record(account, "reply_keys", key, str(comment["id"]))
                    return self._comment_ref(str(comment["id"]))
                after = ((page.get("paging") or {}).get("cursors") or {}).get("after")
                if not after or not (page.get("paging") or {}).get("next"):
                    break
                params["after"] = after
        return None

    @staticmethod
    def _ours(account: ChannelAccount, comment: Mapping[str, Any]) -> bool:
        """Written by this IG user: ``from.id`` where Instagram sends it, else the username."""
        author = comment.get("from") or {}
        if author.get("id"):
            return str(author["id"]) == account.remote_id
        return bool(account.handle) and str(comment.get("username") or "") == account.handle

    # -- engagement ------------------------------------------------------------------------------
    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        """Counts from the media (``like_count``, ``comments_count``), comments with their replies, and
        insights (``views``, ``shares``; https://developers.facebook.com/docs/instagram-platform/reference/instagram-media/insights).
        A Story has insights only (views, reach, replies, shares) and only while it is up."""
        if self._is_story(ref):
            return self._story_engagement(account, ref)
        with self._session(account) as client:
            media = client.get_json(f"/{ref.remote_id}", params={"fields": "like_count,comments_count"})
            comments = client.get_json(
                f"/{ref.remote_id}/comments",
                params={"fields": "id,text,username,timestamp,from,replies{id,text,username,timestamp,from}"},
            )
            values: dict[str, int] = {}
            try:
                insights = client.get_json(
                    f"/{ref.remote_id}/insights", params={"metric": ",".join(INSIGHT_METRICS)}
                )
            except Rejected as exc:
                logger.info("instagram insights unavailable for %s: %s", ref.remote_id, exc)
            else:
                for metric in insights.get("data") or []:
                    if metric.get("values"):
                        values[str(metric.get("name"))] = int(metric["values"][-1].get("value") or 0)
        replies: list[RemoteReply] = []
        for comment in comments.get("data") or []:
            replies.append(self._reply(comment, ref.remote_id))
            replies += [
                self._reply(r, str(comment["id"])) for r in (comment.get("replies") or {}).get("data") or []
            ]
        return Engagement(
            likes=int(media.get("like_count") or 0),
            reposts=values.get("shares", 0),
            replies=int(media.get("comments_count") or 0),
            quotes=None,
            impressions=values.get("views"),
            # ``reach`` = unique accounts that saw the media, ``saved`` = saves (Media Insights reference).
            reach=values.get("reach"),
            saves=values.get("saved"),
            reply_items=replies,
        )

    def _story_engagement(self, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        """Story insights (``GET /{ig-media-id}/insights?metric=views,reach,replies,shares``); a story's
        replies are direct messages, not comments, so no conversation items. After 24 hours the story
        and its insights are gone: ``NotSupported`` keeps the last sample instead of zeros."""
        with self._session(account) as client:
            try:
                insights = client.get_json(
                    f"/{ref.remote_id}/insights", params={"metric": ",".join(STORY_METRICS)}
                )
            except Rejected as exc:
                raise NotSupported(f"instagram: story insights gone (24 hours): {exc}") from exc
        values = {
            str(m.get("name")): int(m["values"][-1].get("value") or 0)
            for m in insights.get("data") or []
            if isinstance(m, dict) and m.get("values")
        }
        return Engagement(
            likes=0,
            reposts=values.get("shares", 0),
            replies=values.get("replies", 0),
            quotes=None,
            impressions=values.get("views"),
            reach=values.get("reach"),
            reply_items=[],
        )

    @staticmethod
    def _reply(comment: Mapping[str, Any], parent: str) -> RemoteReply:
        author = comment.get("from") or {}
        handle = str(comment.get("username") or author.get("username") or "")
        return RemoteReply(
            remote_id=str(comment["id"]),
            url=f"https://www.instagram.com/{handle}/" if handle else "",
            author_id=str(author.get("id") or ""),
            author_handle=handle,
            author_name=handle,
            text=str(comment.get("text") or ""),
            created_at=_parse_time(comment.get("timestamp")) or datetime.now(UTC),
            in_reply_to_remote_id=parent,
        )


__all__ = ["SCOPES", "InstagramConnector", "text_card", "to_jpeg"]
