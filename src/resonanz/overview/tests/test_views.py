from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.services import membership_set, workspace_create
from resonanz.channels.models import Channel
from resonanz.posts.models import Post, PostStatus, QueueSlot, VariantStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def second(workspace: Workspace, owner: User) -> Workspace:
    return workspace_create(organisation=workspace.organisation, name="Brand B", owner=owner)


def test_home_leads_an_agency_to_the_overview_and_a_single_brand_to_its_dashboard(
    workspace: Workspace, owner_client: Client, make_user: Callable[..., User], login: Callable[..., Client]
) -> None:
    single = make_user("single@example.com")
    membership_set(workspace=workspace, user=single, role=Role.EDITOR)
    assert login(single).get(reverse("web:home"))["Location"] == reverse("web:dashboard", args=[workspace.pk])
    workspace_create(
        organisation=workspace.organisation,
        name="Brand B",
        owner=workspace.memberships.get(role=Role.OWNER).user,
    )
    assert owner_client.get(reverse("web:home"))["Location"] == reverse("overview:agency")


def test_agency_overview_in_german_shows_each_client_and_what_needs_attention(
    workspace: Workspace,
    second: Workspace,
    owner: User,
    login: Callable[..., Client],
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
) -> None:
    a = make_channel(ws=workspace, handle="a")
    make_post(a, at=datetime.now(UTC) + timedelta(minutes=30), text="Adventskalender Tür 3")
    failed = make_post(
        make_channel(ws=second, handle="b"),
        status=PostStatus.FAILED,
        variant_status=VariantStatus.FAILED,
        error="Das Bild ist größer als 8 MB.",
    )
    page = login(owner, "de").get(reverse("overview:agency"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Alle Workspaces" in html
    assert "Die nächsten sieben Tage" in html
    assert f'id="client-{workspace.pk}"' in html
    assert f'id="client-{second.pk}"' in html
    assert "Das Bild ist größer als 8 MB." in html
    assert reverse("web:post_detail", args=[second.pk, failed.pk]) in html
    assert "Adventskalender Tür 3" in html  # on the agenda


def test_agency_overview_filters_by_client_and_ignores_foreign_ones(
    workspace: Workspace, second: Workspace, other_workspace: Workspace, owner_client: Client
) -> None:
    html = owner_client.get(
        reverse("overview:agency"), {"client": [str(second.pk), str(other_workspace.pk), "x"]}
    ).content.decode()
    assert f'id="client-{second.pk}"' in html
    assert f'id="client-{workspace.pk}"' not in html
    assert f'id="client-{other_workspace.pk}"' not in html
    assert "Brand Z" not in html


def test_agency_overview_needs_a_login(client: Client) -> None:
    assert client.get(reverse("overview:agency")).status_code == 302


def test_switcher_links_the_overview_when_there_are_several_workspaces(
    workspace: Workspace, owner_client: Client, owner: User
) -> None:
    dashboard = reverse("web:dashboard", args=[workspace.pk])
    assert 'id="nav-overview"' not in owner_client.get(dashboard).content.decode()
    workspace_create(organisation=workspace.organisation, name="Brand B", owner=owner)
    assert 'id="nav-overview"' in owner_client.get(dashboard).content.decode()


def test_empty_workspace_dashboard_says_what_to_do_first_in_german(
    workspace: Workspace, owner: User, login: Callable[..., Client]
) -> None:
    html = login(owner, "de").get(reverse("web:dashboard", args=[workspace.pk])).content.decode()
    assert 'id="first-steps"' in html
    assert (
        "Kanal verbinden" in html
    )
    assert (
        "Veröffentlichungszeiten festlegen" in html
    )
    assert (
        "Team einladen" in html
    )
    assert reverse("web:channels", args=[workspace.pk]) in html
    assert reverse("web:members", args=[workspace.pk]) in html


def test_working_dashboard_shows_drafts_and_approvals_instead_of_first_steps(
    workspace: Workspace,
    owner: User,
    owner_client: Client,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
    make_user: Callable[..., User],
) -> None:
    channel = make_channel()
    QueueSlot.objects.create(channel=channel, weekday=2, time="10:00")
    membership_set(workspace=workspace, user=make_user(), role=Role.EDITOR)
    make_post(channel, status=PostStatus.DRAFT, author=owner, text="Mein Entwurf zum Winterschluss")
    make_post(channel, status=PostStatus.IN_REVIEW, text="Bitte freigeben: Neujahrsgruß")
    html = owner_client.get(reverse("web:dashboard", args=[workspace.pk])).content.decode()
    assert 'id="first-steps"' not in html
    assert "Mein Entwurf zum Winterschluss" in html
    assert "Bitte freigeben: Neujahrsgruß" in html
