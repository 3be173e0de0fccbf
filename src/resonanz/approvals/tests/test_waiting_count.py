"""The approvals badge (``approval_waiting_count``): the cheap one-step path counts exactly what the general
path (round and step subqueries) and the queue count, for every mode and role."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resonanz.accounts.models import ApprovalMode, Role
from resonanz.approvals import selectors
from resonanz.approvals.selectors import (
    SELF_APPROVAL_ROLES,
    approval_queue,
    approval_self_allowed,
    approval_waiting_count,
)
from resonanz.approvals.services import post_approve, post_reject, post_submit_for_approval
from resonanz.posts.models import PostStatus
from resonanz.posts.services import PostInput, post_create


@pytest.fixture
def people(owner, member):
    return {Role.OWNER: owner, Role.ADMIN: member(Role.ADMIN), Role.EDITOR: member(Role.EDITOR)} | {
        Role.CONTRIBUTOR: member(Role.CONTRIBUTOR)
    }


@pytest.fixture
def posts(workspace, channel, people, set_mode):
    """Posts of every kind, made in a two-step workspace: own/other author, at step 1 and step 2, a new
    round after a rejection at step 2, rejected and approved ones."""
    set_mode(ApprovalMode.TWO_STEPS)
    owner, admin, editor, contributor = (
        people[r] for r in (Role.OWNER, Role.ADMIN, Role.EDITOR, Role.CONTRIBUTOR)
    )

    def submitted(author, text):
        post = post_create(
            workspace=workspace, author=author, data=PostInput(text=text, channel_ids=[channel.pk])
        )
        return post_submit_for_approval(workspace=workspace, post=post, actor=author)

    made = {
        "editor_step1": submitted(editor, "a"),
        "owner_step1": submitted(owner, "b"),
        "contributor_step1": submitted(contributor, "c"),
        "contributor_step2_by_owner": submitted(contributor, "d"),
        "editor_step2_by_admin": submitted(editor, "e"),
        "new_round": submitted(contributor, "f"),
        "rejected": submitted(contributor, "g"),
        "approved": submitted(contributor, "h"),
    }
    post_approve(workspace=workspace, post=made["contributor_step2_by_owner"], actor=owner)
    post_approve(workspace=workspace, post=made["editor_step2_by_admin"], actor=admin)
    post_approve(workspace=workspace, post=made["new_round"], actor=editor)  # step 1 of the old round
    post_reject(workspace=workspace, post=made["new_round"], actor=admin, comment="Nochmal")
    post_submit_for_approval(workspace=workspace, post=made["new_round"], actor=contributor)
    post_reject(workspace=workspace, post=made["rejected"], actor=owner, comment="Nein")
    post_approve(workspace=workspace, post=made["approved"], actor=owner)
    post_approve(workspace=workspace, post=made["approved"], actor=admin)
    for post in made.values():
        post.refresh_from_db()
    assert made["rejected"].status != PostStatus.IN_REVIEW
    assert made["approved"].status == PostStatus.APPROVED
    assert made["new_round"].status == PostStatus.IN_REVIEW
    return made


def _general(workspace, user, role) -> int:
    """The count over the general (subquery) path, with the same four-eyes rule."""
    qs = selectors._waiting(workspace=workspace, user=user)
    if role in SELF_APPROVAL_ROLES and approval_self_allowed(workspace=workspace, user=user, role=role):
        return qs.count()
    return qs.exclude(author_id=user.pk).count()


@pytest.mark.parametrize(
    ("mode", "external"),
    [
        (ApprovalMode.NONE, False),
        (ApprovalMode.ONE_STEP, False),
        (ApprovalMode.TWO_STEPS, False),
        (ApprovalMode.TWO_STEPS, True),
    ],
)
def test_badge_matches_general_path_and_queue(workspace, people, posts, set_mode, mode, external) -> None:
    set_mode(mode, external=external)
    expected_one_step = {Role.OWNER: 5, Role.ADMIN: 6, Role.EDITOR: 4, Role.CONTRIBUTOR: 0}  # own not counted
    for role, user in people.items():
        count = approval_waiting_count(workspace=workspace, user=user, role=role)
        mine = len(approval_queue(workspace=workspace, user=user, role=role)["mine"])
        assert count == mine, role
        if role != Role.CONTRIBUTOR:
            assert count == _general(workspace, user, role), role
        if mode != ApprovalMode.TWO_STEPS:
            assert count == expected_one_step[role], role


def test_one_step_badge_is_one_plain_count(workspace, people, posts, set_mode, monkeypatch) -> None:
    """One-step workspaces never build the round/step subqueries: a single COUNT without subselects."""
    set_mode(ApprovalMode.ONE_STEP)
    workspace.refresh_from_db()

    def no_subqueries(*args, **kwargs):
        raise AssertionError("_in_review built for a one-step workspace")

    expected = {
        role: _general(workspace, user, role) for role, user in people.items() if role != Role.CONTRIBUTOR
    }
    monkeypatch.setattr(selectors, "_in_review", no_subqueries)
    with CaptureQueriesContext(connection) as queries:
        count = approval_waiting_count(workspace=workspace, user=people[Role.EDITOR], role=Role.EDITOR)
    assert count == expected[Role.EDITOR] == 4
    assert len(queries.captured_queries) == 1
    sql = queries.captured_queries[0]["sql"].upper()
    assert sql.count("SELECT") == 1
    assert "COUNT" in sql
    for role in (Role.OWNER, Role.ADMIN):
        assert approval_waiting_count(workspace=workspace, user=people[role], role=role) == expected[role]
