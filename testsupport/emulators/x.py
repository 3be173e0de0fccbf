"""An emulator of X's API v2, written from X's published contract (https://docs.x.com/x-api/introduction).

What it holds:

* OAuth 2.0 authorization code with PKCE (https://docs.x.com/fundamentals/authentication/oauth-2-0/
  authorization-code): ``GET /i/oauth2/authorize`` approves at once for the default user and redirects with
  ``code`` and ``state``; ``POST /2/oauth2/token`` checks the client (Basic auth or ``client_id``), the
  redirect URI and the S256 verifier, issues two-hour access tokens and, only with ``offline.access``,
  a refresh token that rotates on every use.
* ``POST /2/tweets`` (request validated against a strict copy of the SDK's ``CreatePostsRequest``),
  ``DELETE /2/tweets/:id``, ``GET /2/tweets/:id`` (public, non-public, organic metrics; the latter two only
  for posts of the last 30 days, else 400), ``GET /2/users/me``, ``GET /2/users/:id/tweets``,
  ``GET /2/users/:id/mentions`` (``since_id``).
* Weighted length (twitter-text config v3, counted with the same package X publishes the rules in) with
  400 for a text over 280 (25,000 for a user marked Premium); 403 for duplicate content.
* Media: ``POST /2/media/upload`` (one call) and initialize/append/finalize/status for GIF and video;
  ``POST /2/media/metadata`` for alt text (at most 1,000 characters).
* Error bodies as X words them: problem objects ``{"title", "detail", "type", "status"}`` and
  ``{"errors": [...]}``; ``x-rate-limit-*`` headers (Unix reset, no ``Retry-After``) and the user's
  24-hour create cap (``x-user-limit-24hour-*``).

Request bodies are checked against the vendor's own schema: the pydantic models of ``xdk`` (X's official
SDK), made strict (``extra="forbid"``), so a field X does not know is refused here as well.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from pydantic import ConfigDict
from xdk import schemas

from resonanz.connectors.x.text import LONG_POST_LIMIT, STANDARD_LIMIT, weighted_length

from .base import (
    ApiError,
    Dialect,
    EmulatorServer,
    FixedWindow,
    RateLimitState,
    Request,
    Response,
    Token,
    TokenStore,
    client_credentials,
    json_response,
    pkce_challenge,
)

JSONDict = dict[str, Any]
PROBLEM_INVALID = "https://api.twitter.com/2/problems/invalid-request"
PROBLEM_NOT_FOUND = "https://api.twitter.com/2/problems/resource-not-found"
ACCESS_TOKEN_TTL = 7200
CREATE_WINDOW = (200, 900)  # POST /2/tweets: 200 requests / 15 minutes per user (reference/networks.md)
# Every other user-context endpoint: its own 15-minute window (https://docs.x.com/fundamentals/rate-limits:
# "Most limits reset every 15 minutes", "Each endpoint has its own limit"); 900 stands for the read limits.
OTHER_WINDOW = (900, 900)
PRIVATE_METRICS_DAYS = 30


# -- the vendor's request models, strict ------------------------------------------------------------
# ``extra="forbid"`` is set in each class: pydantic reads ``model_config`` from the class and its model
# bases, not from a plain mixin.
_FORBID = ConfigDict(extra="forbid")


class StrictCreatePostsReply(schemas.CreatePostsReply):
    model_config = _FORBID


class StrictCreatePostsMedia(schemas.CreatePostsMedia):
    model_config = _FORBID


class StrictCreatePostsRequest(schemas.CreatePostsRequest):
    model_config = _FORBID
    reply: StrictCreatePostsReply | None = None
    media: StrictCreatePostsMedia | None = None


class StrictMediaUploadRequest(schemas.MediaUploadRequest):
    model_config = _FORBID


class StrictInitializeMediaUploadRequest(schemas.InitializeMediaUploadRequest):
    model_config = _FORBID


class StrictAppendMediaUploadRequest(schemas.AppendMediaUploadRequest):
    model_config = _FORBID


class StrictAltText(schemas.CreateMediaMetadataMetadataAltText):
    model_config = _FORBID


class StrictMediaMetadata(schemas.CreateMediaMetadataMetadata):
    model_config = _FORBID
    alt_text: StrictAltText | None = None


class StrictCreateMediaMetadataRequest(schemas.CreateMediaMetadataRequest):
    model_config = _FORBID
    metadata: StrictMediaMetadata | None = None


# -- X's dialect ------------------------------------------------------------------------------------
class XDialect(Dialect):
    rejection_status = 403
    send_retry_after = False  # X sends x-rate-limit-reset only

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        titles = {400: "Invalid Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found"}
        titles[429] = "Too Many Requests"
        if status == 400:
            return {
                "errors": [{"message": message}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": PROBLEM_INVALID,
            }
        return {
            "title": titles.get(status, "Error"),
            "detail": message,
            "type": "about:blank",
            "status": status,
        }

    def expired_token(self, request: Request) -> Response:
        return json_response(
            401, {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
        )

    def credentials_refused(self, request: Request) -> Response:
        return json_response(
            400, {"error": "invalid_request", "error_description": "Value passed for the token was invalid."}
        )

    def rate_limit_headers(self, state: RateLimitState) -> list[tuple[str, str]]:
        return [
            ("x-rate-limit-limit", str(state.limit)),
            ("x-rate-limit-remaining", str(state.remaining)),
            ("x-rate-limit-reset", str(int(state.reset_at))),
        ]


@dataclass
class XUser:
    id: str
    username: str
    name: str
    premium: bool = False


@dataclass
class XPost:
    id: str
    author_id: str
    text: str
    created_at: float
    reply_to: str | None = None
    quote_of: str | None = None
    media_ids: list[str] = field(default_factory=list)
    likes: set[str] = field(default_factory=set)
    impressions: int = 0
    bookmarks: int = 0
    deleted: bool = False


@dataclass
class XMedia:
    id: str
    owner_id: str
    category: str
    media_type: str
    total_bytes: int
    data: bytearray = field(default_factory=bytearray)
    state: str = "uploading"  # uploading -> pending -> succeeded
    status_checks: int = 0
    alt_text: str = ""


@dataclass
class _AuthCode:
    client_id: str
    redirect_uri: str
    challenge: str
    scopes: list[str]
    user_id: str


class XEmulator(EmulatorServer):
    dialect = XDialect()
    server_header = "tsa_b"

    def __init__(
        self,
        *,
        client_id: str = "resonanz-client",
        client_secret: str = "",
        daily_post_cap: int | None = None,
        processing_checks: int = 1,
    ) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.daily_post_cap = daily_post_cap
        self.processing_checks = processing_checks
        # Set to leave refresh_token out of token answers (an app without offline.access).
        self.omit_refresh_token = False
        self.tokens = TokenStore(self.now)
        self._ids = itertools.count(int(time.time() * 1000) << 22)
        self.users: dict[str, XUser] = {}
        self.posts: dict[str, XPost] = {}
        self.media: dict[str, XMedia] = {}
        self._codes: dict[str, _AuthCode] = {}
        self._windows = FixedWindow(*CREATE_WINDOW)
        self._other_windows = FixedWindow(*OTHER_WINDOW)
        self._creates: dict[str, list[float]] = {}
        self.default_user = self.create_user("resonanz_de", "Resonanz")
        self.route("GET", r"/i/oauth2/authorize", self._authorize)
        self.route("POST", r"/2/oauth2/token", self._token)
        self.route("GET", r"/2/users/me", self._me)
        self.route("GET", r"/2/users/(\d+)/tweets", self._user_posts)
        self.route("GET", r"/2/users/(\d+)/mentions", self._mentions)
        self.route("POST", r"/2/tweets", self._create_post)
        self.route("GET", r"/2/tweets/(\d+)", self._get_post)
        self.route("DELETE", r"/2/tweets/(\d+)", self._delete_post)
        self.route("POST", r"/2/media/upload", self._upload)
        self.route("GET", r"/2/media/upload", self._upload_status)
        self.route("POST", r"/2/media/upload/initialize", self._initialize)
        self.route("POST", r"/2/media/upload/(\d+)/append", self._append)
        self.route("POST", r"/2/media/upload/(\d+)/finalize", self._finalize)
        self.route("POST", r"/2/media/metadata", self._metadata)
        self.validate("POST", r"/2/tweets", StrictCreatePostsRequest)
        self.validate("POST", r"/2/media/upload", StrictMediaUploadRequest)
        self.validate("POST", r"/2/media/upload/initialize", StrictInitializeMediaUploadRequest)
        self.validate("POST", r"/2/media/upload/\d+/append", StrictAppendMediaUploadRequest)
        self.validate("POST", r"/2/media/metadata", StrictCreateMediaMetadataRequest)

    # -- test helpers ------------------------------------------------------------------------------
    def create_user(self, username: str, name: str = "", *, premium: bool = False) -> XUser:
        user = XUser(id=str(next(self._ids)), username=username, name=name or username, premium=premium)
        self.users[user.id] = user
        return user

    def issue_token(self, user: XUser | None = None, *, ttl: float = ACCESS_TOKEN_TTL) -> Token:
        user = user or self.default_user
        return self.tokens.issue(
            subject=user.id,
            client_id=self.client_id,
            scopes=["tweet.read", "tweet.write", "users.read", "offline.access", "media.write"],
            ttl=ttl,
            refreshable=True,
        )

    def live_posts(self, user: XUser | None = None) -> list[XPost]:
        author = (user or self.default_user).id
        return [p for p in self.posts.values() if p.author_id == author and not p.deleted]

    def post_as(self, user: XUser, text: str) -> XPost:
        """A post of someone else (to be quoted, mentioned, answered)."""
        with self.lock:
            return self._new_post(user.id, text)

    def reply_as(self, user: XUser, post_id: str, text: str) -> XPost:
        with self.lock:
            return self._new_post(user.id, text, reply_to=post_id)

    def like_as(self, user: XUser, post_id: str) -> None:
        with self.lock:
            self.posts[post_id].likes.add(user.id)

    # -- plumbing ----------------------------------------------------------------------------------
    def _new_id(self) -> str:
        return str(next(self._ids))

    def _new_post(
        self,
        author_id: str,
        text: str,
        *,
        reply_to: str | None = None,
        quote_of: str | None = None,
        media_ids: list[str] | None = None,
    ) -> XPost:
        post = XPost(
            id=self._new_id(),
            author_id=author_id,
            text=text,
            created_at=self.now(),
            reply_to=reply_to,
            quote_of=quote_of,
            media_ids=list(media_ids or []),
        )
        self.posts[post.id] = post
        return post

    def _user(self, request: Request, scopes: tuple[str, ...]) -> XUser:
        token, problem = self.tokens.check(request)
        if problem is not None or token is None or token.subject not in self.users:
            raise ApiError(
                401,
                "Unauthorized",
                body={
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                },
            )
        missing = [s for s in scopes if s not in token.scopes]
        if missing:
            raise ApiError(
                403,
                "Forbidden",
                body={
                    "title": "Forbidden",
                    "type": "about:blank",
                    "status": 403,
                    "detail": f"Missing scopes: {', '.join(missing)}",
                },
            )
        return self.users[str(token.subject)]

    @staticmethod
    def _invalid(message: str, parameter: str = "") -> ApiError:
        error: JSONDict = {"message": message}
        if parameter:
            error["parameters"] = {parameter: []}
        return ApiError(
            400,
            message,
            body={
                "errors": [error],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
                "type": PROBLEM_INVALID,
            },
        )

    @staticmethod
    def _iso(moment: float) -> str:
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def _serialize(self, post: XPost, fields: set[str], *, owner: bool) -> JSONDict:
        out: JSONDict = {"id": post.id, "text": _as_x_returns(post.text), "edit_history_tweet_ids": [post.id]}
        if "created_at" in fields:
            out["created_at"] = self._iso(post.created_at)
        if "author_id" in fields:
            out["author_id"] = post.author_id
        if "conversation_id" in fields:
            root = post
            while root.reply_to and root.reply_to in self.posts:
                root = self.posts[root.reply_to]
            out["conversation_id"] = root.id
        refs = []
        if post.reply_to:
            refs.append({"type": "replied_to", "id": post.reply_to})
        if post.quote_of:
            refs.append({"type": "quoted", "id": post.quote_of})
        if "referenced_tweets" in fields and refs:
            out["referenced_tweets"] = refs
        if "attachments" in fields and post.media_ids:
            out["attachments"] = {"media_keys": [f"3_{m}" for m in post.media_ids]}
        replies = sum(1 for p in self.posts.values() if p.reply_to == post.id and not p.deleted)
        quotes = sum(1 for p in self.posts.values() if p.quote_of == post.id and not p.deleted)
        if "public_metrics" in fields:
            out["public_metrics"] = {
                "retweet_count": 0,
                "reply_count": replies,
                "like_count": len(post.likes),
                "quote_count": quotes,
                "bookmark_count": post.bookmarks,
                "impression_count": post.impressions,
            }
        private = {"non_public_metrics", "organic_metrics"} & fields
        if private:
            if not owner:
                raise ApiError(
                    403,
                    "Forbidden",
                    body={
                        "title": "Forbidden",
                        "type": "about:blank",
                        "status": 403,
                        "detail": "Sorry, you are not authorized to access non_public_metrics.",
                    },
                )
            if self.now() - post.created_at > PRIVATE_METRICS_DAYS * 86400:
                raise self._invalid(
                    "Non-public and organic metrics are only available for posts of the last 30 days.",
                    "tweet.fields",
                )
            if "non_public_metrics" in fields:
                out["non_public_metrics"] = {
                    "impression_count": post.impressions,
                    "url_link_clicks": 0,
                    "user_profile_clicks": 0,
                }
            if "organic_metrics" in fields:
                out["organic_metrics"] = {
                    "impression_count": post.impressions,
                    "like_count": len(post.likes),
                    "reply_count": replies,
                    "retweet_count": 0,
                }
        return out

    @staticmethod
    def _fields(request: Request) -> set[str]:
        raw = request.params().get("tweet.fields") or ""
        return {f for f in raw.split(",") if f}

    # -- OAuth 2 -----------------------------------------------------------------------------------
    def _authorize(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            raise ApiError(400, "invalid_request", body={"error": "invalid_request"})
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            raise ApiError(
                400,
                "invalid_request",
                body={"error": "invalid_request", "error_description": "PKCE S256 is required"},
            )
        code = secrets.token_urlsafe(24)
        self._codes[code] = _AuthCode(
            client_id=self.client_id,
            redirect_uri=str(params.get("redirect_uri")),
            challenge=str(params.get("code_challenge")),
            scopes=(params.get("scope") or "").split(),
            user_id=self.default_user.id,
        )
        target = (
            f"{params.get('redirect_uri')}?{urlencode({'state': params.get('state') or '', 'code': code})}"
        )
        return Response(302, b"", content_type="text/html", headers=[("Location", target)])

    def _check_client(self, request: Request) -> str:
        client_id, secret = client_credentials(request)
        if client_id != self.client_id or (self.client_secret and secret != self.client_secret):
            raise ApiError(
                401,
                "unauthorized_client",
                body={
                    "error": "unauthorized_client",
                    "error_description": "Missing valid authorization header",
                },
            )
        return client_id

    def _token_answer(self, token: Token) -> Response:
        body: JSONDict = {
            "token_type": "bearer",
            "expires_in": ACCESS_TOKEN_TTL,
            "access_token": token.access_token,
            "scope": " ".join(token.scopes),
        }
        if token.refresh_token and not self.omit_refresh_token:
            body["refresh_token"] = token.refresh_token
        return json_response(200, body)

    def _token(self, request: Request, _match: re.Match[str]) -> Response:
        client_id = self._check_client(request)
        params = request.params()
        grant = params.get("grant_type")
        refused = ApiError(
            400,
            "invalid_request",
            body={"error": "invalid_request", "error_description": "Value passed for the token was invalid."},
        )
        if grant == "authorization_code":
            code = self._codes.pop(params.get("code") or "", None)
            if code is None or code.redirect_uri != params.get("redirect_uri"):
                raise refused
            if pkce_challenge(params.get("code_verifier") or "") != code.challenge:
                raise refused
            token = self.tokens.issue(
                subject=code.user_id,
                client_id=client_id,
                scopes=code.scopes,
                ttl=ACCESS_TOKEN_TTL,
                refreshable="offline.access" in code.scopes,
            )
            return self._token_answer(token)
        if grant == "refresh_token":
            old = self.tokens.redeem_refresh(params.get("refresh_token") or "", client_id=client_id)
            if old is None:
                raise refused
            token = self.tokens.issue(
                subject=old.subject,
                client_id=client_id,
                scopes=old.scopes,
                ttl=ACCESS_TOKEN_TTL,
                refreshable=True,
            )
            return self._token_answer(token)
        raise ApiError(400, "unsupported_grant_type", body={"error": "unsupported_grant_type"})

    # -- users -------------------------------------------------------------------------------------
    def _me(self, request: Request, _match: re.Match[str]) -> Response:
        user = self._user(request, ("users.read",))
        data: JSONDict = {"id": user.id, "name": user.name, "username": user.username}
        fields = (request.params().get("user.fields") or "").split(",")
        if "profile_image_url" in fields:
            data["profile_image_url"] = ""
        if "subscription_type" in fields:
            data["subscription_type"] = "Premium" if user.premium else "None"
        return json_response(200, {"data": data})

    def _timeline(self, request: Request, posts: list[XPost], viewer: XUser) -> Response:
        params = request.params()
        fields = self._fields(request)
        start = params.get("start_time")
        if start:
            cutoff = datetime.fromisoformat(start.replace("Z", "+00:00")).timestamp()
            posts = [p for p in posts if p.created_at >= cutoff]
        since = params.get("since_id")
        if since:
            posts = [p for p in posts if int(p.id) > int(since)]
        posts = sorted(posts, key=lambda p: int(p.id), reverse=True)
        size = int(params.get("max_results") or 10)
        if not 5 <= size <= 100:
            raise self._invalid(
                "The `max_results` query parameter value is not between 5 and 100", "max_results"
            )
        offset = int(params.get("pagination_token") or 0)
        page = posts[offset : offset + size]
        body: JSONDict = {"meta": {"result_count": len(page)}}
        if page:
            body["data"] = [self._serialize(p, fields, owner=p.author_id == viewer.id) for p in page]
            body["meta"].update(newest_id=page[0].id, oldest_id=page[-1].id)
        if offset + size < len(posts):
            body["meta"]["next_token"] = str(offset + size)
        if "author_id" in (params.get("expansions") or ""):
            authors = {p.author_id for p in page}
            body["includes"] = {
                "users": [
                    {"id": u.id, "username": u.username, "name": u.name}
                    for u in self.users.values()
                    if u.id in authors
                ]
            }
        return json_response(200, body)

    def _user_posts(self, request: Request, match: re.Match[str]) -> Response:
        viewer = self._user(request, ("tweet.read", "users.read"))
        author = match.group(1)
        posts = [p for p in self.posts.values() if p.author_id == author and not p.deleted]
        return self._timeline(request, posts, viewer)

    def _mentions(self, request: Request, match: re.Match[str]) -> Response:
        viewer = self._user(request, ("tweet.read", "users.read"))
        user = self.users.get(match.group(1))
        if user is None:
            raise ApiError(404, "Not Found")
        own = {p.id for p in self.posts.values() if p.author_id == user.id}
        mention = re.compile(rf"(?<!\w)@{re.escape(user.username)}(?!\w)", re.IGNORECASE)
        posts = [
            p
            for p in self.posts.values()
            if not p.deleted and p.author_id != user.id and (p.reply_to in own or mention.search(p.text))
        ]
        return self._timeline(request, posts, viewer)

    # -- posts -------------------------------------------------------------------------------------
    def rate_limit(self, request: Request) -> RateLimitState | None:
        """Per user and endpoint; the OAuth endpoints are not counted here."""
        if request.path.startswith(("/i/oauth2/", "/2/oauth2/")):
            return None
        token, _ = self.tokens.check(request)
        who = str(token.subject if token else request.client_ip)
        if request.method == "POST" and request.path == "/2/tweets":
            return self._windows.hit(who, self.now())
        endpoint = re.sub(r"/\d+", "/:id", request.path)
        return self._other_windows.hit(f"{who} {request.method} {endpoint}", self.now())

    def default_rate_limit(self) -> int:
        return CREATE_WINDOW[0]

    def _day_headers(self, user: XUser) -> list[tuple[str, str]]:
        if self.daily_post_cap is None:
            return []
        now = self.now()
        recent = [t for t in self._creates.get(user.id, []) if now - t < 86400]
        self._creates[user.id] = recent
        reset = (recent[0] if recent else now) + 86400
        return [
            ("x-user-limit-24hour-limit", str(self.daily_post_cap)),
            ("x-user-limit-24hour-remaining", str(max(0, self.daily_post_cap - len(recent)))),
            ("x-user-limit-24hour-reset", str(int(reset))),
        ]

    def _create_post(self, request: Request, _match: re.Match[str]) -> Response:
        user = self._user(request, ("tweet.read", "tweet.write", "users.read"))
        body = request.json() or {}
        if self.daily_post_cap is not None:
            headers = self._day_headers(user)
            if len(self._creates[user.id]) >= self.daily_post_cap:
                raise ApiError(
                    429,
                    "Too Many Requests",
                    body={
                        "title": "Too Many Requests",
                        "detail": "Too Many Requests",
                        "type": "about:blank",
                        "status": 429,
                    },
                    headers=headers,
                )
        text = str(body.get("text") or "")
        media_ids = list((body.get("media") or {}).get("media_ids") or [])
        if not text and not media_ids:
            raise self._invalid("You must specify at least one of text or media", "text")
        limit = LONG_POST_LIMIT if user.premium else STANDARD_LIMIT
        if weighted_length(text) > limit:
            raise self._invalid(f"Your post text is too long: at most {limit} weighted characters.", "text")
        if len(media_ids) > 4:
            raise self._invalid("Your media IDs are invalid: at most 4 media per post.", "media.media_ids")
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media.owner_id != user.id or media.state != "succeeded":
                raise self._invalid(f"Your media IDs are invalid: {media_id}", "media.media_ids")
        kinds = {self.media[m].category for m in media_ids}
        if len(media_ids) > 1 and kinds & {"tweet_gif", "tweet_video"}:
            raise self._invalid(
                "Your media IDs are invalid: a GIF or video must be alone.", "media.media_ids"
            )
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to and (reply_to not in self.posts or self.posts[reply_to].deleted):
            raise self._invalid("The post you are replying to is not visible or was deleted.", "reply")
        quote = body.get("quote_tweet_id")
        if quote and quote not in self.posts:
            raise self._invalid("The quoted post does not exist.", "quote_tweet_id")
        duplicate = any(
            p.text == text and not p.deleted and p.author_id == user.id and text for p in self.posts.values()
        )
        if duplicate:
            raise ApiError(
                403,
                "duplicate",
                body={
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
            )
        post = self._new_post(user.id, text, reply_to=reply_to, quote_of=quote, media_ids=media_ids)
        self._creates.setdefault(user.id, []).append(self.now())
        response = json_response(
            201, {"data": {"id": post.id, "text": _as_x_returns(text), "edit_history_tweet_ids": [post.id]}}
        )
        response.headers += self._day_headers(user)
        return response

    def _get_post(self, request: Request, match: re.Match[str]) -> Response:
        viewer = self._user(request, ("tweet.read", "users.read"))
        post = self.posts.get(match.group(1))
        if post is None or post.deleted:
            return json_response(
                200,
                {
                    "errors": [
                        {
                            "value": match.group(1),
                            "detail": f"Could not find tweet with id: [{match.group(1)}].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "id",
                            "resource_id": match.group(1),
                            "type": PROBLEM_NOT_FOUND,
                        }
                    ]
                },
            )
        return json_response(
            200, {"data": self._serialize(post, self._fields(request), owner=post.author_id == viewer.id)}
        )

    def _delete_post(self, request: Request, match: re.Match[str]) -> Response:
        user = self._user(request, ("tweet.read", "tweet.write", "users.read"))
        post = self.posts.get(match.group(1))
        if post is None or post.deleted:
            raise ApiError(404, "Not Found")
        if post.author_id != user.id:
            raise ApiError(403, "You are not allowed to delete this Tweet.")
        post.deleted = True
        return json_response(200, {"data": {"deleted": True}})

    # -- media -------------------------------------------------------------------------------------
    @staticmethod
    def _decode(value: Any) -> bytes:
        try:
            return base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise XEmulator._invalid("media is not valid base64", "media") from exc

    def _media_answer(self, media: XMedia) -> JSONDict:
        data: JSONDict = {
            "id": media.id,
            "media_key": f"3_{media.id}",
            "size": len(media.data),
            "expires_after_secs": 86400,
        }
        if media.state in ("pending", "in_progress", "failed"):
            data["processing_info"] = {"state": media.state, "check_after_secs": 0}
        elif media.category != "tweet_image":
            data["processing_info"] = {"state": "succeeded", "progress_percent": 100}
        return {"data": data}

    def _upload(self, request: Request, _match: re.Match[str]) -> Response:
        user = self._user(request, ("media.write",))
        body = request.json() or {}
        data = self._decode(body.get("media"))
        if body.get("media_category") != "tweet_image":
            raise self._invalid("Use the chunked upload for GIFs and videos.", "media_category")
        if len(data) > 5 * 1024 * 1024:
            raise self._invalid("File size exceeds 5242880 bytes.", "media")
        media = XMedia(
            self._new_id(), user.id, "tweet_image", "image", len(data), bytearray(data), "succeeded"
        )
        self.media[media.id] = media
        return json_response(200, self._media_answer(media))

    def _initialize(self, request: Request, _match: re.Match[str]) -> Response:
        user = self._user(request, ("media.write",))
        body = request.json() or {}
        media = XMedia(
            self._new_id(),
            user.id,
            str(body.get("media_category") or "tweet_video"),
            str(body.get("media_type") or ""),
            int(body.get("total_bytes") or 0),
        )
        self.media[media.id] = media
        return json_response(
            200, {"data": {"id": media.id, "media_key": f"7_{media.id}", "expires_after_secs": 86400}}
        )

    def _own_media(self, request: Request, media_id: str) -> XMedia:
        user = self._user(request, ("media.write",))
        media = self.media.get(media_id)
        if media is None or media.owner_id != user.id:
            raise self._invalid(f"Your media IDs are invalid: {media_id}", "media_id")
        return media

    def _append(self, request: Request, match: re.Match[str]) -> Response:
        media = self._own_media(request, match.group(1))
        body = request.json() or {}
        media.data += self._decode(body.get("media"))
        return json_response(200, {"data": {"expires_at": int(self.now()) + 86400}})

    def _finalize(self, request: Request, match: re.Match[str]) -> Response:
        media = self._own_media(request, match.group(1))
        if len(media.data) != media.total_bytes:
            raise self._invalid("Segments do not add up to provided total file size.", "total_bytes")
        media.state = "pending" if self.processing_checks > 0 else "succeeded"
        return json_response(200, self._media_answer(media))

    def _upload_status(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        media = self._own_media(request, params.get("media_id") or "")
        if media.state == "pending":
            media.status_checks += 1
            if media.status_checks >= self.processing_checks:
                media.state = "succeeded"
        return json_response(200, self._media_answer(media))

    def _metadata(self, request: Request, _match: re.Match[str]) -> Response:
        body = request.json() or {}
        media = self._own_media(request, str(body.get("id") or ""))
        text = str(((body.get("metadata") or {}).get("alt_text") or {}).get("text") or "")
        if len(text) > 1000:
            raise self._invalid("alt_text.text must be at most 1000 characters.", "metadata.alt_text.text")
        media.alt_text = text
        return json_response(
            200, {"data": {"id": media.id, "associated_metadata": body.get("metadata") or {}}}
        )


def _as_x_returns(text: str) -> str:
    """X answers with ``&``, ``<`` and ``>`` as HTML entities and every URL as a t.co link."""
    from resonanz.connectors.x.text import url_spans

    escaped_parts: list[str] = []
    position = 0
    for start, end in url_spans(text):
        escaped_parts += [_escape(text[position:start]), "https://t.co/" + secrets.token_hex(5)]
        position = end
    escaped_parts.append(_escape(text[position:]))
    return "".join(escaped_parts)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["XDialect", "XEmulator", "XPost", "XUser"]
