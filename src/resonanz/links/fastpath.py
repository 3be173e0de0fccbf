"""The short-link redirect answered from the WSGI environ, in front of Django's handler (issue 11: ≥ 3,000
redirects/s on 2 cores).

Why it exists (measured, docs/architecture.md "The short-link redirect"): a cached redirect through
Django's ``WSGIHandler`` and the two middleware layers cost 88 to 106 µs of CPU in process (request and
response objects, four signal sends, header conversion); this callable gives the same answer in 16 to 20 µs.
The HTTP server's own share is the larger rest (gunicorn ``gthread`` ≈ 0.3 ms, Granian ≈ 0.05 to 0.1 ms).

It answers only the plain case — ``GET`` or ``HEAD`` of ``/l/<code>`` with a well-formed code that
resolves, and no HTTPS redirect due — and hands everything else to Django unchanged (other paths, other
methods, unknown or malformed codes, a plain-http request that ``SecurityMiddleware`` would redirect, and
any error). Its answer is built by the view's own function (``public_views.redirect_response``) passed
through ``SecurityMiddleware.process_response`` once per scheme at start-up, so status, ``Location`` and
headers equal the Django path's (``tests/test_fastpath.py`` compares them).

Code → target comes from a per-process memo (``services.link_memo``: at most 10,000 codes, each for
``RESONANZ_LINK_MEMO_SECONDS``) in front of ``services.link_resolve`` (Django's cache, one indexed lookup on
a miss). A link deleted or changed here is forgotten at once in this process and in the cache
(``services.link_forget_cache``); other processes serve it at most ``RESONANZ_LINK_MEMO_SECONDS`` longer
with a shared (Redis) cache — with the per-process cache, up to ``services.CACHE_SECONDS`` more.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from django.conf import settings
from django.core import signals
from django.http import HttpRequest, HttpResponse
from django.middleware.security import SecurityMiddleware

from . import services
from .public_views import redirect_response

logger = logging.getLogger(__name__)

PREFIX = "/l/"
# The codes ``services.link_create`` makes (URL-safe base64); anything else goes to Django (404 there).
_CODE = re.compile(r"[A-Za-z0-9_-]{1,16}")

type StartResponse = Callable[..., Any]
type WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@contextmanager
def as_django_request(environ: dict[str, Any]) -> Iterator[None]:
    """Database work bracketed like a Django request: ``request_started`` and ``request_finished`` (whose
    receivers replace a connection past CONN_MAX_AGE or broken, as ``WSGIHandler`` has them do)."""
    signals.request_started.send(sender=ShortLinkApp, environ=environ)
    try:
        yield
    finally:
        signals.request_finished.send(sender=ShortLinkApp)


def target_for(*, code: str, now: float, environ: dict[str, Any]) -> services.Target | None:
    target = services.link_memo.get(code=code, now=now)
    if target is not None:
        return target
    with as_django_request(environ):  # the cache, else one indexed lookup
        target = services.link_resolve(code=code)
    if target is not None:
        services.link_memo.put(code=code, target=target, now=now)
    return target


class _FakeRequest(HttpRequest):
    def __init__(self, *, secure: bool) -> None:
        super().__init__()
        self._secure = secure

    def is_secure(self) -> bool:
        return self._secure


def _header_template(*, secure: bool) -> list[tuple[str, str]]:
    """The redirect's headers as the Django path sends them, with ``Location`` empty (filled per request)."""
    middleware = SecurityMiddleware(lambda request: HttpResponse())
    response = middleware.process_response(_FakeRequest(secure=secure), redirect_response(destination=""))
    if response.cookies:  # pragma: no cover - the redirect sets none; a change here must not pass silently
        raise RuntimeError("the short-link redirect would set cookies: the fast path cannot copy them")
    return list(response.items())


class ShortLinkApp:
    """WSGI application: the redirect for plain requests, ``application`` (Django) for everything else."""

    def __init__(self, application: WSGIApp) -> None:
        self.application = application
        self.ssl_redirect = bool(settings.SECURE_SSL_REDIRECT)
        proxy_header = settings.SECURE_PROXY_SSL_HEADER
        self.proxy_header: tuple[str, str] | None = (
            (proxy_header[0], proxy_header[1]) if proxy_header else None
        )
        self.templates = {secure: _header_template(secure=secure) for secure in (False, True)}
        prototype = redirect_response(destination="")
        self.status = f"{prototype.status_code} {prototype.reason_phrase}"  # as WSGIHandler writes it

    def is_secure(self, environ: dict[str, Any]) -> bool:
        """As ``HttpRequest.scheme`` decides it (Django 6.0, django/http/request.py)."""
        if self.proxy_header is not None:
            value = environ.get(self.proxy_header[0])
            if value is not None:
                return bool(value.split(",", 1)[0].strip() == self.proxy_header[1])
        return bool(environ.get("wsgi.url_scheme") == "https")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return self.application(environ, start_response)
        method = environ.get("REQUEST_METHOD")
        code = path[len(PREFIX) :]
        if method not in {"GET", "HEAD"} or not _CODE.fullmatch(code):
            return self.application(environ, start_response)
        secure = self.is_secure(environ)
        if self.ssl_redirect and not secure:
            return self.application(environ, start_response)  # SecurityMiddleware answers with https
        recorded = False
        target: services.Target | None = None
        try:
            target = target_for(code=code, now=time.monotonic(), environ=environ)
            if target is None:
                return self.application(environ, start_response)  # the 404 (and its negative caching)
            if method == "GET":
                # Buffered: a row in memory, no database work here; else one insert now.
                bracket: AbstractContextManager[None] = nullcontext()
                if services.click_buffer_seconds() <= 0:
                    bracket = as_django_request(environ)
                with bracket:
                    services.click_record(
                        link_id=target.link_id,
                        ip=environ.get("REMOTE_ADDR", ""),
                        user_agent=environ.get("HTTP_USER_AGENT", ""),
                    )
                    recorded = True
        except Exception:
            if not recorded or target is None:
                # Django answers instead (and, if the failure persists, with its error page and logging).
                # Nothing was recorded, so the Django path's click is not a repeat.
                logger.exception("short-link fast path failed; answering through Django")
                return self.application(environ, start_response)
            # The click is in (the failure came after, closing the request): answer here, not twice.
            logger.exception("short-link fast path: failure after the click was recorded")
        headers = [
            (name, target.destination) if name == "Location" else (name, value)
            for name, value in self.templates[secure]
        ]
        start_response(self.status, headers)
        return [b""]
