"""The Bluesky connector: posts are ``app.bsky.feed.post`` records in the account's repo on its PDS.

Idempotency: every part is created with a deterministic record key (``mapping.tid_from_key``), so a retried
``createRecord`` cannot make a second post — the PDS refuses to write a second record under the same key
(the reference PDS answers HTTP 500 ``InternalServerError`` "There is already a value at key"; we do not
rely on the wording but look the key up with ``getRecord`` after any refused create).

Sessions: app-password sessions (``oauth.py``). Access JWTs live minutes, so every authenticated call
refreshes once on ``AuthExpired`` (``refreshSession``, then a fresh ``createSession`` with the stored app
password) and stores the new tokens on the account. Only a failed refresh escapes as ``AuthExpired``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils.translation import gettext as _

from resonanz.connectors.base.errors import AuthExpired, ConnectorError, NotSupported, Rejected, ServerError
from resonanz.connectors.base.preview import Segment
from resonanz.connectors.base.provider import (
    RESHARE_QUOTE,
    RESHARE_REPOST,
    AccountInfo,
    ChannelAccount,
    ConnectedAccount,
    Connector,
    DraftMedia,
    DraftPart,
    DraftVariant,
    Engagement,
    MentionPage,
    PublishedRef,
    PublishKey,
    RemoteReply,
    Reshare,
    SearchPage,
    TextCount,
    ValidationIssue,
)
from resonanz.connectors.base.text import grapheme_count, utf8_len

from .client import BlueskyClient, RecordNotFound
from .mapping import (
    DEFAULT_WEB_URL,
    POST_COLLECTION,
    AtUri,
    ImageEmbed,
    StrongRef,
    build_facets,
    engagement_from_thread,
    found_post,
    mention_from_notification,
    post_record,
    published_ref,
    tid_from_key,
)
from .media import MAX_IMAGE_BYTES, fit_image, probe_image
from .oauth import account_info, app_password_login, create_session, fetch_profile, session_credentials
from .preview import segments
from .spec import DEFAULT_PDS_URL, MAX_ALT_TEXT_GRAPHEMES, MAX_BYTES, MAX_GRAPHEMES, MAX_IMAGES, SPEC

logger = logging.getLogger(__name__)

# The web app's post link: /profile/<handle or DID>/post/<record key> (bsky.app and its subdomains).
_POST_PATH = re.compile(r"^/profile/([A-Za-z0-9._:%-]{3,253})/post/([A-Za-z0-9._:~-]{1,512})/?$")
_AT_POST = re.compile(r"^at://([A-Za-z0-9._:%-]{3,253})/app\.bsky\.feed\.post/([A-Za-z0-9._:~-]{1,512})$")


def _quote_parts(url: str) -> tuple[str, str]:
    """(actor, record key) of a Bluesky post URL, ("", "") when it is none."""
    url = url.strip()
    at = _AT_POST.match(url)
    if at:
        return at.group(1), at.group(2)
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    match = _POST_PATH.match(parts.path)
    if parts.scheme != "https" or not (host == "bsky.app" or host.endswith(".bsky.app")) or match is None:
        return "", ""
    return match.group(1), match.group(2)


# Pages of reposts and of quotes read per post (100 each) when listening projects a wave's spread.
RESHARE_PAGES = 5


def _issue(
    code: str,
    message: str,
    *,
    part: int | None = None,
    field: str = "text",
    count: int | None = None,
    limit: int | None = None,
) -> ValidationIssue:
    return ValidationIssue(code=code, message=message, part_index=part, field=field, count=count, limit=limit)


# Mentions: notifications per page (the lexicon's maximum is 100) and pages per sync (the rest next run).
MENTION_PAGE_SIZE = 100
MENTION_PAGES = 5


class BlueskyConnector(Connector):
    network = "bluesky"
    spec = SPEC

    def __init__(self, *, transport: httpx.BaseTransport | None = None) -> None:
        self._transport = transport  # tests inject one; production uses httpx's default

    # -- plumbing --------------------------------------------------------------------------------
    def _client(self, account: ChannelAccount) -> BlueskyClient:
        return BlueskyClient(account.base_url, transport=self._transport)

    @staticmethod
    def _web_url(account: ChannelAccount) -> str:
        return str(account.settings.get("web_url") or DEFAULT_WEB_URL)

    @staticmethod
    def _did(account: ChannelAccount) -> str:
        did = str(account.credentials.get("did") or account.remote_id)
        if not did:
            raise AuthExpired("bluesky: the channel has no DID; reconnect it")
        return did

    def _authed[T](self, account: ChannelAccount, client: BlueskyClient, call: Callable[[str], T]) -> T:
        """Run ``call(access_jwt)``; on ``AuthExpired`` refresh the session once and run it again. Safe for
        creates too: a request refused at authentication has done nothing."""
        try:
            return call(str(account.credentials.get("access_jwt", "")))
        except AuthExpired:
            self._refresh(account, client)
            return call(str(account.credentials["access_jwt"]))

    def _query(
        self,
        account: ChannelAccount,
        client: BlueskyClient,
        nsid: str,
        params: Mapping[str, str | int | list[str]] | None = None,
    ) -> dict[str, Any]:
        return self._authed(account, client, lambda token: client.query(nsid, token=token, params=params))

    def _procedure(
        self, account: ChannelAccount, client: BlueskyClient, nsid: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self._authed(account, client, lambda token: client.procedure(nsid, token=token, body=body))

    # -- account ---------------------------------------------------------------------------------
    def _refresh(self, account: ChannelAccount, client: BlueskyClient) -> None:
        refresh_jwt = str(account.credentials.get("refresh_jwt") or "")
        if refresh_jwt:
            try:
                # https://docs.bsky.app/docs/api/com-atproto-server-refresh-session: authenticated with the
                # refresh JWT; it rotates both tokens (the old refresh JWT stops working).
                session = client.procedure("com.atproto.server.refreshSession", token=refresh_jwt)
            except (AuthExpired, Rejected) as exc:
                logger.info("bluesky: refreshSession refused (%s); logging in again", exc.code)
            else:
                account.update_credentials(
                    access_jwt=str(session["accessJwt"]),
                    refresh_jwt=str(session["refreshJwt"]),
                    did=str(session.get("did") or self._did(account)),
                )
                return
        self._login_again(account, client)

    @staticmethod
    def _login_again(account: ChannelAccount, client: BlueskyClient) -> None:
        identifier = str(account.credentials.get("identifier") or "")
        app_password = str(account.credentials.get("app_password") or "")
        if not identifier or not app_password:
            raise AuthExpired("bluesky: session expired and no app password is stored")
        try:
            session = create_session(client, identifier=identifier, app_password=app_password)
        except (AuthExpired, Rejected) as exc:
            raise AuthExpired(
                f"bluesky: the app password was refused: {exc.network_message}",
                network_message=exc.network_message,
                http_status=exc.http_status,
            ) from exc
        account.update_credentials(
            **session_credentials(session, identifier=identifier, app_password=app_password)
        )

    def refresh_credentials(self, *, account: ChannelAccount) -> None:
        with self._client(account) as client:
            self._refresh(account, client)

    def verify(self, *, account: ChannelAccount) -> AccountInfo:
        with self._client(account) as client:
            # https://docs.bsky.app/docs/api/com-atproto-server-get-session
            session = self._query(account, client, "com.atproto.server.getSession")
            token = str(account.credentials.get("access_jwt", ""))
            profile = fetch_profile(client, token=token, actor=str(session["did"]))
        if session.get("handle"):
            account.handle = str(session["handle"])
        return account_info(session, profile, web_url=self._web_url(account))

    def connect_with_credentials(self, *, values: Mapping[str, str]) -> ConnectedAccount:
        """An app password (https://bsky.app/settings/app-passwords); never the main password."""
        pds_url = (values.get("pds_url") or DEFAULT_PDS_URL).strip().rstrip("/")
        info, credentials = app_password_login(
            pds_url=pds_url,
            identifier=(values.get("identifier") or "").strip(),
            app_password=values.get("app_password") or "",
            transport=self._transport,
        )
        return ConnectedAccount(base_url=pds_url, info=info, credentials=credentials)

    def preview_segments(self, *, text: str) -> list[Segment]:
        return segments(text)

    # -- rules -----------------------------------------------------------------------------------
    def count_text(self, *, account: ChannelAccount, text: str, content_warning: str = "") -> TextCount:
        # Bluesky has no content-warning text, so it never counts (see validate()).
        return TextCount(
            count=grapheme_count(text),
            limit=MAX_GRAPHEMES,
            unit="graphemes",
            bytes=utf8_len(text),
            byte_limit=MAX_BYTES,
        )

    def validate(self, *, account: ChannelAccount, variant: DraftVariant) -> list[ValidationIssue]:
        issues = self._validate_variant(variant)
        for index, part in enumerate(variant.parts):
            issues += self._validate_text(index, part)
            issues += self._validate_media(index, part)
        return issues

    def _validate_variant(self, variant: DraftVariant) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        if not variant.parts:
            issues.append(_issue("empty", _("There is nothing to post.")))
        if len(variant.parts) > self.max_thread_parts:
            issues.append(
                _issue(
                    "too_many_parts",
                    _("The thread has %(count)s parts; at most %(limit)s are allowed.")
                    % {"count": len(variant.parts), "limit": self.max_thread_parts},
                    count=len(variant.parts),
                    limit=self.max_thread_parts,
                )
            )
        # Decision: Bluesky has no free-text content warning (only fixed self-labels such as "nudity"),
        # so a content warning is refused rather than silently dropped.
        if variant.content_warning.strip():
            issues.append(
                _issue(
                    "unsupported_content_warning",
                    _("Bluesky does not support content warnings. Remove the content warning for Bluesky."),
                    field="content_warning",
                )
            )
        # Every Bluesky post is public: never publish one the author meant to restrict.
        if variant.visibility not in ("", "public"):
            issues.append(
                _issue(
                    "unsupported_visibility",
                    _("Bluesky posts are always public; restricted visibility is not possible."),
                    field="visibility",
                )
            )
        return issues

    def _validate_text(self, index: int, part: DraftPart) -> list[ValidationIssue]:
        number = index + 1
        issues: list[ValidationIssue] = []
        graphemes, size = grapheme_count(part.text), utf8_len(part.text)
        if not part.text.strip() and not part.media:
            issues.append(_issue("empty_part", _("Part %(part)s is empty.") % {"part": number}, part=index))
        if graphemes > MAX_GRAPHEMES:
            issues.append(
                _issue(
                    "too_many_graphemes",
                    _("Part %(part)s has %(count)s characters; Bluesky allows %(limit)s.")
                    % {"part": number, "count": graphemes, "limit": MAX_GRAPHEMES},
                    part=index,
                    count=graphemes,
                    limit=MAX_GRAPHEMES,
                )
            )
        if size > MAX_BYTES:
            issues.append(
                _issue(
                    "too_many_bytes",
                    _("Part %(part)s takes %(count)s bytes; Bluesky allows %(limit)s.")
                    % {"part": number, "count": size, "limit": MAX_BYTES},
                    part=index,
                    count=size,
                    limit=MAX_BYTES,
                )
            )
        return issues

    def _validate_media(self, index: int, part: DraftPart) -> list[ValidationIssue]:
        number = index + 1
        issues: list[ValidationIssue] = []
        if len(part.media) > MAX_IMAGES:
            issues.append(
                _issue(
                    "too_many_images",
                    _("Part %(part)s has %(count)s images; Bluesky allows %(limit)s.")
                    % {"part": number, "count": len(part.media), "limit": MAX_IMAGES},
                    part=index,
                    field="media",
                    count=len(part.media),
                    limit=MAX_IMAGES,
                )
            )
        for position, media in enumerate(part.media, start=1):
            issues += self._validate_one_media(index, position, media)
        return issues

    @staticmethod
    def _validate_one_media(index: int, position: int, media: DraftMedia) -> list[ValidationIssue]:
        values = {"part": index + 1, "image": position}
        issues: list[ValidationIssue] = []
        if not media.mime_type.startswith("image/"):
            issues.append(
                _issue(
                    "unsupported_media",
                    _("Part %(part)s, attachment %(image)s: only images can be posted to Bluesky.") % values,
                    part=index,
                    field="media",
                )
            )
        else:
            try:
                probe_image(media.data)
            except Rejected:
                issues.append(
                    _issue(
                        "invalid_image",
                        _("Part %(part)s, image %(image)s: the file is not a readable image.") % values,
                        part=index,
                        field="media",
                    )
                )
        alt = grapheme_count(media.alt_text)
        if alt > MAX_ALT_TEXT_GRAPHEMES:
            issues.append(
                _issue(
                    "alt_text_too_long",
                    _(
                        "Part %(part)s, image %(image)s: the alt text has %(count)s characters; "
                        "Bluesky allows %(limit)s."
                    )
                    % {**values, "count": alt, "limit": MAX_ALT_TEXT_GRAPHEMES},
                    part=index,
                    field="alt_text",
                    count=alt,
                    limit=MAX_ALT_TEXT_GRAPHEMES,
                )
            )
        return issues

    def prepare_media(self, *, account: ChannelAccount, media: DraftMedia) -> DraftMedia:
        data, mime_type, _size = fit_image(media.data, media.mime_type, max_bytes=MAX_IMAGE_BYTES)
        return DraftMedia(data=data, mime_type=mime_type, alt_text=media.alt_text, filename=media.filename)

    # -- publishing ------------------------------------------------------------------------------
    def _resolver(self, client: BlueskyClient) -> Callable[[str], str | None]:
        cache: dict[str, str | None] = {}

        def resolve(handle: str) -> str | None:
            if handle not in cache:
                try:
                    # https://docs.bsky.app/docs/api/com-atproto-identity-resolve-handle (no auth needed)
                    answer = client.query("com.atproto.identity.resolveHandle", params={"handle": handle})
                    cache[handle] = str(answer.get("did") or "") or None
                except Rejected:
                    cache[handle] = None  # unknown handle: the mention stays plain text
            return cache[handle]

        return resolve

    def _upload_image(self, account: ChannelAccount, client: BlueskyClient, media: DraftMedia) -> ImageEmbed:
        data, mime_type, (width, height) = fit_image(media.data, media.mime_type, max_bytes=MAX_IMAGE_BYTES)
        blob = self._authed(account, client, lambda token: client.upload_blob(data, mime_type, token=token))
        return ImageEmbed(blob=blob, alt=media.alt_text, width=width, height=height)

    def _get_post(self, account: ChannelAccount, client: BlueskyClient, uri: AtUri) -> dict[str, Any] | None:
        """``com.atproto.repo.getRecord`` (https://docs.bsky.app/docs/api/com-atproto-repo-get-record);
        ``None`` for 400 ``RecordNotFound``. Read from the PDS itself, so it sees a create at once."""
        try:
            return self._query(
                account,
                client,
                "com.atproto.repo.getRecord",
                {"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
            )
        except RecordNotFound:
            return None

    def _strong_ref(self, account: ChannelAccount, client: BlueskyClient, ref: PublishedRef) -> StrongRef:
        if ref.cid:
            return StrongRef(ref.remote_id, ref.cid)
        found = self._get_post(account, client, AtUri.parse(ref.remote_id))
        if found is None:
            raise Rejected(f"bluesky: the post replied to no longer exists: {ref.remote_id}")
        return StrongRef(ref.remote_id, str(found["cid"]))

    def _author(self, account: ChannelAccount) -> str:
        return account.handle or self._did(account)

    def _ref_if_ours(
        self, account: ChannelAccount, found: dict[str, Any] | None, text: str
    ) -> PublishedRef | None:
        """The ref of a record found under our deterministic key — if it is really this part."""
        if found is None:
            return None
        value = found.get("value") or {}
        if value.get("text") != text:
            # Another part took this key (two keys in the same microsecond with colliding 10-bit hashes).
            raise Rejected(
                f"bluesky: record key of {found.get('uri')} is taken by a different post",
                network_message=_("Bluesky already has a different post under this post's record key."),
            )
        return published_ref(
            uri=str(found["uri"]),
            cid=str(found["cid"]),
            author=self._author(account),
            web_url=self._web_url(account),
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
        part = variant.parts[part_index]
        did = self._did(account)
        uri = AtUri(did, POST_COLLECTION, tid_from_key(key))
        with self._client(account) as client:
            record = self._build_record(
                account=account,
                client=client,
                variant=variant,
                part=part,
                key=key,
                reply_to=reply_to,
                root=root,
            )
            body = {"repo": did, "collection": POST_COLLECTION, "rkey": uri.rkey, "record": record}
            try:
                # https://docs.bsky.app/docs/api/com-atproto-repo-create-record
                created = self._procedure(account, client, "com.atproto.repo.createRecord", body)
            except (Rejected, ServerError):
                existing = self._existing_after_refusal(account, client, uri, part.text)
                if existing is None:
                    raise
                return existing
        return published_ref(
            uri=str(created["uri"]),
            cid=str(created["cid"]),
            author=self._author(account),
            web_url=self._web_url(account),
        )

    def _existing_after_refusal(
        self, account: ChannelAccount, client: BlueskyClient, uri: AtUri, text: str
    ) -> PublishedRef | None:
        """A refused create may be a retried create whose first attempt went through: look the key up."""
        try:
            found = self._get_post(account, client, uri)
        except ConnectorError as lookup:
            logger.info("bluesky: lookup of %s after a refused create failed: %s", uri, lookup.code)
            return None
        return self._ref_if_ours(account, found, text)

    def _build_record(
        self,
        *,
        account: ChannelAccount,
        client: BlueskyClient,
        variant: DraftVariant,
        part: DraftPart,
        key: PublishKey,
        reply_to: PublishedRef | None,
        root: PublishedRef | None,
    ) -> dict[str, Any]:
        facets = build_facets(part.text, self._resolver(client))
        images = [self._upload_image(account, client, media) for media in part.media]
        parent = self._strong_ref(account, client, reply_to) if reply_to is not None else None
        thread_root = self._strong_ref(account, client, root) if (root is not None and parent) else parent
        quote = None
        if variant.quote_url and part is variant.parts[0]:
            quote = self._strong_ref(account, client, self._quoted(client, variant.quote_url))
        return post_record(
            text=part.text,
            created_at=key.created_at,
            facets=facets,
            langs=[variant.language] if variant.language else [],
            images=images,
            reply_root=thread_root,
            reply_parent=parent,
            quote=quote,
        )

    def parse_quote_url(self, *, url: str) -> PublishedRef:
        """``https://bsky.app/profile/<handle or DID>/post/<record key>`` (the web app's post link) or
        an ``at://`` URI of a post; ``remote_id`` is the AT URI, with the handle until it is resolved."""
        actor, rkey = _quote_parts(url)
        if not actor:
            raise Rejected(
                f"bluesky: not a post URL: {url}",
                network_message=_(
                    "%(url)s is not a post on Bluesky. Copy the post's address, e.g. "
                    "https://bsky.app/profile/name.bsky.social/post/3kabc2xyz."
                )
                % {"url": url},
            )
        return PublishedRef(remote_id=f"at://{actor}/{POST_COLLECTION}/{rkey}", url=url.strip())

    def _quoted(self, client: BlueskyClient, url: str) -> PublishedRef:
        """The quoted post with its author's DID (a strong ref names the repo by DID)."""
        ref = self.parse_quote_url(url=url)
        uri = AtUri.parse(ref.remote_id)
        if uri.repo.startswith("did:"):
            return ref
        did = self._resolver(client)(uri.repo)
        if not did:
            raise Rejected(
                f"bluesky: unknown handle {uri.repo}",
                network_message=_("The quoted post's account @%(handle)s does not exist on Bluesky.")
                % {"handle": uri.repo},
            )
        return PublishedRef(remote_id=str(AtUri(did, uri.collection, uri.rkey)), url=ref.url)

    def find_published(
        self, *, account: ChannelAccount, variant: DraftVariant, part_index: int, key: PublishKey
    ) -> PublishedRef | None:
        uri = AtUri(self._did(account), POST_COLLECTION, tid_from_key(key))
        with self._client(account) as client:
            found = self._get_post(account, client, uri)
        try:
            return self._ref_if_ours(account, found, variant.parts[part_index].text)
        except Rejected:
            return None  # someone else's record under this key: ours was certainly not created

    def find_reply(
        self, *, account: ChannelAccount, text: str, key: PublishKey, reply_to: PublishedRef
    ) -> PublishedRef | None:
        """A reply is created under the same deterministic record key (a TID from ``key``) as any post,
        so the lookup is the one of ``find_published``: the record under that key, if its text is ours."""
        return self.find_published(
            account=account, variant=DraftVariant(parts=[DraftPart(text=text)]), part_index=0, key=key
        )

    def delete(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        uri = AtUri.parse(ref.remote_id)
        with self._client(account) as client:
            # https://docs.bsky.app/docs/api/com-atproto-repo-delete-record (deleting a missing record is
            # not an error, so a retried delete is harmless).
            self._procedure(
                account,
                client,
                "com.atproto.repo.deleteRecord",
                {"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
            )

    def like(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """A like is a record in our repo (https://docs.bsky.app/docs/tutorials/like-repost): subject =
        the post's URI and CID. The CID and whether we like it already come from the AppView
        (``app.bsky.feed.getPosts``: ``cid``, ``viewer.like``), which also knows posts on other PDSes, so a
        second like of the same post adds no second record."""
        with self._client(account) as client:
            found = self._query(account, client, "app.bsky.feed.getPosts", {"uris": ref.remote_id})
            posts = found.get("posts") or []
            if not posts:
                raise Rejected(
                    f"bluesky: the post to like no longer exists: {ref.remote_id}",
                    network_message=_("Bluesky no longer has this post."),
                )
            post = posts[0]
            if (post.get("viewer") or {}).get("like"):
                return
            record = {
                "$type": "app.bsky.feed.like",
                "subject": {"uri": str(post["uri"]), "cid": str(post["cid"])},
                "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
            self._procedure(
                account,
                client,
                "com.atproto.repo.createRecord",
                {"repo": self._did(account), "collection": "app.bsky.feed.like", "record": record},
            )

    def delete_reply(self, *, account: ChannelAccount, ref: PublishedRef) -> None:
        """Our answer is a post record of ours: deleted like a post (a missing record is no error)."""
        self.delete(account=account, ref=ref)

    def edit(
        self, *, account: ChannelAccount, ref: PublishedRef, variant: DraftVariant, part_index: int
    ) -> PublishedRef:
        raise NotSupported(
            "bluesky: posts cannot be edited; delete and post again",
            network_message=_("Bluesky posts cannot be edited. Delete the post and publish it again."),
        )

    # -- engagement ------------------------------------------------------------------------------
    def search_posts(self, *, account: ChannelAccount, query: str, cursor: str) -> SearchPage:
        """Listening: ``app.bsky.feed.searchPosts`` through the PDS, which proxies it to the AppView
        (https://docs.bsky.app/docs/api/app-bsky-feed-search-posts). ``sort=latest``; ``since`` (inclusive,
        an ISO datetime) = the newest ``indexedAt`` seen, so a poll returns only newer posts (the one at the
        cursor's instant again: deduplicated by the caller). The AppView's own cursor pages to older posts,
        which a poll does not need."""
        params: dict[str, str | int] = {"q": query.strip(), "sort": "latest", "limit": 100}
        if cursor:
            params["since"] = cursor
        with self._client(account) as client:
            page = self._query(account, client, "app.bsky.feed.searchPosts", params)
        views = [p for p in page.get("posts") or [] if isinstance(p, dict)]
        newest = max((str(p.get("indexedAt") or "") for p in views), default="")
        return SearchPage(
            posts=[found_post(p, web_url=self._web_url(account)) for p in views],
            cursor=max(newest, cursor),
        )

    def fetch_reshares(self, *, account: ChannelAccount, remote_id: str) -> list[Reshare]:
        """Reposts from ``app.bsky.feed.getRepostedBy`` (profiles only: no repost time, so the caller dates
        them by when it first saw them; https://docs.bsky.app/docs/api/app-bsky-feed-get-reposted-by) and
        quotes from ``app.bsky.feed.getQuotes`` (post views with ``record.createdAt``,
        https://docs.bsky.app/docs/api/app-bsky-feed-get-quotes), both through the PDS to the AppView,
        paged by their ``cursor`` up to ``RESHARE_PAGES`` pages. Follower counts from
        ``app.bsky.actor.getProfiles`` (25 actors a call; the list views carry no counts)."""
        reshares: list[Reshare] = []
        web_url = self._web_url(account)
        with self._client(account) as client:
            for kind, nsid, key in (
                (RESHARE_REPOST, "app.bsky.feed.getRepostedBy", "repostedBy"),
                (RESHARE_QUOTE, "app.bsky.feed.getQuotes", "posts"),
            ):
                page_cursor = ""
                for _page in range(RESHARE_PAGES):
                    params: dict[str, str | int] = {"uri": remote_id, "limit": 100}
                    if page_cursor:
                        params["cursor"] = page_cursor
                    body = self._query(account, client, nsid, params)
                    for item in body.get(key) or []:
                        if not isinstance(item, dict):
                            continue
                        if kind == RESHARE_REPOST:
                            did = str(item.get("did") or "")
                            reshares.append(
                                Reshare(
                                    remote_id=f"repost:{remote_id}:{did}",
                                    kind=kind,
                                    subject_remote_id=remote_id,
                                    author_handle=str(item.get("handle") or did),
                                )
                            )
                        else:
                            post = found_post(item, web_url=web_url)
                            reshares.append(
                                Reshare(
                                    remote_id=post.remote_id,
                                    kind=kind,
                                    subject_remote_id=remote_id,
                                    author_handle=post.author_handle,
                                    created_at=post.created_at,
                                    url=post.url,
                                    text=post.text,
                                )
                            )
                    page_cursor = str(body.get("cursor") or "")
                    if not page_cursor:
                        break
            handles = sorted({r.author_handle for r in reshares if r.author_handle})
            followers: dict[str, int] = {}
            for start in range(0, len(handles), 25):
                body = self._query(
                    account, client, "app.bsky.actor.getProfiles", {"actors": handles[start : start + 25]}
                )
                for profile in body.get("profiles") or []:
                    count = profile.get("followersCount")
                    if isinstance(count, int):
                        for name in (profile.get("handle"), profile.get("did")):
                            if name:
                                followers[str(name)] = count
        return [
            Reshare(
                remote_id=r.remote_id,
                kind=r.kind,
                subject_remote_id=r.subject_remote_id,
                author_handle=r.author_handle,
                created_at=r.created_at,
                followers=followers.get(r.author_handle),
                url=r.url,
                text=r.text,
            )
            for r in reshares
        ]

    def fetch_engagement(self, *, account: ChannelAccount, ref: PublishedRef) -> Engagement:
        with self._client(account) as client:
            # Through the PDS, which proxies app.bsky.* to the AppView; depth 1 = direct replies only
            # (https://docs.bsky.app/docs/api/app-bsky-feed-get-post-thread).
            thread = self._query(
                account,
                client,
                "app.bsky.feed.getPostThread",
                {"uri": ref.remote_id, "depth": 1, "parentHeight": 0},
            )
        return engagement_from_thread(thread, web_url=self._web_url(account))

    def fetch_followers(self, *, account: ChannelAccount) -> int | None:
        """``followersCount`` of ``app.bsky.actor.getProfile``
        (https://docs.bsky.app/docs/api/app-bsky-actor-get-profile)."""
        with self._client(account) as client:
            profile = self._query(account, client, "app.bsky.actor.getProfile", {"actor": self._did(account)})
        count = profile.get("followersCount")
        return int(count) if isinstance(count, int) else None

    def fetch_mentions(self, *, account: ChannelAccount, cursor: str | None) -> MentionPage:
        """Mentions and quotes from ``app.bsky.notification.listNotifications``
        (https://docs.bsky.app/docs/api/app-bsky-notification-list-notifications). Its own ``cursor``
        pages backwards (newest first) and there is no "since": our cursor is the ``indexedAt`` of the
        newest notification seen, and paging stops at the first one not newer than it. The ``reasons``
        filter is applied here rather than sent, so an AppView without it behaves the same. Reading
        does not mark anything seen (that is ``updateSeen``; the user's own app keeps its badge)."""
        web_url = self._web_url(account)
        items: list[RemoteReply] = []
        newest = cursor
        page_cursor: str | None = None
        with self._client(account) as client:
            for _page in range(MENTION_PAGES):
                params: dict[str, str | int] = {"limit": MENTION_PAGE_SIZE}
                if page_cursor:
                    params["cursor"] = page_cursor
                body = self._query(account, client, "app.bsky.notification.listNotifications", params)
                notifications = body.get("notifications") or []
                reached = False
                for notification in notifications:
                    indexed = str(notification.get("indexedAt") or "")
                    if cursor and indexed <= cursor:
                        reached = True
                        break
                    if not newest or indexed > newest:
                        newest = indexed
                    mention = mention_from_notification(notification, web_url=web_url)
                    if mention is not None and mention.author_id != self._did(account):
                        items.append(mention)
                page_cursor = str(body.get("cursor") or "") or None
                # The first run takes the newest page only: the inbox starts now, not with the past.
                if reached or not cursor or not page_cursor or not notifications:
                    break
        items.sort(key=lambda item: item.created_at)
        return MentionPage(items=items, cursor=newest)
