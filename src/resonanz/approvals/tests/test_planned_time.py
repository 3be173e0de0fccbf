"""The planned time: set while writing, shown in the calendar during review, scheduled on final approval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts import permissions
from resonanz.accounts.models import ApprovalMode, Role
from resonanz.approvals.panel import decision_outcome
from resonanz.approvals.selectors import plan_state
from resonanz.approvals.services import post_approve, post_submit_for_approval
from resonanz.calendar.selectors import calendar_entries
from resonanz.core.timezones import LocalTimeError, local_to_utc, zone
from resonanz.posts.models import PostEvent, PostStatus, VariantStatus
from resonanz.posts.services import (
    PostError,
    PostInput,
    post_plan,
    post_plan_local,
    post_schedule,
    post_update,
)

BERLIN = zone("Europe/Berlin")


def next_week(hour: int = 9, minute: int = 30) -> datetime:
    """A wall-clock time next week in the workspace's zone (naive, like the composer's field)."""
    day = (timezone.now().astimezone(BERLIN) + timedelta(days=7)).date()
    return datetime(day.year, day.month, day.day, hour, minute)


def in_calendar(workspace, post) -> dict[int, tuple[str, datetime]]:
    start = timezone.now() - timedelta(days=1)
    entries = calendar_entries(workspace=workspace, start=start, end=start + timedelta(days=30))
    return {e.variant_id: (e.status, e.when) for e in entries if e.post_id == post.pk}


def test_planned_time_is_stored_and_shown_in_review_in_the_calendar(
    workspace, contributor, post, set_mode
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    local = next_week()
    post_plan_local(workspace=workspace, post=post, actor=contributor, local=local)
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post.refresh_from_db()
    when = local_to_utc(local, "Europe/Berlin")
    variant = post.variants.get()
    assert (post.status, post.scheduled_at) == (PostStatus.IN_REVIEW, when)
    assert (variant.status, variant.scheduled_at) == (VariantStatus.DRAFT, when)  # planned, not armed
    assert in_calendar(workspace, post) == {variant.pk: ("in_review", when.astimezone(BERLIN))}
    event = PostEvent.objects.get(post=post, kind="planned")
    assert (event.actor, event.message) == (contributor, when.isoformat())


def test_final_approval_schedules_at_the_planned_time_as_the_approver(
    workspace, owner, contributor, post, set_mode, django_capture_on_commit_callbacks
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    when = local_to_utc(next_week(16, 0), "Europe/Berlin")
    post_plan(workspace=workspace, post=post, actor=contributor, at=when)
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    with (
        mock.patch("resonanz.publishing.services.publish_wakeup") as wakeup,
        django_capture_on_commit_callbacks(execute=True),
    ):
        result = post_approve(workspace=workspace, post=post, actor=owner)
    assert result.status == PostStatus.SCHEDULED
    post.refresh_from_db()
    variant = post.variants.get()
    assert (post.status, post.scheduled_at, post.approved_by) == (PostStatus.SCHEDULED, when, owner)
    assert (variant.status, variant.scheduled_at, variant.schedule_version) == (
        VariantStatus.SCHEDULED,
        when,
        1,
    )
    wakeup.assert_called_once_with(at=when)  # through post_schedule: the engine wakes up at that second
    scheduled = PostEvent.objects.get(post=post, kind="scheduled")
    assert scheduled.actor == owner
    assert in_calendar(workspace, post) == {variant.pk: ("scheduled", when.astimezone(BERLIN))}
    assert decision_outcome(workspace, post).startswith("Approved and scheduled for the planned time, ")


def test_two_steps_schedule_only_after_the_last(
    workspace, owner, editor, contributor, post, set_mode
) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    when = local_to_utc(next_week(), "Europe/Berlin")
    post_plan(workspace=workspace, post=post, actor=contributor, at=when)
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    post.refresh_from_db()
    assert (post.status, post.variants.get().status) == (PostStatus.IN_REVIEW, VariantStatus.DRAFT)
    post_approve(workspace=workspace, post=post, actor=owner)
    post.refresh_from_db()
    assert (post.status, post.variants.get().status) == (PostStatus.SCHEDULED, VariantStatus.SCHEDULED)
    assert PostEvent.objects.get(post=post, kind="scheduled").actor == owner


def test_a_planned_time_that_has_passed_leaves_the_post_approved_with_a_notice(
    workspace, owner, contributor, post, set_mode, login
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    post_plan(workspace=workspace, post=post, actor=contributor, at=timezone.now() + timedelta(hours=1))
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    past = timezone.now() - timedelta(minutes=5)  # the approver was late
    type(post).objects.filter(pk=post.pk).update(scheduled_at=past)
    post.variants.update(scheduled_at=past)
    post_approve(workspace=workspace, post=post, actor=owner)
    post.refresh_from_db()
    assert (post.status, post.scheduled_at) == (PostStatus.APPROVED, past)
    assert post.variants.get().status == VariantStatus.DRAFT
    assert not PostEvent.objects.filter(post=post, kind="scheduled").exists()
    event = PostEvent.objects.get(post=post, kind="plan_not_scheduled")
    assert event.data == {"planned_at": past.isoformat(), "reason": "passed"}
    assert plan_state(post) == "passed"
    assert "has passed, so the post was not scheduled" in decision_outcome(workspace, post)
    # The author (a contributor, who cannot schedule) and an editor read what to do on the post page.
    url = reverse("web:post_detail", args=[workspace.pk, post.pk])
    page = login(contributor).get(url).content.decode()
    assert 'id="plan-passed"' in page
    assert "Ask an editor to schedule it at a new time." in page
    assert "had passed when the post was approved. Pick a new time." in page  # the timeline entry
    page = login(owner).get(url).content.decode()
    assert "Pick a new time under “Actions” and schedule it." in page
    assert 'id="schedule-form"' in page
    # A new time from the post page schedules it.
    new = local_to_utc(next_week(), "Europe/Berlin")
    post_schedule(workspace=workspace, post=post, actor=owner, at=new)
    post.refresh_from_db()
    assert (post.status, post.scheduled_at, plan_state(post)) == (PostStatus.SCHEDULED, new, "")


def test_an_approver_who_may_not_schedule_leaves_it_approved(
    workspace, editor, contributor, post, set_mode, monkeypatch
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    when = local_to_utc(next_week(), "Europe/Berlin")
    post_plan(workspace=workspace, post=post, actor=contributor, at=when)
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    # A role that approves but may not schedule (none does today; the rule must still hold).
    monkeypatch.setitem(
        permissions.ROLE_ACTIONS,
        Role.EDITOR,
        permissions.ROLE_ACTIONS[Role.EDITOR] - {permissions.Action.SCHEDULE_POST},
    )
    post_approve(workspace=workspace, post=post, actor=editor)
    post.refresh_from_db()
    assert (post.status, post.variants.get().status) == (PostStatus.APPROVED, VariantStatus.DRAFT)
    assert PostEvent.objects.get(post=post, kind="plan_not_scheduled").data["reason"] == "not_allowed"
    assert plan_state(post) == "waiting"


def test_a_refused_schedule_does_not_undo_the_approval(
    workspace, owner, contributor, post, channel, set_mode
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    post_plan(workspace=workspace, post=post, actor=contributor, at=timezone.now() + timedelta(days=3))
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    with mock.patch(
        "resonanz.approvals.services.post_schedule",
        side_effect=PostError("The channel is paused.", code="channel_paused"),
    ):
        post_approve(workspace=workspace, post=post, actor=owner)
    post.refresh_from_db()
    assert (post.status, post.approved_by) == (PostStatus.APPROVED, owner)
    event = PostEvent.objects.get(post=post, kind="plan_not_scheduled")
    assert (event.message, event.data["reason"]) == ("The channel is paused.", "refused")


def test_edit_after_approval_goes_back_to_review_and_keeps_the_planned_time(
    workspace, owner, contributor, post, channel, set_mode
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    when = local_to_utc(next_week(), "Europe/Berlin")
    post_plan(workspace=workspace, post=post, actor=contributor, at=when)
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=owner)
    post.refresh_from_db()
    assert post.status == PostStatus.SCHEDULED
    post_update(
        workspace=workspace,
        post=post,
        actor=contributor,
        data=PostInput(text="Hallo Welt, geändert", channel_ids=[channel.pk]),
    )
    post.refresh_from_db()
    variant = post.variants.get()
    assert (post.status, post.approved_at, post.scheduled_at) == (PostStatus.IN_REVIEW, None, when)
    assert (variant.status, variant.scheduled_at) == (VariantStatus.DRAFT, when)  # disarmed, time kept
    assert in_calendar(workspace, post) == {variant.pk: ("in_review", when.astimezone(BERLIN))}
    post_approve(workspace=workspace, post=post, actor=owner)  # approved again: scheduled again
    post.refresh_from_db()
    assert (post.status, post.variants.get().status) == (PostStatus.SCHEDULED, VariantStatus.SCHEDULED)


def test_planned_time_rules(workspace, owner, contributor, post, channel, set_mode, make_channel) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    with pytest.raises(PostError) as err:
        post_plan(workspace=workspace, post=post, actor=contributor, at=timezone.now() - timedelta(hours=1))
    assert err.value.code == "past_time"
    with pytest.raises(PostError) as err:
        post_plan(workspace=workspace, post=post, actor=contributor, at=datetime(2099, 1, 1, 9))
    assert err.value.code == "naive_time"
    # The same DST rules as scheduling: the spring gap is refused, the doubled autumn hour needs a fold.
    with pytest.raises(LocalTimeError):
        post_plan_local(workspace=workspace, post=post, actor=contributor, local=datetime(2099, 3, 29, 2, 30))
    with pytest.raises(LocalTimeError):
        post_plan_local(
            workspace=workspace, post=post, actor=contributor, local=datetime(2099, 10, 25, 2, 30)
        )
    post_plan_local(
        workspace=workspace, post=post, actor=contributor, local=datetime(2099, 10, 25, 2, 30), fold=1
    )
    post.refresh_from_db()
    assert post.scheduled_at == datetime(2099, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second one
    # A channel added later is planned at the same time; removing the time clears every variant.
    other = make_channel("bluesky", handle="brand.bsky.social")
    post_update(
        workspace=workspace,
        post=post,
        actor=contributor,
        data=PostInput(text="Hallo Welt", channel_ids=[channel.pk, other.pk]),
    )
    assert {v.scheduled_at for v in post.variants.all()} == {post.scheduled_at}
    post_plan(workspace=workspace, post=post, actor=contributor, at=None)
    post.refresh_from_db()
    assert post.scheduled_at is None
    assert {v.scheduled_at for v in post.variants.all()} == {None}
    assert PostEvent.objects.filter(post=post, kind="plan_removed").count() == 1
    # A scheduled post keeps its schedule: a different time goes through scheduling.
    set_mode(ApprovalMode.NONE)
    post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=2))
    with pytest.raises(PostError) as err:
        post_plan(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=3))
    assert err.value.code == "invalid_state"


def test_analysts_cannot_plan(workspace, post, member) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        post_plan(
            workspace=workspace, post=post, actor=member("analyst"), at=timezone.now() + timedelta(days=1)
        )


def test_the_composer_sets_the_planned_time_when_submitting(
    workspace, contributor, channel, set_mode, login
) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    client = login(contributor)
    url = reverse("web:post_new", args=[workspace.pk])
    page = client.get(url).content.decode()
    assert 'id="planned-time"' in page
    assert "Planned date and time" in page
    assert 'id="schedule"' not in page  # nothing is scheduled before approval
    german = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Wunschtermin (Datum und Uhrzeit)" in german

    local = next_week(16, 0)
    data = {
        "text": "Räderwechsel-Wochen",
        "channels": [channel.pk],
        "action": "submit",
        "schedule_at": "2099-03-29T02:30",  # the spring-forward gap: refused, nothing saved
    }
    response = client.post(url, data)
    assert response.status_code == 400
    assert not channel.variants.exists()
    data["schedule_at"] = f"{local:%Y-%m-%dT%H:%M}"
    response = client.post(url, data)
    assert response.status_code == 302
    post = channel.variants.get().post
    when = local_to_utc(local, "Europe/Berlin")
    assert (post.status, post.scheduled_at) == (PostStatus.IN_REVIEW, when)
    detail = client.get(response["Location"]).content.decode()
    assert "Planned for: <time" in detail
    assert 'id="planned-note"' in detail
    assert "Scheduled for" not in detail.split('id="post-when"', 1)[1].split("</p>", 1)[0]
    # The edit page shows it again; saving without it removes it.
    edit = client.get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in edit
    client.post(
        reverse("web:post_edit", args=[workspace.pk, post.pk]), {**data, "action": "draft", "schedule_at": ""}
    )
    post.refresh_from_db()
    assert post.scheduled_at is None


def test_the_api_plans_submits_and_approval_schedules(
    workspace, owner, contributor, channel, set_mode
) -> None:
    from rest_framework.test import APIClient

    set_mode(ApprovalMode.ONE_STEP)
    author = APIClient()
    author.force_authenticate(contributor)
    base = f"/api/v1/workspaces/{workspace.pk}/posts/"
    local = next_week(11, 15)
    when = local_to_utc(local, "Europe/Berlin")
    created = author.post(
        base,
        {"text": "Probefahrt", "channel_ids": [channel.pk], "planned_local": f"{local:%Y-%m-%dT%H:%M}"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert datetime.fromisoformat(body["planned_at"]) == when
    assert datetime.fromisoformat(body["variants"][0]["scheduled_at"]) == when
    post_id = body["id"]
    refused = author.post(
        base, {"text": "x", "channel_ids": [channel.pk], "planned_local": "2099-03-29T02:30"}, format="json"
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "nonexistent_local_time")
    # Submit with another planned time (an instant this time).
    later = when + timedelta(hours=1)
    submitted = author.post(f"{base}{post_id}/submit/", {"planned_at": later.isoformat()}, format="json")
    assert submitted.status_code == 200, submitted.json()
    assert (submitted.json()["status"], datetime.fromisoformat(submitted.json()["planned_at"])) == (
        "in_review",
        later,
    )
    approver = APIClient()
    approver.force_authenticate(owner)
    approval = approver.get(f"{base}{post_id}/approval/").json()
    assert datetime.fromisoformat(approval["scheduled_at"]) == later
    decided = approver.post(f"{base}{post_id}/decisions/", {"decision": "approved"}, format="json")
    assert decided.status_code == 201
    assert (decided.json()["status"], decided.json()["plan_state"]) == ("scheduled", "")
    post = author.get(f"{base}{post_id}/").json()
    assert (post["status"], post["planned_at"]) == ("scheduled", None)
    assert datetime.fromisoformat(post["scheduled_at"]) == later
    # An edit sends it back to review and keeps the time (planned_at omitted: unchanged) ...
    put = author.put(f"{base}{post_id}/", {"text": "Probefahrt!", "channel_ids": [channel.pk]}, format="json")
    assert put.status_code == 200  # the edit sends it back to review, keeping the time ...
    assert (put.json()["status"], datetime.fromisoformat(put.json()["planned_at"])) == ("in_review", later)
    put = author.put(
        f"{base}{post_id}/",
        {"text": "Probefahrt", "channel_ids": [channel.pk], "planned_at": None},
        format="json",
    )
    assert (put.json()["status"], put.json()["planned_at"]) == ("in_review", None)  # ... which can go
