"""The ``discourse`` listening source against the Discourse emulator (``testsupport/emulators/discourse.py``):
the first poll's look back through search, the latest posts from the cursor on (paging with ``before``),
a category, a private forum's API key, and the rate limit (429 with ``Retry-After``/``wait_seconds``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from resonanz.accounts.models import Workspace
from resonanz.core import crypto
from resonanz.listening.models import Mention, SavedQuery, Source
from resonanz.listening.services import query_create, source_add, source_poll
from resonanz.listening.sources import REGISTRY
from testsupport.emulators.discourse import DiscourseEmulator

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def forum() -> Iterator[DiscourseEmulator]:
    with DiscourseEmulator() as server:
        yield server


def _history(forum: DiscourseEmulator) -> tuple[int, int, int]:
    """An old topic about Acme with a reply naming it, a reply that does not, and an unrelated topic."""
    topic, opening = forum.create_topic(
        "Acme router drops Wi-Fi", "Since the update my router loses the connection.", username="berta", at=T0
    )
    named = forum.reply(
        topic, "Same here, Acme support did not answer.", username="carl", at=T0 + timedelta(hours=1)
    )
    forum.reply(topic, "Same here.", username="dora", at=T0 + timedelta(hours=2))
    forum.create_topic("Garden hoses", "Which one lasts?", username="emil", at=T0 + timedelta(hours=3))
    return topic, opening, named


def _source(workspace: Workspace, query: SavedQuery, target: str, **credentials: str) -> Source:
    return source_add(
        workspace=workspace, query_id=query.pk, kind="discourse", target=target, credentials=credentials
    )


def test_registry_holds_the_discourse_plugin() -> None:
    assert REGISTRY["discourse"].kind == "discourse"


def test_first_poll_looks_back_through_search_then_follows_the_latest_posts(
    workspace: Workspace, query: SavedQuery, forum: DiscourseEmulator
) -> None:
    topic, opening, named = _history(forum)
    source = _source(workspace, query, forum.base_url)

    assert source_poll(workspace=workspace, source_id=source.pk) == 2
    mentions = {m.remote_id: m for m in Mention.objects.filter(source=source)}
    assert set(mentions) == {str(opening), str(named)}
    # The opening post carries the topic's title; the whole post comes from /t/<id>.json, not the blurb.
    assert (
        mentions[str(opening)].text
        == "Acme router drops Wi-Fi\nSince the update my router loses the connection."
    )
    assert mentions[str(named)].text == "Same here, Acme support did not answer."
    assert mentions[str(named)].author == "carl"
    assert mentions[str(named)].url == f"{forum.base_url}/t/acme-router-drops-wi-fi/{topic}/2"
    assert mentions[str(named)].published_at == T0 + timedelta(hours=1)
    searched = forum.requests_to("/search.json")
    # A #hashtag term is searched as its word: "#name" in Discourse's search is a category filter.
    assert [r.query["q"] for r in searched] == [["Acme order:latest"], ["acmefail order:latest"]]
    assert forum.requests_to(f"/t/{topic}.json")
    source.refresh_from_db()
    assert source.cursor == str(max(forum.posts))
    assert not source.last_error

    # From now on only /posts.json, from the cursor: nothing new, then one new post.
    forum.clear_request_log()
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    new = forum.reply(
        topic, "Acme sent a replacement, works now.", username="berta", at=T0 + timedelta(days=1)
    )
    forum.reply(topic, "Good to hear.", username="carl", at=T0 + timedelta(days=1, hours=1))
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    assert Mention.objects.filter(source=source, remote_id=str(new)).exists()
    assert {r.path for r in forum.request_log} == {"/posts.json"}


def test_a_phrase_and_a_hashtag_are_searched_as_words(workspace: Workspace, forum: DiscourseEmulator) -> None:
    query = query_create(workspace=workspace, name="Phrasen", terms="Acme Cloud\n#acmefail\nAB")
    _topic, phrase = forum.create_topic("Outage", "The Acme Cloud is down.", username="b", at=T0)
    forum.create_topic("Clouds", "Cloud by Acme, and Acme-Cloud.", username="c", at=T0)  # not the phrase
    _topic, tagged = forum.create_topic("Again", "Down again #acmefail", username="d", at=T0)
    source = _source(workspace, query, forum.base_url)

    assert source_poll(workspace=workspace, source_id=source.pk) == 2
    assert set(Mention.objects.filter(source=source).values_list("remote_id", flat=True)) == {
        str(phrase),
        str(tagged),
    }
    assert [r.query["q"] for r in forum.requests_to("/search.json")] == [
        ['"Acme Cloud" order:latest'],
        ["acmefail order:latest"],
    ]  # "AB" is too short for Discourse's search: not asked


def test_later_polls_page_back_to_the_cursor(
    workspace: Workspace, query: SavedQuery, forum: DiscourseEmulator
) -> None:
    topic, _opening = forum.create_topic("Router talk", "Hello.", username="berta", at=T0)
    source = _source(workspace, query, forum.base_url)
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    wanted = []
    for n in range(120):  # more than two pages of 50 between two polls
        text = f"Acme note {n}" if n % 40 == 0 else f"Other note {n}"
        post = forum.reply(topic, text, username="carl", at=T0 + timedelta(minutes=n + 1))
        if n % 40 == 0:
            wanted.append(str(post))
    forum.clear_request_log()

    assert source_poll(workspace=workspace, source_id=source.pk) == 3
    assert sorted(Mention.objects.filter(source=source).values_list("remote_id", flat=True)) == sorted(wanted)
    pages = forum.requests_to("/posts.json")
    assert len(pages) == 3
    assert "before" not in pages[0].query
    assert pages[1].query["before"] == [str(max(forum.posts) - 49)]


def test_a_category_keeps_only_its_posts(
    workspace: Workspace, query: SavedQuery, forum: DiscourseEmulator
) -> None:
    support = forum.add_category("support", "Support")
    _topic, inside = forum.create_topic(
        "Acme help", "Acme does not boot.", username="b", at=T0, category_id=support
    )
    forum.create_topic("Acme chatter", "Acme is fine.", username="c", at=T0)  # Uncategorized
    source = _source(workspace, query, f"{forum.base_url}/c/support/{support}")

    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert Mention.objects.get(source=source).remote_id == str(inside)
    forum.create_topic("Acme elsewhere", "Acme again.", username="d", at=T0 + timedelta(hours=1))
    later = forum.reply(_topic, "Acme boots now.", username="b", at=T0 + timedelta(hours=2))
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert Mention.objects.filter(source=source, remote_id=str(later)).exists()
    # The forum's own requests went to its base address, not under /c/.
    assert all(not r.path.startswith("/c/") for r in forum.request_log)


def test_a_short_rate_limit_is_waited_out(
    workspace: Workspace, query: SavedQuery, forum: DiscourseEmulator
) -> None:
    _history(forum)
    source = _source(workspace, query, forum.base_url)
    forum.faults.rate_limit("/search.json", retry_after=1)

    assert source_poll(workspace=workspace, source_id=source.pk) == 2
    limited = [r for r in forum.request_log if r.status == 429]
    assert len(limited) == 1
    assert limited[0].response_json()["error_type"] == "rate_limit"
    source.refresh_from_db()
    assert not source.last_error


def test_a_long_rate_limit_ends_the_poll_and_loses_nothing(
    workspace: Workspace, query: SavedQuery, forum: DiscourseEmulator
) -> None:
    _history(forum)
    source = _source(workspace, query, forum.base_url)
    forum.faults.rate_limit("/search.json", retry_after=30)

    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    source.refresh_from_db()
    assert "rate limited" in source.last_error
    assert "30 s" in source.last_error
    assert source.cursor == ""
    answer = next(r for r in forum.request_log if r.status == 429)
    assert answer.response_json()["extras"]["wait_seconds"] == 30
    assert source_poll(workspace=workspace, source_id=source.pk) == 2
    source.refresh_from_db()
    assert not source.last_error


def test_a_rate_limit_while_paging_keeps_what_was_read_and_the_old_cursor(
    workspace: Workspace, query: SavedQuery, forum: DiscourseEmulator
) -> None:
    topic, _opening = forum.create_topic("Router talk", "Hello.", username="berta", at=T0)
    source = _source(workspace, query, forum.base_url)
    source_poll(workspace=workspace, source_id=source.pk)
    source.refresh_from_db()
    cursor = source.cursor
    old = forum.reply(topic, "Acme first", username="a", at=T0 + timedelta(minutes=1))
    for n in range(60):
        forum.reply(topic, f"filler {n}", username="b", at=T0 + timedelta(minutes=2 + n))
    new = forum.reply(topic, "Acme newest", username="c", at=T0 + timedelta(hours=2))
    # The per-IP limiter's answer: plain text with Retry-After (lib/middleware/request_tracker.rb).
    forum.limit_requests(allow=1, wait_seconds=30, plain_text=True)

    assert source_poll(workspace=workspace, source_id=source.pk) == 1  # page 1 read, page 2 refused
    source.refresh_from_db()
    assert source.cursor == cursor
    assert Mention.objects.get(source=source).remote_id == str(new)

    forum.limit_requests(allow=None)
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert sorted(Mention.objects.filter(source=source).values_list("remote_id", flat=True)) == sorted(
        [str(old), str(new)]
    )
    source.refresh_from_db()
    assert source.cursor == str(max(forum.posts))


def test_a_private_forum_needs_its_api_key(
    workspace: Workspace, query: SavedQuery, owner_client: Client
) -> None:
    with DiscourseEmulator(login_required=True) as forum:
        forum.api_keys["k-123"] = "listener"
        _history(forum)
        anonymous = _source(workspace, query, forum.base_url)
        source_poll(workspace=workspace, source_id=anonymous.pk)
        anonymous.refresh_from_db()
        assert anonymous.last_error == "HTTP 403 not_logged_in: You need to be logged in to do that."

        wrong = _source(workspace, query, forum.base_url, api_key="k-999", api_username="listener")
        source_poll(workspace=workspace, source_id=wrong.pk)
        wrong.refresh_from_db()
        assert "invalid_access" in wrong.last_error
        assert "API username or key is invalid" in wrong.last_error

        # Added through the page, as a user would: the key is stored encrypted and sent as headers.
        response = owner_client.post(
            reverse("listening:source_add", args=[workspace.pk, query.pk]),
            {"kind": "discourse", "target": forum.base_url, "api_key": "k-123", "api_username": "listener"},
        )
        assert response.status_code == 302
        source = Source.objects.filter(query=query).order_by("pk").last()
        assert source is not None
        assert source.credentials == {"api_key": "k-123", "api_username": "listener"}
        with connection.cursor() as cursor:
            cursor.execute("SELECT credentials FROM listening_source WHERE id = %s", [source.pk])
            assert "k-123" not in cursor.fetchone()[0]
        forum.clear_request_log()
        assert source_poll(workspace=workspace, source_id=source.pk) == 2
        assert {(r.headers["api-key"], r.headers["api-username"]) for r in forum.request_log} == {
            ("k-123", "listener")
        }


def test_a_forum_error_is_kept_in_its_words(
    workspace: Workspace, query: SavedQuery, forum: DiscourseEmulator
) -> None:
    source = _source(workspace, query, forum.base_url)
    forum.faults.fail("/search.json", 503)
    source_poll(workspace=workspace, source_id=source.pk)
    source.refresh_from_db()
    assert source.last_error == "HTTP 503 unknown: Service Unavailable"
    not_a_forum = _source(workspace, query, "forum.example/c/support")
    source_poll(workspace=workspace, source_id=not_a_forum.pk)
    not_a_forum.refresh_from_db()
    assert "not a forum address" in not_a_forum.last_error


def test_a_source_api_key_survives_key_rotation(
    workspace: Workspace, query: SavedQuery, settings: Any
) -> None:
    source = _source(workspace, query, "https://forum.example", api_key="k-123", api_username="listener")
    old_key = settings.ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.ENCRYPTION_KEYS = [new_key, old_key]
    crypto.reset_key_cache()
    try:
        call_command("rotate_keys", verbosity=0)
        settings.ENCRYPTION_KEYS = [new_key]  # the old key removed: the value must still decrypt
        crypto.reset_key_cache()
        assert Source.objects.get(pk=source.pk).credentials == {
            "api_key": "k-123",
            "api_username": "listener",
        }
    finally:
        settings.ENCRYPTION_KEYS = [old_key]
        crypto.reset_key_cache()
