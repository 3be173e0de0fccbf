"""Writes for approvals: submit, decide (step 1, then step 2), comment, review links for external reviewers.

Every decision and comment is an ``ApprovalDecision`` plus a ``PostEvent`` (the post's timeline), written in
one transaction with the status change. Notifications are stored in the same transaction and e-mailed after
commit (``notification_send``). A post is only ever approved by its last step: ``approved_at`` is what the
publishing engine checks, and every edit after approval clears it again (``post_update``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import ApprovalMode, User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed, role_allows
from resonanz.accounts.selectors import membership_role
from resonanz.core.services import audit_log_record
from resonanz.notifications.kinds import NotificationKind
from resonanz.notifications.services import notification_recipients, notification_send
from resonanz.posts.models import Post, PostEvent, PostStatus
from resonanz.posts.services import PostError, PostValidationError, post_schedule, post_validate

from .models import ApprovalDecision, ApprovalSettings, Decision, ReviewLink
from .selectors import (
    ApprovalState,
    approval_own_post_blocked,
    approval_state,
    approver_roles,
    steps_total,
)

REVIEW_LINK_SALT = "resonanz.approvals.review-link"
REVIEW_LINK_MAX_DAYS = 60
SUBMITTABLE = {PostStatus.DRAFT, PostStatus.FAILED, PostStatus.CANCELLED}


class ApprovalError(PostError):
    """A refused approval action; ``message`` is for the user (the API maps ``code`` to a status)."""


class ReviewLinkError(Exception):
    """A review link that cannot be used: ``invalid`` (unknown or tampered), ``expired`` or ``revoked``."""

    def __init__(self, code: str) -> None:
        messages = {
            "invalid": _("This review link is not valid. Please check that you copied all of it."),
            "expired": _("This review link has expired. Please ask for a new one."),
            "revoked": _("This review link was withdrawn. Please ask for a new one."),
        }
        super().__init__(messages[code])
        self.code = code
        self.message = messages[code]

    @property
    def gone(self) -> bool:
        """The link existed but may no longer be used (HTTP 410 rather than 404)."""
        return self.code in {"expired", "revoked"}


@dataclass(frozen=True)
class IssuedReviewLink:
    link: ReviewLink
    url: str  # absolute; shown once, never stored


# -- helpers ------------------------------------------------------------------------------------


def _require(workspace: Workspace, actor: User | None, action: Action) -> None:
    if actor is None:  # system actions carry no user
        return
    ensure_allowed(membership_role(workspace=workspace, user=actor), action)


def _lock_post(workspace: Workspace, post_id: int) -> Post:
    post = Post.objects.select_for_update().filter(workspace=workspace, pk=post_id).first()
    if post is None:
        raise ApprovalError(_("Post not found."), code="not_found")
    return post


def _event(post: Post, kind: str, *, actor: User | None, message: str = "") -> PostEvent:
    return PostEvent.objects.create(
        post=post,
        kind=kind,
        message=message,
        actor=actor if actor is not None and actor.is_authenticated else None,
    )


def _record(
    post: Post,
    *,
    kind: str,
    decision: str,
    step: int | None,
    comment: str,
    actor: User | None,
    link: ReviewLink | None = None,
    reviewer_name: str = "",
    reviewer_email: str = "",
) -> ApprovalDecision:
    event = _event(post, kind, actor=actor, message=comment)
    return ApprovalDecision.objects.create(
        post=post,
        step=step,
        decision=decision,
        comment=comment,
        decided_by=actor,
        reviewer_name=reviewer_name,
        reviewer_email=reviewer_email,
        review_link=link,
        event=event,
    )


def _check_round(state: ApprovalState, expected_round: int | None) -> None:
    if expected_round is not None and expected_round != state.round:
        raise ApprovalError(
            _("The post was changed while you were looking at it. Please review the current version."),
            code="changed",
        )


def _who(user: User | None) -> str:
    return (user.name or user.email) if user is not None else ""


def _post_url(post: Post) -> str:
    return reverse("web:post_detail", args=[post.workspace_id, post.pk])


def _notify(
    workspace: Workspace,
    post: Post,
    *,
    recipients: Iterable[User | None],
    kind: str,
    actor: User | None,
    actor_name: str = "",
    **extra: str,
) -> None:
    """Notify everyone in ``recipients`` except the one who acted."""
    wanted = [u for u in recipients if u is not None and (actor is None or u.pk != actor.pk)]
    if not wanted:
        return
    params = {"post": str(post), "actor": actor_name or _who(actor), "workspace": workspace.name, **extra}
    notification_send(workspace=workspace, recipients=wanted, kind=kind, params=params, url=_post_url(post))


def _approvers(workspace: Workspace) -> list[User]:
    return notification_recipients(workspace=workspace, roles=approver_roles())


def _participants(post: Post) -> list[User]:
    """The author and every member who decided or commented on the post."""
    ids = set(
        ApprovalDecision.objects.filter(post=post, decided_by__isnull=False).values_list(
            "decided_by", flat=True
        )
    )
    users = list(User.objects.filter(pk__in=ids))
    return [post.author, *users] if post.author is not None else users


def _notify_next_step(workspace: Workspace, post: Post, *, step: int, actor: User | None, name: str) -> None:
    """Ask whoever decides ``step`` (external step: the people who gave out its review links)."""
    state = approval_state(workspace=workspace, post=post)
    recipients: list[User | None]
    if state.step_external:
        creators = [
            link.created_by
            for link in ReviewLink.objects.filter(post=post, step=step, revoked_at__isnull=True)
            .filter(expires_at__gt=timezone.now())
            .select_related("created_by")
        ]
        recipients = list(creators) if any(creators) else list(_approvers(workspace))
    else:
        recipients = [u for u in _approvers(workspace) if u.pk != state.step1_approved_by_id]
    _notify(
        workspace,
        post,
        recipients=recipients,
        kind=NotificationKind.APPROVAL_REQUESTED,
        actor=actor,
        actor_name=name,
    )


# -- settings -----------------------------------------------------------------------------------


@transaction.atomic
def approval_settings_update(
    *, workspace: Workspace, actor: User | None, approval_mode: int, step2_external: bool
) -> ApprovalSettings:
    """Switch approval off, to one step or to two steps; say who decides step 2."""
    _require(workspace, actor, Action.MANAGE_WORKSPACE)
    if approval_mode not in ApprovalMode.values:
        raise ApprovalError(_("Unknown approval mode."), code="invalid")
    workspace.approval_mode = approval_mode
    workspace.save(update_fields=["approval_mode"])
    config, _created = ApprovalSettings.objects.update_or_create(
        workspace=workspace, defaults={"step2_external": step2_external}
    )
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="workspace.approval_settings",
        target=workspace,
        data={"approval_mode": approval_mode, "step2_external": step2_external},
    )
    return config


# -- submit, decide, comment --------------------------------------------------------------------


@transaction.atomic
def approval_submit(*, workspace: Workspace, post: Post, actor: User) -> Post:
    """Send a draft into review at step 1 (a new round: earlier approvals no longer count)."""
    _require(workspace, actor, Action.CREATE_POST)
    post = _lock_post(workspace, post.pk)
    if post.status not in SUBMITTABLE:
        raise ApprovalError(_("Only drafts can be submitted for approval."), code="invalid_state")
    reports = post_validate(workspace=workspace, post=post)
    if any(not r.ok for r in reports):
        raise PostValidationError(reports)
    post.status = PostStatus.IN_REVIEW
    post.save(update_fields=["status", "updated_at"])
    _event(post, "submitted", actor=actor)
    audit_log_record(workspace=workspace, actor=actor, action="post.submit", target=post)
    _notify(
        workspace,
        post,
        recipients=_approvers(workspace),
        kind=NotificationKind.APPROVAL_REQUESTED,
        actor=actor,
    )
    return post


def approval_restarted(*, workspace: Workspace, post: Post, actor: User | None) -> None:
    """Tell step-1 approvers that a post in review changed (an edit restarts the chain at step 1).

    Meant for ``post_update`` after it edited a post that is (or was sent back) in review.
    """
    if post.workspace_id != workspace.pk or post.status != PostStatus.IN_REVIEW:
        return
    _notify(
        workspace,
        post,
        recipients=_approvers(workspace),
        kind=NotificationKind.APPROVAL_REQUESTED,
        actor=actor,
    )


def _apply(
    workspace: Workspace,
    post: Post,
    state: ApprovalState,
    *,
    decision: str,
    comment: str,
    actor: User | None,
    link: ReviewLink | None = None,
    reviewer_name: str = "",
    reviewer_email: str = "",
) -> Post:
    """Write a decision on the current step (checks done by the caller, post locked)."""
    if state.step is None:  # the callers checked that the post is in review; it has a current step
        raise ApprovalError(
            _("This post is not waiting for your decision right now. You can still leave a comment."),
            code="invalid_state",
        )
    who = reviewer_name or _who(actor)
    # The author hears of every decision; so does whoever gave an external reviewer their link.
    told = [post.author, link.created_by if link is not None else None]
    record = {
        "step": state.step,
        "comment": comment,
        "actor": actor,
        "link": link,
        "reviewer_name": reviewer_name,
        "reviewer_email": reviewer_email,
    }
    if decision == Decision.REJECTED:
        post.status = PostStatus.DRAFT
        post.save(update_fields=["status", "updated_at"])
        _record(post, kind="rejected", decision=Decision.REJECTED, **record)  # type: ignore[arg-type]
        audit_log_record(
            workspace=workspace, actor=actor, action="post.reject", target=post, data={"step": state.step}
        )
        _notify(
            workspace,
            post,
            recipients=told,
            kind=NotificationKind.POST_REJECTED,
            actor=actor,
            actor_name=who,
            message=comment,
        )
        return post
    if state.step < state.steps_total:
        _record(post, kind=f"approved_step_{state.step}", decision=Decision.APPROVED, **record)  # type: ignore[arg-type]
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="post.approve_step",
            target=post,
            data={"step": state.step},
        )
        _notify(
            workspace,
            post,
            recipients=told,
            kind=NotificationKind.POST_APPROVED,
            actor=actor,
            actor_name=who,
        )
        _notify_next_step(workspace, post, step=state.step + 1, actor=actor, name=who)
        return post
    post.status, post.approved_by, post.approved_at = PostStatus.APPROVED, actor, timezone.now()
    post.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    _record(post, kind="approved", decision=Decision.APPROVED, **record)  # type: ignore[arg-type]
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="post.approve",
        target=post,
        data={"step": state.step, "external": reviewer_name} if link is not None else {"step": state.step},
    )
    _notify(
        workspace,
        post,
        recipients=told,
        kind=NotificationKind.POST_APPROVED,
        actor=actor,
        actor_name=who,
    )
    # An external reviewer has no account: the member who gave them the link schedules.
    return _schedule_planned(workspace, post, scheduler=actor if link is None else link.created_by)


def _schedule_planned(workspace: Workspace, post: Post, *, scheduler: User | None) -> Post:
    """After the final approval: schedule the post at its planned time, through ``post_schedule`` with the
    approver as the actor (who must be allowed to schedule). A planned time that has passed, or a schedule
    that is refused, leaves the post approved with a timeline entry saying why; the post page then asks
    for a new time (``approval_plan_notice``)."""
    planned = post.scheduled_at
    if planned is None:
        return post
    message = ""
    if planned <= timezone.now():
        reason = "passed"
    elif scheduler is None or not role_allows(
        membership_role(workspace=workspace, user=scheduler), Action.SCHEDULE_POST
    ):
        reason = "not_allowed"
    else:
        try:
            return post_schedule(workspace=workspace, post=post, actor=scheduler, at=planned)
        except (PostError, PermissionDenied) as exc:  # undone to post_schedule's savepoint
            reason, message = "refused", getattr(exc, "message", "") or str(exc)
    PostEvent.objects.create(
        post=post,
        kind="plan_not_scheduled",
        message=message,
        data={"planned_at": planned.isoformat(), "reason": reason},
    )
    return post


def _clean_comment(comment: str, *, required: bool, decision: str) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        message = (
            _("Say why it is rejected: the author needs to know what to change.")
            if decision == Decision.REJECTED
            else _("Write a comment.")
        )
        raise ApprovalError(message, code="comment_required")
    return comment


@transaction.atomic
def approval_decide(
    *,
    workspace: Workspace,
    post: Post,
    actor: User,
    decision: str,
    comment: str = "",
    expected_round: int | None = None,
) -> Post:
    """Approve or reject the post's current step. Approving the last step approves the post; rejecting
    (at any step, a reason is required) sends it back to draft.

    ``expected_round`` (from the form the approver saw) refuses the decision if the post changed since.
    """
    _require(workspace, actor, Action.APPROVE_POST)
    if decision not in {Decision.APPROVED, Decision.REJECTED}:
        raise ApprovalError(_("Unknown decision."), code="invalid")
    post = _lock_post(workspace, post.pk)
    if post.status != PostStatus.IN_REVIEW:
        raise ApprovalError(
            _("Only posts in review can be approved.")
            if decision == Decision.APPROVED
            else _("Only posts in review can be rejected."),
            code="invalid_state",
        )
    comment = _clean_comment(comment, required=decision == Decision.REJECTED, decision=decision)
    state = approval_state(workspace=workspace, post=post)
    _check_round(state, expected_round)
    if decision == Decision.APPROVED:
        if state.step_external:
            raise ApprovalError(
                _("Step 2 is decided by the external reviewer through a review link."), code="external_step"
            )
        if state.step == 2 and state.step1_approved_by_id == actor.pk:
            raise ApprovalError(
                _("You approved step 1; step 2 needs another approver."), code="same_approver"
            )
        role = membership_role(workspace=workspace, user=actor)
        if approval_own_post_blocked(workspace=workspace, post=post, user=actor, role=role):
            raise ApprovalError(
                _("You wrote this post, so someone else has to approve it (four-eyes principle)."),
                code="own_post",
            )
    return _apply(workspace, post, state, decision=decision, comment=comment, actor=actor)


@transaction.atomic
def approval_comment(*, workspace: Workspace, post: Post, actor: User, comment: str) -> ApprovalDecision:
    """A comment on the post (in review or not); it goes into the history and to the people involved."""
    _require(workspace, actor, Action.CREATE_POST)
    comment = _clean_comment(comment, required=True, decision=Decision.COMMENTED)
    post = _lock_post(workspace, post.pk)
    state = approval_state(workspace=workspace, post=post)
    decision = _record(
        post, kind="commented", decision=Decision.COMMENTED, step=state.step, comment=comment, actor=actor
    )
    _notify(
        workspace,
        post,
        recipients=_participants(post),
        kind=NotificationKind.COMMENT_ADDED,
        actor=actor,
        comment=comment,
    )
    return decision


# -- review links (external reviewers without an account) --------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=REVIEW_LINK_SALT)


def review_link_url(*, link: ReviewLink) -> str:
    """A fresh signed URL for ``link`` (only the creator sees it; the token is never stored)."""
    token = _signer().sign(str(link.pk))
    return settings.BASE_URL.rstrip("/") + reverse("approvals_public:review", args=[token])


@transaction.atomic
def review_link_create(
    *,
    workspace: Workspace,
    post: Post,
    actor: User,
    reviewer_name: str,
    reviewer_email: str = "",
    valid_days: int = 7,
) -> IssuedReviewLink:
    """A link for an external reviewer. In a two-step workspace whose step 2 is external it can approve
    or reject step 2; otherwise it can only comment. Returns the absolute URL, once."""
    _require(workspace, actor, Action.APPROVE_POST)
    if post.workspace_id != workspace.pk:
        raise ApprovalError(_("Post not found."), code="not_found")
    reviewer_name = reviewer_name.strip()[:150]
    reviewer_email = reviewer_email.strip()
    if not reviewer_name:
        raise ApprovalError(_("Enter the reviewer's name."), code="name_required")
    if reviewer_email:
        try:
            validate_email(reviewer_email)
        except ValidationError as exc:
            raise ApprovalError(_("Enter a valid e-mail address."), code="invalid_email") from exc
    if not 1 <= valid_days <= REVIEW_LINK_MAX_DAYS:
        raise ApprovalError(
            _("A review link is valid for 1 to %(max)s days.") % {"max": REVIEW_LINK_MAX_DAYS},
            code="invalid_validity",
        )
    external = (
        steps_total(workspace) == 2
        and ApprovalSettings.objects.filter(workspace=workspace, step2_external=True).exists()
    )
    now = timezone.now()
    link = ReviewLink.objects.create(
        post=post,
        step=2 if external else 0,
        created_by=actor,
        reviewer_name=reviewer_name,
        reviewer_email=reviewer_email,
        created_at=now,
        expires_at=now + timedelta(days=valid_days),
    )
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="review_link.create",
        target=link,
        data={"post": post.pk, "reviewer": reviewer_name, "days": valid_days},
    )
    return IssuedReviewLink(link=link, url=review_link_url(link=link))


@transaction.atomic
def review_link_revoke(*, workspace: Workspace, link: ReviewLink, actor: User) -> ReviewLink:
    _require(workspace, actor, Action.APPROVE_POST)
    link = ReviewLink.objects.select_for_update().get(pk=link.pk, post__workspace=workspace)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_log_record(workspace=workspace, actor=actor, action="review_link.revoke", target=link)
    return link


def review_link_resolve(*, token: str, lock: bool = False) -> ReviewLink:
    """The link a token stands for, if it may still be used; ``ReviewLinkError`` otherwise.

    The token is the permission (there is no workspace to pass before it is resolved): its signature
    proves we issued it, ``max_age`` bounds its age, and the database says whether it was revoked or has
    expired earlier than that.
    """
    try:
        value = _signer().unsign(token, max_age=timedelta(days=REVIEW_LINK_MAX_DAYS, hours=1))
    except signing.SignatureExpired as exc:
        raise ReviewLinkError("expired") from exc
    except signing.BadSignature as exc:
        raise ReviewLinkError("invalid") from exc
    if not value.isdigit():
        raise ReviewLinkError("invalid")
    qs = ReviewLink.objects.select_related("post__workspace", "post__author")
    if lock:
        qs = qs.select_for_update(of=("self",))
    link = qs.filter(pk=int(value)).first()
    if link is None:
        raise ReviewLinkError("invalid")
    if link.revoked_at is not None:
        raise ReviewLinkError("revoked")
    if link.expires_at <= timezone.now():
        raise ReviewLinkError("expired")
    if link.post.workspace.archived_at is not None:
        # An archived workspace publishes nothing new (accounts.services.workspace_archive), and an
        # external approval would schedule the post: its links are withdrawn with it.
        raise ReviewLinkError("revoked")
    return link


def review_can_decide(*, link: ReviewLink, state: ApprovalState) -> bool:
    return state.step is not None and state.step_external and link.step == state.step


@transaction.atomic
def review_decide_external(
    *,
    token: str,
    decision: str,
    comment: str,
    name: str,
    expected_round: int | None = None,
) -> ReviewLink:
    """An external reviewer approves, rejects (with a reason) or comments through their link."""
    if decision not in Decision.values:
        raise ApprovalError(_("Unknown decision."), code="invalid")
    link = review_link_resolve(token=token, lock=True)
    workspace = link.post.workspace
    post = _lock_post(workspace, link.post_id)
    name = (name or "").strip()[:150] or link.reviewer_name
    comment = _clean_comment(comment, required=decision != Decision.APPROVED, decision=decision)
    state = approval_state(workspace=workspace, post=post)
    if decision == Decision.COMMENTED:
        _record(
            post,
            kind="commented",
            decision=Decision.COMMENTED,
            step=state.step,
            comment=comment,
            actor=None,
            link=link,
            reviewer_name=name,
            reviewer_email=link.reviewer_email,
        )
        _notify(
            workspace,
            post,
            recipients=[*_participants(post), link.created_by],
            kind=NotificationKind.COMMENT_ADDED,
            actor=None,
            actor_name=name,
            comment=comment,
        )
    else:
        if not review_can_decide(link=link, state=state):
            raise ApprovalError(
                _("This post is not waiting for your decision right now. You can still leave a comment."),
                code="invalid_state",
            )
        _check_round(state, expected_round)
        _apply(
            workspace,
            post,
            state,
            decision=decision,
            comment=comment,
            actor=None,
            link=link,
            reviewer_name=name,
            reviewer_email=link.reviewer_email,
        )
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    return link


# -- the post's review actions (the post pages, the API and bulk import call these) ---------------------


def post_submit_for_approval(*, workspace: Workspace, post: Post, actor: User) -> Post:
    """Send a draft into review (the post pages' and API's name for ``approval_submit``)."""
    return approval_submit(workspace=workspace, post=post, actor=actor)


def post_approve(
    *, workspace: Workspace, post: Post, actor: User, comment: str = "", expected_round: int | None = None
) -> Post:
    """Approve the post's current step; the last step approves the post (see ``approval_decide``)."""
    return approval_decide(
        workspace=workspace,
        post=post,
        actor=actor,
        decision="approved",
        comment=comment,
        expected_round=expected_round,
    )


def post_reject(
    *, workspace: Workspace, post: Post, actor: User, comment: str, expected_round: int | None = None
) -> Post:
    """Reject at any step with a reason: the post goes back to draft (see ``approval_decide``)."""
    return approval_decide(
        workspace=workspace,
        post=post,
        actor=actor,
        decision="rejected",
        comment=comment,
        expected_round=expected_round,
    )
