"""Four-eyes rule: nobody approves a post they wrote, unless nobody else in the workspace could."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from resonanz.accounts.models import ApprovalMode, Role
from resonanz.accounts.services import membership_set
from resonanz.approvals.selectors import approval_queue, approval_self_allowed, approval_waiting_count
from resonanz.approvals.services import ApprovalError, approval_decide, post_approve, post_submit_for_approval
from resonanz.posts.models import PostStatus
from resonanz.posts.services import PostInput, post_create


@pytest.fixture
def own_post(workspace, editor, channel):
    """A post the editor wrote and submitted (one approval step)."""
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    post = post_create(
        workspace=workspace, author=editor, data=PostInput(text="Von mir", channel_ids=[channel.pk])
    )
    return post_submit_for_approval(workspace=workspace, post=post, actor=editor)


def test_the_author_cannot_approve_her_own_post(workspace, owner, editor, own_post) -> None:
    with pytest.raises(ApprovalError) as err:
        post_approve(workspace=workspace, post=own_post, actor=editor)
    assert err.value.code == "own_post"
    assert err.value.message == (
        "You wrote this post, so someone else has to approve it (four-eyes principle)."
    )
    own_post.refresh_from_db()
    assert (own_post.status, own_post.approved_at) == (PostStatus.IN_REVIEW, None)
    post_approve(workspace=workspace, post=own_post, actor=owner)  # another approver may
    own_post.refresh_from_db()
    assert (own_post.status, own_post.approved_by) == (PostStatus.APPROVED, owner)


def test_neither_step_of_two(workspace, owner, editor, channel, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    post = post_create(workspace=workspace, author=editor, data=PostInput(text="X", channel_ids=[channel.pk]))
    post_submit_for_approval(workspace=workspace, post=post, actor=editor)
    post_approve(workspace=workspace, post=post, actor=owner)  # step 1 by the owner
    with pytest.raises(ApprovalError) as err:  # step 2 not by the author either
        approval_decide(workspace=workspace, post=post, actor=editor, decision="approved")
    assert err.value.code == "own_post"


def test_her_own_posts_are_not_waiting_for_her(
    workspace, owner, editor, own_post, contributor, channel
) -> None:
    theirs = post_create(
        workspace=workspace, author=contributor, data=PostInput(text="Von dir", channel_ids=[channel.pk])
    )
    post_submit_for_approval(workspace=workspace, post=theirs, actor=contributor)
    assert approval_waiting_count(workspace=workspace, user=editor, role=Role.EDITOR) == 1
    queue = approval_queue(workspace=workspace, user=editor, role=Role.EDITOR)
    assert [i.post.pk for i in queue["mine"]] == [theirs.pk]
    assert [i.post.pk for i in queue["others"]] == [own_post.pk]
    # The owner decides both.
    assert approval_waiting_count(workspace=workspace, user=owner, role=Role.OWNER) == 2


def test_the_panel_shows_the_author_no_decision_buttons(workspace, owner, editor, own_post, login) -> None:
    url = reverse("web:post_detail", args=[workspace.pk, own_post.pk])
    page = login(editor).get(url).content.decode()
    assert 'id="approve-button"' not in page
    assert 'id="reject-button"' not in page
    assert 'id="own-post-note"' in page
    assert "You wrote this post, so another approver decides (four-eyes principle)." in page
    assert '<span id="nav-approvals-count"></span>' in page  # her badge: nothing waits for her
    listing = login(editor).get(reverse("approvals:list", args=[workspace.pk])).content.decode()
    assert f'id="decide-{own_post.pk}"' not in listing  # not decidable in the queue either
    assert 'id="my-posts-in-review"' in listing
    assert listing.count(f'id="approval-item-{own_post.pk}"') == 1  # listed once, as hers
    # Posting the form anyway is refused with the reason.
    response = login(editor).post(
        reverse("web:post_action", args=[workspace.pk, own_post.pk, "approve"]), follow=True
    )
    assert "someone else has to approve it (four-eyes principle)" in response.content.decode()
    own_post.refresh_from_db()
    assert own_post.status == PostStatus.IN_REVIEW
    # The owner sees both buttons, and the two comment fields have labels of their own.
    page = login(owner).get(url).content.decode()
    assert 'id="approve-button"' in page
    assert 'id="reject-button"' in page
    assert 'class="badge status-in_review nav-count" id="nav-approvals-count"' in page  # 1 for her
    labels = re.findall(r"<label[^>]*>([^<]*)</label>", page)
    assert "Note with your approval (optional)" in " ".join(labels)
    assert "Comment for everyone involved" in " ".join(labels)
    assert [label for label in labels if label.strip().rstrip(":") == "Comment"] == []


def test_api_refuses_it_too(workspace, editor, own_post) -> None:
    client = APIClient()
    client.force_authenticate(editor)
    base = f"/api/v1/workspaces/{workspace.pk}/posts/{own_post.pk}"
    response = client.post(f"{base}/approve/", {}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "own_post")
    response = client.post(f"{base}/decisions/", {"decision": "approved"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "own_post")


def test_an_owner_alone_may_approve_her_own_post(workspace, owner, channel, member, set_mode) -> None:
    """A one-person workspace (the others cannot approve): nobody else could ever approve it."""
    set_mode(ApprovalMode.ONE_STEP)
    member("contributor")
    member("analyst")
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Solo", channel_ids=[channel.pk])
    )
    post_submit_for_approval(workspace=workspace, post=post, actor=owner)
    assert approval_self_allowed(workspace=workspace, user=owner, role=Role.OWNER)
    assert approval_waiting_count(workspace=workspace, user=owner, role=Role.OWNER) == 1
    post_approve(workspace=workspace, post=post, actor=owner)
    post.refresh_from_db()
    assert post.status == PostStatus.APPROVED


@pytest.mark.parametrize("second", [Role.EDITOR, Role.ADMIN, Role.OWNER])
def test_not_once_someone_else_may_approve(workspace, owner, channel, make_user, set_mode, second) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    membership_set(workspace=workspace, user=make_user(f"second-{second}@example.com"), role=second)
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Solo", channel_ids=[channel.pk])
    )
    post_submit_for_approval(workspace=workspace, post=post, actor=owner)
    assert not approval_self_allowed(workspace=workspace, user=owner, role=Role.OWNER)
    assert approval_waiting_count(workspace=workspace, user=owner, role=Role.OWNER) == 0
    with pytest.raises(ApprovalError):
        post_approve(workspace=workspace, post=post, actor=owner)


def test_an_inactive_colleague_does_not_count(workspace, owner, channel, member, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    gone = member("editor")
    gone.is_active = False
    gone.save()
    assert approval_self_allowed(workspace=workspace, user=owner, role=Role.OWNER)


def test_editors_never_approve_their_own(workspace, editor, channel, set_mode) -> None:
    """Every workspace has an owner, so an editor is never the only one who may approve."""
    set_mode(ApprovalMode.ONE_STEP)
    assert not approval_self_allowed(workspace=workspace, user=editor, role=Role.EDITOR)
