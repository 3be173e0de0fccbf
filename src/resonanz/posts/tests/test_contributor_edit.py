"""Issue 8 defect: a contributor could rewrite a post that an editor scheduled (API ``PUT`` or the composer)
and it stayed scheduled, so the contributor's text went out. An edit by someone who may not schedule now
takes the post out of the schedule: back to review, or back to draft where there is no approval."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from resonanz.accounts.models import ApprovalMode, Role
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule, post_update

AT = datetime(2099, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def scheduled(workspace, owner, mastodon) -> Post:
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Geprüfter Text", channel_ids=[mastodon.pk])
    )
    return post_schedule(workspace=workspace, post=post, actor=owner, at=AT)


def _put(client: APIClient, workspace, post: Post, text: str, channel_id: int):
    return client.put(
        f"/api/v1/workspaces/{workspace.pk}/posts/{post.pk}/",
        {"text": text, "channel_ids": [channel_id]},
        format="json",
    )


def test_contributor_put_takes_the_post_out_of_the_schedule(workspace, member, mastodon, scheduled) -> None:
    contributor = APIClient()
    contributor.force_authenticate(member(Role.CONTRIBUTOR))
    before = Variant.objects.get(post=scheduled).schedule_version
    response = _put(contributor, workspace, scheduled, "Ganz anderer Text", mastodon.pk)
    assert response.status_code == 200, response.content
    scheduled.refresh_from_db()
    variant = Variant.objects.get(post=scheduled)
    assert scheduled.status == PostStatus.DRAFT  # no approval in this workspace
    assert variant.status == VariantStatus.DRAFT
    assert variant.schedule_version > before  # an already enqueued task finds a stale version
    assert variant.parts.get().text == "Ganz anderer Text"
    assert scheduled.scheduled_at == AT  # the time stays, for whoever schedules it again
    assert scheduled.events.filter(kind="unscheduled").exists()
    assert response.json()["status"] == PostStatus.DRAFT


def test_contributor_edit_goes_back_to_review_where_approval_is_required(
    workspace, owner, member, mastodon, scheduled
) -> None:
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    contributor = member(Role.CONTRIBUTOR)
    post_update(
        workspace=workspace,
        post=scheduled,
        actor=contributor,
        data=PostInput(text="Ungeprüfter Text", channel_ids=[mastodon.pk]),
    )
    scheduled.refresh_from_db()
    assert scheduled.status == PostStatus.IN_REVIEW
    assert Variant.objects.get(post=scheduled).status == VariantStatus.DRAFT
    assert scheduled.events.filter(kind="sent_back_to_review").exists()


def test_contributor_composer_edit_unschedules(workspace, member, login, mastodon, scheduled) -> None:
    client = login(member(Role.CONTRIBUTOR))
    response = client.post(
        reverse("web:post_edit", args=[workspace.pk, scheduled.pk]),
        {"text": "Aus dem Composer", "channels": [mastodon.pk], "action": "draft"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    scheduled.refresh_from_db()
    assert scheduled.status == PostStatus.DRAFT
    assert Variant.objects.get(post=scheduled).status == VariantStatus.DRAFT


def test_an_editor_edit_keeps_the_schedule(workspace, member, mastodon, scheduled) -> None:
    editor = APIClient()
    editor.force_authenticate(member(Role.EDITOR))
    assert _put(editor, workspace, scheduled, "Korrigiert", mastodon.pk).status_code == 200
    scheduled.refresh_from_db()
    assert scheduled.status == PostStatus.SCHEDULED
    assert Variant.objects.get(post=scheduled).status == VariantStatus.SCHEDULED
