"""Reads for approvals: where a post stands, who may decide it, its history, the queue of each user."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from resonanz.accounts.models import ApprovalMode, Role, User, Workspace
from resonanz.accounts.permissions import Action, role_allows
from resonanz.posts.models import Post, PostEvent, PostStatus, Variant, VariantPart

from .models import ROUND_START_KINDS, ApprovalDecision, ApprovalSettings, Decision, ReviewLink

# Timeline kinds that belong to the approval history (shown on the post page and in the API).
HISTORY_KINDS = (
    "submitted",
    "approved_step_1",
    "approved",
    "rejected",
    "commented",
    "sent_back_to_review",
)


def approver_roles() -> set[str]:
    return {role for role in Role.values if role_allows(role, Action.APPROVE_POST)}


def approval_settings_get(*, workspace: Workspace) -> ApprovalSettings:
    """The workspace's settings (an unsaved default if none were ever saved)."""
    found = ApprovalSettings.objects.filter(workspace=workspace).first()
    return found or ApprovalSettings(workspace=workspace)


def steps_total(workspace: Workspace) -> int:
    """How many approvals a post needs. A post left in review after approval was switched off still
    needs (and can get) one."""
    return 2 if workspace.approval_mode == ApprovalMode.TWO_STEPS else 1


def _round_start_subquery() -> Subquery:
    return Subquery(
        PostEvent.objects.filter(post=OuterRef("pk"), kind__in=ROUND_START_KINDS)
        .order_by("-pk")
        .values("pk")[:1]
    )


def round_start(*, workspace: Workspace, post: Post) -> int:
    """Id of the event that started the current round (0 if none): decisions before it are history."""
    assert post.workspace_id == workspace.pk
    found = (
        PostEvent.objects.filter(post=post, kind__in=ROUND_START_KINDS)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return found or 0


@dataclass(frozen=True)
class ApprovalState:
    """Where a post stands in its approval chain."""

    steps_total: int
    step: int | None  # the step waiting for a decision; None when the post is not in review
    step_external: bool  # the current step is decided by an external reviewer (review link)
    step1_approved_by_id: int | None  # who approved step 1 in this round (four-eyes rule for step 2)
    round: int  # id of the event that started the round; forms send it back to detect changes
    step2_external: bool = False
    approved: bool = False

    @property
    def in_review(self) -> bool:
        return self.step is not None


def approval_state(*, workspace: Workspace, post: Post) -> ApprovalState:
    assert post.workspace_id == workspace.pk
    config = approval_settings_get(workspace=workspace)
    total = steps_total(workspace)
    start = round_start(workspace=workspace, post=post)
    step1 = (
        ApprovalDecision.objects.filter(post=post, step=1, decision=Decision.APPROVED, event_id__gt=start)
        .order_by("-event_id")
        .first()
    )
    step: int | None = None
    if post.status == PostStatus.IN_REVIEW:
        step = 2 if total == 2 and step1 is not None else 1
    external = step == 2 and config.step2_external
    return ApprovalState(
        steps_total=total,
        step=step,
        step_external=external,
        step1_approved_by_id=step1.decided_by_id if step1 is not None and step == 2 else None,
        round=start,
        step2_external=total == 2 and config.step2_external,
        approved=post.approved_at is not None,
    )


def approval_can_decide(*, state: ApprovalState, user: User, role: str | None) -> bool:
    """May this member approve the post's current step? (Rejecting needs only the approver role.)"""
    if state.step is None or not role_allows(role, Action.APPROVE_POST) or state.step_external:
        return False
    return not (state.step == 2 and state.step1_approved_by_id == user.pk)


@dataclass
class HistoryEntry:
    event: PostEvent
    decision: ApprovalDecision | None
    external: bool
    who: str  # the member's name/e-mail or the external reviewer's name
    email: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def approval_history(*, workspace: Workspace, post: Post) -> list[HistoryEntry]:
    """Submissions, decisions and comments of every round, oldest first."""
    assert post.workspace_id == workspace.pk
    events = (
        PostEvent.objects.filter(post=post, kind__in=HISTORY_KINDS)
        .select_related("actor", "approval_decision")
        .order_by("pk")
    )
    entries = []
    for event in events:
        decision: ApprovalDecision | None = getattr(event, "approval_decision", None)
        external = decision is not None and decision.is_external
        if external:
            assert decision is not None
            who, email = decision.reviewer_name, decision.reviewer_email
        elif event.actor is not None:
            who, email = event.actor.name or event.actor.email, event.actor.email
        else:
            who, email = "", ""
        entries.append(HistoryEntry(event=event, decision=decision, external=external, who=who, email=email))
    return entries


def _in_review(workspace: Workspace) -> QuerySet[Post]:
    """Posts in review with their round start and step-1 approval of that round, in two subqueries."""
    step1 = ApprovalDecision.objects.filter(
        post=OuterRef("pk"),
        step=1,
        decision=Decision.APPROVED,
        event_id__gt=OuterRef("round_start"),
    ).order_by("-event_id")
    return (
        Post.objects.filter(workspace=workspace, status=PostStatus.IN_REVIEW)
        .annotate(round_start=Coalesce(_round_start_subquery(), Value(0), output_field=IntegerField()))
        .annotate(
            step1_done=Exists(step1),
            step1_by=Subquery(step1.values("decided_by")[:1]),
        )
    )


@dataclass
class WaitingPost:
    post: Post
    step: int
    steps_total: int
    external: bool
    round: int


def approval_queue(*, workspace: Workspace, user: User, role: str | None) -> dict[str, list[WaitingPost]]:
    """Posts in review, split into ``mine`` (the user may decide the current step), ``external`` (waiting
    for an external reviewer) and ``others`` (waiting for someone else, e.g. another approver)."""
    total = steps_total(workspace)
    external_step2 = total == 2 and approval_settings_get(workspace=workspace).step2_external
    approver = role_allows(role, Action.APPROVE_POST)
    qs = (
        _in_review(workspace)
        .select_related("author")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.select_related("channel").order_by("channel_id")),
            Prefetch("variants__parts", queryset=VariantPart.objects.order_by("index")),
        )
        .order_by("updated_at", "pk")
    )
    result: dict[str, list[WaitingPost]] = {"mine": [], "external": [], "others": []}
    for post in qs:
        step = 2 if total == 2 and post.step1_done else 1  # type: ignore[attr-defined]
        external = step == 2 and external_step2
        item = WaitingPost(post=post, step=step, steps_total=total, external=external, round=post.round_start)  # type: ignore[attr-defined]
        if external:
            result["external"].append(item)
        elif approver and not (step == 2 and post.step1_by == user.pk):  # type: ignore[attr-defined]
            result["mine"].append(item)
        else:
            result["others"].append(item)
    return result


def approval_waiting_count(*, workspace: Workspace, user: User, role: str | None) -> int:
    """How many posts wait for this user's decision (the number in the navigation)."""
    if not role_allows(role, Action.APPROVE_POST):
        return 0
    qs = _in_review(workspace)
    if steps_total(workspace) == 2:
        if approval_settings_get(workspace=workspace).step2_external:
            return qs.filter(step1_done=False).count()  # type: ignore[misc]  # an annotation
        # Step 2 is not for the person who approved step 1.
        return qs.filter(Q(step1_done=False) | Q(step1_by__isnull=True) | ~Q(step1_by=user.pk)).count()
    return qs.count()


def review_link_list(*, workspace: Workspace, post: Post) -> QuerySet[ReviewLink]:
    assert post.workspace_id == workspace.pk
    return ReviewLink.objects.filter(post=post).select_related("created_by")


def review_link_get(*, workspace: Workspace, link_id: int) -> ReviewLink:
    return ReviewLink.objects.select_related("post").get(post__workspace=workspace, pk=link_id)


def post_unapproved_scheduled_count(*, workspace: Workspace) -> int:
    """Scheduled posts without approval: they would not publish if approval were switched on."""
    return Post.objects.filter(
        workspace=workspace, status=PostStatus.SCHEDULED, approved_at__isnull=True
    ).count()
