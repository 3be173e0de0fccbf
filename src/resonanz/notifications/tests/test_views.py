"""The notification pages: only one's own, marking read, the header bell, escaping."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from resonanz.accounts.models import Membership
from resonanz.notifications.models import Notification

LIST = "/notifications/"
BADGE = "/notifications/badge/"
READ = "/notifications/read/"


@pytest.fixture
def client_for():
    def make(user) -> Client:
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(user)
        return client

    return make


def test_urls() -> None:
    assert reverse("notifications:list") == LIST
    assert reverse("notifications:badge") == BADGE
    assert reverse("notifications:mark_read") == READ


def test_anonymous_is_sent_to_login_and_gets_no_bell(client, db) -> None:
    for response in (client.get(LIST), client.post(READ, {"all": "1"})):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    badge = client.get(BADGE)
    assert badge.status_code == 200
    assert badge.content.strip() == b""
    login_page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert login_page.status_code == 200
    assert b"notification-bell" not in login_page.content


def test_list_shows_only_own_notifications_newest_first(
    workspace, owner, member, other_workspace, client_for, notify
) -> None:
    editor = member("editor")
    notify(owner, post="Erster Beitrag")
    notify(owner, post="Zweiter Beitrag")
    notify(editor, post="Fremder Beitrag")
    stranger = other_workspace.memberships.get().user
    notify(stranger, ws=other_workspace, post="Konkurrenz Beitrag")
    response = client_for(owner).get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Fremder Beitrag" not in html
    assert "Konkurrenz Beitrag" not in html
    assert html.index("Zweiter Beitrag") < html.index("Erster Beitrag")
    assert html.count('class="notif-item is-unread"') == 2
    assert "2 unread notifications" in html
    assert 'id="mark-all-read"' in html
    assert "Agentur Nord / Brand A" in html


def test_list_escapes_params(owner, client_for, notify) -> None:
    notify(owner, post="<script>alert(1)</script>", comment='<img src=x onerror="alert(2)">')
    html = client_for(owner).get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html


def test_mark_all_read_with_htmx_updates_list_and_bell(owner, member, client_for, notify) -> None:
    editor = member("editor")
    notify(owner)
    notify(owner)
    notify(editor)
    client = client_for(owner)
    response = client.post(READ, {"all": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<section id="notification-list"')
    assert "is-unread" not in html
    assert 'id="mark-all-read"' not in html
    assert 'hx-swap-oob="outerHTML"' in html, "the header bell is updated out of band"
    assert "Notifications: none unread" in html
    assert Notification.objects.filter(recipient=owner, read_at__isnull=True).count() == 0
    assert Notification.objects.filter(recipient=editor, read_at__isnull=True).count() == 1


def test_mark_read_without_htmx_redirects_and_ignores_foreign_ids(owner, member, client_for, notify) -> None:
    editor = member("editor")
    [mine] = notify(owner)
    [theirs] = notify(editor)
    response = client_for(owner).post(READ, {"id": [str(mine.pk), str(theirs.pk), "x"]})
    assert response.status_code == 302
    assert response["Location"] == LIST
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None
    assert theirs.read_at is None


def test_mark_read_needs_post(owner, client_for) -> None:
    assert client_for(owner).get(READ).status_code == 405


def test_opening_marks_read_and_follows_only_local_links(
    owner, member, client_for, notify, workspace
) -> None:
    editor = member("editor")
    [mine] = notify(owner)
    [theirs] = notify(editor)
    client = client_for(owner)
    response = client.get(f"/notifications/{mine.pk}/")
    assert response.status_code == 302
    assert response["Location"] == "/w/1/posts/2/"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.get(f"/notifications/{theirs.pk}/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    Notification.objects.filter(pk=mine.pk).update(url="https://evil.example/phish")
    assert client.get(f"/notifications/{mine.pk}/")["Location"] == LIST


def test_badge_counts_unread_and_polls(owner, member, client_for, notify) -> None:
    editor = member("editor")
    notify(owner)
    notify(owner)
    notify(editor)
    html = client_for(owner).get(BADGE).content.decode()
    assert 'aria-label="Notifications: 2 unread"' in html
    assert '<span class="notif-count" aria-hidden="true">2</span>' in html
    assert 'hx-get="/notifications/badge/"' in html
    assert 'hx-trigger="every 60s"' in html
    Notification.objects.filter(recipient=owner).update(read_at="2026-01-01T00:00:00Z")
    html = client_for(owner).get(BADGE).content.decode()
    assert "notif-count" not in html
    assert 'aria-label="Notifications: none unread"' in html


def test_bell_is_in_the_header_of_workspace_pages_and_pages_without_one(
    workspace, owner, client_for, make_user, notify
) -> None:
    notify(owner)
    dashboard = client_for(owner).get(f"/w/{workspace.pk}/")
    assert dashboard.status_code == 200
    assert 'aria-label="Notifications: 1 unread"' in dashboard.content.decode()
    loner = make_user("loner@example.com")
    no_workspace = client_for(loner).get("/")
    assert no_workspace.status_code == 200
    assert 'aria-label="Notifications: none unread"' in no_workspace.content.decode()
    page = client_for(loner).get(LIST)
    assert page.status_code == 200
    assert "No notifications yet." in page.content.decode()


def test_notifications_of_a_workspace_one_left_are_hidden(workspace, member, client_for, notify) -> None:
    editor = member("editor")
    [n] = notify(editor, post="Altes Projekt")
    Membership.objects.filter(user=editor).delete()
    client = client_for(editor)
    assert "Altes Projekt" not in client.get(LIST).content.decode()
    assert client.get(f"/notifications/{n.pk}/").status_code == 404
    assert 'aria-label="Notifications: none unread"' in client.get(BADGE).content.decode()
