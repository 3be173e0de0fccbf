from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from resonanz.accounts.models import Role, User, Workspace
from resonanz.accounts.services import membership_set, workspace_create
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.overview.selectors import (
    agenda_across_workspaces,
    dashboard_state,
    workspace_day,
    workspace_summaries,
    workspace_week,
)
from resonanz.posts.models import Post, PostStatus, QueueSlot, VariantStatus

pytestmark = pytest.mark.django_db

# Thursday, 3 December 2026, 22:30 UTC: 23:30 in Berlin, 19:30 in São Paulo.
NOW = datetime(2026, 12, 3, 22, 30, tzinfo=UTC)


@pytest.fixture
def berlin(workspace: Workspace) -> Workspace:
    workspace.time_zone = "Europe/Berlin"
    workspace.save()
    return workspace


@pytest.fixture
def sao_paulo(berlin: Workspace, owner: User) -> Workspace:
    return workspace_create(
        organisation=berlin.organisation, name="Cliente Sul", owner=owner, time_zone="America/Sao_Paulo"
    )


def test_day_and_week_are_the_workspace_s_own(berlin: Workspace, sao_paulo: Workspace) -> None:
    assert workspace_day(workspace=berlin, now=NOW).start == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert workspace_day(workspace=sao_paulo, now=NOW).end == datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    week = workspace_week(workspace=berlin, now=NOW)
    assert week.start == datetime(2026, 11, 29, 23, 0, tzinfo=UTC)  # Monday 30 November, 00:00 in Berlin
    assert week.end - week.start == timedelta(days=7)


def test_summaries_count_each_client_in_its_own_time_zone(
    berlin: Workspace,
    sao_paulo: Workspace,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
    owner: User,
) -> None:
    b = make_channel(ws=berlin, handle="b")
    s = make_channel(ws=sao_paulo, handle="s")
    late = datetime(2026, 12, 3, 23, 15, tzinfo=UTC)  # Berlin: tomorrow 00:15; São Paulo: today 20:15
    make_post(b, at=late)
    make_post(s, at=late)
    make_post(b, at=datetime(2026, 12, 3, 22, 45, tzinfo=UTC))  # Berlin today 23:45
    make_post(b, at=datetime(2026, 12, 8, 9, 0, tzinfo=UTC))  # next week
    make_post(b, at=datetime(2026, 12, 3, 20, 0, tzinfo=UTC))  # already past: not "going out"
    rows = {r.workspace.pk: r for r in workspace_summaries(user=owner, now=NOW)}
    assert (rows[berlin.pk].due_today, rows[berlin.pk].due_week) == (1, 2)
    assert (rows[sao_paulo.pk].due_today, rows[sao_paulo.pk].due_week) == (1, 1)


def test_summaries_show_failures_with_their_reason_approvals_and_reconnects(
    berlin: Workspace,
    sao_paulo: Workspace,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
    owner: User,
) -> None:
    b = make_channel(ws=berlin, handle="b")
    broken = make_channel(ws=sao_paulo, handle="s")
    Channel.objects.filter(pk=broken.pk).update(status=ChannelStatus.RECONNECT_NEEDED)
    make_post(b, status=PostStatus.FAILED, variant_status=VariantStatus.FAILED, error="old reason")
    newest = make_post(b, status=PostStatus.FAILED, variant_status=VariantStatus.FAILED, error="Bild zu groß")
    make_post(b, status=PostStatus.IN_REVIEW)
    make_post(b, status=PostStatus.DRAFT)
    rows = {r.workspace.pk: r for r in workspace_summaries(user=owner)}
    row = rows[berlin.pk]
    assert (row.failed, row.awaiting_approval, row.drafts, row.reconnect_needed) == (2, 1, 1, 0)
    assert row.last_failure is not None
    assert (row.last_failure.post_id, row.last_failure.reason) == (newest.pk, "Bild zu groß")
    assert rows[sao_paulo.pk].reconnect_needed == 1
    assert rows[sao_paulo.pk].needs_attention
    assert row.needs_attention


def test_old_failures_leave_the_overview(
    berlin: Workspace, make_channel: Callable[..., Channel], make_post: Callable[..., Post], owner: User
) -> None:
    post = make_post(make_channel(ws=berlin), status=PostStatus.FAILED, variant_status=VariantStatus.FAILED)
    post.variants.update(updated_at=datetime.now(UTC) - timedelta(days=8))
    assert workspace_summaries(user=owner)[0].failed == 0


def test_summaries_show_only_the_user_s_workspaces_and_not_to_agents(
    berlin: Workspace,
    sao_paulo: Workspace,
    other_workspace: Workspace,
    make_user: Callable[..., User],
    owner: User,
) -> None:
    assert {r.workspace.pk for r in workspace_summaries(user=owner)} == {berlin.pk, sao_paulo.pk}
    assert workspace_summaries(user=owner, workspace_ids=[other_workspace.pk]) == []
    analyst = make_user("analyst@example.com")
    membership_set(workspace=sao_paulo, user=analyst, role=Role.ANALYST)
    assert [r.workspace.pk for r in workspace_summaries(user=analyst)] == [sao_paulo.pk]


def test_summaries_cost_the_same_queries_for_many_workspaces(
    berlin: Workspace,
    owner: User,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
    django_assert_num_queries: Callable[..., object],
) -> None:
    def queries_for(count: int) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert len(workspace_summaries(user=owner)) == count
        return len(ctx.captured_queries)

    make_post(make_channel(ws=berlin), at=datetime.now(UTC) + timedelta(hours=1))
    one = queries_for(1)
    for i in range(6):
        ws = workspace_create(organisation=berlin.organisation, name=f"Kunde {i}", owner=owner)
        make_post(
            make_channel(ws=ws, handle=f"h{i}"), status=PostStatus.FAILED, variant_status=VariantStatus.FAILED
        )
    assert queries_for(7) == one


def test_agenda_groups_by_the_viewer_s_day_and_filters_by_client(
    berlin: Workspace,
    sao_paulo: Workspace,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
    owner: User,
) -> None:
    from django.utils import timezone

    b, s = make_channel(ws=berlin, handle="b"), make_channel(ws=sao_paulo, handle="s")
    start = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
    first = make_post(b, at=start + timedelta(hours=8))
    second = make_post(s, at=start + timedelta(hours=13))
    third = make_post(b, at=start + timedelta(days=1, hours=8))
    make_post(b, status=PostStatus.DRAFT, at=start + timedelta(hours=9))  # drafts are not on the agenda
    make_post(b, at=start + timedelta(days=8))  # beyond the window
    with timezone.override("UTC"):
        days, cut = agenda_across_workspaces(user=owner, start=start, days=7)
        assert not cut
        assert [[e.post.pk for e in d.entries] for d in days] == [[first.pk, second.pk], [third.pk]]
        assert days[0].entries[1].local_time.hour == 10  # 13:00 UTC is 10:00 in São Paulo
        only_sao, _ = agenda_across_workspaces(user=owner, start=start, days=7, workspace_ids=[sao_paulo.pk])
        assert [e.post.pk for d in only_sao for e in d.entries] == [second.pk]
        _, cut = agenda_across_workspaces(user=owner, start=start, days=7, limit=2)
        assert cut


def test_dashboard_state_tracks_first_steps(
    berlin: Workspace,
    owner: User,
    make_channel: Callable[..., Channel],
    make_post: Callable[..., Post],
    make_user: Callable[..., User],
) -> None:
    state = dashboard_state(workspace=berlin, user=owner)
    assert state.onboarding
    assert (state.channels, state.queue_slots, state.members) == (0, 0, 1)
    channel = make_channel(ws=berlin)
    QueueSlot.objects.create(channel=channel, weekday=0, time="09:00")
    membership_set(workspace=berlin, user=make_user(), role=Role.EDITOR)
    draft = make_post(channel, status=PostStatus.DRAFT, author=owner)
    make_post(channel, status=PostStatus.DRAFT)  # someone else's draft: not "yours"
    review = make_post(channel, status=PostStatus.IN_REVIEW)
    state = dashboard_state(workspace=berlin, user=owner)
    assert not state.onboarding
    assert [p.pk for p in state.drafts] == [draft.pk]
    assert [p.pk for p in state.in_review] == [review.pk]
