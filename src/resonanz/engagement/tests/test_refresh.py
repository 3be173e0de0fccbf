"""Issue 8, #13: "refresh now" (service, task, API) and the periodic sync's cadence by a post's age."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from resonanz.accounts.models import Role, User, Workspace
from resonanz.channels.models import Channel
from resonanz.engagement.models import MetricSample
from resonanz.engagement.selectors import variants_due_for_sync
from resonanz.engagement.services import REFRESH_INTERVAL, engagement_sync_all, variant_engagement_refresh
from resonanz.engagement.tasks import refresh_variant_engagement
from resonanz.posts.models import Post, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create

from .conftest import Fan

pytestmark = pytest.mark.django_db


def _queued_variant_ids() -> list[int]:
    return sorted(
        r.args_kwargs["kwargs"]["variant_id"]
        for r in DBTaskResult.objects.filter(task_path__endswith="refresh_variant_engagement")
    )


def test_refresh_queues_the_sync_after_commit_and_the_task_stores_the_counts(
    workspace: Workspace, variant: Variant, fan: Fan, django_capture_on_commit_callbacks: Any
) -> None:
    fan.like(variant.remote_id)
    fan.reply(variant.remote_id, "@resonanz Gilt das auch online?")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = variant_engagement_refresh(workspace=workspace, post=variant.post)
        assert _queued_variant_ids() == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert (result.queued, result.variants) == (True, 1)
    assert _queued_variant_ids() == [variant.pk]

    assert refresh_variant_engagement.call(variant_id=variant.pk) == "synced"
    sample = MetricSample.objects.get(variant=variant)
    assert (sample.likes, sample.replies) == (1, 1)


def test_a_second_refresh_within_the_minute_says_when_and_queues_nothing(
    workspace: Workspace, variant: Variant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = variant_engagement_refresh(workspace=workspace, post=variant.post)
    with django_capture_on_commit_callbacks(execute=True):
        second = variant_engagement_refresh(workspace=workspace, post=variant.post)
    assert first.queued
    assert not second.queued
    assert second.requested_at == first.requested_at
    assert first.requested_at is not None
    assert second.next_at == first.requested_at + REFRESH_INTERVAL
    assert _queued_variant_ids() == [variant.pk]  # one task, not two


def test_refresh_of_another_workspaces_post_is_a_404(workspace: Workspace, foreign_post: Post) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        variant_engagement_refresh(workspace=workspace, post=foreign_post)


# -- API -----------------------------------------------------------------------------------------------


def _url(workspace_id: int, post_id: int) -> str:
    return f"/api/v1/workspaces/{workspace_id}/posts/{post_id}/engagement/refresh/"


def test_api_answers_202_then_429_with_retry_after(
    api: APIClient, workspace: Workspace, variant: Variant, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = api.post(_url(workspace.pk, variant.post_id))
    assert first.status_code == 202, first.content
    assert (first.json()["queued"], first.json()["variants"]) == (True, 1)
    with django_capture_on_commit_callbacks(execute=True):
        second = api.post(_url(workspace.pk, variant.post_id))
    assert second.status_code == 429
    assert second.json()["queued"] is False
    assert second.json()["requested_at"] == first.json()["requested_at"]
    assert 1 <= int(second["Retry-After"]) <= 60
    assert _queued_variant_ids() == [variant.pk]


def test_api_refresh_of_a_draft_is_a_409_and_queues_nothing(
    api: APIClient, workspace: Workspace, mastodon: Channel
) -> None:
    post = post_create(
        workspace=workspace,
        author=workspace.memberships.get().user,
        data=PostInput(text="Entwurf", channel_ids=[mastodon.pk]),
    )
    response = api.post(_url(workspace.pk, post.pk))
    assert response.status_code == 409
    assert _queued_variant_ids() == []


def test_api_refresh_of_another_workspaces_post_is_a_404(
    api: APIClient, workspace: Workspace, other_workspace: Workspace, foreign_post: Post
) -> None:
    assert api.post(_url(workspace.pk, foreign_post.pk)).status_code == 404
    assert api.post(_url(other_workspace.pk, foreign_post.pk)).status_code == 404
    assert _queued_variant_ids() == []


def test_api_refresh_is_for_whoever_may_see_the_post(
    workspace: Workspace, variant: Variant, member: Callable[[str], User]
) -> None:
    analyst, agent = APIClient(), APIClient()
    analyst.force_authenticate(member(Role.ANALYST))
    agent.force_authenticate(member(Role.AGENT))
    assert agent.post(_url(workspace.pk, variant.post_id)).status_code == 403
    assert analyst.post(_url(workspace.pk, variant.post_id)).status_code == 202


def test_the_refresh_endpoint_is_in_the_schema(tmp_path: Any) -> None:
    out = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(out))
    paths = json.loads(out.read_text())["paths"]
    operation = paths["/api/v1/workspaces/{workspace_id}/posts/{post_id}/engagement/refresh/"]["post"]
    assert {"202", "409", "429"} <= set(operation["responses"])


# -- the cadence of the periodic sync ------------------------------------------------------------------


def _published(
    workspace: Workspace, channel: Channel, *, age: timedelta, now: datetime, sampled: list[timedelta]
) -> Variant:
    """A variant published ``age`` before ``now`` with samples taken ``sampled`` before ``now``."""
    post = post_create(
        workspace=workspace,
        author=workspace.memberships.get().user,
        data=PostInput(text=f"{age} alt", channel_ids=[channel.pk]),
    )
    variant = post.variants.get()
    Variant.objects.filter(pk=variant.pk).update(
        status=VariantStatus.PUBLISHED, remote_id=f"r{post.pk}", published_at=now - age
    )
    for ago in sampled:
        MetricSample.objects.create(variant=variant, taken_at=now - ago, likes=1)
    return variant


def test_young_posts_every_run_a_week_old_hourly_older_daily(workspace: Workspace, mastodon: Channel) -> None:
    now = timezone.now()
    minutes, hours, days = (
        (lambda n: timedelta(minutes=n)),
        (lambda n: timedelta(hours=n)),
        (lambda n: timedelta(days=n)),
    )
    v = {
        "young, just sampled": _published(workspace, mastodon, age=hours(2), now=now, sampled=[minutes(1)]),
        "young, never sampled": _published(workspace, mastodon, age=minutes(10), now=now, sampled=[]),
        "3 days, sampled 30 min ago": _published(
            workspace, mastodon, age=days(3), now=now, sampled=[hours(5), minutes(30)]
        ),
        "3 days, sampled 57 min ago": _published(
            workspace, mastodon, age=days(3), now=now, sampled=[minutes(57)]
        ),
        "3 days, sampled 2 h ago": _published(workspace, mastodon, age=days(3), now=now, sampled=[hours(2)]),
        "10 days, sampled 5 h ago": _published(
            workspace, mastodon, age=days(10), now=now, sampled=[hours(5)]
        ),
        "10 days, sampled 23 h 58 min ago": _published(
            workspace, mastodon, age=days(10), now=now, sampled=[hours(23) + minutes(58)]
        ),
        "10 days, sampled 25 h ago": _published(
            workspace, mastodon, age=days(10), now=now, sampled=[hours(25)]
        ),
        "10 days, never sampled": _published(workspace, mastodon, age=days(10), now=now, sampled=[]),
        "40 days, never sampled": _published(workspace, mastodon, age=days(40), now=now, sampled=[]),
    }
    due = {variant.pk for variant in variants_due_for_sync(now=now)}
    assert {name for name, variant in v.items() if variant.pk in due} == {
        "young, just sampled",
        "young, never sampled",
        "3 days, sampled 57 min ago",
        "3 days, sampled 2 h ago",
        "10 days, sampled 23 h 58 min ago",
        "10 days, sampled 25 h ago",
        "10 days, never sampled",
    }
    # The longest-waiting first: never sampled, then by the age of the last sample.
    order = [variant.pk for variant in variants_due_for_sync(now=now)]
    assert order[:2] == sorted(
        [v["young, never sampled"].pk, v["10 days, never sampled"].pk], key=order.index
    )
    assert order.index(v["10 days, sampled 25 h ago"].pk) < order.index(v["young, just sampled"].pk)
    # An hour later the 3-day-old post sampled 30 minutes ago is due; the 10-day-old one sampled 5 h ago not.
    later = {variant.pk for variant in variants_due_for_sync(now=now + hours(1))}
    assert v["3 days, sampled 30 min ago"].pk in later
    assert v["10 days, sampled 5 h ago"].pk not in later


def test_the_periodic_sync_leaves_an_old_post_sampled_recently_alone(
    workspace: Workspace, variant: Variant
) -> None:
    """Through the real sync on the emulator: the young post is asked again, the old one is not."""
    now = timezone.now()
    # The old post's variant points at the same status on the emulator (a real record to fetch).
    old = _published(
        workspace, variant.channel, age=timedelta(days=10), now=now, sampled=[timedelta(hours=3)]
    )
    Variant.objects.filter(pk=old.pk).update(remote_id=variant.remote_id, remote_url=variant.remote_url)
    MetricSample.objects.create(variant=variant, taken_at=now - timedelta(minutes=2))

    assert engagement_sync_all()["synced"] == 1
    assert MetricSample.objects.filter(variant=variant).count() == 2
    assert MetricSample.objects.filter(variant=old).count() == 1
