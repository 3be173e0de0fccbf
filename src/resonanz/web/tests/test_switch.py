"""The workspace switcher keeps the user's place (resonanz.web.views_switch)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.services import membership_set, workspace_create
from resonanz.posts.services import PostInput, post_create


@pytest.fixture
def second(workspace: Workspace, owner: User) -> Workspace:
    return workspace_create(organisation=workspace.organisation, name="Brand B", owner=owner)


def switch(client: Client, target: Workspace, next_url: str) -> str:
    response = client.get(reverse("web:workspace_switch", args=[target.pk]), {"next": next_url})
    assert response.status_code == 302
    return str(response["Location"])


def test_calendar_stays_calendar_with_its_view_and_day(owner_client, workspace, second) -> None:
    here = reverse("calendar:index", args=[workspace.pk]) + "?view=week&date=2026-11-02&channel=7&author=3"
    target = switch(owner_client, second, here)
    assert target == reverse("calendar:index", args=[second.pk]) + "?view=week&date=2026-11-02"


def test_object_pages_lead_to_their_section(owner_client, workspace, second, owner, mastodon) -> None:
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Hallo", channel_ids=[mastodon.pk])
    )
    ws = workspace.pk
    expected = {
        reverse("web:post_detail", args=[ws, post.pk]): reverse("web:posts", args=[second.pk]),
        reverse("web:post_edit", args=[ws, post.pk]): reverse("web:posts", args=[second.pk]),
        reverse("web:channel_disconnect", args=[ws, mastodon.pk]): reverse("web:channels", args=[second.pk]),
        reverse("bulk:import_detail", args=[ws, 99]): reverse("bulk:index", args=[second.pk]),
        reverse("calendar:move", args=[ws]) + f"?post={post.pk}": reverse("calendar:index", args=[second.pk]),
        reverse("approvals:decide", args=[ws, post.pk]): reverse("approvals:list", args=[second.pk]),
        reverse("web:posts", args=[ws]) + "?status=draft&page=3": reverse("web:posts", args=[second.pk])
        + "?status=draft",
        reverse("bulk:feeds", args=[ws]): reverse("bulk:feeds", args=[second.pk]),
        reverse("web:post_new", args=[ws]): reverse("web:post_new", args=[second.pk]),
    }
    for here, there in expected.items():
        assert switch(owner_client, second, here) == there, here


def test_pages_the_role_may_not_open_there_lead_further_up(workspace, second, make_user, login) -> None:
    user = make_user("both@example.com")
    membership_set(workspace=workspace, user=user, role=Role.EDITOR)  # editor in the first workspace ...
    membership_set(workspace=second, user=user, role=Role.ANALYST)  # ... analyst in the second
    client = login(user)
    ws = workspace.pk
    assert switch(client, second, reverse("web:post_new", args=[ws])) == reverse(
        "web:posts", args=[second.pk]
    )
    assert switch(client, second, reverse("approvals:settings", args=[ws])) == reverse(
        "approvals:list", args=[second.pk]
    )


@pytest.mark.parametrize(
    "next_url",
    [
        "",
        "https://evil.example/w/1/calendar/",
        "//evil.example/w/1/",
        "/notifications/",
        "/nowhere/",
        "posts/",
    ],
)
def test_anything_else_leads_to_the_dashboard(owner_client, second, next_url: str) -> None:
    assert switch(owner_client, second, next_url) == reverse("web:dashboard", args=[second.pk])


def test_only_members_may_switch_there(workspace, other_workspace, owner_client, client) -> None:
    url = reverse("web:workspace_switch", args=[other_workspace.pk])
    assert owner_client.get(url, {"next": "/w/1/calendar/"}).status_code == 404
    anonymous = client.get(reverse("web:workspace_switch", args=[workspace.pk]))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("account_login"))
    assert owner_client.post(reverse("web:workspace_switch", args=[workspace.pk])).status_code == 405


def test_the_switcher_links_carry_the_current_page(owner_client, workspace, second) -> None:
    here = reverse("calendar:index", args=[workspace.pk]) + "?view=list"
    html = owner_client.get(here).content.decode()
    link = reverse("web:workspace_switch", args=[second.pk]) + "?next=" + quote(here)
    assert f'href="{link}"' in html
    current = reverse("web:workspace_switch", args=[workspace.pk])
    assert f'<a href="{current}?next=' in html
    assert 'aria-current="true">Agentur Nord / Brand A</a>' in html
    # Followed, the link lands on the other workspace's calendar in the same view.
    assert switch(owner_client, second, here) == reverse("calendar:index", args=[second.pk]) + "?view=list"


def test_the_place_the_browser_is_at_wins_over_the_links_next(owner_client, workspace, second) -> None:
    """htmx moved the address bar (the calendar pushes its view and week) after the switcher's links were
    rendered: the place comes from where the browser is when the link is clicked (Referer)."""
    loaded = reverse("calendar:index", args=[workspace.pk])  # the page the links were rendered on
    now_at = loaded + "?view=week&date=2026-11-09"  # where the user went since, through htmx
    url = reverse("web:workspace_switch", args=[second.pk])
    response = owner_client.get(url, {"next": loaded}, HTTP_REFERER=f"http://testserver{now_at}")
    assert response["Location"] == reverse("calendar:index", args=[second.pk]) + "?view=week&date=2026-11-09"
    # An htmx request names the address itself.
    response = owner_client.get(url, {"next": loaded}, HTTP_HX_CURRENT_URL=f"http://testserver{now_at}")
    assert response["Location"] == reverse("calendar:index", args=[second.pk]) + "?view=week&date=2026-11-09"


@pytest.mark.parametrize(
    "referer",
    [
        "https://evil.example/w/1/calendar/?view=week",  # another site
        "http://testserver/notifications/",  # not a workspace page
        "",
    ],
)
def test_without_a_usable_referer_next_decides(owner_client, workspace, second, referer: str) -> None:
    here = reverse("web:posts", args=[workspace.pk]) + "?status=draft"
    url = reverse("web:workspace_switch", args=[second.pk])
    response = owner_client.get(url, {"next": here}, HTTP_REFERER=referer)
    assert response["Location"] == reverse("web:posts", args=[second.pk]) + "?status=draft"
