"""Listening against the real Debian WordPress 6.1 and MediaWiki 1.39, started by the tests themselves.

One site of each per session (``conftest.py``; ``testsupport/servers/{wordpress,mediawiki}.py``): every
test names its own brand, so what other tests wrote on the shared site does not match.
Content is written the way authors and bots do: WordPress posts and comments through the REST API with
an application password, wiki edits through the Action API with a bot password.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import datetime

import pytest

from resonanz.accounts.models import Workspace
from resonanz.listening.models import Mention, SavedQuery
from resonanz.listening.services import query_create, source_add, source_poll
from testsupport.emulators.base import FaultProxy
from testsupport.servers.mediawiki import MediaWikiTestSite
from testsupport.servers.wordpress import WordPressTestSite

pytestmark = pytest.mark.django_db


def _brand() -> str:
    # A word no other test (and no default content) contains: "Zorb" + 6 hex digits.
    return f"Zorb{secrets.token_hex(3)}"


def _query(workspace: Workspace, brand: str) -> SavedQuery:
    return query_create(workspace=workspace, name=brand, terms=brand, exclusions=f"{brand} Hotel")


# -- WordPress: the blog's feeds ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/feed/", "/feed/atom/"])
def test_wordpress_blog_feed(workspace: Workspace, wordpress: WordPressTestSite, path: str) -> None:
    brand = _brand()
    query = _query(workspace, brand)
    post = wordpress.create_post(f"{brand} bringt einen Router", f"<p>Der neue {brand}-Router ist da.</p>")
    wordpress.create_post("Gartentipps", "Nichts über Marken.")
    wordpress.create_post(f"Wochenende im {brand} Hotel", "Schön war's.")  # excluded
    source = source_add(workspace=workspace, query_id=query.pk, kind="feed", target=wordpress.url + path)

    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    mention = Mention.objects.get(source=source)
    assert mention.url == post["link"]
    assert mention.author == wordpress.admin_user
    assert mention.published_at == datetime.fromisoformat(post["date_gmt"] + "+00:00")
    assert f"{brand}-Router" in mention.text
    assert "<p>" not in mention.text
    source.refresh_from_db()
    assert source.cursor
    assert not source.last_error

    # A second poll adds nothing; an edit of the post is the same item (same guid/id), not a new mention.
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    wordpress.update_post(
        int(post["id"]), content=f"<p>Der neue {brand}-Router ist da. Update: lieferbar.</p>"
    )
    assert source_poll(workspace=workspace, source_id=source.pk) == 0

    later = wordpress.create_post(f"{brand} im Test", f"Wir haben den {brand} getestet.")
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert set(Mention.objects.filter(source=source).values_list("url", flat=True)) == {
        post["link"],
        later["link"],
    }


def test_wordpress_comments_feed(workspace: Workspace, wordpress: WordPressTestSite) -> None:
    brand = _brand()
    query = _query(workspace, brand)
    post = wordpress.create_post("Unser neuer Router", "Was meint ihr?")
    angry = wordpress.create_comment(
        int(post["id"]), f"Mein {brand} fällt ständig aus, nie wieder!", author_name="Kundin Berta"
    )
    wordpress.create_comment(int(post["id"]), "Sieht gut aus.", author_name="Carl")
    source = source_add(
        workspace=workspace, query_id=query.pk, kind="feed", target=wordpress.url + "/comments/feed/"
    )

    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    mention = Mention.objects.get(source=source)
    assert mention.author == "Kundin Berta"
    assert mention.url == angry["link"]
    assert "fällt ständig aus" in mention.text
    assert source_poll(workspace=workspace, source_id=source.pk) == 0

    wordpress.create_comment(int(post["id"]), f"Bei mir läuft der {brand} prima.", author_name="Dora")
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert sorted(Mention.objects.filter(source=source).values_list("author", flat=True)) == [
        "Dora",
        "Kundin Berta",
    ]


# -- MediaWiki: recent changes and a watched article -------------------------------------------------


def test_mediawiki_recent_changes(workspace: Workspace, mediawiki: MediaWikiTestSite) -> None:
    brand = _brand()
    query = _query(workspace, brand)
    article = mediawiki.edit(f"{brand} GmbH", f"Die '''{brand} GmbH''' baut Router.", summary="Neuer Artikel")
    mediawiki.edit("Gartenbau", "Beete und Hecken.", summary="Tippfehler")
    named = mediawiki.edit("Router", "Hersteller: viele.", summary=f"{brand} als Hersteller ergänzt")
    source = source_add(workspace=workspace, query_id=query.pk, kind="wiki", target=mediawiki.api_url)

    assert source_poll(workspace=workspace, source_id=source.pk) == 2
    mentions = {m.remote_id: m for m in Mention.objects.filter(source=source)}
    assert set(mentions) == {str(article), str(named)}
    assert mentions[str(article)].author == mediawiki.admin_user
    assert mentions[str(article)].url.endswith(f"oldid={article}")
    # The link is a real page of the wiki's index.php.
    assert mentions[str(named)].text == f"Router: {brand} als Hersteller ergänzt"

    # rcstart is inclusive: the last edit's second comes again and is dropped; nothing new is stored.
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    again = mediawiki.edit(
        f"{brand} GmbH", f"Die '''{brand} GmbH''' baut Router und Modems.", summary="Modems"
    )
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert Mention.objects.filter(source=source, remote_id=str(again)).exists()
    source.refresh_from_db()
    assert source.cursor.startswith(f"{again}@")


def test_mediawiki_watched_article(workspace: Workspace, mediawiki: MediaWikiTestSite) -> None:
    brand = _brand()
    query = _query(workspace, brand)
    title = f"{brand} Corporation"
    first = mediawiki.edit(title, f"'''{brand}''' ist ein Unternehmen.", summary="Anlage")
    mediawiki.edit("Gartenbau", "Beete.", summary=f"{brand} erwähnt")  # another article: not watched
    source = source_add(
        workspace=workspace, query_id=query.pk, kind="wiki", target=f"{mediawiki.api_url} | {title}"
    )

    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert list(Mention.objects.filter(source=source).values_list("remote_id", flat=True)) == [str(first)]
    assert source_poll(workspace=workspace, source_id=source.pk) == 0

    edited = mediawiki.edit(title, f"'''{brand}''' ist ein Unternehmen in Kiel.", summary="Sitz ergänzt")
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    assert sorted(
        int(r) for r in Mention.objects.filter(source=source).values_list("remote_id", flat=True)
    ) == [
        first,
        edited,
    ]


def test_mediawiki_missing_article_is_no_error(workspace: Workspace, mediawiki: MediaWikiTestSite) -> None:
    # A watched title that does not exist (yet): the real API answers ``missing: true``, no revisions.
    brand = _brand()
    query = _query(workspace, brand)
    source = source_add(
        workspace=workspace, query_id=query.pk, kind="wiki", target=f"{mediawiki.api_url} | {brand} Nirgendwo"
    )
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    source.refresh_from_db()
    assert source.last_error == ""
    created = mediawiki.edit(f"{brand} Nirgendwo", f"{brand} gibt es jetzt.", summary="Anlage")
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert Mention.objects.get(source=source).remote_id == str(created)


@pytest.fixture
def wiki_proxy(mediawiki: MediaWikiTestSite) -> Iterator[FaultProxy]:
    # In front of the real wiki: logs what the source asks for and injects the faults a wiki behind a
    # proxy shows (the real server cannot be made to fail on demand).
    with FaultProxy(mediawiki.url) as proxy:
        yield proxy


def test_mediawiki_cursor_on_the_wire_and_faults(
    workspace: Workspace, mediawiki: MediaWikiTestSite, wiki_proxy: FaultProxy
) -> None:
    brand = _brand()
    query = _query(workspace, brand)
    title = f"{brand} AG"
    first = mediawiki.edit(title, f"{brand} AG.", summary="Anlage")
    source = source_add(
        workspace=workspace, query_id=query.pk, kind="wiki", target=f"{wiki_proxy.base_url}/api.php | {title}"
    )
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    second = mediawiki.edit(title, f"{brand} AG in Kiel.", summary="Sitz")
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    asked = wiki_proxy.requests_to("/api.php")
    assert "rvstartid" not in asked[0].query
    assert asked[1].query["rvstartid"] == [str(first + 1)]  # the revision after the cursor's
    source.refresh_from_db()
    cursor = source.cursor
    assert cursor.startswith(f"{second}@")

    # A proxy's 503: kept on the source; the cursor stays.
    wiki_proxy.faults.fail("/api.php", 503)
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    source.refresh_from_db()
    assert "503" in source.last_error
    assert source.cursor == cursor
    # A wiki that became private answers 200 with an error object (https://www.mediawiki.org/wiki/API:Errors_and_warnings).
    wiki_proxy.faults.fail(
        "/api.php",
        200,
        body={"error": {"code": "readapidenied", "info": "You need read permission to use this module."}},
    )
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    source.refresh_from_db()
    assert source.last_error == "You need read permission to use this module."
    assert source.cursor == cursor
    # Healthy again: nothing is read twice, the next edit once.
    assert source_poll(workspace=workspace, source_id=source.pk) == 0
    third = mediawiki.edit(title, f"{brand} AG in Kiel, gegründet 1990.", summary="Gründung")
    assert source_poll(workspace=workspace, source_id=source.pk) == 1
    assert Mention.objects.filter(source=source).count() == 3
    assert Mention.objects.filter(source=source, remote_id=str(third)).exists()
