"""The approval panel of the post page: state, steps, history, decide/comment forms, review links.

Rendered by the ``{% approval_panel %}`` tag inside ``posts/detail.html`` and, as a fragment, by the
htmx actions of this app (comment, create or revoke a review link), so both always look the same.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.forms import Form
from django.utils import formats
from django.utils.translation import gettext as _

from resonanz.accounts.models import Workspace
from resonanz.accounts.permissions import Action
from resonanz.core.timezones import zone
from resonanz.posts.models import Post, PostStatus
from resonanz.web.scope import Scope

from .forms import CommentForm, PostCommentForm, RejectForm, ReviewLinkForm
from .selectors import (
    ApprovalState,
    HistoryEntry,
    approval_can_decide,
    approval_history,
    approval_own_post_blocked,
    approval_post_media,
    approval_state,
    plan_state,
    review_link_list,
)


def local_text(instant: datetime, workspace: Workspace) -> str:
    """An instant as the workspace's wall-clock time, short and in the active language."""
    return str(formats.date_format(instant.astimezone(zone(workspace.time_zone)), "SHORT_DATETIME_FORMAT"))


def decision_outcome(workspace: Workspace, post: Post) -> str:
    """What the approver is told after deciding: approved (and scheduled at the planned time, or why not),
    step 1 approved, or rejected."""
    if post.status == PostStatus.SCHEDULED and post.approved_at is not None and post.scheduled_at:
        return _("Approved and scheduled for the planned time, %(when)s.") % {
            "when": local_text(post.scheduled_at, workspace)
        }
    if post.status == PostStatus.APPROVED:
        state = plan_state(post)
        # plan_state answers "passed" and "waiting" only for a post with a time (mypy needs the check).
        if state == "passed" and post.scheduled_at is not None:
            return _(
                "Approved. The planned time (%(when)s) has passed, so the post was not scheduled: "
                "its author has to pick a new time."
            ) % {"when": local_text(post.scheduled_at, workspace)}
        if state == "waiting" and post.scheduled_at is not None:
            return _(
                "Approved, but it could not be scheduled for the planned time (%(when)s); the post's "
                "timeline says why."
            ) % {"when": local_text(post.scheduled_at, workspace)}
        return _("Approved. The post can be scheduled now.")
    if post.status == PostStatus.DRAFT:
        return _("Rejected; the post is a draft again.")
    return _("Step 1 approved. The post now waits for step 2.")


def plan_not_scheduled_text(workspace: Workspace, data: dict[str, Any], message: str) -> str:
    """Why a post approved with a planned time was not scheduled (the ``plan_not_scheduled`` event)."""
    reason = data.get("reason")
    if reason == "passed":
        try:
            when = local_text(datetime.fromisoformat(str(data.get("planned_at"))), workspace)
        except ValueError:
            when = ""
        return _("The planned time (%(when)s) had passed when the post was approved. Pick a new time.") % {
            "when": when
        }
    if reason == "not_allowed":
        return _("Whoever approved it may not schedule posts; someone who may has to schedule it.")
    return message


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

    state = approval_state(workspace=scope.workspace, post=post)
    history = labelled_history(approval_history(workspace=scope.workspace, post=post))
    approver = scope.can(Action.APPROVE_POST)
    # Four-eyes rule: the author neither approves nor rejects her own post (she edits it instead).
    own_post = (
        approver
        and state.in_review
        and approval_own_post_blocked(workspace=scope.workspace, post=post, user=scope.user, role=scope.role)
    )
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
        # What an approver must see besides the text: the images, each with its description.
        "approval_media": approval_post_media(workspace=scope.workspace, post=post) if visible else [],
        # The planned time: scheduled at once on the final approval, or why it was not.
        "plan_state": plan_state(post),
        "may_schedule": scope.can(Action.SCHEDULE_POST),
        "approval_may": {
            "approve": not own_post
            and approval_can_decide(
                workspace=scope.workspace, post=post, state=state, user=scope.user, role=scope.role
            ),
            "reject": approver and state.in_review and not own_post,
            "own_post": own_post and not state.step_external,
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
