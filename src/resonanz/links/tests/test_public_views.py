from __future__ import annotations

from datetime import UTC

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from resonanz.links.models import Click

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def _client(ua: str = BROWSER) -> Client:
    return Client(HTTP_USER_AGENT=ua, REMOTE_ADDR="203.0.113.7")


def test_redirect_with_utm_and_click(make_link, channel):
    link = make_link(channel=channel)
    response = _client().get(f"/l/{link.code}")
    assert response.status_code == 302
    assert response["Location"] == link.destination
    assert "utm_source=" in response["Location"]
    assert "ref=1" in response["Location"]
    assert response["Cache-Control"] == "no-store"
    click = Click.objects.get()
    assert click.link_id == link.pk
    assert click.day == timezone.now().astimezone(UTC).date()
    assert click.visitor


def test_redirect_sets_no_cookie_and_needs_no_session(make_link):
    link = make_link()
    response = _client().get(f"/l/{link.code}")
    assert not response.cookies


def test_cached_redirect_costs_one_insert(make_link):
    link = make_link()
    _client().get(f"/l/{link.code}")  # warms the code cache and the day's salt
    with CaptureQueriesContext(connection) as queries:
        response = _client().get(f"/l/{link.code}")
    assert response.status_code == 302
    sql = [q["sql"] for q in queries.captured_queries]
    assert len([s for s in sql if s.startswith("INSERT")]) == 1
    assert not [s for s in sql if s.startswith("SELECT")], sql


def test_head_not_counted(make_link):
    link = make_link()
    response = _client().head(f"/l/{link.code}")
    assert response.status_code == 302
    assert not Click.objects.exists()


def test_bot_redirected_but_not_counted(make_link):
    link = make_link()
    response = _client("Mozilla/5.0 (compatible; LinkPreviewBot/1.0)").get(f"/l/{link.code}")
    assert response.status_code == 302
    assert not Click.objects.exists()


def test_unknown_code_404(make_link):
    make_link()
    assert _client().get("/l/doesnotexist").status_code == 404
    assert not Click.objects.exists()


def test_post_not_allowed(make_link):
    link = make_link()
    assert _client().post(f"/l/{link.code}").status_code == 405


def test_unique_visitors_per_day(make_link):
    link = make_link()
    _client().get(f"/l/{link.code}")
    _client().get(f"/l/{link.code}")
    Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="198.51.100.3").get(f"/l/{link.code}")
    assert Click.objects.count() == 3
    assert Click.objects.values("visitor").distinct().count() == 2


def test_code_of_another_workspace_redirects_only_its_own_target(make_link, other_workspace, login):
    from resonanz.links.services import link_create

    mine = make_link("https://mine.example/")
    theirs = link_create(
        workspace=other_workspace,
        actor=other_workspace.memberships.get().user,
        target_url="https://theirs.example/",
    )
    assert _client().get(f"/l/{theirs.code}")["Location"].startswith("https://theirs.example/")
    assert _client().get(f"/l/{mine.code}")["Location"].startswith("https://mine.example/")
    assert Click.objects.filter(link=theirs).count() == 1
