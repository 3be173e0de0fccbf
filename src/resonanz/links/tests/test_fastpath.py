"""The redirect's fast path (links/fastpath.py) answers exactly as the Django path does, records each click
once, and serves no removed or changed link beyond the memo's TTL."""

from __future__ import annotations

import atexit
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from resonanz.links import fastpath, services
from resonanz.links.models import Click

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"
BOT = "Mozilla/5.0 (compatible; LinkPreviewBot/1.0)"


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    cache.clear()
    services.link_memo.clear()
    yield
    services.link_memo.clear()


@contextmanager
def _keep_test_connection() -> Iterator[None]:
    # As django.test.Client does: the request signals would close the test's connection (its transaction).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def _environ(path: str, *, method: str = "GET", ua: str = BROWSER, scheme: str = "http") -> dict[str, Any]:
    return {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_HOST": "testserver",
        "HTTP_USER_AGENT": ua,
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def _call(app: Any, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
    got: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        got["status"], got["headers"] = status, headers

    with _keep_test_connection():
        result = app(environ, start_response)
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
    return got["status"], got["headers"], body


class Counting:
    """Django's handler, counting what the fast path hands on."""

    def __init__(self) -> None:
        self.django = WSGIHandler()
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.calls += 1
        return self.django(environ, start_response)


def _both(path: str, **kwargs: Any) -> tuple[tuple[Any, ...], tuple[Any, ...], Counting]:
    inner = Counting()
    fast = _call(fastpath.ShortLinkApp(inner), _environ(path, **kwargs))
    services.link_memo.clear()
    cache.clear()
    django = _call(WSGIHandler(), _environ(path, **kwargs))
    return fast, django, inner


def test_hit_answers_like_django_and_counts_once_each(make_link, channel):
    link = make_link(channel=channel)
    fast, django, inner = _both(f"/l/{link.code}")
    assert inner.calls == 0  # answered by the fast path itself
    assert fast == django
    assert fast[0] == "302 Found"
    headers = dict(fast[1])
    assert headers["Location"] == link.destination
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer-when-downgrade"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert Click.objects.filter(link=link).count() == 2  # one per path


def test_head_and_bot_redirect_without_a_click(make_link):
    link = make_link()
    for kwargs in ({"method": "HEAD"}, {"ua": BOT}, {"ua": ""}):
        fast, django, inner = _both(f"/l/{link.code}", **kwargs)
        assert inner.calls == 0
        assert fast == django
        assert fast[0].startswith("302")
    assert not Click.objects.exists()


def test_https_answer_carries_hsts_like_django(make_link, settings):
    settings.SECURE_HSTS_SECONDS = 3600
    link = make_link()
    fast, django, inner = _both(f"/l/{link.code}", scheme="https")
    assert inner.calls == 0
    assert fast == django
    assert dict(fast[1])["Strict-Transport-Security"] == "max-age=3600"


def test_plain_http_with_ssl_redirect_goes_to_django(make_link, settings):
    settings.SECURE_SSL_REDIRECT = True
    link = make_link()
    fast, django, inner = _both(f"/l/{link.code}")
    assert inner.calls == 1
    assert fast == django
    assert fast[0].startswith("301")
    assert not Click.objects.exists()


@pytest.mark.parametrize(
    ("path", "method", "status"),
    [("/l/doesnotexist", "GET", "404"), ("/l/bad%20code", "GET", "404"), ("/l/", "GET", "404")],
)
def test_unknown_and_malformed_codes_go_to_django(make_link, path, method, status):
    make_link()
    fast, django, inner = _both(path, method=method)
    assert inner.calls == 1
    assert _without_cookies(fast) == _without_cookies(django)
    assert fast[0].startswith(status)
    assert not Click.objects.exists()


def _without_cookies(answer: tuple[Any, ...]) -> tuple[Any, ...]:
    # A full Django page carries a random CSRF token (cookie and form field): status and other headers.
    return (answer[0], [h for h in answer[1] if h[0] != "Set-Cookie"])


def test_post_goes_to_django(make_link):
    link = make_link()
    fast, django, inner = _both(f"/l/{link.code}", method="POST")
    assert inner.calls == 1
    assert fast[0].startswith("405")
    assert fast == django


def test_own_domain_target_carries_signed_rzl(workspace, owner, settings):
    settings.BASE_URL = "https://app.example"
    services.link_settings_update(workspace=workspace, actor=owner, base_url="https://go.brand.example")
    link = services.link_create(
        workspace=workspace, actor=owner, target_url="https://go.brand.example/b/shop/"
    )
    fast, django, inner = _both(f"/l/{link.code}")
    assert inner.calls == 0
    assert fast == django
    query = parse_qs(urlsplit(dict(fast[1])["Location"]).query)
    assert query["rzl"] == [services.attribution_sign(link_id=link.pk)]


def test_other_pages_pass_through_unchanged():
    fast, django, inner = _both("/accounts/login/")
    assert inner.calls == 1
    assert fast[0] == django[0]


def test_error_in_the_fast_path_answers_through_django(make_link, monkeypatch):
    link = make_link()

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("cache down")

    monkeypatch.setattr(services.link_memo, "get", broken)
    inner = Counting()
    status, _headers, _body = _call(fastpath.ShortLinkApp(inner), _environ(f"/l/{link.code}"))
    assert inner.calls == 1
    assert status.startswith("302")
    assert Click.objects.count() == 1  # the Django path's, not two


def test_failure_after_the_insert_answers_here_without_a_second_click(make_link):
    link = make_link()
    inner = Counting()
    app = fastpath.ShortLinkApp(inner)
    _call(app, _environ(f"/l/{link.code}"))  # warm the memo: the next request's only bracket is the insert's
    assert Click.objects.count() == 1

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("closing the connection failed")

    signals.request_finished.connect(broken)
    try:
        status, headers, _body = _call(app, _environ(f"/l/{link.code}"))
    finally:
        signals.request_finished.disconnect(broken)
    assert inner.calls == 0
    assert status.startswith("302")
    assert dict(headers)["Location"] == link.destination
    assert Click.objects.count() == 2  # one per request, none repeated by a Django retry


def test_buffered_click_recorded_once_and_written_at_exit(make_link, settings, monkeypatch):
    settings.RESONANZ_CLICK_BUFFER_SECONDS = 3600  # only the exit flush writes within this test
    registered: list[Any] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    buffer = services.ClickBuffer()
    monkeypatch.setattr(services, "click_buffer", buffer)
    link = make_link()
    app = fastpath.ShortLinkApp(Counting())
    for _ in range(3):
        assert _call(app, _environ(f"/l/{link.code}"))[0].startswith("302")
    assert buffer.pending() == 3
    assert not Click.objects.exists()
    assert registered == [buffer._flush_at_exit]
    registered[0]()  # what the interpreter runs at exit (gunicorn's and granian's graceful stop)
    assert Click.objects.filter(link=link).count() == 3
    assert buffer.pending() == 0
    buffer._flush_at_exit()  # nothing left: nothing repeated
    assert Click.objects.count() == 3


def test_failed_write_keeps_its_rows_and_drops_those_of_deleted_links(make_link, monkeypatch):
    keep, gone = make_link("https://a.example/"), make_link("https://b.example/")
    buffer = services.ClickBuffer()
    now = datetime.now(UTC)
    for link in (keep, gone):
        buffer.rows.append(Click(link_id=link.pk, at=now, day=now.date(), visitor=""))
    real = Click.objects.bulk_create
    monkeypatch.setattr(
        Click.objects, "bulk_create", lambda *a, **k: (_ for _ in ()).throw(OSError("db down"))
    )
    with pytest.raises(OSError):
        buffer.flush()
    assert buffer.pending() == 2
    monkeypatch.setattr(Click.objects, "bulk_create", real)
    gone_pk = gone.pk
    gone.delete()
    assert buffer.flush() == 1
    assert list(Click.objects.values_list("link_id", flat=True)) == [keep.pk]
    assert not Click.objects.filter(link_id=gone_pk).exists()


def test_deleted_link_not_served_beyond_the_memo_ttl(make_link, settings):
    settings.RESONANZ_LINK_MEMO_SECONDS = 5
    link = make_link()
    env = _environ(f"/l/{link.code}")
    with _keep_test_connection():
        assert fastpath.target_for(code=link.code, now=100.0, environ=env) is not None
        # Another process's memo still holds it: stands in for a process the deletion does not reach.
        other_entry = services.link_memo.entries[link.code]
        with django_capture_on_commit():
            link.delete()
        assert services.link_resolve(code=link.code) is None  # the cache forgot it
        assert fastpath.target_for(code=link.code, now=100.0, environ=env) is None  # and this memo
        services.link_memo.entries[link.code] = other_entry
        assert fastpath.target_for(code=link.code, now=104.9, environ=env) is not None  # within the TTL
        assert fastpath.target_for(code=link.code, now=105.1, environ=env) is None  # not beyond


def test_domain_change_resolves_again_with_the_new_rzl(workspace, owner, settings):
    settings.BASE_URL = "https://app.example"
    link = services.link_create(workspace=workspace, actor=owner, target_url="https://go.brand.example/b/x/")
    before = services.link_resolve(code=link.code)
    assert before is not None
    assert "rzl=" not in before.destination  # not our domain yet
    with django_capture_on_commit():
        services.link_settings_update(workspace=workspace, actor=owner, base_url="https://go.brand.example")
    after = services.link_resolve(code=link.code)
    assert after is not None
    assert "rzl=" in after.destination


@contextmanager
def django_capture_on_commit() -> Iterator[None]:
    """Run the on_commit callbacks of the block (the test's transaction never commits)."""
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        yield
