"""RSS and Atom feeds of blogs and news sites, read with feedparser (https://feedparser.readthedocs.io).

The feed is fetched with httpx (a timeout, no redirects to other schemes) and parsed from the bytes:
feedparser's own fetching has no timeout. Every entry from the cursor's second on (the newest ``published``
or ``updated`` seen) is offered; the services keep those that match the query and drop duplicates by id.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import feedparser
import httpx
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _

from .base import FetchResult, FoundItem, SourceError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resonanz.accounts.models import Workspace

TIMEOUT_SECONDS = 10.0


def _when(entry: Any) -> datetime | None:
    # feedparser normalises both RSS pubDate and Atom published/updated to a UTC struct_time
    # (https://feedparser.readthedocs.io/en/latest/date-parsing.html).
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)


class FeedSource:
    kind: str = "feed"
    label: Promise = _("RSS or Atom feed")
    target_help: Promise = _("The feed's address (https://…/feed/).")

    def fetch(
        self,
        *,
        workspace: Workspace,
        target: str,
        terms: list[str],
        cursor: str,
        credentials: Mapping[str, str],
    ) -> FetchResult:
        try:
            response = httpx.get(target, timeout=TIMEOUT_SECONDS, follow_redirects=True)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SourceError(f"{type(exc).__name__}: {exc}") from exc
        parsed = feedparser.parse(response.content)
        if parsed.get("bozo") and not parsed.entries:
            raise SourceError(f"not a feed: {parsed.get('bozo_exception')}")
        since = datetime.fromisoformat(cursor) if cursor else None
        newest = since
        items = []
        for entry in parsed.entries:
            when = _when(entry) or timezone.now()
            # Inclusive: feed times have whole seconds (RFC 822 / RFC 3339, as blog engines write them), so a
            # post published in the second of the cursor but after the last poll must come again; the
            # services drop what was seen by id.
            if since is not None and when < since:
                continue
            newest = when if newest is None or when > newest else newest
            title = strip_tags(entry.get("title", ""))
            summary = strip_tags(entry.get("summary", ""))
            items.append(
                FoundItem(
                    remote_id=str(entry.get("id") or entry.get("link") or title),
                    text=f"{title}\n{summary}".strip(),
                    published_at=when,
                    url=str(entry.get("link", "")),
                    author=str(entry.get("author", "")),
                )
            )
        return FetchResult(items=items, cursor=newest.isoformat() if newest else cursor)


PLUGIN = FeedSource()
