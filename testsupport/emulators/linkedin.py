"""An emulator of LinkedIn's versioned REST API, written from LinkedIn's published contract
(https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api and the pages
cited below).

What it holds:

* OAuth 2 (3-legged, https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow):
  ``GET /oauth/v2/authorization`` approves at once for the default member and redirects with ``code`` and
  ``state``; ``POST /oauth/v2/accessToken`` checks client id and secret (form body) and the redirect URI,
  issues 60-day access tokens and, for an app with programmatic refresh tokens (the default), a 365-day
  refresh token whose expiry does not move on refresh. ``omit_refresh_token`` / ``empty_refresh_token``
  model an app without them and the ``"refresh_token": ""`` answer.
* ``GET /v2/userinfo`` (OpenID Connect), ``GET /rest/organizationAcls?q=roleAssignee``,
  ``GET /rest/organizations/{id}``.
* ``POST /rest/posts`` (201, the post URN in ``x-restli-id``, empty body), ``GET /rest/posts/{urn}``,
  ``GET /rest/posts?q=author`` (newest first), ``POST /rest/posts/{urn}`` with
  ``X-RestLi-Method: PARTIAL_UPDATE`` (``{"patch": {"$set": {"commentary": …}}}``), ``DELETE``.
* Every ``/rest`` call needs ``LinkedIn-Version`` (400 ``VERSION_MISSING``) naming an active version (426
  ``NONEXISTENT_VERSION`` for a sunset one) and ``X-Restli-Protocol-Version: 2.0.0``.
* The little text format: the stored commentary is parsed as LinkedIn does, and an unescaped reserved
  character silently truncates it (the post is accepted, the text is cut there).
* Images and documents: ``POST /rest/images?action=initializeUpload`` (and ``/rest/documents``) →
  ``PUT`` the bytes to ``uploadUrl``; videos: initialize with ``fileSizeBytes`` → ``PUT`` each part (an
  ``ETag`` per part) → ``finalizeUpload`` with the ETags.
* ``GET /rest/socialActions/{urn}`` (likes and comments summary), ``GET /rest/socialActions/{urn}/comments``,
  ``GET /rest/organizationalEntityShareStatistics?q=organizationalEntity&shares=List(…)``.
* The Advertising API (paid posts, https://learn.microsoft.com/en-us/linkedin/marketing/integrations/
  ads-reporting/ads-reporting): ``GET /rest/adAccounts?q=search``, ``/rest/adAccounts/{id}``,
  ``/rest/adAccounts/{id}/creatives/{urn}`` (``content.reference``: the promoted post),
  ``/rest/adAccounts/{id}/adCampaigns/{id}`` (``r_ads``) and ``GET /rest/adAnalytics?q=analytics``
  (``r_ads_reporting``; Rest.li ``dateRange`` and ``accounts=List(…)`` parsed, ``fields`` checked against
  the metric list and the 20-field limit, only the named fields returned, not paged).
* Error bodies in LinkedIn's envelope ``{"status", "serviceErrorCode", "code", "message"}``, every answer
  with an ``x-li-uuid`` request id; ``empty_error_next`` answers the next create with an empty body, and
  ``ghost_next`` accepts the next create (201 and an id) without the post ever appearing.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote, unquote, urlencode

from .base import (
    ApiError,
    Dialect,
    EmulatorServer,
    Request,
    Response,
    Token,
    TokenStore,
    json_response,
)

JSONDict = dict[str, Any]
ACCESS_TOKEN_TTL = 60 * 86400
REFRESH_TOKEN_TTL = 365 * 86400
# Versions this emulator serves; anything older is "sunset" (426). Add a version here only after
# checking what its migration notes change (https://learn.microsoft.com/en-us/linkedin/marketing/
# integrations/migrations).
ACTIVE_VERSIONS = frozenset({"202601", "202602", "202603", "202604", "202605", "202606"})
COMMENTARY_LIMIT = 3000
RESERVED = set("\\|{}@[]()<>#*_~")
MENTION = re.compile(r"@\[((?:\\.|[^\]\\])*)\]\((urn:li:(?:person|organization):[A-Za-z0-9_-]+)\)")
HASHTAG = re.compile(r"#((?:\\_|\w)+)")
URL = re.compile(r"https?://[^\s<>\"\\]+[^\s<>\"'.,;:!?)\]}\\]")


def parse_little(commentary: str) -> tuple[str, bool]:
    """The commentary as LinkedIn shows it, written back in the source form (mentions as
    ``@[Name](urn)``), and whether an unescaped reserved character cut it short."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        ch = commentary[i]
        if ch == "\\" and i + 1 < len(commentary) and commentary[i + 1] in RESERVED:
            out.append(commentary[i + 1])
            i += 2
            continue
        if ch == "@":
            match = MENTION.match(commentary, i)
            if match:
                name = re.sub(r"\\(.)", r"\1", match.group(1))
                out.append(f"@[{name}]({match.group(2)})")
                i = match.end()
                continue
        if ch == "#":
            match = HASHTAG.match(commentary, i)
            if match:
                out.append("#" + match.group(1).replace("\\_", "_"))
                i = match.end()
                continue
        if ch == "h":
            match = URL.match(commentary, i)
            if match:
                out.append(match.group(0))
                i = match.end()
                continue
        if ch in RESERVED:
            return "".join(out), True  # LinkedIn's silent truncation
        out.append(ch)
        i += 1
    return "".join(out), False


def _visible_length(text: str) -> int:
    shown = MENTION.sub(lambda m: m.group(1), text)
    return len(shown.encode("utf-16-le")) // 2


class LinkedInDialect(Dialect):
    rejection_status = 422
    send_retry_after = True  # LinkedIn documents no header; the fault's wait is sent as Retry-After

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        codes = {400: "BAD_REQUEST", 401: "INVALID_ACCESS_TOKEN", 403: "ACCESS_DENIED", 404: "NOT_FOUND"}
        codes.update({422: "UNPROCESSABLE_ENTITY", 429: "TOO_MANY_REQUESTS", 426: "NONEXISTENT_VERSION"})
        return {
            "status": status,
            "serviceErrorCode": 100,
            "code": codes.get(status, "ERROR"),
            "message": message,
        }

    def expired_token(self, request: Request) -> Response:
        return json_response(
            401,
            {
                "status": 401,
                "serviceErrorCode": 65601,
                "code": "REVOKED_ACCESS_TOKEN",
                "message": "The token used in the request has been revoked by the user",
            },
        )

    def credentials_refused(self, request: Request) -> Response:
        return json_response(
            400,
            {
                "error": "invalid_request",
                "error_description": "The provided authorization grant or refresh token is invalid, "
                "expired or revoked",
            },
        )


@dataclass
class Member:
    id: str  # the person id: urn:li:person:<id>
    name: str
    organizations: list[int] = field(default_factory=list)

    @property
    def urn(self) -> str:
        return f"urn:li:person:{self.id}"


@dataclass
class Organization:
    id: int
    name: str

    @property
    def urn(self) -> str:
        return f"urn:li:organization:{self.id}"


@dataclass
class Post:
    urn: str
    author: str
    commentary: str  # as sent (little)
    created_at: float
    content: JSONDict = field(default_factory=dict)
    likes: set[str] = field(default_factory=set)
    comments: list[JSONDict] = field(default_factory=list)
    impressions: int = 0
    unique_impressions: int | None = None  # members reached; None = as many as impressions
    clicks: int = 0
    deleted: bool = False
    ghost: bool = False

    @property
    def text(self) -> str:
        return parse_little(self.commentary)[0]

    @property
    def truncated(self) -> bool:
        return parse_little(self.commentary)[1]


@dataclass
class Asset:
    urn: str
    owner: str
    kind: str  # image | document | video
    size: int = 0
    parts: int = 1
    data: dict[int, bytes] = field(default_factory=dict)
    finalized: bool = False

    @property
    def uploaded(self) -> bool:
        return len(self.data) >= self.parts and (self.kind != "video" or self.finalized)


@dataclass
class _AuthCode:
    redirect_uri: str
    scopes: list[str]
    member_id: str


@dataclass
class LiAdAccount:
    id: int
    name: str
    currency: str
    members: set[str] = field(default_factory=set)


@dataclass
class LiCreative:
    urn: str  # urn:li:sponsoredCreative:<id>
    account_id: int
    campaign: str  # urn:li:sponsoredCampaign:<id>
    reference: str = ""  # the promoted post (urn:li:share:… / urn:li:ugcPost:…)


@dataclass
class LiAdDay:
    creative: str
    day: date
    cost: str  # costInLocalCurrency: a decimal string in the account's currency
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    leads: int = 0
    value: str = "0"


# https://learn.microsoft.com/en-us/linkedin/marketing/integrations/ads-reporting/ads-reporting (pivots and a
# subset of the metrics the schema lists; a field not listed is refused as LinkedIn does).
ANALYTICS_PIVOTS = frozenset(
    {"COMPANY", "ACCOUNT", "SHARE", "CAMPAIGN", "CREATIVE", "CAMPAIGN_GROUP", "CONVERSION", "MEMBER_COMPANY"}
)
ANALYTICS_METRICS = frozenset(
    {
        "pivotValues",
        "dateRange",
        "costInLocalCurrency",
        "costInUsd",
        "impressions",
        "clicks",
        "landingPageClicks",
        "externalWebsiteConversions",
        "oneClickLeads",
        "oneClickLeadFormOpens",
        "conversionValueInLocalCurrency",
        "likes",
        "shares",
        "comments",
        "follows",
        "videoViews",
        "totalEngagements",
    }
)


VIDEO_PART_SIZE = 4 * 1024 * 1024  # the Videos API splits uploads into 4 MB parts


class LinkedInEmulator(EmulatorServer):
    dialect = LinkedInDialect()
    server_header = "Play"

    def __init__(self, *, client_id: str = "resonanz-client", client_secret: str = "resonanz-secret") -> None:  # noqa: S107
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.omit_refresh_token = False
        self.empty_refresh_token = False
        self.empty_error_next = False
        self.ghost_next = False
        self.last_request_id = ""
        self.tokens = TokenStore(self.now)
        self.refresh_expiry: dict[str, float] = {}  # refresh token -> fixed expiry
        self._ids = itertools.count(int(time.time() * 1000) << 10)
        self.members: dict[str, Member] = {}
        self.organizations: dict[int, Organization] = {}
        self.posts: dict[str, Post] = {}
        self.assets: dict[str, Asset] = {}
        self._codes: dict[str, _AuthCode] = {}
        self.ad_accounts: dict[int, LiAdAccount] = {}
        self.creatives: dict[str, LiCreative] = {}
        self.ad_campaigns: dict[str, str] = {}  # campaign URN -> name
        self.ad_days: list[LiAdDay] = []
        self.default_member = self.create_member("Rita Resonanz")
        self.default_organization = self.create_organization("Resonanz GmbH", admin=self.default_member)
        self.route("GET", r"/oauth/v2/authorization", self._authorize)
        self.route("POST", r"/oauth/v2/accessToken", self._token)
        self.route("GET", r"/v2/userinfo", self._userinfo)
        self.route("GET", r"/rest/organizationAcls", self._acls)
        self.route("GET", r"/rest/organizations/(\d+)", self._organization)
        self.route("POST", r"/rest/posts", self._create_post)
        self.route("GET", r"/rest/posts", self._find_posts)
        self.route("GET", r"/rest/posts/([^/]+)", self._get_post)
        self.route("POST", r"/rest/posts/([^/]+)", self._update_post)
        self.route("DELETE", r"/rest/posts/([^/]+)", self._delete_post)
        self.route("POST", r"/rest/(images|documents|videos)", self._asset_action)
        self.route("PUT", r"/dms-uploads/([^/]+)/(\d+)", self._upload)
        self.route("GET", r"/rest/socialActions/([^/]+)", self._social_actions)
        self.route("GET", r"/rest/socialActions/([^/]+)/comments", self._comments)
        self.route("POST", r"/rest/socialActions/([^/]+)/comments", self._create_comment)
        self.route("GET", r"/rest/organizationalEntityShareStatistics", self._share_statistics)
        self.route("GET", r"/rest/adAccounts", self._ad_accounts)
        self.route("GET", r"/rest/adAccounts/(\d+)", self._ad_account)
        self.route("GET", r"/rest/adAccounts/(\d+)/creatives/([^/]+)", self._creative)
        self.route("GET", r"/rest/adAccounts/(\d+)/adCampaigns/(\d+)", self._ad_campaign)
        self.route("GET", r"/rest/adAnalytics", self._ad_analytics)

    # -- test helpers ------------------------------------------------------------------------------
    def create_member(self, name: str) -> Member:
        member = Member(id=secrets.token_urlsafe(7).replace("-", "a").replace("_", "b"), name=name)
        self.members[member.id] = member
        return member

    def create_organization(self, name: str, *, admin: Member | None = None) -> Organization:
        organization = Organization(id=next(self._ids) % 100_000_000, name=name)
        self.organizations[organization.id] = organization
        if admin is not None:
            admin.organizations.append(organization.id)
        return organization

    def issue_token(self, member: Member | None = None, *, ttl: float = ACCESS_TOKEN_TTL) -> Token:
        member = member or self.default_member
        token = self.tokens.issue(
            subject=member.id,
            client_id=self.client_id,
            scopes=[
                "openid",
                "profile",
                "w_member_social",
                "w_organization_social",
                "r_organization_social",
                "rw_organization_admin",
                "r_ads",
                "r_ads_reporting",
            ],
            ttl=ttl,
            refreshable=True,
        )
        if token.refresh_token:
            self.refresh_expiry[token.refresh_token] = self.now() + REFRESH_TOKEN_TTL
        return token

    def live_posts(self, author: str | None = None) -> list[Post]:
        return [
            p
            for p in self.posts.values()
            if not p.deleted and not p.ghost and (author is None or p.author == author)
        ]

    def like_as(self, member: Member, urn: str) -> None:
        with self.lock:
            self.posts[urn].likes.add(member.urn)

    def comment_as(self, member: Member, urn: str, text: str) -> JSONDict:
        with self.lock:
            return self._new_comment(member.urn, urn, text)

    def _new_comment(self, actor: str, urn: str, text: str, parent: str = "") -> JSONDict:
        post = self.posts[urn]
        comment_id = str(next(self._ids))
        comment: JSONDict = {
            "actor": actor,
            "id": comment_id,
            "commentUrn": f"urn:li:comment:({urn},{comment_id})",
            "object": urn,
            "message": {"text": text},
            "created": {"actor": actor, "time": int(self.now() * 1000)},
        }
        if parent:
            comment["parentComment"] = parent
        post.comments.append(comment)
        return comment

    def texts_of(self, author: str) -> list[str]:
        """The author's posts and comments as they read (the contract's duplicate counter)."""
        texts = [p.text for p in self.live_posts(author)]
        texts += [
            str(c["message"]["text"])
            for p in self.posts.values()
            if not p.deleted
            for c in p.comments
            if c["actor"] == author
        ]
        return texts

    # -- Advertising API ---------------------------------------------------------------------------
    def create_ad_account(
        self, name: str, *, currency: str = "EUR", member: Member | None = None
    ) -> LiAdAccount:
        ad_account = LiAdAccount(
            next(self._ids) % 1_000_000_000, name, currency, {(member or self.default_member).id}
        )
        self.ad_accounts[ad_account.id] = ad_account
        return ad_account

    def create_creative(
        self, ad_account: LiAdAccount, *, reference: str = "", campaign: str = "Kampagne"
    ) -> str:
        campaign_urn = next((u for u, n in self.ad_campaigns.items() if n == campaign), "")
        if not campaign_urn:
            campaign_urn = f"urn:li:sponsoredCampaign:{next(self._ids) % 1_000_000_000}"
            self.ad_campaigns[campaign_urn] = campaign
        urn = f"urn:li:sponsoredCreative:{next(self._ids) % 1_000_000_000}"
        self.creatives[urn] = LiCreative(urn, ad_account.id, campaign_urn, reference)
        return urn

    def add_ad_day(self, creative: str, day: date, **values: Any) -> None:
        self.ad_days.append(LiAdDay(creative, day, **values))

    def _ads_member(self, request: Request, scope: str) -> Member:
        member, token = self._member(request)
        if scope not in token.scopes:
            raise ApiError(
                403,
                f"Not enough permissions to access: {scope}",
                body={
                    "status": 403,
                    "serviceErrorCode": 100,
                    "code": "ACCESS_DENIED",
                    "message": f"Not enough permissions to access: {request.method} {request.path}",
                },
            )
        return member

    def _ad_account_or_404(self, member: Member, raw: str) -> LiAdAccount:
        ad_account = self.ad_accounts.get(int(raw))
        if ad_account is None or member.id not in ad_account.members:
            raise ApiError(404, f"Ad account {raw} not found or not accessible")
        return ad_account

    @staticmethod
    def _account_json(ad_account: LiAdAccount) -> JSONDict:
        return {
            "id": ad_account.id,
            "name": ad_account.name,
            "currency": ad_account.currency,
            "status": "ACTIVE",
            "type": "BUSINESS",
            "reference": "urn:li:organization:1",
        }

    def _ad_accounts(self, request: Request, _match: re.Match[str]) -> Response:
        member = self._ads_member(request, "r_ads")
        if request.params().get("q") != "search":
            raise ApiError(400, "q=search is required")
        elements = [self._account_json(a) for a in self.ad_accounts.values() if member.id in a.members]
        return json_response(200, {"elements": elements, "paging": {"start": 0, "count": 1000, "links": []}})

    def _ad_account(self, request: Request, match: re.Match[str]) -> Response:
        member = self._ads_member(request, "r_ads")
        return json_response(200, self._account_json(self._ad_account_or_404(member, match.group(1))))

    def _creative(self, request: Request, match: re.Match[str]) -> Response:
        member = self._ads_member(request, "r_ads")
        ad_account = self._ad_account_or_404(member, match.group(1))
        creative = self.creatives.get(unquote(match.group(2)))
        if creative is None or creative.account_id != ad_account.id:
            raise ApiError(404, "Creative not found")
        content: JSONDict = {"reference": creative.reference} if creative.reference else {}
        return json_response(
            200,
            {
                "id": creative.urn,
                "account": f"urn:li:sponsoredAccount:{ad_account.id}",
                "campaign": creative.campaign,
                "content": content,
                "intendedStatus": "ACTIVE",
            },
        )

    def _ad_campaign(self, request: Request, match: re.Match[str]) -> Response:
        member = self._ads_member(request, "r_ads")
        self._ad_account_or_404(member, match.group(1))
        urn = f"urn:li:sponsoredCampaign:{match.group(2)}"
        if urn not in self.ad_campaigns:
            raise ApiError(404, "Campaign not found")
        return json_response(
            200, {"id": int(match.group(2)), "name": self.ad_campaigns[urn], "status": "ACTIVE"}
        )

    @staticmethod
    def _date(raw: str) -> date:
        match = re.fullmatch(r"\(year:(\d{4}),month:(\d{1,2}),day:(\d{1,2})\)", raw)
        if match is None:
            raise ApiError(400, f"Invalid date {raw}")
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))

    def _ad_analytics(self, request: Request, _match: re.Match[str]) -> Response:
        """The Analytics finder (one pivot, not paged, at most 15,000 elements and 20 fields)."""
        member = self._ads_member(request, "r_ads_reporting")
        params = request.params()
        if params.get("q") != "analytics":
            raise ApiError(400, "q=analytics is required (the statistics finder is not emulated)")
        if params.get("pivot") not in ANALYTICS_PIVOTS:
            raise ApiError(400, f"Invalid pivot {params.get('pivot')}")
        if params.get("timeGranularity") not in {"ALL", "DAILY", "MONTHLY", "YEARLY"}:
            raise ApiError(400, "timeGranularity must be one of ALL, DAILY, MONTHLY, YEARLY")
        match = re.fullmatch(r"\(start:(\([^)]*\))(?:,end:(\([^)]*\)))?\)", params.get("dateRange") or "")
        if match is None:
            raise ApiError(400, "dateRange is required: dateRange=(start:(year:…,month:…,day:…),end:(…))")
        since = self._date(match.group(1))
        until = self._date(match.group(2)) if match.group(2) else date.max
        accounts = re.fullmatch(r"List\((.*)\)", params.get("accounts") or "")
        if accounts is None:
            raise ApiError(400, "At least one facet (accounts, campaigns, creatives, …) is required")
        wanted_accounts = set()
        for urn in accounts.group(1).split(","):
            ad_account = self._ad_account_or_404(member, unquote(urn).rsplit(":", 1)[-1])
            wanted_accounts.add(ad_account.id)
        fields = [f for f in (params.get("fields") or "impressions,clicks").split(",") if f]
        unknown = [f for f in fields if f not in ANALYTICS_METRICS]
        if unknown or len(fields) > 20:
            raise ApiError(400, f"Invalid fields: {', '.join(unknown) or 'more than 20'}")
        if params.get("pivot") != "CREATIVE" or params.get("timeGranularity") != "DAILY":
            raise ApiError(400, "This emulator answers pivot=CREATIVE with timeGranularity=DAILY only")
        elements = []
        for day in sorted(self.ad_days, key=lambda d: (d.day, d.creative)):
            creative = self.creatives[day.creative]
            if creative.account_id not in wanted_accounts or not since <= day.day <= until:
                continue
            moment = {"year": day.day.year, "month": day.day.month, "day": day.day.day}
            full: JSONDict = {
                "pivotValues": [creative.urn],
                "dateRange": {"start": moment, "end": moment},
                "costInLocalCurrency": day.cost,
                "impressions": day.impressions,
                "clicks": day.clicks,
                "externalWebsiteConversions": day.conversions,
                "oneClickLeads": day.leads,
                "conversionValueInLocalCurrency": day.value,
            }
            elements.append({k: v for k, v in full.items() if k in fields})
        return json_response(200, {"elements": elements, "paging": {"start": 0, "count": 10, "links": []}})

    # -- plumbing ----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        rid = str(uuid.uuid4())
        self.last_request_id = rid
        try:
            if request.path.startswith("/rest/"):
                self._check_version(request)
            response = super().handle(request)
        except ApiError as exc:
            exc.headers.append(("x-li-uuid", rid))
            raise
        response.headers.append(("x-li-uuid", rid))
        return response

    @staticmethod
    def _check_version(request: Request) -> None:
        version = request.headers.get("linkedin-version")
        if not version:
            raise ApiError(
                400,
                "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                body={
                    "status": 400,
                    "code": "VERSION_MISSING",
                    "message": "A version must be present. Please specify a version by adding "
                    "the LinkedIn-Version header.",
                },
            )
        if version not in ACTIVE_VERSIONS:
            message = f"Requested version {version} is not active"
            raise ApiError(
                426, message, body={"status": 426, "code": "NONEXISTENT_VERSION", "message": message}
            )
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise ApiError(400, "Restli protocol version 2.0.0 is required")

    def _member(self, request: Request, scope: str | None = None) -> tuple[Member, Token]:
        token, problem = self.tokens.check(request)
        if problem is not None or token is None or token.subject not in self.members:
            raise ApiError(
                401,
                "Invalid access token",
                body={
                    "status": 401,
                    "serviceErrorCode": 65600,
                    "code": "INVALID_ACCESS_TOKEN",
                    "message": "Invalid access token",
                },
            )
        if scope and scope not in token.scopes:
            raise ApiError(
                403,
                f"Not enough permissions to access: {scope}",
                body={
                    "status": 403,
                    "serviceErrorCode": 100,
                    "code": "ACCESS_DENIED",
                    "message": f"Not enough permissions to access: {request.method} {request.path}",
                },
            )
        return self.members[str(token.subject)], token

    def _may_act_as(self, member: Member, token: Token, author: str) -> bool:
        if author == member.urn:
            return "w_member_social" in token.scopes
        match = re.fullmatch(r"urn:li:organization:(\d+)", author)
        if match is None:
            return False
        return int(match.group(1)) in member.organizations and "w_organization_social" in token.scopes

    def _post_json(self, post: Post) -> JSONDict:
        body: JSONDict = {
            "id": post.urn,
            "author": post.author,
            "commentary": post.commentary,
            "visibility": "PUBLIC",
            "lifecycleState": "PUBLISHED",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "createdAt": int(post.created_at * 1000),
            "publishedAt": int(post.created_at * 1000),
            "lastModifiedAt": int(post.created_at * 1000),
            "isReshareDisabledByAuthor": False,
        }
        if post.content:
            body["content"] = post.content
        return body

    def _post_or_404(self, raw: str) -> Post:
        post = self.posts.get(unquote(raw))
        if post is None or post.deleted or post.ghost:
            raise ApiError(404, f"Not Found: {unquote(raw)}")
        return post

    # -- OAuth -------------------------------------------------------------------------------------
    def _authorize(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if params.get("client_id") != self.client_id or params.get("response_type") != "code":
            raise ApiError(
                400,
                "invalid_request",
                body={"error": "invalid_request", "error_description": "Invalid client_id"},
            )
        code = secrets.token_urlsafe(24)
        self._codes[code] = _AuthCode(
            redirect_uri=str(params.get("redirect_uri")),
            scopes=(params.get("scope") or "").split(),
            member_id=self.default_member.id,
        )
        target = (
            f"{params.get('redirect_uri')}?{urlencode({'code': code, 'state': params.get('state') or ''})}"
        )
        return Response(302, b"", content_type="text/html", headers=[("Location", target)])

    def _token_answer(self, token: Token, refresh_expires_at: float | None) -> Response:
        body: JSONDict = {
            "access_token": token.access_token,
            "expires_in": ACCESS_TOKEN_TTL,
            "scope": ",".join(token.scopes),
            "token_type": "Bearer",
        }
        if self.empty_refresh_token:
            body["refresh_token"] = ""
        elif token.refresh_token and not self.omit_refresh_token and refresh_expires_at is not None:
            body["refresh_token"] = token.refresh_token
            body["refresh_token_expires_in"] = max(0, int(refresh_expires_at - self.now()))
        return json_response(200, body)

    def _token(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
            raise ApiError(
                401,
                "invalid_client",
                body={"error": "invalid_client", "error_description": "Client authentication failed"},
            )
        refused = ApiError(
            400,
            "invalid_request",
            body={
                "error": "invalid_request",
                "error_description": "The provided authorization grant or refresh token is invalid, "
                "expired or revoked",
            },
        )
        grant = params.get("grant_type")
        if grant == "authorization_code":
            code = self._codes.pop(params.get("code") or "", None)
            if code is None or code.redirect_uri != params.get("redirect_uri"):
                raise refused
            refreshable = not self.omit_refresh_token
            token = self.tokens.issue(
                subject=code.member_id,
                client_id=self.client_id,
                scopes=code.scopes,
                ttl=ACCESS_TOKEN_TTL,
                refreshable=refreshable,
            )
            expires = self.now() + REFRESH_TOKEN_TTL if token.refresh_token else None
            if token.refresh_token and expires is not None:
                self.refresh_expiry[token.refresh_token] = expires
            return self._token_answer(token, expires)
        if grant == "refresh_token":
            value = params.get("refresh_token") or ""
            expires = self.refresh_expiry.get(value)
            if expires is None or self.now() >= expires:
                raise refused
            old = self.tokens.find(value)
            if old is None or old.revoked:
                raise refused
            # LinkedIn keeps the refresh token (and its expiry) and issues a new access token.
            token = self.tokens.issue(
                subject=old.subject,
                client_id=self.client_id,
                scopes=old.scopes,
                ttl=ACCESS_TOKEN_TTL,
                refreshable=False,
            )
            token.refresh_token = value
            old.refresh_token = None
            old.revoked = True
            return self._token_answer(token, expires)
        raise ApiError(400, "unsupported_grant_type", body={"error": "unsupported_grant_type"})

    # -- identity ----------------------------------------------------------------------------------
    def _userinfo(self, request: Request, _match: re.Match[str]) -> Response:
        member, _token = self._member(request, "openid")
        given, _, family = member.name.partition(" ")
        return json_response(
            200,
            {
                "sub": member.id,
                "name": member.name,
                "given_name": given,
                "family_name": family,
                "picture": "",
                "locale": {"language": "de"},
            },
        )

    def _acls(self, request: Request, _match: re.Match[str]) -> Response:
        member, _token = self._member(request, "rw_organization_admin")
        params = request.params()
        if params.get("q") != "roleAssignee":
            raise ApiError(400, "q=roleAssignee is required")
        elements = [
            {
                "roleAssignee": member.urn,
                "state": "APPROVED",
                "role": "ADMINISTRATOR",
                "organization": f"urn:li:organization:{org_id}",
            }
            for org_id in member.organizations
        ]
        return json_response(200, {"elements": elements, "paging": {"count": 10, "start": 0, "links": []}})

    def _organization(self, request: Request, match: re.Match[str]) -> Response:
        self._member(request)
        organization = self.organizations.get(int(match.group(1)))
        if organization is None:
            raise ApiError(404, "Not Found")
        return json_response(
            200,
            {
                "id": organization.id,
                "localizedName": organization.name,
                "vanityName": organization.name.lower().replace(" ", "-"),
            },
        )

    # -- posts -------------------------------------------------------------------------------------
    def _create_post(self, request: Request, _match: re.Match[str]) -> Response:
        member, token = self._member(request)
        if self.empty_error_next:
            self.empty_error_next = False
            return Response(
                400, b"", content_type="application/json", headers=[("x-restli-protocol-version", "2.0.0")]
            )
        body = request.json() or {}
        author = str(body.get("author") or "")
        if not self._may_act_as(member, token, author):
            raise ApiError(
                403,
                f"Not enough permissions to post as {author}",
                body={
                    "status": 403,
                    "serviceErrorCode": 100,
                    "code": "ACCESS_DENIED",
                    "message": f"Unpermitted fields present in REQUEST_BODY: author {author}",
                },
            )
        for required in ("commentary", "visibility", "distribution", "lifecycleState"):
            if required not in body:
                raise ApiError(
                    422, f"/{required} :: field is required but not found and has no default value"
                )
        commentary = str(body["commentary"])
        text, _cut = parse_little(commentary)
        if _visible_length(text) > COMMENTARY_LIMIT:
            raise ApiError(422, f"/commentary :: length of commentary exceeds {COMMENTARY_LIMIT} characters")
        content = body.get("content") or {}
        self._check_content(content, author)
        post = Post(
            urn=f"urn:li:share:{next(self._ids)}",
            author=author,
            commentary=commentary,
            created_at=self.now(),
            content=content,
        )
        if self.ghost_next:
            self.ghost_next = False
            post.ghost = True
        self.posts[post.urn] = post
        return Response(201, b"", headers=[("x-restli-id", post.urn)])

    def _check_content(self, content: Any, author: str) -> None:
        if not content:
            return
        if not isinstance(content, dict) or len(content) != 1:
            raise ApiError(422, "/content :: exactly one content type is allowed")
        if "media" in content:
            refs = [content["media"]]
        elif "multiImage" in content:
            refs = list((content["multiImage"] or {}).get("images") or [])
            if not 2 <= len(refs) <= 20:
                raise ApiError(422, "/content/multiImage/images :: between 2 and 20 images are allowed")
            if any(not str(r.get("id", "")).startswith("urn:li:image:") for r in refs):
                raise ApiError(422, "/content/multiImage/images :: only images are allowed")
        else:
            raise ApiError(422, f"/content :: unknown content type {next(iter(content))}")
        for ref in refs:
            asset = self.assets.get(str(ref.get("id")))
            if asset is None or asset.owner != author or not asset.uploaded:
                raise ApiError(
                    422, f"/content :: media {ref.get('id')} is not uploaded or not owned by {author}"
                )
            if len(str(ref.get("altText") or "")) > 4086:
                raise ApiError(422, "/content :: altText exceeds 4086 characters")

    def _find_posts(self, request: Request, _match: re.Match[str]) -> Response:
        member, token = self._member(request)
        params = request.params()
        if params.get("q") != "author":
            raise ApiError(400, "q=author is required")
        author = unquote(params.get("author") or "")
        if not self._may_act_as(member, token, author):
            raise ApiError(403, "Not enough permissions")
        start = int(params.get("start") or 0)
        count = min(int(params.get("count") or 10), 100)
        posts = sorted(self.live_posts(author), key=lambda p: p.created_at, reverse=True)
        page = posts[start : start + count]
        return json_response(
            200,
            {
                "elements": [self._post_json(p) for p in page],
                "paging": {"start": start, "count": count, "total": len(posts)},
            },
        )

    def _get_post(self, request: Request, match: re.Match[str]) -> Response:
        self._member(request)
        return json_response(200, self._post_json(self._post_or_404(match.group(1))))

    def _update_post(self, request: Request, match: re.Match[str]) -> Response:
        member, token = self._member(request)
        if request.headers.get("x-restli-method", "").upper() != "PARTIAL_UPDATE":
            raise ApiError(400, "X-RestLi-Method: PARTIAL_UPDATE is required")
        post = self._post_or_404(match.group(1))
        if not self._may_act_as(member, token, post.author):
            raise ApiError(403, "Not enough permissions")
        patch = ((request.json() or {}).get("patch") or {}).get("$set") or {}
        unknown = set(patch) - {
            "commentary",
            "contentCallToActionLabel",
            "contentLandingPage",
            "lifecycleState",
        }
        if unknown:
            raise ApiError(422, f"/patch :: fields cannot be updated: {sorted(unknown)}")
        if "commentary" in patch:
            text, _cut = parse_little(str(patch["commentary"]))
            if _visible_length(text) > COMMENTARY_LIMIT:
                raise ApiError(
                    422, f"/commentary :: length of commentary exceeds {COMMENTARY_LIMIT} characters"
                )
            post.commentary = str(patch["commentary"])
        return Response(204, b"")

    def _delete_post(self, request: Request, match: re.Match[str]) -> Response:
        member, token = self._member(request)
        post = self.posts.get(unquote(match.group(1)))
        if post is None or post.deleted:
            raise ApiError(404, "Not Found")
        if not self._may_act_as(member, token, post.author):
            raise ApiError(403, "Not enough permissions")
        post.deleted = True
        return Response(204, b"")

    # -- media -------------------------------------------------------------------------------------
    def _asset_action(self, request: Request, match: re.Match[str]) -> Response:
        member, token = self._member(request)
        kind = {"images": "image", "documents": "document", "videos": "video"}[match.group(1)]
        action = request.params().get("action")
        body = request.json() or {}
        if action == "initializeUpload":
            init = body.get("initializeUploadRequest") or {}
            owner = str(init.get("owner") or "")
            if not self._may_act_as(member, token, owner):
                raise ApiError(403, f"Not enough permissions to upload for {owner}")
            asset_id = f"C{next(self._ids)}"
            urn = f"urn:li:{kind}:{asset_id}"
            asset = Asset(urn=urn, owner=owner, kind=kind)
            if kind == "video":
                size = int(init.get("fileSizeBytes") or 0)
                if size <= 0:
                    raise ApiError(422, "/initializeUploadRequest/fileSizeBytes :: required")
                asset.size = size
                asset.parts = max(1, -(-size // VIDEO_PART_SIZE))
                instructions = [
                    {
                        "uploadUrl": f"{self.base_url}/dms-uploads/{quote(urn, safe='')}/{n}",
                        "firstByte": n * VIDEO_PART_SIZE,
                        "lastByte": min(size, (n + 1) * VIDEO_PART_SIZE) - 1,
                    }
                    for n in range(asset.parts)
                ]
                self.assets[urn] = asset
                return json_response(
                    200,
                    {
                        "value": {
                            "video": urn,
                            "uploadToken": "",
                            "uploadInstructions": instructions,
                            "uploadUrlsExpireAt": int((self.now() + 86400) * 1000),
                        }
                    },
                )
            self.assets[urn] = asset
            return json_response(
                200,
                {
                    "value": {
                        kind: urn,
                        "uploadUrl": f"{self.base_url}/dms-uploads/{quote(urn, safe='')}/0",
                        "uploadUrlExpiresAt": int((self.now() + 86400) * 1000),
                    }
                },
            )
        if action == "finalizeUpload" and kind == "video":
            final = body.get("finalizeUploadRequest") or {}
            found = self.assets.get(str(final.get("video")))
            if found is None:
                raise ApiError(404, "Not Found")
            asset = found
            etags = [str(e) for e in final.get("uploadedPartIds") or []]
            expected = [f"part-{asset.urn}-{n}" for n in range(asset.parts)]
            if etags != expected or len(asset.data) != asset.parts:
                raise ApiError(
                    422, "/finalizeUploadRequest/uploadedPartIds :: do not match the uploaded parts"
                )
            asset.finalized = True
            return Response(200, b"")
        raise ApiError(400, f"unknown action {action}")

    def _upload(self, request: Request, match: re.Match[str]) -> Response:
        self._member(request)
        asset = self.assets.get(unquote(match.group(1)))
        if asset is None:
            raise ApiError(404, "Not Found")
        if not request.body:
            raise ApiError(400, "")
        part = int(match.group(2))
        asset.data[part] = request.body
        return Response(201, b"", headers=[("ETag", f"part-{asset.urn}-{part}")])

    # -- engagement --------------------------------------------------------------------------------
    def _social_actions(self, request: Request, match: re.Match[str]) -> Response:
        self._member(request)
        post = self._post_or_404(match.group(1))
        return json_response(
            200,
            {
                "target": post.urn,
                "likesSummary": {"totalLikes": len(post.likes), "likedByCurrentUser": False},
                "commentsSummary": {
                    "aggregatedTotalComments": len(post.comments),
                    "totalFirstLevelComments": len(post.comments),
                },
            },
        )

    def _comments(self, request: Request, match: re.Match[str]) -> Response:
        self._member(request)
        post = self._post_or_404(match.group(1))
        return json_response(
            200,
            {
                "elements": list(post.comments),
                "paging": {"start": 0, "count": 10, "total": len(post.comments)},
            },
        )

    def _create_comment(self, request: Request, match: re.Match[str]) -> Response:
        member, token = self._member(request)
        post = self._post_or_404(match.group(1))
        body = request.json() or {}
        actor = str(body.get("actor") or "")
        if not self._may_act_as(member, token, actor):
            raise ApiError(403, f"Not enough permissions to comment as {actor}")
        if unquote(str(body.get("object") or "")) != post.urn:
            raise ApiError(422, "/object :: must be the entity in the path")
        text = str((body.get("message") or {}).get("text") or "")
        if not text:
            raise ApiError(422, "/message/text :: field is required but not found and has no default value")
        parent = str(body.get("parentComment") or "")
        if parent and not any(c["commentUrn"] == parent for c in post.comments):
            raise ApiError(422, f"/parentComment :: {parent} does not exist")
        comment = self._new_comment(actor, post.urn, text, parent)
        return json_response(201, comment, headers=[("x-restli-id", comment["id"])])

    def _share_statistics(self, request: Request, _match: re.Match[str]) -> Response:
        member, _token = self._member(request, "r_organization_social")
        params = request.params()
        entity = unquote(params.get("organizationalEntity") or "")
        org = re.fullmatch(r"urn:li:organization:(\d+)", entity)
        if (
            params.get("q") != "organizationalEntity"
            or org is None
            or int(org.group(1)) not in member.organizations
        ):
            raise ApiError(403, "Not enough permissions")
        wanted = re.findall(r"urn(?:%3A|:)li(?:%3A|:)share(?:%3A|:)\d+", params.get("shares") or "")
        elements = []
        for raw in wanted:
            post = self.posts.get(unquote(raw))
            if post is None or post.author != entity:
                continue
            elements.append(
                {
                    "organizationalEntity": entity,
                    "share": post.urn,
                    "totalShareStatistics": {
                        "uniqueImpressionsCount": post.impressions
                        if post.unique_impressions is None
                        else post.unique_impressions,
                        "impressionCount": post.impressions,
                        "shareCount": 0,
                        "clickCount": post.clicks,
                        "likeCount": len(post.likes),
                        "commentCount": len(post.comments),
                        "engagement": 0.0,
                    },
                }
            )
        return json_response(200, {"elements": elements, "paging": {"start": 0, "count": 10}})
