"""A MediaWiki's Action API for listening: recent changes and an article's revisions, on the emulator base.

Written from the API documentation (https://www.mediawiki.org/wiki/API:RecentChanges and
https://www.mediawiki.org/wiki/API:Revisions), JSON with ``formatversion=2``:

* ``action=query&list=recentchanges`` with ``rcprop`` (title, ids, user, comment, timestamp), ``rctype``,
  ``rcdir`` (``older`` by default, newest first; ``newer`` oldest first), ``rcstart``, ``rclimit``
  (default 10, max 500) -> ``{"batchcomplete": true, "query": {"recentchanges": [...]}}``;
* ``action=query&prop=revisions&titles=T`` with ``rvprop``, ``rvdir``, ``rvstartid``, ``rvlimit`` ->
  ``{"query": {"pages": [{"pageid", "title", "revisions": [...]}]}}``; a missing page has ``missing: true``.

Tests make edits with :meth:`MediaWikiEmulator.edit`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from .base import ApiError, EmulatorServer, Params, Request, Response, json_response


@dataclass
class _Revision:
    revid: int
    parentid: int
    pageid: int
    title: str
    user: str
    comment: str
    timestamp: datetime
    rcid: int
    new: bool


def _ts(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MediaWikiEmulator(EmulatorServer):
    server_header = "mediawiki-emulator"

    def __init__(self) -> None:
        super().__init__()
        self.revisions: list[_Revision] = []
        self._pages: dict[str, int] = {}
        self.route("GET", r"/w/api\.php", self._api)

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/w/api.php"

    def edit(self, title: str, *, user: str, comment: str, at: datetime) -> int:
        """Record an edit (the first edit of a title creates the page); return its revision id."""
        with self.lock:
            new = title not in self._pages
            pageid = self._pages.setdefault(title, len(self._pages) + 1)
            parent = max((r.revid for r in self.revisions if r.pageid == pageid), default=0)
            revid = len(self.revisions) + 100
            self.revisions.append(
                _Revision(revid, parent, pageid, title, user, comment, at, len(self.revisions) + 1, new)
            )
            return revid

    def _api(self, request: Request, _match: re.Match[str]) -> Response:
        params = request.params()
        if params.get("action") != "query" or params.get("format") != "json":
            raise ApiError(400, "only action=query&format=json is emulated")
        if params.get("list") == "recentchanges":
            return self._recentchanges(params.get("rcdir") or "older", params.get("rcstart"), params)
        if params.get("prop") == "revisions":
            return self._page_revisions(params)
        raise ApiError(400, "unsupported query")

    def _recentchanges(self, direction: str, start: str | None, params: Params) -> Response:
        limit = min(int(params.get("rclimit") or 10), 500)
        types = set((params.get("rctype") or "edit|new|log|categorize").split("|"))
        items = sorted(self.revisions, key=lambda r: r.rcid, reverse=direction == "older")
        if start:
            when = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            items = [
                r for r in items if (r.timestamp >= when if direction == "newer" else r.timestamp <= when)
            ]
        items = [r for r in items if ("new" if r.new else "edit") in types][:limit]
        changes = [
            {
                "type": "new" if r.new else "edit",
                "ns": 0,
                "title": r.title,
                "pageid": r.pageid,
                "revid": r.revid,
                "old_revid": r.parentid,
                "rcid": r.rcid,
                "user": r.user,
                "comment": r.comment,
                "timestamp": _ts(r.timestamp),
            }
            for r in items
        ]
        return json_response(200, {"batchcomplete": True, "query": {"recentchanges": changes}})

    def _page_revisions(self, params: Params) -> Response:
        title = params.get("titles") or ""
        if title not in self._pages:
            return json_response(
                200, {"batchcomplete": True, "query": {"pages": [{"title": title, "missing": True}]}}
            )
        limit = min(int(params.get("rvlimit") or 1), 500)
        direction = params.get("rvdir") or "older"
        items = sorted(
            (r for r in self.revisions if r.title == title),
            key=lambda r: r.revid,
            reverse=direction == "older",
        )
        start = params.get("rvstartid")
        if start:
            items = [
                r for r in items if (r.revid >= int(start) if direction == "newer" else r.revid <= int(start))
            ]
        revisions = [
            {
                "revid": r.revid,
                "parentid": r.parentid,
                "user": r.user,
                "timestamp": _ts(r.timestamp),
                "comment": r.comment,
            }
            for r in items[:limit]
        ]
        page = {"pageid": self._pages[title], "ns": 0, "title": title, "revisions": revisions}
        return json_response(200, {"batchcomplete": True, "query": {"pages": [page]}})
