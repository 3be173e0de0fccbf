"""A post that is not approved never reaches the network, also after an edit of an approved, scheduled post
(against the Mastodon emulator of the publishing tests)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from resonanz.accounts.models import ApprovalMode
from resonanz.approvals.models import ApprovalSettings
from resonanz.approvals.selectors import approval_state
from resonanz.approvals.services import post_approve, post_submit_for_approval
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import (
    PostInput,
    post_create,
    post_schedule,
    post_update,
)
from resonanz.publishing.tasks import publish_variant
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def _mode(workspace, mode: int) -> None:
    workspace.approval_mode = mode
    workspace.save()
    ApprovalSettings.objects.update_or_create(workspace=workspace, defaults={"step2_external": False})


def _force_due(variant: Variant) -> Variant:
    """Simulate a bug elsewhere: the variant is scheduled and due although the post is not approved."""
    Variant.objects.filter(pk=variant.pk).update(status=VariantStatus.SCHEDULED, scheduled_at=timezone.now())
    return Variant.objects.get(pk=variant.pk)


def test_edit_after_approval_never_publishes_the_unapproved_version(
    masto,
    masto_channel,
    workspace,
    owner,
    member,
) -> None:
    _mode(workspace, ApprovalMode.ONE_STEP)
    contributor = member("contributor")
    post = post_create(
        workspace=workspace,
        author=contributor,
        data=PostInput(text="Freigegeben", channel_ids=[masto_channel.pk]),
    )
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=owner)
    post_schedule(workspace=workspace, post=post, actor=owner, at=None)  # publish now: a task is queued
    approved_version = Variant.objects.get(post=post).schedule_version

    # The contributor edits before the worker ran: the post goes back to review, step 1.
    post_update(
        workspace=workspace,
        post=post,
        actor=contributor,
        data=PostInput(text="Nachträglich geändert", channel_ids=[masto_channel.pk]),
    )
    post = Post.objects.get(pk=post.pk)
    assert post.status == PostStatus.IN_REVIEW
    assert post.approved_at is None
    assert approval_state(workspace=workspace, post=post).step == 1

    run_ready_tasks()  # the queued task carries the old schedule version
    variant = Variant.objects.get(post=post)
    assert publish_variant.call(variant_id=variant.pk, schedule_version=approved_version) == "skipped"
    assert publish_variant.call(variant_id=variant.pk, schedule_version=variant.schedule_version) == "skipped"
    assert masto.statuses == []

    # Even if the variant were due by mistake, the engine refuses the unapproved post.
    variant = _force_due(variant)
    assert publish_variant.call(variant_id=variant.pk, schedule_version=variant.schedule_version) == "failed"
    variant.refresh_from_db()
    assert variant.last_error_code == "not_approved"
    assert masto.statuses == []

    # Control: submitted and approved again, then scheduled, it publishes exactly once (the emulator does
    # see posts). The refused publish marked the post failed, and a failed post is submitted again.
    assert Post.objects.get(pk=post.pk).status == PostStatus.FAILED
    post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=owner)
    post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    run_ready_tasks()
    assert Variant.objects.get(post=post).status == VariantStatus.PUBLISHED
    assert len(masto.statuses) == 1
    assert "Nachträglich geändert" in masto.statuses[0]["content"]


def test_half_approved_post_never_publishes(masto, masto_channel, workspace, owner, member) -> None:
    _mode(workspace, ApprovalMode.TWO_STEPS)
    editor = member("editor")
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Nur Stufe 1", channel_ids=[masto_channel.pk])
    )
    post_submit_for_approval(workspace=workspace, post=post, actor=owner)
    post_approve(workspace=workspace, post=post, actor=editor)
    assert Post.objects.get(pk=post.pk).approved_at is None
    variant = _force_due(Variant.objects.get(post=post))
    assert publish_variant.call(variant_id=variant.pk, schedule_version=variant.schedule_version) == "failed"
    assert Variant.objects.get(pk=variant.pk).last_error_code == "not_approved"
    assert masto.statuses == []
