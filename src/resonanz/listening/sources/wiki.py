"""Watched wikis (MediaWiki, e.g. Wikipedia) through the Action API, JSON with ``formatversion=2``.

The target is the wiki's ``api.php`` address, optionally followed by ``|`` and an article's title:

* the address alone reads the wiki's recent changes (https://www.mediawiki.org/wiki/API:RecentChanges,
  ``list=recentchanges``, oldest first from the cursor's time with ``rcdir=newer``); each edit is offered
  as "title: edit summary", so a query finds the edits of articles about the brand or edits that name it;
* with a title it reads that article's edits (https://www.mediawiki.org/wiki/API:Revisions,
  ``prop=revisions`` with ``rvdir=newer`` from the revision after the cursor).

The cursor is the last revision id seen (with its time for recent changes). Dedup is by revision id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .base import FetchResult, FoundItem, SourceError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resonanz.accounts.models import Workspace

TIMEOUT_SECONDS = 10.0
LIMIT = 100


def _when(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _page_url(api_url: str, title: str, revid: int) -> str:
    # index.php sits beside api.php in every MediaWiki (https://www.mediawiki.org/wiki/Manual:Index.php).
    base = api_url.rsplit("/", 1)[0]
    return f"{base}/index.php?title={quote(title.replace(' ', '_'))}&oldid={revid}"


class WikiSource:
    kind: str = "wiki"
    label: Promise = _("Wiki (recent changes or one article's edits)")
    target_help: Promise = _("The wiki's api.php address, optionally followed by | and an article's title.")

    def fetch(
        self,
        *,
        workspace: Workspace,
        target: str,
        terms: list[str],
        cursor: str,
        credentials: Mapping[str, str],
    ) -> FetchResult:
        api_url, _sep, title = (part.strip() for part in target.partition("|"))
        last_revid, _sep, since = cursor.partition("@")
        after = int(last_revid) if last_revid.isdigit() else 0
        params: dict[str, Any] = {"action": "query", "format": "json", "formatversion": "2"}
        if title:
            params.update(
                {
                    "prop": "revisions",
                    "titles": title,
                    "rvprop": "ids|timestamp|user|comment",
                    "rvlimit": LIMIT,
                    "rvdir": "newer",
                }
            )
            if after:
                params["rvstartid"] = after + 1
        else:
            params.update(
                {
                    "list": "recentchanges",
                    "rcprop": "title|ids|user|comment|timestamp",
                    "rctype": "edit|new",
                    "rclimit": LIMIT,
                    "rcdir": "newer",
                }
            )
            if since:
                params["rcstart"] = since
        try:
            response = httpx.get(api_url, params=params, timeout=TIMEOUT_SECONDS)
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SourceError(f"{type(exc).__name__}: {exc}") from exc
        if "error" in data:
            raise SourceError(str(data["error"].get("info") or data["error"]))
        query = data.get("query") or {}
        rows: list[tuple[str, dict[str, Any]]] = []
        if title:
            for page in query.get("pages") or []:
                rows.extend((str(page.get("title") or title), rev) for rev in page.get("revisions") or [])
        else:
            rows = [(str(rc.get("title") or ""), rc) for rc in query.get("recentchanges") or []]
        items, newest, newest_at = [], after, since
        for page_title, row in rows:
            revid = int(row.get("revid") or 0)
            if revid <= after:
                continue  # rcstart is inclusive: the edit at the cursor's second comes again
            when = _when(str(row["timestamp"]))
            if revid > newest:
                newest, newest_at = revid, str(row["timestamp"])
            items.append(
                FoundItem(
                    remote_id=str(revid),
                    text=f"{page_title}: {row.get('comment') or ''}".strip(),
                    published_at=when,
                    url=_page_url(api_url, page_title, revid),
                    author=str(row.get("user") or ""),
                )
            )
        return FetchResult(items=items, cursor=f"{newest}@{newest_at}" if newest else cursor)


PLUGIN = WikiSource()
