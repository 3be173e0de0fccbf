"""A blog's RSS 2.0 and Atom feeds, and a receiver of webhook POSTs, on the emulator base (127.0.0.1).

The feeds follow RSS 2.0 (https://www.rssboard.org/rss-specification: ``item`` with ``guid``, ``link``,
``title``, ``description``, ``pubDate`` in RFC 822 dates) and Atom (RFC 4287: ``entry`` with ``id``,
``link``, ``title``, ``summary``, ``published``/``updated``, ``author/name``). Tests add entries with
:meth:`FeedServer.add` and read the receiver's log through ``request_log``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape

from .base import EmulatorServer, Request, Response, json_response


@dataclass
class FeedEntry:
    guid: str
    title: str
    summary: str
    published: datetime
    link: str
    author: str = ""


class FeedServer(EmulatorServer):
    """``/rss.xml`` (RSS 2.0) and ``/atom.xml`` (Atom) of the same entries; ``/broken.xml`` answers 500."""

    server_header = "feed-server"

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[FeedEntry] = []
        self.route("GET", r"/rss\.xml", self._rss)
        self.route("GET", r"/atom\.xml", self._atom)
        self.route("GET", r"/broken\.xml", lambda request, match: Response(500, b"oops", "text/plain"))

    def add(self, entry: FeedEntry) -> None:
        with self.lock:
            self.entries.append(entry)

    def _rss(self, request: Request, match: re.Match[str]) -> Response:
        items = "".join(
            f"<item><guid>{escape(e.guid)}</guid><title>{escape(e.title)}</title><link>{escape(e.link)}</link>"
            f"<description>{escape(e.summary)}</description><pubDate>{format_datetime(e.published)}</pubDate>"
            + (f"<author>{escape(e.author)}</author>" if e.author else "")
            + "</item>"
            for e in self.entries
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Blog</title>'
            f"<link>{self.base_url}/</link><description>A blog</description>{items}</channel></rss>"
        )
        return Response(200, body.encode(), "application/rss+xml; charset=utf-8")

    def _atom(self, request: Request, match: re.Match[str]) -> Response:
        entries = "".join(
            f"<entry><id>{escape(e.guid)}</id><title>{escape(e.title)}</title>"
            f'<link href="{escape(e.link)}"/><summary>{escape(e.summary)}</summary>'
            f"<published>{e.published.isoformat()}</published><updated>{e.published.isoformat()}</updated>"
            f"<author><name>{escape(e.author or 'anonymous')}</name></author></entry>"
            for e in self.entries
        )
        body = (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Blog</title><id>{self.base_url}/</id><updated>2026-01-01T00:00:00Z</updated>{entries}</feed>"
        )
        return Response(200, body.encode(), "application/atom+xml; charset=utf-8")


class WebhookReceiver(EmulatorServer):
    """Accepts POST /hook (answers 204) and ``/fail`` (answers 500); the tests read ``request_log``."""

    server_header = "webhook-receiver"

    def __init__(self) -> None:
        super().__init__()
        self.route("POST", r"/hook", lambda request, match: Response(204, b"", "text/plain"))
        self.route("POST", r"/fail", lambda request, match: json_response(500, {"error": "down"}))
