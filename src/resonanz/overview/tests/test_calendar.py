"""The calendar across workspaces (issue 8, item 2): a month grid over all the user's viewable workspaces,
each entry on its own workspace's local day, labelled and coloured by workspace, linking to the post,
filterable by one or more clients; a fixed number of queries whatever the number of workspaces."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.services import membership_set, workspace_create
from resonanz.channels.models import Channel
from resonanz.overview.selectors import WORKSPACE_COLOURS, calendar_across_workspaces
from resonanz.posts.models import Post

pytestmark = pytest.mark.django_db

# 23:30 UTC on New Year's Eve: 00:30 on 1 January in Berlin, 18:30 on 31 December in New York.
NEW_YEAR = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)


@pytest.fixture
def new_york(workspace: Workspace, owner: User) -> Workspace:
    return workspace_create(
        organisation=workspace.organisation, name="Client NYC", owner=owner, time_zone="America/New_York"
    )


def _cell(html: str, day: str) -> str:
    match = re.search(rf'<td class="[^"]*" id="day-{day}".*?</td>', html, re.S)
    assert match, f"no cell for {day}"
    return match.group(0)


def test_each_entry_is_on_its_own_workspaces_day_labelled_coloured_and_linked(
    workspace: Workspace,
    new_york: Workspace,
    owner_client: Client,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
) -> None:
    berlin_post = make_post(make_channel(ws=workspace, handle="berlin"), at=NEW_YEAR, text="Prosit Neujahr")
    ny_post = make_post(
        make_channel(ws=new_york, handle="nyc"), at=NEW_YEAR, text="Countdown in Times Square"
    )
    response = owner_client.get(reverse("overview:calendar"), {"date": "2027-01-15"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "January 2027" in html
    berlin_day, ny_day = _cell(html, "2027-01-01"), _cell(html, "2026-12-31")
    assert "Prosit Neujahr" in berlin_day
    assert "Countdown" not in berlin_day
    assert "Countdown in Times Square" in ny_day
    assert "Prosit" not in ny_day
    # Each at its own workspace's wall-clock time, linked to its workspace's post page.
    assert 'datetime="2027-01-01T00:30:00+01:00"' in berlin_day
    assert 'datetime="2026-12-31T18:30:00-05:00"' in ny_day
    assert f'href="{reverse("web:post_detail", args=[workspace.pk, berlin_post.pk])}"' in berlin_day
    assert f'href="{reverse("web:post_detail", args=[new_york.pk, ny_post.pk])}"' in ny_day
    # Labelled and coloured by workspace (distinct colours, the same ones as the legend).
    assert '<span class="cal-workspace">Brand A</span>' in berlin_day
    assert '<span class="cal-workspace">Client NYC</span>' in ny_day
    colour_a, colour_b = WORKSPACE_COLOURS[0], WORKSPACE_COLOURS[1]
    assert f'fill="{colour_a}"' in berlin_day
    assert f'fill="{colour_b}"' in ny_day
    legend = html[html.index('id="calendar-legend"') :]
    assert f'fill="{colour_a}"' in legend
    assert "Client NYC" in legend


def test_filter_by_one_or_more_clients_never_shows_foreign_workspaces(
    workspace: Workspace,
    new_york: Workspace,
    other_workspace: Workspace,
    owner: User,
    owner_client: Client,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
) -> None:
    third = workspace_create(organisation=workspace.organisation, name="Client Drei", owner=owner)
    at = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
    make_post(make_channel(ws=workspace, handle="a"), at=at, text="Beitrag A")
    make_post(make_channel(ws=new_york, handle="b"), at=at, text="Post B")
    make_post(make_channel(ws=third, handle="c"), at=at, text="Beitrag C")
    make_post(make_channel(ws=other_workspace, handle="z"), at=at, text="Fremder Beitrag")
    url = reverse("overview:calendar")

    everything = owner_client.get(url, {"date": "2027-03-01"}).content.decode()
    assert all(t in everything for t in ("Beitrag A", "Post B", "Beitrag C"))
    assert "Fremder Beitrag" not in everything

    one = owner_client.get(url, {"date": "2027-03-01", "client": [str(new_york.pk)]}).content.decode()
    assert "Post B" in one
    assert "Beitrag A" not in one
    assert "Beitrag C" not in one

    chosen = [str(workspace.pk), str(third.pk), str(other_workspace.pk), "x"]
    two = owner_client.get(url, {"date": "2027-03-01", "client": chosen}).content.decode()
    assert "Beitrag A" in two
    assert "Beitrag C" in two
    assert "Post B" not in two
    assert "Fremder Beitrag" not in two
    # The month navigation keeps the chosen clients.
    assert f"client={workspace.pk}&amp;client={third.pk}" in two


def test_agents_see_no_posts_here(
    workspace: Workspace,
    make_user: Callable[..., User],
    login: Callable[..., Client],
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
) -> None:
    agent = make_user("agent@example.com")
    membership_set(workspace=workspace, user=agent, role=Role.AGENT)
    make_post(make_channel(ws=workspace), at=datetime(2027, 3, 10, 9, tzinfo=UTC), text="Nur fürs Team")
    html = login(agent).get(reverse("overview:calendar"), {"date": "2027-03-01"}).content.decode()
    assert "Nur fürs Team" not in html


def test_a_busy_day_shows_four_and_more_leads_to_the_whole_day(
    workspace: Workspace,
    new_york: Workspace,
    owner_client: Client,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
) -> None:
    a, b = make_channel(ws=workspace, handle="a"), make_channel(ws=new_york, handle="b")
    start = datetime(2027, 5, 5, 12, tzinfo=UTC)
    for i in range(6):
        make_post(a if i % 2 else b, at=start + timedelta(minutes=i), text=f"Beitrag {i}")
    url = reverse("overview:calendar")
    html = owner_client.get(url, {"date": "2027-05-01"}).content.decode()
    cell = _cell(html, "2027-05-05")
    assert cell.count('class="cal-entry') == 4
    assert "+2 more" in cell
    more = re.search(r'class="cal-more" href="([^"]+)"', cell)
    assert more
    day = owner_client.get(more.group(1).replace("&amp;", "&")).content.decode()
    assert day.count('class="cal-entry') == 6
    assert all(f"Beitrag {i}" in day for i in range(6))


def test_reachable_from_the_overview_and_in_german(
    workspace: Workspace,
    new_york: Workspace,
    owner: User,
    owner_client: Client,
    login: Callable[..., Client],
) -> None:
    overview = owner_client.get(reverse("overview:agency"), {"client": [str(new_york.pk)]}).content.decode()
    assert f'href="{reverse("overview:calendar")}?client={new_york.pk}"' in overview
    german = login(owner, "de").get(reverse("overview:calendar"), {"date": "2027-01-15"}).content.decode()
    assert "Kalender über alle Workspaces" in german
    assert "Januar 2027" in german


def _workspaces_with_posts(
    owner: User,
    base: Workspace,
    numbers: range,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
) -> None:
    """Workspaces in five time zones with three posts each, each post on a day of its own in June."""
    zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Pacific/Auckland", "America/Sao_Paulo"]
    for i in numbers:
        ws = workspace_create(
            organisation=base.organisation, name=f"Client {i}", owner=owner, time_zone=zones[i % len(zones)]
        )
        channel = make_channel(ws=ws, handle=f"c{i}")
        for k in range(3):
            make_post(channel, at=datetime(2027, 6, 2 + i * 3 + k, 9, tzinfo=UTC), text=f"Client {i} Nr. {k}")


def test_the_number_of_queries_does_not_grow_with_the_workspaces(
    workspace: Workspace,
    owner: User,
    owner_client: Client,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
    django_assert_num_queries: Any,
) -> None:
    url = reverse("overview:calendar")
    _workspaces_with_posts(owner, workspace, range(2), make_channel, make_post)
    with CaptureQueriesContext(connection) as few:
        small = owner_client.get(url, {"date": "2027-06-01"})
    _workspaces_with_posts(owner, workspace, range(2, 8), make_channel, make_post)
    with CaptureQueriesContext(connection) as many:
        large = owner_client.get(url, {"date": "2027-06-01"})
    assert small.content.decode().count('class="cal-entry') == 2 * 3
    assert large.content.decode().count('class="cal-entry') == 8 * 3
    assert len(many.captured_queries) == len(few.captured_queries), [q["sql"] for q in many.captured_queries]
    # The read itself: the memberships, then every workspace's entries in one query.
    with django_assert_num_queries(2):
        cal = calendar_across_workspaces(user=owner, first=date(2027, 5, 31), last=date(2027, 7, 4))
    assert len(cal.workspaces) == 9
    assert len(cal.entries) == 24
