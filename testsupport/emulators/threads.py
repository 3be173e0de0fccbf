"""An emulator of Meta's Threads API, written from its published contract
(https://developers.facebook.com/documentation/threads/overview and the pages cited below).

What it holds:

* OAuth 2 (https://developers.facebook.com/documentation/threads/get-started/get-access-tokens-and-permissions):
  ``GET /oauth/authorize`` approves at once and redirects with ``code`` and ``state``;
  ``POST /oauth/access_token`` gives a one-hour token and ``user_id``; ``GET /access_token``
  (``th_exchange_token``) a 60-day one; ``/refresh_access_token`` (``th_refresh_token``, GET or POST) a new
  60-day token for a valid one that is at least 24 hours old... the age is not enforced here.
* Containers (https://developers.facebook.com/documentation/threads/posts): ``POST /v1.0/{user}/threads``
  (``media_type=TEXT``, ``text``, ``reply_to_id``) checks 500 characters with emoji counted as UTF-8 bytes
  and at most 5 unique links (``THREADS_API__LINK_LIMIT_EXCEEDED``); ``GET /v1.0/{container}?fields=status``
  (FINISHED → PUBLISHED); ``POST /v1.0/{user}/threads_publish`` (``creation_id``; a container publishes
  once; 250 posts per 24 hours).
* Media (same page, "Carousel Posts", "Media Specifications"): ``media_type=IMAGE`` / ``VIDEO`` with
  ``image_url`` / ``video_url`` (fetched over HTTP as Threads' crawler does; JPEG or PNG up to 8 MB),
  ``alt_text``, ``is_carousel_item``; ``CAROUSEL`` with ``children`` (2 to 20 FINISHED items of the same
  user). A media container answers IN_PROGRESS for ``image_checks`` / ``video_checks`` reads of
  ``GET /v1.0/{container}?fields=status,error_message``, then FINISHED (or ERROR with ``error_message``
  such as ``FAILED_DOWNLOADING_VIDEO``); publishing one that is not FINISHED is refused.
* ``GET /v1.0/me``, ``GET /v1.0/{user}/threads`` (newest first, ``since``), ``DELETE /v1.0/{post}``,
  ``GET /v1.0/{post}/insights``, ``GET /v1.0/{post}/replies``.
* Graph error objects ``{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}``; an
  expired token is code 190.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from resonanz.connectors.threads.text import MAX_LINKS, TEXT_LIMIT, threads_length, unique_links

from .base import ApiError, Dialect, EmulatorServer, Request, Response, Token, TokenStore, json_response

JSONDict = dict[str, Any]
LONG_LIVED_TTL = 60 * 86400
POSTS_PER_DAY = 250


def graph_error(
    message: str, *, code: int = 100, subcode: int | None = None, kind: str = "OAuthException"
) -> JSONDict:
    error: JSONDict = {"message": message, "type": kind, "code": code, "fbtrace_id": secrets.token_urlsafe(8)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class ThreadsDialect(Dialect):
    rejection_status = 400

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        return graph_error(message, code=4 if status == 429 else 100)

    def expired_token(self, request: Request) -> Response:
        return json_response(
            401, graph_error("Error validating access token: Session has expired.", code=190, subcode=463)
        )

    def credentials_refused(self, request: Request) -> Response:
        return json_response(
            400, graph_error("Invalid OAuth access token - Cannot parse access token", code=190)
        )


@dataclass
class ThreadsUser:
    id: str
    username: str
    name: str


@dataclass
class ThreadsPost:
    id: str
    owner: str
    text: str
    created_at: float
    reply_to: str | None = None
    likes: set[str] = field(default_factory=set)
    views: int = 0
    deleted: bool = False
    media_type: str = "TEXT_POST"  # TEXT_POST | IMAGE | VIDEO | CAROUSEL_ALBUM
    children: int = 0
    alt_texts: list[str] = field(default_factory=list)


@dataclass
class Container:
    id: str
    owner: str
    text: str
    reply_to: str | None
    status: str = "FINISHED"
    post_id: str = ""
    media_type: str = "TEXT"
    is_carousel_item: bool = False
    children: list[str] = field(default_factory=list)
    checks_left: int = 0
    error_message: str = ""
    alt_text: str = ""


class ThreadsEmulator(EmulatorServer):
    dialect = ThreadsDialect()
    server_header = "proxygen-bolt"

    def __init__(self, *, client_id: str = "resonanz-app", client_secret: str = "resonanz-secret") -> None:  # noqa: S107
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens = TokenStore(self.now)
        self._ids = itertools.count(int(time.time() * 1000) << 8)
        self.users: dict[str, ThreadsUser] = {}
        self.posts: dict[str, ThreadsPost] = {}
        self.containers: dict[str, Container] = {}
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (redirect_uri, user id)
        self.fetched_urls: list[str] = []
        # Status reads a media container answers IN_PROGRESS before FINISHED.
        self.image_checks = 1
        self.video_checks = 2
        # Set to make the next video fail processing with this ``error_message``.
        self.fail_next_video = ""
        self.default_user = self.create_user("resonanz.de", "Resonanz")
        self.route("GET", r"/oauth/authorize", self._authorize)
        self.route("POST", r"/oauth/access_token", self._code_token)
        self.route("GET", r"/access_token", self._exchange)
        self.route("GET", r"/refresh_access_token", self._refresh)
        self.route("POST", r"/refresh_access_token", self._refresh)
        self.route("GET", r"/v1\.0/me", self._me)
        self.route("POST", r"/v1\.0/(\d+)/threads", self._create_container)
        self.route("POST", r"/v1\.0/(\d+)/threads_publish", self._publish)
        self.route("GET", r"/v1\.0/(\d+)/threads", self._timeline)
        self.route("GET", r"/v1\.0/(\d+)/insights", self._insights)
        self.route("GET", r"/v1\.0/(\d+)/replies", self._replies)
        self.route("GET", r"/v1\.0/(\d+)", self._get)
        self.route("DELETE", r"/v1\.0/(\d+)", self._delete)

    # -- test helpers ------------------------------------------------------------------------------
    def create_user(self, username: str, name: str = "") -> ThreadsUser:
        user = ThreadsUser(id=str(next(self._ids)), username=username, name=name or username)
        self.users[user.id] = user
        return user

    def issue_token(self, user: ThreadsUser | None = None, *, ttl: float = LONG_LIVED_TTL) -> Token:
        return self.tokens.issue(subject=(user or self.default_user).id, client_id=self.client_id, ttl=ttl)

    def live_posts(self, user: ThreadsUser | None = None) -> list[ThreadsPost]:
        owner = (user or self.default_user).id
        return [p for p in self.posts.values() if p.owner == owner and not p.deleted]

    def like_as(self, user: ThreadsUser, post_id: str) -> None:
        with self.lock:
            self.posts[post_id].likes.add(user.id)

    def reply_as(self, user: ThreadsUser, post_id: str, text: str) -> ThreadsPost:
        with self.lock:
            return self._new_post(user.id, text, reply_to=post_id)

    # -- plumbing ----------------------------------------------------------------------------------
    def _new_post(self, owner: str, text: str, *, reply_to: str | None = None) -> ThreadsPost:
        post = ThreadsPost(
            id=str(next(self._ids)), owner=owner, text=text, created_at=self.now(), reply_to=reply_to
        )
        self.posts[post.id] = post
        return post

    def _token(self, request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        return request.params().get("access_token")

    def _user(self, request: Request) -> ThreadsUser:
        value = self._token(request) or ""
        token = self.tokens.tokens.get(value)
        if (
            token is None
            or token.revoked
            or (token.expires_at is not None and self.now() >= token.expires_at)
        ):
            raise ApiError(
                401,
                "expired",
                body=graph_error(
                    "Error validating access token: Session has expired.", code=190, subcode=463
                ),
            )
        return self.users[str(token.subject)]

    def _own(self, request: Request, user_id: str) -> ThreadsUser:
        user = self._user(request)
        if user.id != user_id:
            raise ApiError(
                403,
                "forbidden",
                body=graph_error("Application does not have permission for this action", code=10),
            )
        return user

    @staticmethod
    def _iso(moment: float) -> str:
        return datetime.fromtimestamp(moment, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")

    # -- OAuth -------------------------------------------------------------------------------------
    def _authorize(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            raise ApiError(400, "bad", body=graph_error("Invalid platform app", code=1))
        code = secrets.token_urlsafe(24)
        self._codes[code] = (str(params.get("redirect_uri")), self.default_user.id)
        target = (
            f"{params.get('redirect_uri')}?{urlencode({'code': code, 'state': params.get('state') or ''})}"
        )
        return Response(302, b"", content_type="text/html", headers=[("Location", target)])

    def _code_token(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
            raise ApiError(400, "bad", body=graph_error("Error validating client secret.", code=1))
        found = self._codes.pop(params.get("code") or "", None)
        if found is None or found[0] != params.get("redirect_uri"):
            raise ApiError(400, "bad", body=graph_error("Invalid verification code format.", code=100))
        token = self.tokens.issue(subject=found[1], client_id=self.client_id, ttl=3600)
        return json_response(200, {"access_token": token.access_token, "user_id": int(found[1])})

    def _exchange(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if (
            params.get("grant_type") != "th_exchange_token"
            or params.get("client_secret") != self.client_secret
        ):
            raise ApiError(400, "bad", body=graph_error("Unsupported grant_type", code=100))
        user = self._user(request)
        token = self.tokens.issue(subject=user.id, client_id=self.client_id, ttl=LONG_LIVED_TTL)
        return json_response(
            200, {"access_token": token.access_token, "token_type": "bearer", "expires_in": LONG_LIVED_TTL}
        )

    def _refresh(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if params.get("grant_type") != "th_refresh_token":
            raise ApiError(400, "bad", body=graph_error("Unsupported grant_type", code=100))
        user = self._user(request)
        old = self.tokens.tokens[self._token(request) or ""]
        token = self.tokens.issue(subject=user.id, client_id=self.client_id, ttl=LONG_LIVED_TTL)
        old.revoked = True
        return json_response(
            200, {"access_token": token.access_token, "token_type": "bearer", "expires_in": LONG_LIVED_TTL}
        )

    # -- API ---------------------------------------------------------------------------------------
    def _me(self, request: Request, _match: re.Match[str]) -> Response:
        user = self._user(request)
        return json_response(
            200,
            {"id": user.id, "username": user.username, "name": user.name, "threads_profile_picture_url": ""},
        )

    def _fetch(self, url: str, *, image: bool) -> bytes:
        """Fetch the file as Threads' crawler would; a picture must be JPEG or PNG of at most 8 MB."""
        self.fetched_urls.append(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - a test fetch, http(s) only
                data: bytes = answer.read()
        except (OSError, ValueError) as exc:
            raise ApiError(
                400, "fetch", body=graph_error(f"Failed to download the media from {url}: {exc}", code=100)
            ) from exc
        if image and not data.startswith((b"\xff\xd8", b"\x89PNG")):
            raise ApiError(
                400, "format", body=graph_error("The image format is not supported (JPEG or PNG).", code=100)
            )
        if image and len(data) > 8 * 1024 * 1024:
            raise ApiError(400, "size", body=graph_error("The image is larger than 8 MB.", code=100))
        return data

    def _create_container(self, request: Request, match: re.Match[str]) -> Response:
        user = self._own(request, match.group(1))
        params = request.params()
        media_type = params.get("media_type") or ""
        if media_type not in {"TEXT", "IMAGE", "VIDEO", "CAROUSEL"}:
            raise ApiError(400, "bad", body=graph_error("The parameter media_type is required.", code=100))
        known = {
            "media_type",
            "text",
            "reply_to_id",
            "image_url",
            "video_url",
            "is_carousel_item",
            "children",
            "alt_text",
            "access_token",
        }
        unknown = sorted(set(params.values) - known)
        if unknown:
            raise ApiError(400, "bad", body=graph_error(f"Unknown parameter: {unknown[0]}", code=100))
        text = params.get("text") or ""
        if threads_length(text) > TEXT_LIMIT:
            raise ApiError(
                400,
                "bad",
                body=graph_error(f"Param text must be at most {TEXT_LIMIT} characters long.", code=100),
            )
        if len(unique_links(text)) > MAX_LINKS:
            raise ApiError(
                400,
                "bad",
                body={
                    "error": {
                        "message": "THREADS_API__LINK_LIMIT_EXCEEDED",
                        "type": "THApiException",
                        "code": 100,
                        "error_subcode": 4279009,
                        "fbtrace_id": "x",
                    }
                },
            )
        reply_to = params.get("reply_to_id")
        if reply_to and (reply_to not in self.posts or self.posts[reply_to].deleted):
            raise ApiError(400, "bad", body=graph_error("The reply_to_id is invalid.", code=100))
        if media_type == "TEXT" and not text:
            raise ApiError(
                400, "bad", body=graph_error("Param text is required for media_type TEXT.", code=100)
            )
        container = Container(
            id=str(next(self._ids)),
            owner=user.id,
            text=text,
            reply_to=reply_to,
            media_type=media_type,
            is_carousel_item=params.get_bool("is_carousel_item"),
            alt_text=params.get("alt_text") or "",
        )
        if container.is_carousel_item and (text or reply_to):
            raise ApiError(
                400, "bad", body=graph_error("A carousel item takes no text or reply_to_id.", code=100)
            )
        if media_type in ("IMAGE", "VIDEO"):
            url = params.get("image_url" if media_type == "IMAGE" else "video_url") or ""
            if not url:
                raise ApiError(
                    400, "bad", body=graph_error(f"Param {media_type.lower()}_url is required.", code=100)
                )
            self._fetch(url, image=media_type == "IMAGE")
            container.status = "IN_PROGRESS"
            container.checks_left = self.image_checks if media_type == "IMAGE" else self.video_checks
            if media_type == "VIDEO" and self.fail_next_video:
                container.error_message, self.fail_next_video = self.fail_next_video, ""
        elif media_type == "CAROUSEL":
            children = [c for c in (params.get("children") or "").split(",") if c]
            if not 2 <= len(children) <= 20:
                raise ApiError(400, "bad", body=graph_error("A carousel takes 2 to 20 children.", code=100))
            for child in children:
                item = self.containers.get(child)
                if (
                    item is None
                    or item.owner != user.id
                    or not item.is_carousel_item
                    or item.status != "FINISHED"
                ):
                    raise ApiError(
                        400,
                        "bad",
                        body=graph_error(f"Child {child} is not a finished carousel item.", code=100),
                    )
            container.children = children
        self.containers[container.id] = container
        return json_response(200, {"id": container.id})

    def _publish(self, request: Request, match: re.Match[str]) -> Response:
        user = self._own(request, match.group(1))
        container = self.containers.get(request.params().get("creation_id") or "")
        if container is None or container.owner != user.id:
            raise ApiError(
                400, "bad", body=graph_error("The media container does not exist.", code=24, subcode=4279001)
            )
        if container.status == "PUBLISHED":
            raise ApiError(
                400,
                "bad",
                body=graph_error("The media container has been published.", code=24, subcode=4279005),
            )
        if container.status != "FINISHED" or container.is_carousel_item:
            # Graph code 24 as for the other container errors above; the subcode is not documented.
            raise ApiError(
                400,
                "bad",
                body=graph_error("The media is not ready for publishing, please wait for a moment.", code=24),
            )
        today = [
            p
            for p in self.posts.values()
            if p.owner == user.id and self.now() - p.created_at < 86400 and not p.reply_to
        ]
        if len(today) >= POSTS_PER_DAY:
            raise ApiError(400, "limit", body=graph_error("Application request limit reached", code=4))
        post = self._new_post(user.id, container.text, reply_to=container.reply_to)
        post.media_type = {"TEXT": "TEXT_POST", "CAROUSEL": "CAROUSEL_ALBUM"}.get(
            container.media_type, container.media_type
        )
        post.children = len(container.children)
        items = [self.containers[c] for c in container.children] or [container]
        post.alt_texts = [c.alt_text for c in items if c.media_type != "TEXT"]
        container.status, container.post_id = "PUBLISHED", post.id
        return json_response(200, {"id": post.id})

    def _timeline(self, request: Request, match: re.Match[str]) -> Response:
        user = self._own(request, match.group(1))
        since = float(request.params().get("since") or 0)
        posts = sorted(
            (p for p in self.live_posts(user) if p.created_at >= since and not p.reply_to),
            key=lambda p: -p.created_at,
        )
        posts += sorted(
            (p for p in self.live_posts(user) if p.created_at >= since and p.reply_to),
            key=lambda p: -p.created_at,
        )
        return json_response(
            200,
            {
                "data": [
                    {
                        "id": p.id,
                        "text": p.text,
                        "timestamp": self._iso(p.created_at),
                        "media_type": p.media_type,
                    }
                    for p in posts
                ]
            },
        )

    def _get(self, request: Request, match: re.Match[str]) -> Response:
        self._user(request)
        container = self.containers.get(match.group(1))
        if container is not None:
            if container.status == "IN_PROGRESS":
                container.checks_left -= 1
                if container.checks_left <= 0:
                    container.status = "ERROR" if container.error_message else "FINISHED"
            out: JSONDict = {"id": container.id, "status": container.status}
            if container.status == "ERROR" and "error_message" in (request.params().get("fields") or ""):
                out["error_message"] = container.error_message
            return json_response(200, out)
        post = self.posts.get(match.group(1))
        if post is None or post.deleted:
            raise ApiError(400, "bad", body=graph_error("Object does not exist", code=100, subcode=33))
        return json_response(200, {"id": post.id, "text": post.text, "timestamp": self._iso(post.created_at)})

    def _delete(self, request: Request, match: re.Match[str]) -> Response:
        user = self._user(request)
        post = self.posts.get(match.group(1))
        if post is None or post.deleted:
            raise ApiError(404, "gone", body=graph_error("Object does not exist", code=100, subcode=33))
        if post.owner != user.id:
            raise ApiError(403, "forbidden", body=graph_error("Permission denied", code=10))
        post.deleted = True
        return json_response(200, {"success": True, "deleted_id": post.id})

    def _insights(self, request: Request, match: re.Match[str]) -> Response:
        self._user(request)
        post = self.posts.get(match.group(1))
        if post is None or post.deleted:
            raise ApiError(400, "bad", body=graph_error("Object does not exist", code=100, subcode=33))
        replies = [
            p
            for p in self.posts.values()
            if p.reply_to == post.id and not p.deleted and p.owner != post.owner
        ]
        counts = {
            "views": post.views,
            "likes": len(post.likes),
            "replies": len(replies),
            "reposts": 0,
            "quotes": 0,
        }
        wanted = (request.params().get("metric") or "").split(",")
        return json_response(
            200,
            {
                "data": [
                    {
                        "name": name,
                        "period": "lifetime",
                        "values": [{"value": counts[name]}],
                        "id": f"{post.id}/insights/{name}/lifetime",
                    }
                    for name in wanted
                    if name in counts
                ]
            },
        )

    def _replies(self, request: Request, match: re.Match[str]) -> Response:
        self._user(request)
        post = self.posts.get(match.group(1))
        if post is None or post.deleted:
            raise ApiError(400, "bad", body=graph_error("Object does not exist", code=100, subcode=33))
        data = [
            {
                "id": r.id,
                "text": r.text,
                "username": self.users[r.owner].username,
                "timestamp": self._iso(r.created_at),
                "permalink": f"https://www.threads.com/@{self.users[r.owner].username}/post/{r.id}",
                "replied_to": {"id": post.id},
            }
            for r in self.posts.values()
            if r.reply_to == post.id and not r.deleted
        ]
        return json_response(200, {"data": data})
