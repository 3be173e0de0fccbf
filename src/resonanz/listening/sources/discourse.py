"""Discourse forums (community and support forums) through their JSON API (https://docs.discourse.org).

The target is the forum's address, or a category's address as the browser shows it
(``https://forum.example/c/support/5``, a subcategory ``/c/hardware/router/12``): then only posts of that
category (its id, the last number) are kept. A private forum needs an API key and the user name it acts
as, sent as the ``Api-Key`` and ``Api-Username`` headers (the source's credentials ``api_key`` and
``api_username``).

* First poll (no cursor): the forum's history for each term through search
  (``GET /search.json?q=<term> order:latest``), whose hits carry an excerpt (``blurb``); the whole post
  comes from its topic (``GET /t/<id>.json``, ``post_stream.posts``) for the first few topics. Then the
  newest post's id is the cursor.
* Every later poll: the latest posts across topics (``GET /posts.json``, newest first, 50 a page),
  paging back with ``before=<the oldest id on the page>`` until the cursor's post is reached. Each post
  is read once, whatever it says; the services keep what matches the query and drop repeats by post id.

A rate limit (HTTP 429) carries ``Retry-After`` in seconds and, in the JSON error
(``{"errors": [...], "error_type": "rate_limit", "extras": {"wait_seconds": N}}``), the same wait. A
short wait is waited out once; a longer one ends the poll: what was read so far is kept, with the old
cursor (the next poll reads it again and the duplicates are dropped), so nothing is lost.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
from django.utils.functional import Promise
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from .base import FetchResult, FoundItem, SourceError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resonanz.accounts.models import Workspace

TIMEOUT_SECONDS = 10.0
#: Pages of 50 latest posts read in one poll (500 posts between two polls, 5 minutes apart by default).
MAX_PAGES = 10
#: Topics fetched on the first poll to read the search hits' whole posts (the rest keep their excerpt).
MAX_TOPICS = 10
#: Waits up to this long are waited out once within the poll; longer ones end it.
INLINE_WAIT_SECONDS = 2.0
DEFAULT_WAIT_SECONDS = 60


class RateLimited(SourceError):
    def __init__(self, wait_seconds: int) -> None:
        super().__init__(f"rate limited by the forum: try again in {wait_seconds} s")
        self.wait_seconds = wait_seconds


def _parse_target(target: str) -> tuple[str, int | None]:
    """The forum's base address and the category id, if the target is a category's address."""
    split = urlsplit(target.strip())
    if split.scheme not in {"http", "https"} or not split.netloc:
        raise SourceError(f"not a forum address: {target}")
    path = split.path.rstrip("/")
    category = None
    prefix, sep, rest = path.partition("/c/")
    if sep:
        last = rest.rsplit("/", 1)[-1]
        if not last.isdigit():
            raise SourceError(f"a category address ends in the category's number (…/c/<name>/<id>): {target}")
        category, path = int(last), prefix
    return f"{split.scheme}://{split.netloc}{path}", category


def _wait_seconds(response: httpx.Response) -> int:
    # Retry-After is what Discourse's rate limiter and its per-IP middleware both send (seconds).
    header = response.headers.get("Retry-After", "")
    if header.strip().isdigit():
        return int(header)
    try:
        extras = response.json().get("extras") or {}
        return int(extras.get("wait_seconds") or DEFAULT_WAIT_SECONDS)
    except (ValueError, AttributeError, TypeError):
        return DEFAULT_WAIT_SECONDS


def _error(response: httpx.Response) -> SourceError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if isinstance(body, dict) and body.get("errors"):
        kind = body.get("error_type") or "error"
        return SourceError(f"HTTP {response.status_code} {kind}: {' '.join(map(str, body['errors']))}")
    return SourceError(f"HTTP {response.status_code}: {response.text[:300]}")


def _search_words(term: str) -> str | None:
    """A query term as Discourse search words, or None if it cannot be searched.

    In Discourse's search ``#name`` is a category or tag filter and ``@name`` a user filter
    (https://docs.discourse.org, ``GET /search.json``, parameter ``q``), so a ``#hashtag`` or ``@handle``
    term is searched as its word (the services then match the term itself); several words are a phrase in
    double quotes. Shorter than 3 characters is refused by Discourse (``min_search_term_length``).
    """
    word = " ".join(term.lstrip("#@").replace('"', " ").split())
    if len(word) < 3:
        return None
    return f'"{word}"' if " " in word else word


class _Forum:
    def __init__(self, base: str, credentials: Mapping[str, str]) -> None:
        headers = {"Accept": "application/json"}
        if credentials.get("api_key"):
            headers["Api-Key"] = credentials["api_key"]
            headers["Api-Username"] = credentials.get("api_username") or "system"
        self.base = base
        self.client = httpx.Client(base_url=base, headers=headers, timeout=TIMEOUT_SECONDS)

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        for attempt in (1, 2):
            try:
                response = self.client.get(path, params=dict(params or {}))
            except httpx.HTTPError as exc:
                raise SourceError(f"{type(exc).__name__}: {exc}") from exc
            if response.status_code == 429:
                wait = _wait_seconds(response)
                if attempt == 1 and wait <= INLINE_WAIT_SECONDS:
                    time.sleep(wait)
                    continue
                raise RateLimited(wait)
            if not response.is_success:
                raise _error(response)
            try:
                data = response.json()
            except ValueError as exc:
                raise SourceError(f"not JSON from {path}: {response.text[:200]}") from exc
            if not isinstance(data, dict):
                raise SourceError(f"unexpected answer from {path}")
            return data
        raise AssertionError("unreachable")  # pragma: no cover


def _item(
    forum: _Forum, post: Mapping[str, Any], *, title: str, slug: str, text: str | None = None
) -> FoundItem:
    number = int(post.get("post_number") or 1)
    body = strip_tags(text if text is not None else str(post.get("cooked") or "")).strip()
    # The topic's title belongs to its opening post only: a reply in "Acme router broken" saying "same
    # here" is not itself a mention.
    content = f"{title}\n{body}" if number == 1 and title else body
    post_url = str(post.get("post_url") or f"/t/{slug or 'topic'}/{post.get('topic_id')}/{number}")
    return FoundItem(
        remote_id=str(post["id"]),
        text=content.strip(),
        published_at=datetime.fromisoformat(str(post["created_at"]).replace("Z", "+00:00")),
        url=forum.base + post_url,
        author=str(post.get("username") or ""),
    )


class DiscourseSource:
    kind: str = "discourse"
    label: Promise = _("Forum (Discourse)")
    target_help: Promise = _(
        "The forum's address, or a category's address (…/c/<name>/<number>); a private forum needs an API "
        "key and its user name."
    )

    def fetch(
        self,
        *,
        workspace: Workspace,
        target: str,
        terms: list[str],
        cursor: str,
        credentials: Mapping[str, str],
    ) -> FetchResult:
        base, category = _parse_target(target)
        after = int(cursor) if cursor.isdigit() else 0
        forum = _Forum(base, credentials)
        items: dict[str, FoundItem] = {}
        try:
            if not after:
                self._search(forum, terms, category, items)
            newest = self._latest(forum, after, category, items)
        except RateLimited:
            if not items:
                raise
            # Keep what was read; the old cursor makes the next poll read the rest (and these again).
            return FetchResult(items=list(items.values()), cursor=cursor)
        finally:
            forum.client.close()
        return FetchResult(items=list(items.values()), cursor=str(newest) if newest else cursor)

    def _latest(self, forum: _Forum, after: int, category: int | None, items: dict[str, FoundItem]) -> int:
        """Read ``/posts.json`` back to the cursor; the newest post id seen."""
        newest, before = after, None
        for _page in range(MAX_PAGES if after else 1):
            params: dict[str, int] = {"before": before} if before else {}
            posts = forum.get("/posts.json", params).get("latest_posts") or []
            if not posts:
                break
            for post in posts:
                post_id = int(post["id"])
                newest = max(newest, post_id)
                if post_id <= after or (category is not None and post.get("category_id") != category):
                    continue
                items.setdefault(
                    str(post_id),
                    _item(
                        forum,
                        post,
                        title=str(post.get("topic_title") or ""),
                        slug=str(post.get("topic_slug") or ""),
                    ),
                )
            oldest = min(int(post["id"]) for post in posts)
            if oldest <= after + 1:
                break
            before = oldest
        return newest

    def _search(
        self, forum: _Forum, terms: list[str], category: int | None, items: dict[str, FoundItem]
    ) -> None:
        """The first poll's look back: each term searched, newest first (one page of 50 hits a term)."""
        hits: list[tuple[Mapping[str, Any], Mapping[str, Any]]] = []
        for term in terms:
            words = _search_words(term)
            if words is None:
                continue
            data = forum.get("/search.json", {"q": f"{words} order:latest"})
            topics = {int(t["id"]): t for t in data.get("topics") or []}
            for post in data.get("posts") or []:
                topic = topics.get(int(post.get("topic_id") or 0), {})
                if category is not None and topic.get("category_id") != category:
                    continue
                hits.append((post, topic))
        full: dict[int, Mapping[str, Any]] = {}
        for topic_id in list(dict.fromkeys(int(post["topic_id"]) for post, _t in hits))[:MAX_TOPICS]:
            for post in (forum.get(f"/t/{topic_id}.json").get("post_stream") or {}).get("posts") or []:
                full[int(post["id"])] = post
        for post, topic in hits:
            whole = full.get(int(post["id"]))
            items.setdefault(
                str(post["id"]),
                _item(
                    forum,
                    whole or post,
                    title=str(topic.get("title") or ""),
                    slug=str(topic.get("slug") or ""),
                    text=None if whole else str(post.get("blurb") or ""),
                ),
            )


PLUGIN = DiscourseSource()
