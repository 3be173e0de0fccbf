"""A Discourse forum's read API for listening, on the emulator base.

No real Discourse runs on these machines (Ruby, PostgreSQL, Redis, Sidekiq and an Ember build): this is
written from Discourse's published API documentation (https://docs.discourse.org, the OpenAPI description
in github.com/discourse/discourse_api_docs) and, for errors and rate limits, from Discourse's
``ApplicationController`` (``render_json_error``, ``rescue_from RateLimiter::LimitExceeded``):

* ``GET /posts.json`` - the latest posts across topics, newest first, 50 a page; ``before=<id>`` loads
  posts with an id lower than that (``{"latest_posts": [...]}``, each with ``id``, ``username``,
  ``created_at``, ``cooked``, ``post_number``, ``topic_id``, ``topic_slug``, ``topic_title``,
  ``category_id``, ``post_url``);
* ``GET /search.json?q=...&page=N`` - full-text search; ``q`` holds the words and filters, of which
  ``order:latest``, ``#<category slug>``, ``@<username>``, ``after:``/``before:`` (``yyyy-mm-dd``) are
  emulated; answers ``posts`` (with a ``blurb``, not the whole post), ``topics``, ``users``,
  ``categories``, ``tags``, ``groups`` and ``grouped_search_result`` (``post_ids``,
  ``more_full_page_results``);
* ``GET /t/<id>.json`` - a topic with its ``post_stream.posts`` (the first 20, ``cooked``);
* errors are ``{"errors": [message], "error_type": "<type>"}`` (``not_found`` 404, ``invalid_access`` and
  ``not_logged_in`` 403); a rate limit is 429 with ``Retry-After`` (seconds) and
  ``"error_type": "rate_limit", "extras": {"wait_seconds": N, "time_left": "N seconds"}``;
* a private forum (``login_required``) answers only requests with the ``Api-Key`` and ``Api-Username``
  headers of a key the admin created (https://meta.discourse.org/t/-/22706); a wrong key is 403
  "The API username or key is invalid." (Auth::DefaultCurrentUserProvider).

Tests write with :meth:`DiscourseEmulator.create_topic` and :meth:`DiscourseEmulator.reply`.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from .base import (
    ApiError,
    Dialect,
    EmulatorServer,
    RateLimitState,
    Request,
    Response,
    json_response,
)

__all__ = ["DiscourseDialect", "DiscourseEmulator"]

LATEST_PAGE: Final = 50
SEARCH_PAGE: Final = 50
TOPIC_CHUNK: Final = 20
BLURB_CHARS: Final = 200
INVALID_KEY: Final = (
    "You are not permitted to view the requested resource. The API username or key is invalid."
)


class DiscourseDialect(Dialect):
    """Discourse's error shape (``render_json_error``) and its rate-limit answer
    (``rescue_from RateLimiter::LimitExceeded`` in ApplicationController)."""

    rejection_status = 422
    _TYPES: Final = {403: "invalid_access", 404: "not_found", 400: "invalid_parameters", 429: "rate_limit"}

    def error_body(self, status: int, message: str, error: str | None = None) -> Any:
        return {"errors": [message], "error_type": error or self._TYPES.get(status, "unknown")}

    def rate_limit_headers(self, state: RateLimitState) -> list[tuple[str, str]]:
        return []  # Discourse sends no remaining/limit headers on successful answers

    def too_many_requests(self, state: RateLimitState, now: float) -> Response:
        wait = max(1, round(state.reset_at - now))
        # config/locales/server.en.yml: rate_limiter.too_many_requests and rate_limiter.seconds
        message = (
            f"You've performed this action too many times. Please wait {wait} seconds before trying again."
        )
        body = {
            "errors": [message],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
        }
        return json_response(
            429,
            body,
            [("Retry-After", str(wait)), ("Discourse-Rate-Limit-Error-Code", "admin_api_key_rate_limit")],
        )


@dataclass
class _Category:
    id: int
    slug: str
    name: str


@dataclass
class _Topic:
    id: int
    title: str
    slug: str
    category_id: int
    created_at: datetime


@dataclass
class _Post:
    id: int
    topic_id: int
    post_number: int
    username: str
    raw: str
    created_at: datetime

    @property
    def cooked(self) -> str:
        # Discourse "cooks" Markdown to HTML; paragraphs are enough for listening.
        return "".join(f"<p>{html.escape(part)}</p>" for part in self.raw.split("\n\n") if part.strip())


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "topic"


class DiscourseEmulator(EmulatorServer):
    dialect = DiscourseDialect()
    server_header = "discourse-emulator"

    def __init__(self, *, login_required: bool = False) -> None:
        super().__init__()
        self.login_required = login_required
        #: ``Api-Key`` -> the user it may act as (``None``: any user, an "All users" key).
        self.api_keys: dict[str, str | None] = {}
        self._allow: int | None = None
        self._wait = 30
        self._plain_text = False
        self.categories: dict[int, _Category] = {1: _Category(1, "uncategorized", "Uncategorized")}
        self.topics: dict[int, _Topic] = {}
        self.posts: dict[int, _Post] = {}
        self.route("GET", r"/posts\.json", self._latest_posts)
        self.route("GET", r"/search\.json", self._search)
        self.route("GET", r"/t/(?P<id>\d+)\.json", self._topic)

    # -- writing (what users do in the forum) ---------------------------------------------------------

    def add_category(self, slug: str, name: str) -> int:
        with self.lock:
            category_id = max(self.categories) + 1
            self.categories[category_id] = _Category(category_id, slug, name)
            return category_id

    def create_topic(
        self, title: str, raw: str, *, username: str, at: datetime, category_id: int = 1
    ) -> tuple[int, int]:
        """A new topic with its first post; (topic id, post id)."""
        with self.lock:
            topic_id = max(self.topics, default=10) + 1
            self.topics[topic_id] = _Topic(topic_id, title, _slug(title), category_id, at)
            return topic_id, self._add_post(topic_id, raw, username, at)

    def reply(self, topic_id: int, raw: str, *, username: str, at: datetime) -> int:
        with self.lock:
            if topic_id not in self.topics:
                raise KeyError(topic_id)
            return self._add_post(topic_id, raw, username, at)

    def _add_post(self, topic_id: int, raw: str, username: str, at: datetime) -> int:
        post_id = max(self.posts, default=100) + 1
        number = 1 + sum(1 for p in self.posts.values() if p.topic_id == topic_id)
        self.posts[post_id] = _Post(post_id, topic_id, number, username, raw, at)
        return post_id

    # -- authentication and limits ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        limited = self._limited()
        if limited is not None:
            return limited
        key = request.headers.get("api-key")
        if key is not None:
            username = request.headers.get("api-username", "")
            known = key in self.api_keys
            allowed = self.api_keys.get(key)
            if not known or not username or (allowed is not None and allowed != username):
                raise ApiError(403, INVALID_KEY, error="invalid_access")
        elif self.login_required:
            raise ApiError(403, "You need to be logged in to do that.", error="not_logged_in")
        return super().handle(request)

    def limit_requests(self, *, allow: int | None, wait_seconds: int = 30, plain_text: bool = False) -> None:
        """After ``allow`` more requests, answer every request with 429 (``None``: no limit again).

        ``plain_text``: the per-IP limiter of Discourse's middleware (lib/middleware/request_tracker.rb),
        which answers before the application with a text body, ``Retry-After`` and
        ``Discourse-Rate-Limit-Error-Code``; otherwise the application's JSON error (the admin API key's
        limit, ``DISCOURSE_MAX_ADMIN_API_REQS_PER_KEY_PER_MINUTE``, 60 by default).
        """
        with self.lock:
            self._allow, self._wait, self._plain_text = allow, wait_seconds, plain_text

    def _limited(self) -> Response | None:
        if self._allow is None:
            return None
        if self._allow > 0:
            self._allow -= 1
            return None
        if self._plain_text:
            text = (
                "Slow down, too many requests from this IP address.\n"
                f"Please retry again in {self._wait} seconds.\nError code: ip_10_secs_limit.\n"
            )
            headers = [
                ("Retry-After", str(self._wait)),
                ("Discourse-Rate-Limit-Error-Code", "ip_10_secs_limit"),
            ]
            return Response(429, text.encode(), "text/plain; charset=utf-8", headers)
        now = self.now()
        return self.dialect.too_many_requests(RateLimitState(60, 0, now + self._wait, 60, limited=True), now)

    # -- reading ------------------------------------------------------------------------------------------

    def _post_json(self, post: _Post) -> dict[str, Any]:
        topic = self.topics[post.topic_id]
        return {
            "id": post.id,
            "name": None,
            "username": post.username,
            "avatar_template": f"/letter_avatar_proxy/v4/letter/{post.username[:1]}/3be4f8/{{size}}.png",
            "created_at": _iso(post.created_at),
            "updated_at": _iso(post.created_at),
            "cooked": post.cooked,
            "raw": post.raw,
            "post_number": post.post_number,
            "post_type": 1,
            "topic_id": topic.id,
            "topic_slug": topic.slug,
            "topic_title": topic.title,
            "topic_html_title": html.escape(topic.title),
            "category_id": topic.category_id,
            "post_url": f"/t/{topic.slug}/{topic.id}/{post.post_number}",
        }

    def _latest_posts(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        before = params.get("before")
        if before is not None and not before.isdigit():
            raise ApiError(400, "before must be a number", error="invalid_parameters")
        posts = sorted(self.posts.values(), key=lambda p: p.id, reverse=True)
        if before:
            posts = [p for p in posts if p.id < int(before)]
        return json_response(200, {"latest_posts": [self._post_json(p) for p in posts[:LATEST_PAGE]]})

    def _topic(self, request: Request, match: re.Match[str]) -> Response:
        topic = self.topics.get(int(match["id"]))
        if topic is None:
            raise ApiError(404, "The requested URL or resource could not be found.", error="not_found")
        posts = sorted(
            (p for p in self.posts.values() if p.topic_id == topic.id), key=lambda p: p.post_number
        )
        return json_response(
            200,
            {
                "id": topic.id,
                "title": topic.title,
                "fancy_title": html.escape(topic.title),
                "slug": topic.slug,
                "category_id": topic.category_id,
                "posts_count": len(posts),
                "created_at": _iso(topic.created_at),
                "post_stream": {
                    "posts": [self._post_json(p) for p in posts[:TOPIC_CHUNK]],
                    "stream": [p.id for p in posts],
                },
            },
        )

    def _search(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        q = (params.get("q") or params.get("term") or "").strip()
        if len(q) < 3:  # SiteSetting.min_search_term_length (default 3)
            raise ApiError(400, "Your search term is too short.", error="invalid_parameters")
        page = int(params.get("page") or 1)
        words, order_latest, category, user, after, before = [], False, None, None, None, None
        for phrase, token in re.findall(r'"([^"]*)"|(\S+)', q):
            if phrase:
                words.append(phrase.lower())  # "exact phrase"
            elif token == "order:latest":
                order_latest = True
            elif token.startswith("#"):
                category = token[1:].lower()
            elif token.startswith("@"):
                user = token[1:].lower()
            elif token.startswith(("after:", "before:")):
                name, _sep, value = token.partition(":")
                day = datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
                after, before = (day, before) if name == "after" else (after, day)
            elif ":" not in token:
                words.append(token.lower())
        hits = []
        for post in self.posts.values():
            topic = self.topics[post.topic_id]
            haystack = f"{topic.title if post.post_number == 1 else ''} {post.raw}".lower()
            if words and not all(word in haystack for word in words):
                continue
            if category and self.categories[topic.category_id].slug != category:
                continue
            if user and post.username.lower() != user:
                continue
            if (after and post.created_at < after) or (before and post.created_at >= before):
                continue
            hits.append(post)
        # Without order:latest Discourse ranks by relevance; the oldest first stands in for that here.
        hits.sort(key=lambda p: p.created_at, reverse=order_latest)
        chunk = hits[(page - 1) * SEARCH_PAGE : page * SEARCH_PAGE]
        topics = {self.topics[p.topic_id].id: self.topics[p.topic_id] for p in chunk}
        return json_response(
            200,
            {
                "posts": [
                    {
                        "id": p.id,
                        "name": None,
                        "username": p.username,
                        "created_at": _iso(p.created_at),
                        "like_count": 0,
                        "blurb": self._blurb(p.raw, words),
                        "post_number": p.post_number,
                        "topic_id": p.topic_id,
                    }
                    for p in chunk
                ],
                "topics": [
                    {
                        "id": t.id,
                        "title": t.title,
                        "fancy_title": html.escape(t.title),
                        "slug": t.slug,
                        "category_id": t.category_id,
                        "created_at": _iso(t.created_at),
                    }
                    for t in topics.values()
                ],
                "users": [],
                "categories": [],
                "tags": [],
                "groups": [],
                "grouped_search_result": {
                    "more_posts": None,
                    "more_users": None,
                    "more_categories": None,
                    "term": q,
                    "search_log_id": 1,
                    "more_full_page_results": True if len(hits) > page * SEARCH_PAGE else None,
                    "can_create_topic": False,
                    "error": None,
                    "post_ids": [p.id for p in chunk],
                    "user_ids": [],
                    "category_ids": [],
                    "tag_ids": [],
                    "group_ids": [],
                },
            },
        )

    @staticmethod
    def _blurb(raw: str, words: list[str]) -> str:
        # Search::GroupedSearchResults.blurb_for: an excerpt around the first matched word, "..." marked.
        text = " ".join(raw.split())
        at = min((i for w in words if (i := text.lower().find(w)) >= 0), default=0)
        start = max(0, at - BLURB_CHARS // 2)
        excerpt = text[start : start + BLURB_CHARS]
        return ("..." if start else "") + excerpt + ("..." if start + BLURB_CHARS < len(text) else "")
