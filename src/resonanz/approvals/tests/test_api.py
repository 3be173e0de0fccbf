"""REST API of approvals (mounted by a test URL map at the paths proposed for resonanz/api/urls.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from resonanz.accounts.models import ApprovalMode
from resonanz.approvals.models import ReviewLink
from resonanz.approvals.services import approval_submit, post_approve
from resonanz.posts.models import PostStatus

pytestmark = pytest.mark.urls("resonanz.approvals.tests.api_urls")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def url(name: str, *args: int) -> str:
    return reverse(f"approvals_api:{name}", args=args)


def test_decisions_and_history(workspace, owner, editor, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    state = client_for(owner).get(url("post-approval", workspace.pk, post.pk)).json()
    assert (state["step"], state["steps_total"], state["status"]) == (1, 2, "in_review")

    # Contributors comment but do not decide.
    as_contributor = client_for(contributor)
    denied = as_contributor.post(url("post-decisions", workspace.pk, post.pk), {"decision": "approved"})
    assert denied.status_code == 403
    commented = as_contributor.post(
        url("post-decisions", workspace.pk, post.pk), {"decision": "commented", "comment": "Bitte rasch"}
    )
    assert commented.status_code == 201

    response = client_for(editor).post(
        url("post-decisions", workspace.pk, post.pk),
        {"decision": "approved", "comment": "ok", "round": state["round"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["step"] == 2
    again = client_for(editor).post(url("post-decisions", workspace.pk, post.pk), {"decision": "approved"})
    assert again.status_code == 403, "the four-eyes rule forbids this user, the request itself is fine"
    assert again.json()["code"] == "same_approver"
    no_reason = client_for(owner).post(url("post-decisions", workspace.pk, post.pk), {"decision": "rejected"})
    assert no_reason.status_code == 400
    assert no_reason.json()["code"] == "comment_required"
    done = client_for(owner).post(url("post-decisions", workspace.pk, post.pk), {"decision": "approved"})
    assert done.status_code == 201
    body = done.json()
    assert body["status"] == "approved"
    assert body["approved_by_id"] == owner.pk
    assert [h["kind"] for h in body["history"]] == ["submitted", "commented", "approved_step_1", "approved"]
    late = client_for(owner).post(url("post-decisions", workspace.pk, post.pk), {"decision": "approved"})
    assert late.status_code == 409


def test_old_endpoints_still_work(api, workspace, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.ONE_STEP)
    assert (
        client_for(contributor).post(f"/api/v1/workspaces/{workspace.pk}/posts/{post.pk}/submit/").status_code
        == 200
    )
    response = api.post(f"/api/v1/workspaces/{workspace.pk}/posts/{post.pk}/approve/", {"comment": "gut"})
    assert response.status_code == 200
    assert response.json()["status"] == PostStatus.APPROVED


def test_review_links(workspace, owner, editor, contributor, post, set_mode) -> None:
    set_mode(ApprovalMode.TWO_STEPS, external=True)
    approval_submit(workspace=workspace, post=post, actor=contributor)
    post_approve(workspace=workspace, post=post, actor=editor)
    links = url("review-links", workspace.pk, post.pk)
    assert client_for(contributor).post(links, {"reviewer_name": "K"}).status_code == 403
    assert client_for(contributor).get(links).status_code == 403
    created = client_for(owner).post(
        links, {"reviewer_name": "Kundin", "reviewer_email": "k@x.example", "valid_days": 3}
    )
    assert created.status_code == 201
    data = created.json()
    assert "/review/" in data["url"]
    assert data["can_decide_step"] == 2
    assert data["active"] is True
    listed = client_for(owner).get(links).json()
    assert len(listed) == 1
    assert "url" not in listed[0]  # the URL is shown once
    bad = client_for(owner).post(links, {"reviewer_name": "K", "valid_days": 999})
    assert bad.status_code == 400

    revoke = url("review-link-revoke", workspace.pk, post.pk, data["id"])
    assert client_for(contributor).post(revoke).status_code == 403
    response = client_for(owner).post(revoke)
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert ReviewLink.objects.get().revoked_at is not None


def test_isolation(workspace, owner, post, other_workspace) -> None:
    stranger = client_for(other_workspace.memberships.get().user)
    assert stranger.get(url("post-approval", workspace.pk, post.pk)).status_code == 404
    assert (
        stranger.post(url("review-links", workspace.pk, post.pk), {"reviewer_name": "X"}).status_code == 404
    )
    assert stranger.get(url("approval-settings", workspace.pk)).status_code == 404
    # A post of another workspace under one's own workspace id is 404 too.
    foreign_ws = other_workspace.pk
    assert client_for(owner).get(url("post-approval", foreign_ws, post.pk)).status_code == 404


def test_settings(workspace, owner, editor) -> None:
    settings_url = url("approval-settings", workspace.pk)
    assert client_for(editor).get(settings_url).json() == {"approval_mode": 0, "step2_external": False}
    assert (
        client_for(editor).put(settings_url, {"approval_mode": 1, "step2_external": False}).status_code == 403
    )
    response = client_for(owner).put(
        settings_url, {"approval_mode": 2, "step2_external": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"approval_mode": 2, "step2_external": True}
    workspace.refresh_from_db()
    assert workspace.approval_mode == 2
