"""The approval panel of the post page: state, steps, history, decide/comment forms, review links.

Rendered by the ``{% approval_panel %}`` tag inside ``web/posts/detail.html`` and, as a fragment, by the
htmx actions of this app (comment, create or revoke a review link), so both always look the same.
"""

from __future__ import annotations

from typing import Any

from django.forms import Form
from django.utils.translation import gettext as _

from resonanz.accounts.permissions import Action
from resonanz.posts.models import Post, PostStatus
from resonanz.web.scope import Scope

from .forms import PostCommentForm, ReviewLinkForm
from .selectors import (
    ApprovalState,
    HistoryEntry,
    approval_can_decide,
    approval_history,
    approval_state,
    review_link_list,
)


def history_labels() -> dict[str, str]:
    return {
        "submitted": _("Submitted for approval"),
        "approved_step_1": _("Approved step 1"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
        "commented": _("Commented"),
        "sent_back_to_review": _("Sent back to review"),
    }


def labelled_history(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    labels = history_labels()
    for entry in entries:
        entry.extra["label"] = labels.get(entry.event.kind, entry.event.kind)
    return entries


def step_rows(state: ApprovalState, post: Post) -> list[dict[str, Any]]:
    """One row per step: who decides it and whether it is done, current or still to come."""
    rows = []
    for number in range(1, state.steps_total + 1):
        external = number == 2 and state.step2_external
        if post.status in {PostStatus.DRAFT, PostStatus.CANCELLED, PostStatus.FAILED} and not state.approved:
            status = "pending"
        elif state.step is None:
            status = "done" if state.approved else "pending"
        else:
            status = "done" if number < state.step else "current" if number == state.step else "pending"
        rows.append(
            {
                "number": number,
                "external": external,
                "who": _("External reviewer (review link)") if external else _("Approvers of this workspace"),
                "status": status,
                "status_label": {"done": _("done"), "current": _("waiting"), "pending": _("not yet")}[status],
            }
        )
    return rows


def panel_context(
    scope: Scope,
    post: Post,
    *,
    approve_form: Form | None = None,
    reject_form: Form | None = None,
    comment_form: Form | None = None,
    link_form: Form | None = None,
    new_link_url: str = "",
) -> dict[str, Any]:
    from resonanz.web.forms import CommentForm, RejectForm

    state = approval_state(workspace=scope.workspace, post=post)
    history = labelled_history(approval_history(workspace=scope.workspace, post=post))
    approver = scope.can(Action.APPROVE_POST)
    links = list(review_link_list(workspace=scope.workspace, post=post)) if approver else []
    visible = scope.approval_required or bool(history) or state.in_review or bool(links)
    return {
        "workspace": scope.workspace,
        "post": post,
        "approval": state,
        "approval_visible": visible,
        "approval_required": scope.approval_required,
        "approval_steps": step_rows(state, post),
        "approval_history": history,
        "approval_may": {
            "approve": approval_can_decide(state=state, user=scope.user, role=scope.role),
            "reject": approver and state.in_review,
            "comment": scope.can(Action.CREATE_POST),
            "links": approver,
            # Four-eyes rule: explain why the approve button is missing for the step-1 approver.
            "same_approver": state.step == 2
            and not state.step_external
            and state.step1_approved_by_id == scope.user.pk,
        },
        "approve_form": approve_form or CommentForm(prefix="approve"),
        "reject_form": reject_form or RejectForm(prefix="reject"),
        "comment_form": comment_form or PostCommentForm(prefix="note"),
        "link_form": link_form or ReviewLinkForm(prefix="link"),
        "review_links": links,
        "new_link_url": new_link_url,
    }
