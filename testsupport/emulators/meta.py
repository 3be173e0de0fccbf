"""An emulator of Meta's Graph API for Facebook Pages and Instagram professional accounts, written from
Meta's published contract (https://developers.facebook.com/docs/graph-api, Pages API
https://developers.facebook.com/docs/pages-api, Instagram Platform
https://developers.facebook.com/docs/instagram-platform/content-publishing).

What it holds:

* Facebook Login (https://developers.facebook.com/docs/facebook-login/guides/advanced/manual-flow):
  ``GET /{v}/dialog/oauth`` approves at once for the default person and redirects with ``code`` and
  ``state``; ``GET /{v}/oauth/access_token`` swaps the code for a short-lived user token (two hours) and,
  with ``grant_type=fb_exchange_token``, that for a long-lived one (60 days); ``GET /{v}/me/accounts`` lists
  the Pages with their Page tokens (no expiry).
* Pages: ``GET /me`` (the Page, with a Page token), ``POST /{page}/feed`` (``message``, ``link``,
  ``attached_media``), ``POST /{page}/photos`` (multipart ``source``, ``published=false``),
  ``POST /{page}/videos``, ``GET /{page}/posts`` (``since``, cursor paging), ``POST /{post}`` (edit the
  message), ``DELETE /{post}``, ``GET /{post}`` (reactions / comments summaries, shares),
  ``GET /{post}/comments``, ``GET /{post}/insights`` (the metrics deprecated in 2025 answer code 100).
* Answers are comments: ``POST /{object}/comments`` with ``message`` on a post or a comment (answered
  ``{"id": ...}``, https://developers.facebook.com/docs/graph-api/reference/object/comments/), and
  ``GET /{object}/comments`` (``order``, ``limit``); Instagram ``POST /{ig-media}/comments`` and
  ``POST``/``GET /{ig-comment}/replies``
  (https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-comment/replies).
* Marketing API (paid posts, https://developers.facebook.com/docs/marketing-api/insights), read with a
  user token holding ``ads_read`` (else code 200): ``GET /{v}/me/adaccounts``, ``GET /{v}/act_{id}/ads``
  (``creative{effective_object_story_id}``: the boosted Page post) and ``GET /{v}/act_{id}/insights``
  (``level=ad``, ``time_increment=1``, ``time_range`` as JSON; numbers as strings, ``actions`` and
  ``action_values`` as ``{action_type, value}`` lists, a lead reported as ``lead`` and again as
  ``offsite_conversion.fb_pixel_lead`` like Meta does), all cursor-paged (``paging.cursors.after`` while
  ``paging.next``); an account the person cannot see answers code 100 subcode 33.
* Error bodies as Meta words them: ``{"error": {"message", "type", "code", "error_subcode",
  "fbtrace_id"}}``; code 190 (subcode 463) for an expired token; rate limits as HTTP 400 with code 4 /
  17 / 32 / 613 plus ``X-App-Usage`` and ``X-Business-Use-Case-Usage`` headers on every answer. One
  deviation: ``estimated_time_to_regain_access`` is written with decimals (Meta sends whole minutes), so
  an injected wait of 30 seconds stays 30 seconds for the shared contract suite.

Requests are checked against the vendor's own schema: the parameter lists (``param_types``) and field
lists (``Field``) Meta ships in its Business SDK (``facebook_business.adobjects``), so a parameter or field
Meta does not know is refused here as well.
"""

from __future__ import annotations

import ast
import hashlib
import hmac
import inspect
import io
import itertools
import json
import re
import secrets
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import urlencode

from facebook_business.adobjects.ad import Ad as SdkAd
from facebook_business.adobjects.adaccount import AdAccount as SdkAdAccount
from facebook_business.adobjects.adsinsights import AdsInsights as SdkAdsInsights
from facebook_business.adobjects.advideo import AdVideo as SdkAdVideo
from facebook_business.adobjects.comment import Comment as SdkComment
from facebook_business.adobjects.igcomment import IGComment as SdkIGComment
from facebook_business.adobjects.igmedia import IGMedia as SdkIGMedia
from facebook_business.adobjects.iguser import IGUser as SdkIGUser
from facebook_business.adobjects.page import Page as SdkPage
from facebook_business.adobjects.pagepost import PagePost as SdkPagePost
from facebook_business.adobjects.user import User as SdkUser

from .base import (
    ApiError,
    Dialect,
    EmulatorServer,
    FaultKind,
    Faults,
    RateLimitState,
    Request,
    Response,
    Token,
    TokenStore,
    json_response,
)

JSONDict = dict[str, Any]
V = r"/v\d+\.\d+"
SHORT_USER_TOKEN_TTL = 2 * 3600
LONG_USER_TOKEN_TTL = 60 * 86400
TEXT_LIMIT = 63206
DEPRECATED_POST_METRICS = frozenset(
    {
        "post_impressions",
        "post_impressions_unique",
        "post_impressions_paid_unique",
        "post_impressions_fan_unique",
        "post_impressions_organic_unique",
        "post_impressions_viral_unique",
        "post_impressions_nonviral_unique",
    }
)
POST_METRICS = frozenset({"post_total_media_view_unique", "post_media_view", "post_reactions_by_type_total"})
# Reels metrics of ``/{video-id}/video_insights`` (reels-publishing guide, "Insights"), without the
# ``post_impressions_unique`` deprecated on 15 June 2025 (refused like the post metrics above).
REEL_METRICS = frozenset(
    {
        "blue_reels_play_count",
        "fb_reels_total_plays",
        "fb_reels_replay_count",
        "post_video_avg_time_watched",
        "post_video_view_time",
        "post_video_followers",
        "post_video_likes_by_reaction_type",
        "post_video_social_actions",
    }
)
# Parameters every Graph call takes besides the endpoint's own (https://developers.facebook.com/docs/graph-api/overview).
TRANSPORT_PARAMS = frozenset(
    {"access_token", "appsecret_proof", "fields", "limit", "after", "before", "since", "until"}
)


# -- the vendor's schema ---------------------------------------------------------------------------
@cache
def sdk_params(cls: type, method: str) -> frozenset[str]:
    """The names of ``param_types`` in one method of Meta's Business SDK (the generated definition of
    the endpoint's parameters)."""
    source = textwrap.dedent(inspect.getsource(getattr(cls, method)))
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "param_types" for t in node.targets)
            and isinstance(node.value, ast.Dict)
        ):
            return frozenset(ast.literal_eval(k) for k in node.value.keys if k is not None)
    raise LookupError(f"{cls.__name__}.{method} has no param_types")


@cache
def sdk_fields(cls: type) -> frozenset[str]:
    """The field names of one Graph object in Meta's Business SDK (``<Object>.Field``)."""
    holder = cls.Field  # type: ignore[attr-defined]
    names = {v for k, v in vars(holder).items() if not k.startswith("_") and isinstance(v, str)}
    # Edges (``attachments``, ``comments``, ``reactions``, ``picture``) may be asked for as fields too; the
    # SDK declares them as its ``get_<edge>`` methods.
    names |= {n.removeprefix("get_") for n in vars(cls) if n.startswith("get_") and n != "get_endpoint"}
    return frozenset(names)


def top_fields(value: str) -> list[str]:
    """``id,message,attachments{type},reactions.summary(true).limit(0)`` -> the top-level names."""
    names, depth, current = [], 0, ""
    for char in value:
        if char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        if char == "," and depth == 0:
            names.append(current)
            current = ""
        else:
            current += char
    names.append(current)
    return [re.split(r"[.{(]", n.strip(), maxsplit=1)[0] for n in names if n.strip()]


def params_validator(allowed: frozenset[str], *, extra: Iterable[str] = ()) -> Callable[[Request], list[str]]:
    known = allowed | TRANSPORT_PARAMS | frozenset(extra)

    def check(request: Request) -> list[str]:
        document = request.document() if request.body else {}
        names = set(document) if isinstance(document, dict) else set()
        names |= set(request.query)
        names |= set(request.params().files)
        return [f"unknown parameter {n!r}" for n in sorted(names - known)]

    return check


def fields_validator(allowed: frozenset[str]) -> Callable[[Request], list[str]]:
    def check(request: Request) -> list[str]:
        wanted = request.params().get("fields") or ""
        return [f"unknown field {n!r}" for n in top_fields(wanted) if n not in allowed]

    return check


# -- fault injection -------------------------------------------------------------------------------
class MetaFaults(Faults):
    """Faults whose route also covers other calls: on Meta an answer is a comment
    (``POST /{object}/comments``, ``POST /{ig-comment}/replies``), not a post like the one the contract
    suite's single create route names, so a test says which calls count as that route as well."""

    def __init__(self, server: EmulatorServer) -> None:
        super().__init__(server)
        self._covers: list[tuple[str, re.Pattern[str], Callable[[Request], bool] | None]] = []

    def cover(self, route: str, pattern: str, *, when: Callable[[Request], bool] | None = None) -> None:
        """Faults injected for ``route`` also hit requests whose whole path matches ``pattern`` (and, with
        ``when``, that it accepts: one phase of a call, e.g. ``upload_phase=finish`` of ``video_reels``)."""
        self._covers.append((route, re.compile(pattern), when))

    def take(self, request: Request, kinds: Sequence[FaultKind]) -> Any:
        fault = super().take(request, kinds)
        for route, pattern, when in self._covers:
            if fault is not None:
                break
            if pattern.fullmatch(request.path) and (when is None or when(request)):
                fault = super().take(replace(request, path=route), kinds)
        return fault


# -- Meta's dialect ---------------------------------------------------------------------------------
def _trace() -> str:
    return secrets.token_urlsafe(8)


def graph_error(
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
    transient: bool | None = None,
) -> JSONDict:
    error: JSONDict = {"message": message, "type": kind, "code": code, "fbtrace_id": _trace()}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    return {"error": error}


class MetaDialect(Dialect):
    rejection_status = 400
    send_retry_after = False

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        if status >= 500:
            return graph_error(
                2, message or "An unexpected error has occurred.", kind="OAuthException", transient=True
            )
        if status == 404:
            return graph_error(100, message, subcode=33, kind="GraphMethodException")
        return graph_error(100, message, kind="OAuthException")

    def expired_token(self, request: Request) -> Response:
        stamp = datetime.now(UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")
        return json_response(
            400,
            graph_error(190, f"Error validating access token: Session has expired on {stamp}.", subcode=463),
        )

    def credentials_refused(self, request: Request) -> Response:
        return json_response(
            400,
            graph_error(100, "This authorization code has expired.", subcode=36007),
        )

    def rate_limit_headers(self, state: RateLimitState) -> list[tuple[str, str]]:
        return []

    def too_many_requests(self, state: RateLimitState, now: float) -> Response:
        minutes = max(0.0, state.reset_at - now) / 60.0
        usage = {
            "type": "pages",
            "call_count": 100,
            "total_cputime": 12,
            "total_time": 20,
            "estimated_time_to_regain_access": round(minutes, 3),
        }
        return json_response(
            400,
            graph_error(32, "Page request limit reached", kind="OAuthException"),
            headers=[
                ("X-App-Usage", json.dumps({"call_count": 100, "total_cputime": 12, "total_time": 20})),
                ("X-Business-Use-Case-Usage", json.dumps({"0": [usage]})),
            ],
        )


# -- state --------------------------------------------------------------------------------------------
@dataclass
class Person:
    id: str
    name: str


@dataclass
class FbPage:
    id: str
    name: str
    username: str
    token: str = ""
    ig_user_id: str | None = None


@dataclass
class Photo:
    id: str
    page_id: str
    data: bytes
    mime_type: str
    published: bool
    alt_text: str = ""


@dataclass
class FbComment:
    id: str
    object_id: str
    author: Person
    message: str
    created_at: float
    parent_id: str | None = None
    # ``POST /{comment-id}`` with ``is_hidden`` (https://developers.facebook.com/docs/graph-api/reference/comment/
    # "Updating": a Page may hide comments on its posts; hidden ones stay visible to their author).
    is_hidden: bool = False
    deleted: bool = False


@dataclass
class FbPost:
    id: str
    page_id: str
    message: str
    created_at: float
    link: str | None = None
    photo_ids: list[str] = field(default_factory=list)
    video_id: str | None = None
    reactions: set[str] = field(default_factory=set)
    shares: int = 0
    views: int = 0
    deleted: bool = False


@dataclass
class Reel:
    """A Reel's upload session (``POST /{page-id}/video_reels``, reels-publishing guide): ``start`` makes
    it, the bytes arrive at the upload host, ``finish`` with ``video_state=PUBLISHED`` starts processing,
    and after ``processing_checks`` status reads it is published (a feed object with the video's id)."""

    id: str  # the video id
    page_id: str
    created_at: float
    data: bytes = b""
    file_size: int = 0
    finished: bool = False
    description: str = ""
    processing_checks: int = 0
    published: bool = False
    error: str = ""


@dataclass
class IgUser:
    id: str
    username: str
    name: str
    page_id: str
    quota_total: int = 100
    quota_usage: int = 0


@dataclass
class Container:
    id: str
    ig_id: str
    media_type: str  # IMAGE | VIDEO | REELS | CAROUSEL | STORIES
    caption: str
    created_at: float
    children: list[str] = field(default_factory=list)
    is_carousel_item: bool = False
    checks_left: int = 0
    status: str = "IN_PROGRESS"
    media_id: str | None = None
    error: str = ""
    story_video: bool = False


@dataclass
class IgMedia:
    id: str
    ig_id: str
    caption: str
    media_type: str
    created_at: float
    children: list[str] = field(default_factory=list)
    likes: set[str] = field(default_factory=set)
    views: int = 0
    reach: int = 0
    saved: int = 0
    # FEED | REELS | STORY (``media_product_type``); a story's media_type is IMAGE or VIDEO.
    product: str = "FEED"
    story_replies: int = 0


@dataclass
class IgComment:
    id: str
    media_id: str
    username: str
    text: str
    created_at: float
    parent_id: str | None = None
    from_id: str = ""  # the IG user's id when one of the accounts here wrote it


@dataclass
class FbAdAccount:
    id: str  # the number; the Graph node is ``act_<id>``
    name: str
    currency: str
    users: set[str] = field(default_factory=set)  # person ids with access


@dataclass
class FbAd:
    id: str
    account_id: str
    name: str
    campaign_id: str
    campaign_name: str
    story_id: str = ""  # the creative's effective_object_story_id: the boosted Page post


@dataclass
class FbAdDay:
    ad_id: str
    day: date
    spend: str  # Meta sends money as a decimal string in the account's currency
    impressions: int
    clicks: int
    leads: int = 0
    purchase_value: str = "0"


@dataclass
class _Code:
    redirect_uri: str
    person_id: str
    scopes: list[str]


def _graph_time(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class MetaEmulator(EmulatorServer):
    dialect = MetaDialect()
    server_header = "proxygen-bolt"

    def __init__(self, *, app_id: str = "resonanz-app", app_secret: str = "resonanz-secret") -> None:  # noqa: S107 - a test app
        super().__init__()
        self.faults: MetaFaults = MetaFaults(self)
        self.app_id = app_id
        self.app_secret = app_secret
        self.tokens = TokenStore(self.now)
        self._ids = itertools.count(int(time.time()) * 1000)
        self._codes: dict[str, _Code] = {}
        self.people: dict[str, Person] = {}
        self.pages: dict[str, FbPage] = {}
        self.page_admins: dict[str, list[str]] = {}  # person id -> page ids
        self.posts: dict[str, FbPost] = {}
        self.photos: dict[str, Photo] = {}
        self.comments: dict[str, FbComment] = {}
        self.videos: dict[str, bytes] = {}
        self.reels: dict[str, Reel] = {}
        # Status reads a finished Reel answers "processing" before it is published.
        self.reel_checks = 1
        # Set to make the processing of the next finished Reel fail (as Meta does with a bad file).
        self.fail_reel_processing = ""
        self.calls = 0
        self.ig_users: dict[str, IgUser] = {}
        self.containers: dict[str, Container] = {}
        self.ig_media: dict[str, IgMedia] = {}
        self.ig_comments: dict[str, IgComment] = {}
        self.fetched_urls: list[str] = []
        # Polls a container answers IN_PROGRESS before FINISHED (images / videos).
        self.image_checks = 1
        self.video_checks = 2
        # Set to make the next media_publish fail after the post went live (Instagram does that).
        self.fail_after_publish = 0
        # Set to leave the Page token out of /me/accounts (a login without pages_manage_posts).
        self.omit_page_tokens = False
        self.ad_accounts: dict[str, FbAdAccount] = {}
        self.ads: dict[str, FbAd] = {}
        self.ad_days: list[FbAdDay] = []
        # Webhooks (https://developers.facebook.com/docs/graph-api/webhooks/getting-started): Pages that
        # installed the app (``POST /{page}/subscribed_apps``) and each call's fields, the deliveries made
        # (body, headers) and, when set, the callback address they are POSTed to.
        self.subscribed_pages: dict[str, list[str]] = {}
        self.subscribed_apps_calls: list[tuple[str, list[str]]] = []
        self.webhook_deliveries: list[tuple[str, bytes, dict[str, str]]] = []  # (object, body, headers)
        self.webhook_urls: dict[str, str] = {}  # object ("page" | "instagram") -> callback address
        self.default_person = self.create_person("Erika Muster")
        self.default_page = self.create_page("Resonanz Demo", "resonanzdemo", admin=self.default_person)
        # Login
        self.route("GET", V + r"/dialog/oauth", self._dialog)
        self.route("GET", V + r"/oauth/access_token", self._access_token)
        self.route("GET", V + r"/me/accounts", self._accounts)
        # Marketing API (https://developers.facebook.com/docs/marketing-api/reference/ad-account/insights)
        self.route("GET", V + r"/me/adaccounts", self._ad_accounts_list)
        self.route("GET", V + r"/act_(\d+)/ads", self._ads_list)
        self.route("GET", V + r"/act_(\d+)/insights", self._ad_insights)
        self.validate("GET", V + r"/me/adaccounts", fields_validator(sdk_fields(SdkAdAccount)))
        self.validate("GET", V + r"/me/adaccounts", params_validator(sdk_params(SdkUser, "get_ad_accounts")))
        self.validate("GET", V + r"/act_\d+/ads", fields_validator(sdk_fields(SdkAd)))
        self.validate("GET", V + r"/act_\d+/ads", params_validator(sdk_params(SdkAdAccount, "get_ads")))
        self.validate("GET", V + r"/act_\d+/insights", fields_validator(sdk_fields(SdkAdsInsights)))
        self.validate(
            "GET", V + r"/act_\d+/insights", params_validator(sdk_params(SdkAdAccount, "get_insights"))
        )
        self.route("GET", V + r"/me", self._me)
        # Pages
        self.route("POST", V + r"/(\d+)/feed", self._create_feed)
        self.route("POST", V + r"/(\d+)/photos", self._create_photo)
        self.route("POST", V + r"/(\d+)/videos", self._create_video)
        self.route("GET", V + r"/(\d+)/posts", self._page_posts)
        self.route("POST", V + r"/(\d+)/subscribed_apps", self._subscribed_apps)
        # Reels (https://developers.facebook.com/documentation/video-api/guides/reels-publishing): the
        # three phases, the upload host (rupload.facebook.com, here on the same server), the video.
        self.route("POST", V + r"/(\d+)/video_reels", self._video_reels)
        self.route("POST", r"/video-upload" + V + r"/(\d+)", self._rupload)
        self.route("GET", V + r"/(\d+)/video_insights", self._video_insights)
        self.route("POST", V + r"/(\d+)", self._update_video)
        self.route("DELETE", V + r"/(\d+)", self._delete_video)
        self.validate(
            "POST", V + r"/\d+/video_reels", params_validator(sdk_params(SdkPage, "create_video_reel"))
        )
        self.validate(
            "GET",
            V + r"/\d+/video_insights",
            params_validator(sdk_params(SdkAdVideo, "get_video_insights")),
        )
        self.validate("POST", V + r"/\d+", params_validator(sdk_params(SdkAdVideo, "api_update")))
        self.route("GET", V + r"/(\d+_\d+)/comments", self._post_comments)
        self.route("POST", V + r"/(\d+_\d+)/comments", self._create_comment)
        self.route("GET", V + r"/(\d+_\d+)/insights", self._post_insights)
        self.route("GET", V + r"/(\d+_\d+)", self._get_post)
        self.route("POST", V + r"/(\d+_\d+)", self._edit_post)
        self.route("DELETE", V + r"/(\d+_\d+)", self._delete_post)
        self.validate("POST", V + r"/\d+/feed", params_validator(sdk_params(SdkPage, "create_feed")))
        self.validate(
            "POST",
            V + r"/\d+/photos",
            params_validator(sdk_params(SdkPage, "create_photo"), extra=("source",)),
        )
        self.validate(
            "POST",
            V + r"/\d+/videos",
            params_validator(sdk_params(SdkPage, "create_video"), extra=("source",)),
        )
        self.validate("POST", V + r"/\d+_\d+", params_validator(sdk_params(SdkPagePost, "api_update")))
        self.validate("GET", V + r"/\d+/posts", fields_validator(sdk_fields(SdkPagePost)))
        self.validate("GET", V + r"/\d+_\d+", fields_validator(sdk_fields(SdkPagePost)))
        self.validate("GET", V + r"/\d+_\d+/comments", fields_validator(sdk_fields(SdkComment)))
        self.validate(
            "GET", V + r"/\d+_\d+/comments", params_validator(sdk_params(SdkPagePost, "get_comments"))
        )
        self.validate("POST", V + r"/(\d+_\d+)/comments", self._comment_params)
        self.validate("GET", V + r"/me", fields_validator(sdk_fields(SdkPage)))
        # Instagram
        self.route("POST", V + r"/(\d+)/media", self._create_container)
        self.route("POST", V + r"/(\d+)/media_publish", self._media_publish)
        self.route("GET", V + r"/(\d+)/media", self._ig_media_list)
        self.route("GET", V + r"/(\d+)/content_publishing_limit", self._publishing_limit)
        self.route("GET", V + r"/(\d+)/stories", self._ig_stories_list)
        self.validate("GET", V + r"/\d+/stories", fields_validator(sdk_fields(SdkIGMedia)))
        self.route("GET", V + r"/(\d+)/comments", self._ig_comments_list)
        self.route("POST", V + r"/(\d+)/comments", self._ig_comment_create)
        self.route("GET", V + r"/(\d+)/replies", self._ig_replies_list)
        self.route("POST", V + r"/(\d+)/replies", self._ig_reply_create)
        self.route("GET", V + r"/(\d+)/insights", self._ig_insights)
        self.route("GET", V + r"/(\d+)", self._get_object)
        self.validate("POST", V + r"/\d+/media", params_validator(sdk_params(SdkIGUser, "create_media")))
        self.validate(
            "POST", V + r"/\d+/media_publish", params_validator(sdk_params(SdkIGUser, "create_media_publish"))
        )
        self.validate("GET", V + r"/\d+/media", fields_validator(sdk_fields(SdkIGMedia)))
        self.validate("GET", V + r"/\d+/comments", self._comments_fields)
        self.validate("POST", V + r"/\d+/comments", self._comments_params)
        self.validate("GET", V + r"/\d+/replies", fields_validator(sdk_fields(SdkIGComment)))
        self.validate("POST", V + r"/\d+/replies", params_validator(sdk_params(SdkIGComment, "create_reply")))

    # -- test helpers -------------------------------------------------------------------------------
    def new_id(self) -> str:
        return str(next(self._ids))

    def create_person(self, name: str) -> Person:
        person = Person(self.new_id(), name)
        self.people[person.id] = person
        return person

    def create_page(self, name: str, username: str, *, admin: Person) -> FbPage:
        page = FbPage(self.new_id(), name, username)
        page.token = self.tokens.issue(subject=f"page:{page.id}", client_id=self.app_id).access_token
        self.pages[page.id] = page
        self.page_admins.setdefault(admin.id, []).append(page.id)
        return page

    def create_ad_account(
        self, name: str, *, currency: str = "EUR", user: Person | None = None
    ) -> FbAdAccount:
        account = FbAdAccount(self.new_id(), name, currency, {(user or self.default_person).id})
        self.ad_accounts[account.id] = account
        return account

    def create_ad(
        self, account: FbAdAccount, name: str, *, campaign: str = "Kampagne", story_id: str = ""
    ) -> FbAd:
        campaign_id = next(
            (a.campaign_id for a in self.ads.values() if a.campaign_name == campaign), self.new_id()
        )
        ad = FbAd(self.new_id(), account.id, name, campaign_id, campaign, story_id)
        self.ads[ad.id] = ad
        return ad

    def add_ad_day(self, ad: FbAd, day: date, **values: Any) -> None:
        self.ad_days.append(FbAdDay(ad.id, day, **values))

    def user_token(self, person: Person | None = None, *, scopes: Sequence[str] = ("ads_read",)) -> str:
        """A long-lived user token, as the login hands out (what ad reporting reads with)."""
        person = person or self.default_person
        return self.tokens.issue(
            subject=f"user:{person.id}", client_id=self.app_id, scopes=list(scopes), ttl=LONG_USER_TOKEN_TTL
        ).access_token

    def live_posts(self, page: FbPage | None = None) -> list[FbPost]:
        page_id = (page or self.default_page).id
        return [p for p in self.posts.values() if p.page_id == page_id and not p.deleted]

    def react_as(self, person: Person, post_id: str) -> None:
        with self.lock:
            self.posts[post_id].reactions.add(person.id)

    def comment_as(
        self, person: Person, object_id: str, message: str, *, parent_id: str | None = None
    ) -> FbComment:
        with self.lock:
            comment = FbComment(
                f"{object_id.rsplit('_', maxsplit=1)[-1]}_{self.new_id()}",
                object_id,
                person,
                message,
                self.now(),
                parent_id,
            )
            self.comments[comment.id] = comment
        post = self.posts.get(object_id)
        if post is not None:
            value: JSONDict = {
                "from": {"id": person.id, "name": person.name},
                "post_id": post.id,
                "comment_id": comment.id,
                "parent_id": parent_id or post.id,
                "item": "comment",
                "verb": "add",
                "message": message,
                "created_time": int(comment.created_at),
            }
            self.deliver_webhook("page", post.page_id, "feed", value)
        return comment

    # -- webhooks (test side) -----------------------------------------------------------------------
    def _subscribed_apps(self, request: Request, match: re.Match[str]) -> Response:
        """``POST /{page-id}/subscribed_apps?subscribed_fields=...`` with the Page token
        (https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-pages)."""
        page = self._page_for(request, match.group(1))
        fields = [f for f in str(request.params().get("subscribed_fields") or "").split(",") if f]
        if not fields:
            raise self._invalid("(#100) The parameter subscribed_fields is required")
        with self.lock:
            self.subscribed_apps_calls.append((page.id, fields))
            self.subscribed_pages[page.id] = fields
        return json_response(200, {"success": True})

    def signed_delivery(
        self, object_type: str, entry_id: str, field: str, value: JSONDict
    ) -> tuple[bytes, dict[str, str]]:
        """A notification as Meta sends it: ``{"object", "entry": [{"id", "time", "changes"}]}``, signed
        in ``X-Hub-Signature-256`` with the app secret (Getting Started, "Validating Payloads")."""
        body = json.dumps(
            {
                "object": object_type,
                "entry": [
                    {"id": entry_id, "time": int(self.now()), "changes": [{"field": field, "value": value}]}
                ],
            }
        ).encode()
        signature = hmac.new(self.app_secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}

    def deliver_webhook(self, object_type: str, entry_id: str, field: str, value: JSONDict) -> None:
        """Record (and POST, when a callback address is set) a delivery for an account whose Page
        installed the app; Meta sends nothing for the others."""
        page_id = entry_id if object_type == "page" else self.ig_users[entry_id].page_id
        if page_id not in self.subscribed_pages:
            return
        body, headers = self.signed_delivery(object_type, entry_id, field, value)
        with self.lock:
            self.webhook_deliveries.append((object_type, body, headers))
        url = self.webhook_urls.get(object_type)
        if url:
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - a test callback
            with urllib.request.urlopen(request, timeout=10):  # noqa: S310
                pass

    def ig_mention_as(self, username: str, ig_user_id: str, media_id: str, comment_id: str = "") -> None:
        """Someone @mentions the account (the ``mentions`` field carries ids only)."""
        value: JSONDict = {"media_id": media_id}
        if comment_id:
            value["comment_id"] = comment_id
        self.deliver_webhook("instagram", ig_user_id, "mentions", value)

    # -- plumbing -----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        self.calls += 1
        response = super().handle(request)
        # Every answer to an app carries its usage (https://developers.facebook.com/docs/graph-api/overview/rate-limiting).
        share = min(100, self.calls // 50)
        response.headers.append(
            ("X-App-Usage", json.dumps({"call_count": share, "total_cputime": share, "total_time": share}))
        )
        return response

    def _token(self, request: Request) -> Token:
        header = request.headers.get("authorization", "")
        value = header.partition(" ")[2].strip() if header.lower().startswith("bearer ") else ""
        value = value or (request.params().get("access_token") or "")
        token = self.tokens.find(value) if value else None
        if token is None:
            raise ApiError(
                400,
                "Invalid OAuth access token - Cannot parse access token",
                body=graph_error(190, "Invalid OAuth access token - Cannot parse access token"),
            )
        if token.revoked or (token.expires_at is not None and self.now() >= token.expires_at):
            raise ApiError(
                400,
                "expired",
                body=self.dialect.expired_token(request).body
                and json.loads(self.dialect.expired_token(request).body),
            )
        return token

    def _page_for(self, request: Request, page_id: str | None = None) -> FbPage:
        token = self._token(request)
        subject = str(token.subject or "")
        if not subject.startswith("page:"):
            raise ApiError(
                400,
                "needs page token",
                body=graph_error(210, "(#210) A page access token is required to request this resource."),
            )
        page = self.pages[subject.removeprefix("page:")]
        if page_id is not None and page_id != page.id:
            raise ApiError(
                400,
                "no permission",
                body=graph_error(
                    200,
                    "(#200) The user hasn't authorized the application to perform this action",
                    kind="OAuthException",
                ),
            )
        return page

    def _post_of(self, request: Request, post_id: str) -> tuple[FbPage, FbPost]:
        page = self._page_for(request)
        post = self.posts.get(post_id)
        if post is None or post.deleted or post.page_id != page.id:
            raise ApiError(
                400,
                "missing",
                body=graph_error(
                    100,
                    f"Unsupported get request. Object with ID '{post_id}' does not exist, "
                    "cannot be loaded due to missing permissions, or does not support this "
                    "operation.",
                    subcode=33,
                    kind="GraphMethodException",
                ),
            )
        return page, post

    @staticmethod
    def _invalid(message: str, subcode: int | None = None) -> ApiError:
        return ApiError(400, message, body=graph_error(100, message, subcode=subcode))

    # -- login --------------------------------------------------------------------------------------
    def _dialog(self, request: Request, _m: re.Match[str]) -> Response:
        params = request.params()
        if params.get("client_id") != self.app_id:
            raise self._invalid("Invalid App ID")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            str(params.get("redirect_uri")), self.default_person.id, (params.get("scope") or "").split(",")
        )
        target = (
            f"{params.get('redirect_uri')}?{urlencode({'code': code, 'state': params.get('state') or ''})}"
        )
        return Response(302, b"", content_type="text/html", headers=[("Location", target)])

    def _access_token(self, request: Request, _m: re.Match[str]) -> Response:
        params = request.params()
        if params.get("client_id") != self.app_id or params.get("client_secret") != self.app_secret:
            raise ApiError(
                400, "bad client", body=graph_error(1, "Error validating client secret.", subcode=0)
            )
        if params.get("grant_type") == "fb_exchange_token":
            old = self.tokens.find(params.get("fb_exchange_token") or "")
            if old is None or not str(old.subject).startswith("user:"):
                raise ApiError(400, "bad", body=graph_error(190, "Invalid OAuth access token."))
            token = self.tokens.issue(
                subject=old.subject, client_id=self.app_id, scopes=old.scopes, ttl=LONG_USER_TOKEN_TTL
            )
            return json_response(
                200,
                {
                    "access_token": token.access_token,
                    "token_type": "bearer",
                    "expires_in": LONG_USER_TOKEN_TTL,
                },
            )
        code = self._codes.pop(params.get("code") or "", None)
        if code is None or code.redirect_uri != params.get("redirect_uri"):
            raise ApiError(
                400, "bad code", body=graph_error(100, "This authorization code has expired.", subcode=36007)
            )
        token = self.tokens.issue(
            subject=f"user:{code.person_id}",
            client_id=self.app_id,
            scopes=code.scopes,
            ttl=SHORT_USER_TOKEN_TTL,
        )
        return json_response(
            200,
            {"access_token": token.access_token, "token_type": "bearer", "expires_in": SHORT_USER_TOKEN_TTL},
        )

    def _accounts(self, request: Request, _m: re.Match[str]) -> Response:
        token = self._token(request)
        person_id = str(token.subject or "").removeprefix("user:")
        data = []
        for page_id in self.page_admins.get(person_id, []):
            page = self.pages[page_id]
            entry: JSONDict = {
                "id": page.id,
                "name": page.name,
                "access_token": "" if self.omit_page_tokens else page.token,
                "tasks": ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"],
            }
            if page.ig_user_id:
                entry["instagram_business_account"] = {"id": page.ig_user_id}
            data.append(entry)
        return json_response(200, {"data": data, "paging": {"cursors": {"before": "b", "after": "a"}}})

    def _me(self, request: Request, _m: re.Match[str]) -> Response:
        token = self._token(request)
        subject = str(token.subject or "")
        if subject.startswith("user:"):
            person = self.people[subject.removeprefix("user:")]
            return json_response(200, {"id": person.id, "name": person.name})
        page = self._page_for(request)
        return json_response(
            200,
            {
                "id": page.id,
                "name": page.name,
                "username": page.username,
                "link": f"https://www.facebook.com/{page.username}",
                "picture": {"data": {"url": f"https://scontent.example/{page.id}.jpg"}},
            },
        )

    # -- Marketing API ----------------------------------------------------------------------------
    def _ads_person(self, request: Request) -> Person:
        """Ads are read with a user token that holds ``ads_read``
        (https://developers.facebook.com/docs/marketing-api/overview/authorization)."""
        token = self._token(request)
        subject = str(token.subject or "")
        if not subject.startswith("user:"):
            raise ApiError(
                400, "user token", body=graph_error(190, "Invalid OAuth access token - user token required")
            )
        if "ads_read" not in token.scopes and "ads_management" not in token.scopes:
            raise ApiError(
                400,
                "permission",
                body=graph_error(
                    200, "(#200) Requires ads_read or ads_management permission to manage the object"
                ),
            )
        return self.people[subject.removeprefix("user:")]

    def _ad_account_of(self, request: Request, account_id: str) -> FbAdAccount:
        person = self._ads_person(request)
        account = self.ad_accounts.get(account_id)
        if account is None or person.id not in account.users:
            raise ApiError(
                400,
                "missing",
                body=graph_error(
                    100,
                    f"Unsupported get request. Object with ID 'act_{account_id}' does not exist, cannot be "
                    "loaded due to missing permissions, or does not support this operation.",
                    subcode=33,
                    kind="GraphMethodException",
                ),
            )
        return account

    @staticmethod
    def _page(items: list[JSONDict], params: Any, *, default_limit: int = 25) -> JSONDict:
        """Cursor paging as the Graph API answers it: ``paging.cursors.after`` and ``paging.next`` while
        more follow (https://developers.facebook.com/docs/graph-api/results)."""
        limit = min(int(params.get("limit") or default_limit), 500)
        after = params.get("after") or "0"
        offset = int(after) if after.isdigit() else 0
        body: JSONDict = {"data": items[offset : offset + limit]}
        body["paging"] = {"cursors": {"before": str(offset), "after": str(offset + limit)}}
        if offset + limit < len(items):
            body["paging"]["next"] = f"https://graph.facebook.com/next?after={offset + limit}"
        return body

    def _ad_accounts_list(self, request: Request, _m: re.Match[str]) -> Response:
        person = self._ads_person(request)
        fields = top_fields(request.params().get("fields") or "id,account_id")
        data = []
        for account in self.ad_accounts.values():
            if person.id not in account.users:
                continue
            full: JSONDict = {
                "id": f"act_{account.id}",
                "account_id": account.id,
                "name": account.name,
                "currency": account.currency,
                "account_status": 1,
            }
            data.append({k: v for k, v in full.items() if k in fields or k == "id"})
        return json_response(200, self._page(data, request.params()))

    def _ads_list(self, request: Request, match: re.Match[str]) -> Response:
        account = self._ad_account_of(request, match.group(1))
        wanted = request.params().get("fields") or "id"
        names = top_fields(wanted)
        data = []
        for ad in self.ads.values():
            if ad.account_id != account.id:
                continue
            entry: JSONDict = {"id": ad.id}
            if "name" in names:
                entry["name"] = ad.name
            if "campaign_id" in names:
                entry["campaign_id"] = ad.campaign_id
            if "creative" in names:
                creative: JSONDict = {"id": f"{ad.id}0"}
                if "effective_object_story_id" in wanted and ad.story_id:
                    creative["effective_object_story_id"] = ad.story_id
                entry["creative"] = creative
            data.append(entry)
        return json_response(200, self._page(data, request.params()))

    def _ad_insights(self, request: Request, match: re.Match[str]) -> Response:
        """``level=ad``, ``time_increment=1`` (one row per ad and day), ``time_range={"since","until"}``;
        numbers as strings, ``actions``/``action_values`` as lists of ``{action_type, value}``
        (https://developers.facebook.com/docs/marketing-api/reference/ads-action-stats)."""
        account = self._ad_account_of(request, match.group(1))
        params = request.params()
        level = params.get("level") or "account"
        if level not in {"ad", "adset", "campaign", "account"}:
            raise self._invalid(
                "(#100) level must be one of the following values: ad, adset, campaign, account"
            )
        if level != "ad" or (params.get("time_increment") or "all_days") != "1":
            raise self._invalid("(#100) This emulator answers level=ad with time_increment=1 only")
        try:
            window = json.loads(params.get("time_range") or "{}")
            since = date.fromisoformat(window["since"])
            until = date.fromisoformat(window["until"])
        except (ValueError, KeyError, TypeError) as exc:
            raise self._invalid("(#100) Param time_range must be a JSON object with since and until") from exc
        if until < since:
            raise self._invalid("(#100) time_range: since must be on or before until")
        if until - since > timedelta(days=37 * 31):
            raise self._invalid("(#3018) The start date of the time range cannot be beyond 37 months")
        fields = set(top_fields(params.get("fields") or "impressions,spend"))
        rows = []
        for day in sorted(self.ad_days, key=lambda d: (d.day, d.ad_id)):
            ad = self.ads[day.ad_id]
            if ad.account_id != account.id or not since <= day.day <= until:
                continue
            full: JSONDict = {
                "account_id": account.id,
                "account_currency": account.currency,
                "ad_id": ad.id,
                "ad_name": ad.name,
                "campaign_id": ad.campaign_id,
                "campaign_name": ad.campaign_name,
                "spend": day.spend,
                "impressions": str(day.impressions),
                "clicks": str(day.clicks),
                "date_start": day.day.isoformat(),
                "date_stop": day.day.isoformat(),
            }
            if day.leads:
                full["actions"] = [
                    {"action_type": "link_click", "value": str(day.clicks)},
                    {"action_type": "lead", "value": str(day.leads)},
                    {"action_type": "offsite_conversion.fb_pixel_lead", "value": str(day.leads)},
                ]
            if day.purchase_value != "0":
                full["action_values"] = [{"action_type": "purchase", "value": day.purchase_value}]
            rows.append({k: v for k, v in full.items() if k in fields or k in {"date_start", "date_stop"}})
        return json_response(200, self._page(rows, params))

    # -- pages --------------------------------------------------------------------------------------
    def _check_message(self, message: str) -> None:
        if len(message) > TEXT_LIMIT:
            raise self._invalid(
                f"(#100) The message is too long: {len(message)} characters, at most {TEXT_LIMIT}."
            )

    def _create_feed(self, request: Request, match: re.Match[str]) -> Response:
        page = self._page_for(request, match.group(1))
        document = request.document() or {}
        message = str(document.get("message") or "")
        self._check_message(message)
        photo_ids: list[str] = []
        for item in document.get("attached_media") or []:
            media_fbid = str((item or {}).get("media_fbid") if isinstance(item, dict) else "")
            photo = self.photos.get(media_fbid)
            if photo is None or photo.page_id != page.id:
                raise self._invalid(f"(#100) param attached_media[0] has invalid media_fbid {media_fbid}")
            if photo.published:
                raise self._invalid("(#100) attached_media: photo is already published")
            photo_ids.append(media_fbid)
        if not message and not photo_ids and not document.get("link"):
            raise self._invalid("(#100) Missing message or attachment")
        for photo_id in photo_ids:
            self.photos[photo_id].published = True
        post = FbPost(
            f"{page.id}_{self.new_id()}",
            page.id,
            message,
            self.now(),
            link=document.get("link"),
            photo_ids=photo_ids,
        )
        self.posts[post.id] = post
        return json_response(200, {"id": post.id})

    def _create_photo(self, request: Request, match: re.Match[str]) -> Response:
        page = self._page_for(request, match.group(1))
        params = request.params()
        upload = params.files.get("source")
        if upload is None and not params.get("url"):
            raise self._invalid("(#324) Requires upload file")
        data = upload.data if upload is not None else b""
        if upload is not None and not data.startswith((b"\x89PNG", b"\xff\xd8", b"GIF8")):
            raise ApiError(400, "bad image", body=graph_error(324, "(#324) Missing or invalid image file"))
        published = params.get_bool("published", True)
        photo = Photo(
            self.new_id(),
            page.id,
            data,
            upload.content_type if upload else "",
            published=False,
            alt_text=params.get("alt_text_custom") or "",
        )
        self.photos[photo.id] = photo
        if not published:
            return json_response(200, {"id": photo.id})
        message = params.get("message") or params.get("caption") or ""
        self._check_message(message)
        photo.published = True
        post = FbPost(f"{page.id}_{self.new_id()}", page.id, message, self.now(), photo_ids=[photo.id])
        self.posts[post.id] = post
        return json_response(200, {"id": photo.id, "post_id": post.id})

    def _create_video(self, request: Request, match: re.Match[str]) -> Response:
        page = self._page_for(request, match.group(1))
        params = request.params()
        upload = params.files.get("source")
        if upload is None and not params.get("file_url"):
            raise self._invalid("(#100) Requires source or file_url")
        description = params.get("description") or ""
        self._check_message(description)
        video_id = self.new_id()
        self.videos[video_id] = upload.data if upload else b""
        post = FbPost(f"{page.id}_{video_id}", page.id, description, self.now(), video_id=video_id)
        self.posts[post.id] = post
        return json_response(200, {"id": video_id})

    # -- Reels --------------------------------------------------------------------------------------
    def _reel_of(self, request: Request, video_id: str) -> Reel:
        page = self._page_for(request)
        reel = self.reels.get(video_id)
        if reel is None or reel.page_id != page.id:
            raise ApiError(
                400,
                "missing",
                body=graph_error(
                    100,
                    f"Unsupported post request. Object with ID '{video_id}' does not exist, cannot be "
                    "loaded due to missing permissions, or does not support this operation.",
                    subcode=33,
                    kind="GraphMethodException",
                ),
            )
        return reel

    def _video_reels(self, request: Request, match: re.Match[str]) -> Response:
        """``upload_phase=start`` -> ``{video_id, upload_url}``; ``finish`` with ``video_id``,
        ``video_state`` and ``description`` -> ``{"success": true}`` and processing starts."""
        page = self._page_for(request, match.group(1))
        params = request.params()
        phase = params.get("upload_phase") or ""
        if phase == "start":
            reel = Reel(self.new_id(), page.id, self.now())
            self.reels[reel.id] = reel
            version = request.path.split("/")[1]
            return json_response(
                200, {"video_id": reel.id, "upload_url": f"{self.base_url}/video-upload/{version}/{reel.id}"}
            )
        if phase != "finish":
            raise self._invalid("(#100) param upload_phase must be one of {START, TRANSFER, FINISH, CANCEL}")
        reel = self._reel_of(request, params.get("video_id") or "")
        state = params.get("video_state") or ""
        if state not in {"PUBLISHED", "DRAFT", "SCHEDULED"}:
            raise self._invalid("(#100) param video_state must be one of {DRAFT, PUBLISHED, SCHEDULED}")
        if not reel.data or len(reel.data) != reel.file_size:
            # Video API error 6000 ("There was a problem uploading your video file").
            raise ApiError(
                400,
                "upload incomplete",
                body=graph_error(
                    6000, "There was a problem uploading your video file. Please try again.", subcode=1363130
                ),
            )
        if reel.finished:
            raise self._invalid("(#100) The video has already been published.")
        description = params.get("description") or ""
        self._check_message(description)
        reel.finished, reel.description = True, description
        reel.processing_checks = self.reel_checks
        if self.fail_reel_processing:
            reel.error, self.fail_reel_processing = self.fail_reel_processing, ""
        return json_response(200, {"success": True})

    def _rupload(self, request: Request, match: re.Match[str]) -> Response:
        """The upload host: ``Authorization: OAuth <page token>``, the bytes with ``offset`` and
        ``file_size``, or a hosted file named in ``file_url`` (fetched). Errors come as
        ``{"debug_info": {"retriable", "type", "message"}}``."""

        def refused(status: int, kind: str, message: str) -> ApiError:
            body = {"debug_info": {"retriable": False, "type": kind, "message": message}}
            return ApiError(status, message, body=body)

        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token = self.tokens.find(value.strip()) if scheme.lower() == "oauth" else None
        if token is None or not str(token.subject or "").startswith("page:"):
            raise refused(401, "OAuthException", "Invalid OAuth access token")
        reel = self.reels.get(match.group(1))
        if reel is None or f"page:{reel.page_id}" != token.subject:
            raise refused(400, "NotFound", f"Video {match.group(1)} not found")
        if reel.finished:
            raise refused(400, "ParameterValidationError", "The upload of this video is complete.")
        file_url = request.headers.get("file_url", "")
        if file_url:
            try:
                with urllib.request.urlopen(file_url, timeout=10) as answer:  # noqa: S310 - a test fetch
                    data = answer.read()
            except (OSError, ValueError) as exc:
                raise refused(400, "ParameterValidationError", f"Could not fetch file_url: {exc}") from exc
            reel.data, reel.file_size = data, len(data)
            return json_response(200, {"success": True})
        try:
            offset = int(request.headers.get("offset", ""))
            size = int(request.headers.get("file_size", ""))
        except ValueError as exc:
            raise refused(
                400,
                "ParameterValidationError",
                "HeaderValuePredicate: Header Offset not convertable to unsigned long",
            ) from exc
        if offset != 0 or size != len(request.body) or not request.body:
            raise refused(400, "ParameterValidationError", "file_size does not match the bytes sent")
        reel.data, reel.file_size = request.body, size
        return json_response(200, {"success": True})

    def _reel_status(self, reel: Reel) -> JSONDict:
        """``status`` of the video: ``video_status`` and the three phases (reels-publishing guide,
        "Check the status"). Each read of a finished Reel moves its processing on."""
        uploaded = bool(reel.data) and len(reel.data) == reel.file_size
        status: JSONDict = {
            "video_status": "upload_complete" if uploaded else "uploading",
            "uploading_phase": {
                "status": "complete" if uploaded else "in_progress",
                "bytes_transfered": len(reel.data),
            },
            "processing_phase": {"status": "not_started"},
            "publishing_phase": {"status": "not_started"},
        }
        if not reel.finished:
            return status
        if reel.processing_checks > 0:
            reel.processing_checks -= 1
            status["video_status"] = "processing"
            status["processing_phase"] = {"status": "in_progress"}
            return status
        if reel.error:
            status["video_status"] = "error"
            status["processing_phase"] = {
                "status": "error",
                "errors": [{"code": 1363011, "message": reel.error}],
            }
            return status
        if not reel.published:
            reel.published = True
            post = FbPost(reel.id, reel.page_id, reel.description, self.now(), video_id=reel.id)
            self.posts[post.id] = post
        status["video_status"] = "ready"
        status["processing_phase"] = {"status": "complete"}
        status["publishing_phase"] = {
            "status": "complete",
            "publish_status": "published",
            "publish_time": int(self.now()),
        }
        return status

    def _video_json(self, request: Request, reel: Reel) -> Response:
        fields = top_fields(request.params().get("fields") or "id")
        unknown = [f for f in fields if f not in sdk_fields(SdkAdVideo)]
        if unknown:
            raise self._invalid(
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (Video)"
            )
        post = self.posts.get(reel.id)
        if post is not None and post.deleted:
            raise self._invalid(f"(#100) Object with ID '{reel.id}' does not exist", subcode=33)
        out: JSONDict = {"id": reel.id}
        if "status" in fields:
            out["status"] = self._reel_status(reel)
        if "description" in fields and reel.description:
            out["description"] = reel.description
        if "permalink_url" in fields:
            out["permalink_url"] = f"/reel/{reel.id}/"
        if "likes" in fields:
            out["likes"] = {"data": [], "summary": {"total_count": len(post.reactions) if post else 0}}
        if "comments" in fields:
            count = sum(1 for c in self.comments.values() if c.object_id == reel.id and not c.deleted)
            out["comments"] = {"data": [], "summary": {"total_count": count}}
        return json_response(200, out)

    def _video_insights(self, request: Request, match: re.Match[str]) -> Response:
        reel = self._reel_of(request, match.group(1))
        post = self.posts.get(reel.id)
        data = []
        for metric in [m for m in (request.params().get("metric") or "").split(",") if m]:
            if metric not in REEL_METRICS:
                raise self._invalid("(#100) The value must be a valid insights metric")
            data.append(
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": post.views if post else 0}],
                    "id": f"{reel.id}/video_insights/{metric}/lifetime",
                }
            )
        return json_response(200, {"data": data})

    def _update_video(self, request: Request, match: re.Match[str]) -> Response:
        reel = self._reel_of(request, match.group(1))
        description = request.params().get("description")
        if description is not None:
            self._check_message(description)
            reel.description = description
            if reel.id in self.posts:
                self.posts[reel.id].message = description
        return json_response(200, {"success": True})

    def _delete_video(self, request: Request, match: re.Match[str]) -> Response:
        reel = self._reel_of(request, match.group(1))
        post = self.posts.get(reel.id)
        if post is None or post.deleted:
            raise self._invalid(f"(#100) Object with ID '{reel.id}' does not exist", subcode=33)
        post.deleted = True
        return json_response(200, {"success": True})

    def live_reels(self, page: FbPage) -> list[FbPost]:
        return [
            p for p in self.posts.values() if p.page_id == page.id and p.id in self.reels and not p.deleted
        ]

    def _comments_fields(self, request: Request) -> list[str]:
        """``GET /{id}/comments``: a Reel's comments are a Page object's (``Comment`` fields), else the
        media's (``IGComment``)."""
        object_id = request.path.rstrip("/").split("/")[-2]
        sdk = SdkComment if object_id in self.reels else SdkIGComment
        return fields_validator(sdk_fields(sdk))(request)

    def _comments_params(self, request: Request) -> list[str]:
        object_id = request.path.rstrip("/").split("/")[-2]
        if object_id in self.reels:
            return params_validator(sdk_params(SdkAdVideo, "create_comment"))(request)
        return params_validator(sdk_params(SdkIGMedia, "create_comment"))(request)

    def _post_json(self, post: FbPost, fields: list[str]) -> JSONDict:
        out: JSONDict = {"id": post.id}
        if "message" in fields and post.message:
            out["message"] = post.message
        if "created_time" in fields:
            out["created_time"] = _graph_time(post.created_at)
        if "permalink_url" in fields:
            out["permalink_url"] = f"https://www.facebook.com/{post.id}"
        if "attachments" in fields:
            items: list[JSONDict] = []
            if len(post.photo_ids) > 1:
                items.append(
                    {
                        "type": "album",
                        "subattachments": {
                            "data": [{"type": "photo", "target": {"id": p}} for p in post.photo_ids]
                        },
                    }
                )
            elif post.photo_ids:
                items.append({"type": "photo", "target": {"id": post.photo_ids[0]}})
            elif post.video_id:
                items.append({"type": "video_inline", "target": {"id": post.video_id}})
            elif post.link:
                items.append({"type": "share", "url": post.link})
            if items:
                out["attachments"] = {"data": items}
        if "reactions" in fields:
            out["reactions"] = {"data": [], "summary": {"total_count": len(post.reactions)}}
        if "comments" in fields:
            count = sum(1 for c in self.comments.values() if c.object_id == post.id)
            out["comments"] = {"data": [], "summary": {"total_count": count}}
        if "shares" in fields and post.shares:
            out["shares"] = {"count": post.shares}
        return out

    def _page_posts(self, request: Request, match: re.Match[str]) -> Response:
        page = self._page_for(request, match.group(1))
        params = request.params()
        fields = top_fields(params.get("fields") or "id,message,created_time")
        since = float(params.get("since") or 0)
        limit = min(int(params.get("limit") or 25), 100)
        offset = int(params.get("after") or 0)
        posts = sorted(
            (p for p in self.live_posts(page) if p.created_at >= since),
            key=lambda p: p.created_at,
            reverse=True,
        )
        chunk = posts[offset : offset + limit]
        body: JSONDict = {"data": [self._post_json(p, fields) for p in chunk]}
        if offset + limit < len(posts):
            body["paging"] = {"cursors": {"after": str(offset + limit)}, "next": "more"}
        return json_response(200, body)

    def _get_post(self, request: Request, match: re.Match[str]) -> Response:
        _page, post = self._post_of(request, match.group(1))
        return json_response(200, self._post_json(post, top_fields(request.params().get("fields") or "id")))

    def _edit_post(self, request: Request, match: re.Match[str]) -> Response:
        if match.group(1) in self.comments and match.group(1) not in self.posts:
            return self._update_comment(request, match.group(1))
        _page, post = self._post_of(request, match.group(1))
        document = request.document() or {}
        if "message" in document:
            message = str(document["message"])
            self._check_message(message)
            post.message = message
        return json_response(200, {"success": True})

    def _update_comment(self, request: Request, comment_id: str) -> Response:
        """``POST /{comment-id}``: ``is_hidden`` (true/false) by the Page the comment is under, or a new
        ``message`` for the Page's own comment (Graph API comment reference, "Updating")."""
        _page, _post, comment = self._commented_object(request, comment_id)
        assert comment is not None
        document = request.document() or {}
        if "is_hidden" in document:
            if comment.author.id == _page.id:
                raise self._invalid("(#100) A Page cannot hide its own comment")
            comment.is_hidden = str(document["is_hidden"]).lower() in {"true", "1"}
        if "message" in document:
            if comment.author.id != _page.id:
                raise ApiError(
                    403, "(#200) Permissions error", body=graph_error(200, "(#200) Permissions error")
                )
            self._check_message(str(document["message"]))
            comment.message = str(document["message"])
        return json_response(200, {"success": True})

    def _delete_post(self, request: Request, match: re.Match[str]) -> Response:
        if match.group(1) in self.comments and match.group(1) not in self.posts:
            _page, _post, comment = self._commented_object(request, match.group(1))
            assert comment is not None
            if comment.deleted:
                raise self._invalid("(#100) Object does not exist", subcode=33)
            comment.deleted = True
            return json_response(200, {"success": True})
        _page, post = self._post_of(request, match.group(1))
        post.deleted = True
        return json_response(200, {"success": True})

    def _commented_object(self, request: Request, object_id: str) -> tuple[FbPage, FbPost, FbComment | None]:
        """The post, or the comment and its post, ``object_id`` names (of the token's Page)."""
        comment = self.comments.get(object_id)
        if comment is not None and object_id not in self.posts:
            page, post = self._post_of(request, comment.object_id)
            return page, post, comment
        page, post = self._post_of(request, object_id)
        return page, post, None

    @staticmethod
    def _comment_json(comment: FbComment) -> JSONDict:
        entry: JSONDict = {
            "id": comment.id,
            "message": comment.message,
            "created_time": _graph_time(comment.created_at),
            "from": {"id": comment.author.id, "name": comment.author.name},
            "permalink_url": f"https://www.facebook.com/{comment.id}",
            "is_hidden": comment.is_hidden,
        }
        if comment.parent_id:
            entry["parent"] = {"id": comment.parent_id}
        return entry

    def _post_comments(self, request: Request, match: re.Match[str]) -> Response:
        """A post's comments (``filter=stream``: with the answers to comments), or a comment's answers;
        ``order`` ``chronological`` (default) or ``reverse_chronological``, ``limit`` per page
        (https://developers.facebook.com/docs/graph-api/reference/object/comments/)."""
        _page, post, parent = self._commented_object(request, match.group(1))
        params = request.params()
        stream = params.get("filter") == "stream"
        if parent is not None:
            found = [c for c in self.comments.values() if c.parent_id == parent.id]
        else:
            found = [
                c
                for c in self.comments.values()
                if c.object_id == post.id and (stream or c.parent_id is None)
            ]
        order = params.get("order") or "chronological"
        if order not in {"chronological", "reverse_chronological"}:
            raise self._invalid("(#100) param order must be one of {CHRONOLOGICAL, REVERSE_CHRONOLOGICAL}")
        found = [c for c in found if not c.deleted]
        ordered = sorted(found, key=lambda c: c.created_at, reverse=order == "reverse_chronological")
        limit = int(params.get("limit") or 25)
        return json_response(200, {"data": [self._comment_json(c) for c in ordered[:limit]]})

    def _comment_params(self, request: Request) -> list[str]:
        """``POST /{object}/comments`` takes the parameters of the object's own edge in the SDK: a post's
        (``PagePost.create_comment``) or a comment's (``Comment.create_comment``)."""
        object_id = request.path.rstrip("/").split("/")[-2]
        sdk = SdkComment if object_id in self.comments and object_id not in self.posts else SdkPagePost
        return params_validator(sdk_params(sdk, "create_comment"))(request)

    def _create_comment(self, request: Request, match: re.Match[str]) -> Response:
        """A comment by the token's Page on its post, or an answer to a comment (``parent``)."""
        page, post, parent = self._commented_object(request, match.group(1))
        message = str((request.document() or {}).get("message") or "")
        if not message.strip():
            raise self._invalid("(#100) Missing message or attachment")
        self._check_message(message)
        comment = FbComment(
            f"{post.id.rsplit('_', maxsplit=1)[-1]}_{self.new_id()}",
            post.id,
            Person(page.id, page.name),
            message,
            self.now(),
            parent.id if parent is not None else None,
        )
        self.comments[comment.id] = comment
        return json_response(200, {"id": comment.id})

    def _post_insights(self, request: Request, match: re.Match[str]) -> Response:
        _page, post = self._post_of(request, match.group(1))
        metrics = [m for m in (request.params().get("metric") or "").split(",") if m]
        data = []
        for metric in metrics:
            if metric in DEPRECATED_POST_METRICS or metric not in POST_METRICS:
                raise self._invalid("(#100) The value must be a valid insights metric")
            value: Any = (
                post.views if metric != "post_reactions_by_type_total" else {"like": len(post.reactions)}
            )
            data.append(
                {
                    "name": metric,
                    "period": "lifetime",
                    "values": [{"value": value}],
                    "id": f"{post.id}/insights/{metric}/lifetime",
                }
            )
        return json_response(200, {"data": data})

    # -- Instagram ----------------------------------------------------------------------------------
    def create_ig_user(self, page: FbPage, username: str, name: str = "") -> IgUser:
        user = IgUser(self.new_id(), username, name or username, page.id)
        self.ig_users[user.id] = user
        page.ig_user_id = user.id
        return user

    def live_ig_media(self, user: IgUser) -> list[IgMedia]:
        """The account's posts as ``/media`` lists them: no carousel items, no stories."""
        return [
            m
            for m in self.ig_media.values()
            if m.ig_id == user.id and m.media_type != "CAROUSEL_ITEM" and m.product != "STORY"
        ]

    def live_ig_stories(self, user: IgUser) -> list[IgMedia]:
        """The stories still up (24 hours, ``GET /{ig-user-id}/stories``)."""
        return [
            m
            for m in self.ig_media.values()
            if m.ig_id == user.id and m.product == "STORY" and self.now() - m.created_at < 86400
        ]

    def ig_comment_as(
        self, username: str, media_id: str, text: str, *, parent_id: str | None = None
    ) -> IgComment:
        with self.lock:
            comment = IgComment(self.new_id(), media_id, username, text, self.now(), parent_id)
            self.ig_comments[comment.id] = comment
        media = self.ig_media.get(media_id)
        if media is not None:
            value: JSONDict = {
                "id": comment.id,
                "from": {"id": f"igsid-{username}", "username": username},
                "text": text,
                "media": {"id": media.id, "media_product_type": media.product},
            }
            if parent_id:
                value["parent_id"] = parent_id
            self.deliver_webhook("instagram", media.ig_id, "comments", value)
        return comment

    def ig_like_as(self, person: Person, media_id: str) -> None:
        with self.lock:
            self.ig_media[media_id].likes.add(person.id)

    def _ig_user_for(self, request: Request, ig_id: str) -> IgUser:
        page = self._page_for(request)
        user = self.ig_users.get(ig_id)
        if user is None or user.page_id != page.id:
            raise ApiError(
                400,
                "missing",
                body=graph_error(
                    100,
                    f"Unsupported request. Object with ID '{ig_id}' does not exist.",
                    subcode=33,
                    kind="GraphMethodException",
                ),
            )
        return user

    @staticmethod
    def _ig_error(code: int, subcode: int, message: str, user_title: str) -> ApiError:
        body = graph_error(code, message, subcode=subcode)
        body["error"]["error_user_title"] = user_title
        body["error"]["error_user_msg"] = message
        return ApiError(400, message, body=body)

    def _fetch_image(self, url: str, *, story: bool = False) -> None:
        """Fetch the image as Meta's crawler would and check it (JPEG, 8 MB, 4:5 - 1.91:1 except for a
        story, which is shown full screen)."""
        from PIL import Image

        self.fetched_urls.append(url)
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - a test fetch, http(s) only
                data = answer.read()
        except (OSError, ValueError) as exc:
            raise self._ig_error(
                9004,
                2207052,
                f"Media download has failed. The media URI doesn't meet our requirements. ({exc})",
                "Media download failed",
            ) from exc
        if not data.startswith(b"\xff\xd8"):
            raise self._ig_error(
                9004,
                2207083,
                "Only photo or video can be accepted as media type. "
                "The image format is not supported (JPEG only).",
                "Unsupported format",
            )
        if len(data) > 8 * 1024 * 1024:
            raise self._ig_error(9004, 2207004, "The image is too large to download.", "Image too large")
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
        if not story and not 0.8 - 0.005 <= width / height <= 1.91 + 0.005:
            raise self._ig_error(36003, 2207009, "The aspect ratio is not supported.", "Aspect ratio")

    def _create_container(self, request: Request, match: re.Match[str]) -> Response:
        user = self._ig_user_for(request, match.group(1))
        document = request.document() or {}
        caption = str(document.get("caption") or "")
        if len(caption) > 2200:
            raise self._ig_error(
                100, 2207035, "The caption is too long (at most 2200 characters).", "Caption"
            )
        if len(re.findall(r"(?<!\w)#\w+", caption)) > 30:
            raise self._ig_error(100, 2207036, "The caption has more than 30 hashtags.", "Hashtags")
        media_type = str(document.get("media_type") or "IMAGE")
        item = bool(document.get("is_carousel_item"))
        container = Container(self.new_id(), user.id, media_type, caption, self.now(), is_carousel_item=item)
        if media_type == "CAROUSEL":
            children = [str(c) for c in document.get("children") or []]
            if not 2 <= len(children) <= 10:
                raise self._ig_error(100, 2207028, "A carousel takes 2 to 10 items.", "Carousel")
            for child in children:
                known = self.containers.get(child)
                if known is None or not known.is_carousel_item or known.status != "FINISHED":
                    raise self._ig_error(100, 2207027, f"Child {child} is not ready.", "Carousel")
            container.children = children
            container.checks_left = 0
        elif media_type == "STORIES":
            # One picture or one video; captions are for feed media, Reels and carousels only (the IG
            # User Media reference lists ``caption`` for those), so a story with one is refused here.
            if caption:
                raise self._ig_error(100, 2207067, "Stories do not support captions.", "Caption")
            image_url, video_url = str(document.get("image_url") or ""), str(document.get("video_url") or "")
            if bool(image_url) == bool(video_url):
                raise self._invalid("(#100) A story takes exactly one of image_url or video_url")
            if image_url:
                self._fetch_image(image_url, story=True)
            container.story_video = bool(video_url)
            container.checks_left = self.video_checks if video_url else self.image_checks
        elif media_type in ("REELS", "VIDEO"):
            if not document.get("video_url"):
                raise self._invalid("(#100) video_url is required")
            container.checks_left = self.video_checks
        else:
            url = str(document.get("image_url") or "")
            if not url:
                raise self._invalid("(#100) image_url is required")
            self._fetch_image(url)
            container.checks_left = self.image_checks
        if container.checks_left == 0:
            container.status = "FINISHED"
        self.containers[container.id] = container
        return json_response(200, {"id": container.id})

    def _container_status(self, container: Container) -> str:
        if container.status in ("IN_PROGRESS", "FINISHED") and self.now() - container.created_at > 86400:
            container.status = "EXPIRED"
        return container.status

    def _media_publish(self, request: Request, match: re.Match[str]) -> Response:
        user = self._ig_user_for(request, match.group(1))
        creation_id = str((request.document() or {}).get("creation_id") or "")
        container = self.containers.get(creation_id)
        if container is None or container.ig_id != user.id or container.is_carousel_item:
            raise self._ig_error(100, 2207001, "Media ID is not available.", "Not found")
        if user.quota_usage >= user.quota_total:
            raise self._ig_error(
                9,
                2207042,
                "You have reached the maximum number of posts that is allowed "
                "to be published by Content Publishing API.",
                "Limit reached",
            )
        status = self._container_status(container)
        if status == "PUBLISHED":
            raise self._ig_error(9007, 2207008, "The media has been published already.", "Published")
        if status != "FINISHED":
            raise self._ig_error(
                9007,
                2207027,
                "Media ID is not available. The media is not ready for publishing, please wait for a moment.",
                "Media not ready",
            )
        media_type = {"REELS": "VIDEO", "CAROUSEL": "CAROUSEL_ALBUM"}.get(container.media_type, "IMAGE")
        product = {"REELS": "REELS", "STORIES": "STORY"}.get(container.media_type, "FEED")
        if container.media_type == "STORIES":
            media_type = "VIDEO" if container.story_video else "IMAGE"
        media = IgMedia(self.new_id(), user.id, container.caption, media_type, self.now(), product=product)
        for _child in container.children:
            item = IgMedia(self.new_id(), user.id, "", "CAROUSEL_ITEM", self.now())
            self.ig_media[item.id] = item
            media.children.append(item.id)
        self.ig_media[media.id] = media
        container.status, container.media_id = "PUBLISHED", media.id
        user.quota_usage += 1
        if self.fail_after_publish:
            self.fail_after_publish -= 1
            raise ApiError(
                500,
                "unknown",
                body=graph_error(
                    2, "An unexpected error has occurred. Please retry your request later.", transient=True
                ),
            )
        return json_response(200, {"id": media.id})

    def _media_json(self, media: IgMedia, fields: list[str]) -> JSONDict:
        out: JSONDict = {"id": media.id}
        if "caption" in fields and media.caption:
            out["caption"] = media.caption
        if "timestamp" in fields:
            out["timestamp"] = _graph_time(media.created_at)
        if "media_type" in fields:
            out["media_type"] = media.media_type
        if "media_product_type" in fields:
            out["media_product_type"] = media.product
        if "permalink" in fields:
            username = self.ig_users[media.ig_id].username
            out["permalink"] = (
                f"https://www.instagram.com/stories/{username}/{media.id}/"
                if media.product == "STORY"
                else f"https://www.instagram.com/p/{media.id}/"
            )
        if "children" in fields and media.children:
            out["children"] = {"data": [{"id": c} for c in media.children]}
        if "like_count" in fields:
            out["like_count"] = len(media.likes)
        if "comments_count" in fields:
            out["comments_count"] = sum(1 for c in self.ig_comments.values() if c.media_id == media.id)
        return out

    def _ig_media_list(self, request: Request, match: re.Match[str]) -> Response:
        user = self._ig_user_for(request, match.group(1))
        fields = top_fields(request.params().get("fields") or "id")
        limit = min(int(request.params().get("limit") or 25), 100)
        media = sorted(self.live_ig_media(user), key=lambda m: m.created_at, reverse=True)[:limit]
        return json_response(200, {"data": [self._media_json(m, fields) for m in media]})

    def _ig_stories_list(self, request: Request, match: re.Match[str]) -> Response:
        user = self._ig_user_for(request, match.group(1))
        fields = top_fields(request.params().get("fields") or "id")
        stories = sorted(self.live_ig_stories(user), key=lambda m: m.created_at, reverse=True)
        return json_response(200, {"data": [self._media_json(m, fields) for m in stories]})

    def _publishing_limit(self, request: Request, match: re.Match[str]) -> Response:
        user = self._ig_user_for(request, match.group(1))
        fields = top_fields(request.params().get("fields") or "quota_usage")
        entry: JSONDict = {"quota_usage": user.quota_usage}
        if "config" in fields:
            entry["config"] = {"quota_total": user.quota_total, "quota_duration": 86400}
        return json_response(200, {"data": [entry]})

    def _get_object(self, request: Request, match: re.Match[str]) -> Response:
        object_id = match.group(1)
        if object_id in self.reels:
            return self._video_json(request, self._reel_of(request, object_id))
        fields = top_fields(request.params().get("fields") or "id")
        if object_id in self.ig_users:
            user = self._ig_user_for(request, object_id)
            return json_response(
                200,
                {
                    "id": user.id,
                    "username": user.username,
                    "name": user.name,
                    "profile_picture_url": f"https://scontent.example/{user.id}.jpg",
                },
            )
        page = self._page_for(request)
        if object_id in self.ig_comments:
            comment = self._ig_comment_of(request, object_id)
            unknown = [f for f in fields if f not in sdk_fields(SdkIGComment)]
            if unknown:
                raise self._invalid(
                    f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (IGComment)"
                )
            entry = self._ig_comment_json(comment)
            entry["media"] = {"id": comment.media_id}
            if comment.parent_id:
                entry["parent_id"] = comment.parent_id
            return json_response(200, entry)
        if object_id in self.containers:
            container = self.containers[object_id]
            if self.ig_users[container.ig_id].page_id != page.id:
                raise self._invalid("(#100) no access")
            status = self._container_status(container)
            if status == "IN_PROGRESS":
                container.checks_left -= 1
                if container.checks_left <= 0:
                    container.status = "FINISHED"
            out: JSONDict = {"id": container.id, "status_code": status}
            if "status" in fields:
                out["status"] = container.error or status
            return json_response(200, out)
        media = self.ig_media.get(object_id)
        if media is None or self.ig_users[media.ig_id].page_id != page.id:
            raise ApiError(
                400,
                "missing",
                body=graph_error(
                    100,
                    f"Unsupported get request. Object with ID '{object_id}' does not exist.",
                    subcode=33,
                    kind="GraphMethodException",
                ),
            )
        unknown = [f for f in fields if f not in sdk_fields(SdkIGMedia)]
        if unknown:
            raise self._invalid(
                f"(#100) Tried accessing nonexisting field ({unknown[0]}) on node type (IGMedia)"
            )
        return json_response(200, self._media_json(media, fields))

    def _ig_media_of(self, request: Request, media_id: str) -> IgMedia:
        page = self._page_for(request)
        media = self.ig_media.get(media_id)
        if media is None or self.ig_users[media.ig_id].page_id != page.id:
            raise self._invalid(f"(#100) Object with ID '{media_id}' does not exist", subcode=33)
        return media

    @staticmethod
    def _ig_comment_json(comment: IgComment) -> JSONDict:
        entry: JSONDict = {
            "id": comment.id,
            "text": comment.text,
            "username": comment.username,
            "timestamp": _graph_time(comment.created_at),
        }
        if comment.from_id:
            entry["from"] = {"id": comment.from_id, "username": comment.username}
        return entry

    def _ig_comments_list(self, request: Request, match: re.Match[str]) -> Response:
        if match.group(1) in self.reels:  # a Reel is a Page video: its comments are the Page's kind
            return self._post_comments(request, match)
        media = self._ig_media_of(request, match.group(1))
        top = [c for c in self.ig_comments.values() if c.media_id == media.id and c.parent_id is None]
        data = []
        for comment in sorted(top, key=lambda c: c.created_at):
            replies = [r for r in self.ig_comments.values() if r.parent_id == comment.id]
            entry = self._ig_comment_json(comment)
            if replies:
                entry["replies"] = {"data": [self._ig_comment_json(r) for r in replies]}
            data.append(entry)
        return json_response(200, {"data": data})

    def _ig_comment_create(self, request: Request, match: re.Match[str]) -> Response:
        if match.group(1) in self.reels:
            return self._create_comment(request, match)
        media = self._ig_media_of(request, match.group(1))
        message = str((request.document() or {}).get("message") or "")
        if not message:
            raise self._invalid("(#100) message is required")
        user = self.ig_users[media.ig_id]
        comment = IgComment(self.new_id(), media.id, user.username, message, self.now(), from_id=user.id)
        self.ig_comments[comment.id] = comment
        return json_response(200, {"id": comment.id})

    def _ig_comment_of(self, request: Request, comment_id: str) -> IgComment:
        comment = self.ig_comments.get(comment_id)
        if comment is None:
            raise self._invalid(f"(#100) Object with ID '{comment_id}' does not exist", subcode=33)
        self._ig_media_of(request, comment.media_id)  # the token's Page must own the media
        return comment

    def _ig_replies_list(self, request: Request, match: re.Match[str]) -> Response:
        """``GET /{ig-comment-id}/replies``: the answers to a comment, oldest first."""
        parent = self._ig_comment_of(request, match.group(1))
        replies = sorted(
            (r for r in self.ig_comments.values() if r.parent_id == parent.id), key=lambda r: r.created_at
        )
        limit = int(request.params().get("limit") or 25)
        return json_response(200, {"data": [self._ig_comment_json(r) for r in replies[:limit]]})

    def _ig_reply_create(self, request: Request, match: re.Match[str]) -> Response:
        """``POST /{ig-comment-id}/replies`` with ``message``: our IG user answers a comment on its media
        (only top-level comments take replies)."""
        parent = self._ig_comment_of(request, match.group(1))
        if parent.parent_id is not None:
            raise self._invalid("(#100) Replies can only be made to top-level comments")
        message = str((request.document() or {}).get("message") or "")
        if not message:
            raise self._invalid("(#100) message is required")
        user = self.ig_users[self.ig_media[parent.media_id].ig_id]
        reply = IgComment(
            self.new_id(), parent.media_id, user.username, message, self.now(), parent.id, from_id=user.id
        )
        self.ig_comments[reply.id] = reply
        return json_response(200, {"id": reply.id})

    def _ig_insights(self, request: Request, match: re.Match[str]) -> Response:
        media = self._ig_media_of(request, match.group(1))
        metrics = [m for m in (request.params().get("metric") or "").split(",") if m]
        known = {"views", "reach", "likes", "comments", "shares", "saved", "total_interactions"}
        if media.product == "STORY":
            # Story metrics (Media Insights reference), only while the story is up.
            if self.now() - media.created_at >= 86400:
                raise self._invalid(f"(#100) Object with ID '{media.id}' does not exist", subcode=33)
            known = {"views", "reach", "replies", "shares", "navigation", "total_interactions", "follows"}
        data = []
        for metric in metrics:
            if metric not in known:  # ``impressions`` and ``plays`` were deprecated with v22.0
                raise self._invalid(
                    f"(#100) metric[0] must be one of the following values: {', '.join(sorted(known))}"
                )
            value = {
                "views": media.views,
                "reach": media.reach,
                "saved": media.saved,
                "likes": len(media.likes),
                "comments": sum(1 for c in self.ig_comments.values() if c.media_id == media.id),
                "replies": media.story_replies,
            }.get(metric, 0)
            data.append({"name": metric, "period": "lifetime", "values": [{"value": value}]})
        return json_response(200, {"data": data})
