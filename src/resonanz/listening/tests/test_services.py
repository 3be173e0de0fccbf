"""Queries, matching, polling a feed from a local server (dedup, exclusions, cursor), judging mentions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from django.core.exceptions import ValidationError

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.listening.errors import ListeningNotFound
from resonanz.listening.models import Mention, SavedQuery
from resonanz.listening.services import (
    mention_matches,
    mentions_analyse,
    query_create,
    query_update,
    source_add,
    source_poll,
)
from resonanz.listening.sources import REGISTRY
from testsupport.emulators.feeds import FeedEntry, FeedServer
from testsupport.emulators.mastodon import MastodonEmulator

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_terms_match_whole_words_and_exclusions_win() -> None:
    terms, exclusions = ["Acme", "#acmefail"], ["Acme Hotel"]
    assert mention_matches(text="Mein ACME-Router ist kaputt", terms=terms, exclusions=exclusions)
    assert mention_matches(text="again #acmefail", terms=terms, exclusions=exclusions)
    assert not mention_matches(text="Acmeville is a town", terms=terms, exclusions=exclusions)
    assert not mention_matches(text="Schönes Acme Hotel am See", terms=terms, exclusions=exclusions)


def test_query_needs_a_term(workspace: Workspace) -> None:
    with pytest.raises(ValidationError):
        query_create(workspace=workspace, name="leer", terms=" \n ")


def test_query_of_another_workspace_is_not_found(query: SavedQuery, other_workspace: Workspace) -> None:
    with pytest.raises(ListeningNotFound):
        query_update(workspace=other_workspace, query_id=query.pk, name="x")
    with pytest.raises(ListeningNotFound):
        source_add(workspace=other_workspace, query_id=query.pk, kind="feed", target="http://127.0.0.1/")


def test_feed_poll_error_is_kept_on_the_source(
    workspace: Workspace, query: SavedQuery, feed_server: FeedServer
) -> None:
    source = source_add(
        workspace=workspace, query_id=query.pk, kind="feed", target=feed_server.base_url + "/broken.xml"
    )
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    source.refresh_from_db()
    assert "500" in source.last_error
    assert source.last_polled_at is not None


def test_new_mentions_are_judged_after_commit(
    workspace: Workspace,
    query: SavedQuery,
    feed_server: FeedServer,
    django_capture_on_commit_callbacks: object,
) -> None:
    feed_server.add(
        FeedEntry("p", "Acme", "Der Acme Kundenservice ist eine Katastrophe, nie wieder!", T0, "http://b/p")
    )
    source = source_add(
        workspace=workspace, query_id=query.pk, kind="feed", target=feed_server.base_url + "/rss.xml"
    )
    with django_capture_on_commit_callbacks() as callbacks:  # type: ignore[operator]
        source_poll(workspace=workspace, source_id=source.pk)
    assert len(callbacks) == 1  # the judging task is enqueued after commit, not run inline
    mention = Mention.objects.get(source=source)
    assert mention.sentiment is None
    assert mentions_analyse(workspace=workspace, mention_ids=[mention.pk]) == 1
    mention.refresh_from_db()
    assert mention.language == "de"
    assert mention.sentiment == "negative"
    # Judged once: a second run finds nothing pending.
    assert mentions_analyse(workspace=workspace, mention_ids=[mention.pk]) == 0


def test_registry_holds_the_feed_plugin() -> None:
    assert REGISTRY["feed"].kind == "feed"


def test_network_source_through_the_connector(
    workspace: Workspace, query: SavedQuery, masto: MastodonEmulator, masto_channel: Channel
) -> None:
    token = masto.issue_token("kunde")
    for text in ("Acme ist offline #acmefail", "Acme Hotel war schön", "nur Wetter"):
        httpx.post(
            f"{masto.base_url}/api/v1/statuses",
            data={"status": text},
            headers={"Authorization": f"Bearer {token}"},
        ).raise_for_status()
    source = source_add(workspace=workspace, query_id=query.pk, kind="network", target=str(masto_channel.pk))
    # Both terms find the first post ("Acme" by search, "#acmefail" by tag): stored once; no hotel.
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    mention = Mention.objects.get(source=source)
    assert mention.author == "kunde"
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    source.refresh_from_db()
    assert set(json.loads(source.cursor)) == {"Acme", "#acmefail"}


def test_network_source_refuses_a_foreign_channel(
    workspace: Workspace, query: SavedQuery, foreign_channel: Channel
) -> None:
    source = source_add(
        workspace=workspace, query_id=query.pk, kind="network", target=str(foreign_channel.pk)
    )
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    source.refresh_from_db()
    assert "not in this workspace" in source.last_error


def test_periodic_poll_reaches_every_source_and_survives_a_broken_one(
    workspace: Workspace, query: SavedQuery, feed_server: FeedServer
) -> None:
    from resonanz.listening.services import listening_poll_all
    from resonanz.taskqueue.periodic import default_jobs

    assert "listening.poll" in {job.name for job in default_jobs()}
    feed_server.add(FeedEntry("a", "Acme news", "", T0, "http://blog/a"))
    broken = source_add(
        workspace=workspace, query_id=query.pk, kind="feed", target=feed_server.base_url + "/broken.xml"
    )
    source_add(workspace=workspace, query_id=query.pk, kind="feed", target=feed_server.base_url + "/atom.xml")
    result = listening_poll_all()
    assert result["polled"] == 2
    assert result["found"] == 1
    assert result["analysed"] == 1  # the catch-up judges what no task has judged yet
    broken.refresh_from_db()
    assert broken.last_error
