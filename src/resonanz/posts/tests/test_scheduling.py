"""Scheduling rules: UTC storage, DST, queue slots, approval, and 'an old schedule never fires'."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from resonanz.accounts.models import ApprovalMode
from resonanz.approvals.services import post_approve, post_submit_for_approval
from resonanz.core.timezones import LocalTimeError
from resonanz.posts.models import PostStatus, Variant, VariantStatus
from resonanz.posts.services import (
    PostError,
    PostInput,
    PostValidationError,
    post_add_to_queue,
    post_cancel,
    post_create,
    post_schedule,
    post_schedule_local,
    post_update,
    queue_next_free_slot,
    queue_slot_set,
)
from resonanz.publishing.tasks import publish_variant


@pytest.fixture
def channel(make_channel):
    return make_channel("mastodon")


@pytest.fixture
def post(workspace, owner, channel):
    return post_create(
        workspace=workspace, author=owner, data=PostInput(text="Hallo Welt", channel_ids=[channel.pk])
    )


def test_local_time_is_stored_in_utc(workspace, owner, post) -> None:
    post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 12, 1, 9, 0))
    variant = Variant.objects.get(post=post)
    assert variant.scheduled_at == datetime(2099, 12, 1, 8, 0, tzinfo=UTC)
    assert variant.status == VariantStatus.SCHEDULED


def test_dst_gap_refused_and_overlap_asked(workspace, owner, post) -> None:
    with pytest.raises(LocalTimeError) as gap:
        post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 3, 29, 2, 30))
    assert gap.value.code == "nonexistent_local_time"
    with pytest.raises(LocalTimeError) as overlap:
        post_schedule_local(workspace=workspace, post=post, actor=owner, local=datetime(2099, 10, 25, 2, 30))
    assert overlap.value.code == "ambiguous_local_time"
    post_schedule_local(
        workspace=workspace, post=post, actor=owner, local=datetime(2099, 10, 25, 2, 30), fold=1
    )
    assert Variant.objects.get(post=post).scheduled_at == datetime(2099, 10, 25, 1, 30, tzinfo=UTC)


def test_past_and_naive_times_are_refused(workspace, owner, post) -> None:
    with pytest.raises(PostError) as past:
        post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() - timedelta(hours=1))
    assert past.value.code == "past_time"
    with pytest.raises(PostError) as naive:
        post_schedule(workspace=workspace, post=post, actor=owner, at=datetime(2099, 1, 1, 9, 0))
    assert naive.value.code == "naive_time"


def test_reschedule_and_cancel_disarm_old_tasks(workspace, owner, post) -> None:
    post_schedule(workspace=workspace, post=post, actor=owner, at=datetime(2099, 1, 1, 9, tzinfo=UTC))
    first_version = Variant.objects.get(post=post).schedule_version
    post_schedule(workspace=workspace, post=post, actor=owner, at=datetime(2099, 1, 2, 9, tzinfo=UTC))
    variant = Variant.objects.get(post=post)
    assert variant.schedule_version == first_version + 1
    # The task of the old schedule is a no-op, whenever it runs.
    assert publish_variant.call(variant_id=variant.pk, schedule_version=first_version) == "skipped"
    post_cancel(workspace=workspace, post=post, actor=owner)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.CANCELLED
    assert publish_variant.call(variant_id=variant.pk, schedule_version=first_version + 1) == "skipped"


def test_edit_of_scheduled_post_rearms_it(workspace, owner, post, channel) -> None:
    post_schedule(workspace=workspace, post=post, actor=owner, at=datetime(2099, 1, 1, 9, tzinfo=UTC))
    before = Variant.objects.get(post=post).schedule_version
    post_update(
        workspace=workspace,
        post=post,
        actor=owner,
        data=PostInput(text="Hallo Welt, neu", channel_ids=[channel.pk]),
    )
    variant = Variant.objects.get(post=post)
    assert variant.schedule_version == before + 1
    assert variant.status == VariantStatus.SCHEDULED
    assert variant.scheduled_at == datetime(2099, 1, 1, 9, tzinfo=UTC)
    assert variant.parts.get().text == "Hallo Welt, neu"


def test_too_long_text_is_refused_with_count_and_limit(workspace, owner, channel) -> None:
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="x" * 501, channel_ids=[channel.pk])
    )
    with pytest.raises(PostValidationError) as err:
        post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    assert "501" in err.value.message
    assert "500" in err.value.message
    assert Variant.objects.get(post=post).status == VariantStatus.DRAFT


def test_queue_next_free_slot(workspace, owner, channel, make_channel) -> None:
    queue_slot_set(workspace=workspace, channel=channel, actor=owner, slots=[(0, "09:00"), (3, "17:30")])
    berlin = ZoneInfo("Europe/Berlin")
    monday = datetime(2099, 6, 1, 8, 0, tzinfo=berlin)  # 2099-06-01 is a Monday
    first = queue_next_free_slot(workspace=workspace, channel=channel, after=monday)
    assert first == datetime(2099, 6, 1, 9, 0, tzinfo=berlin)
    second = queue_next_free_slot(workspace=workspace, channel=channel, after=monday, taken={first})
    assert second == datetime(2099, 6, 4, 17, 30, tzinfo=berlin)


def test_add_to_queue_fills_slots_in_order(workspace, owner, channel) -> None:
    queue_slot_set(workspace=workspace, channel=channel, actor=owner, slots=[(d, "09:00") for d in range(7)])
    times = []
    for n in range(3):
        p = post_create(
            workspace=workspace, author=owner, data=PostInput(text=f"Post {n}", channel_ids=[channel.pk])
        )
        post_add_to_queue(workspace=workspace, post=p, actor=owner)
        scheduled_at = Variant.objects.get(post=p).scheduled_at
        assert scheduled_at is not None
        times.append(scheduled_at)
    assert len(set(times)) == 3
    assert times == sorted(times)
    assert all(t.astimezone(ZoneInfo("Europe/Berlin")).hour == 9 for t in times)


def test_queue_without_slots_is_a_clear_error(workspace, owner, post) -> None:
    with pytest.raises(PostError) as err:
        post_add_to_queue(workspace=workspace, post=post, actor=owner)
    assert err.value.code == "no_queue_slot"


def test_approval_required_and_edit_after_approval_sends_back(workspace, owner, member, channel) -> None:
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    contributor = member("contributor")
    post = post_create(
        workspace=workspace,
        author=contributor,
        data=PostInput(text="Bitte freigeben", channel_ids=[channel.pk]),
    )
    with pytest.raises(PostError) as err:
        post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    assert err.value.code == "approval_required"
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=owner)
    post_schedule(workspace=workspace, post=post, actor=owner, at=datetime(2099, 1, 1, tzinfo=UTC))
    post_update(
        workspace=workspace,
        post=post,
        actor=contributor,
        data=PostInput(text="Doch anders", channel_ids=[channel.pk]),
    )
    post.refresh_from_db()
    assert post.status == PostStatus.IN_REVIEW
    variant = Variant.objects.get(post=post)
    assert variant.status == VariantStatus.DRAFT
    assert (
        publish_variant.call(variant_id=variant.pk, schedule_version=variant.schedule_version - 1)
        == "skipped"
    )


def test_add_to_queue_prefers_given_slots_and_falls_back_to_posting_times(workspace, owner, channel) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    workspace.time_zone = "Europe/Berlin"
    workspace.save(update_fields=["time_zone"])
    queue_slot_set(workspace=workspace, channel=channel, actor=owner, slots=[(d, "09:00") for d in range(7)])
    p = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Beste Zeit", channel_ids=[channel.pk])
    )
    post_add_to_queue(workspace=workspace, post=p, actor=owner, prefer={channel.pk: [(2, time(18, 0))]})
    local = Variant.objects.get(post=p).scheduled_at.astimezone(berlin)  # type: ignore[union-attr]
    assert (local.weekday(), local.hour, local.minute) == (2, 18, 0)
    # No preferred slot for this channel: its own posting times, as before.
    q = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Normal", channel_ids=[channel.pk])
    )
    post_add_to_queue(workspace=workspace, post=q, actor=owner, prefer={channel.pk: []})
    assert Variant.objects.get(post=q).scheduled_at.astimezone(berlin).hour == 9  # type: ignore[union-attr]
