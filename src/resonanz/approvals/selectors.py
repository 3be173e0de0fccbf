"""Reads for approvals: where a post stands, who may decide it, its history, the queue of each user."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from resonanz.accounts.models import ApprovalMode, Membership, Role, User, Workspace
from resonanz.accounts.permissions import Action, role_allows
from resonanz.core.errors import ensure_same_workspace
from resonanz.posts.models import MediaAsset, PartMedia, Post, PostEvent, PostStatus, Variant, VariantPart

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


# Four-eyes rule: nobody approves a post they wrote. The one exception: an owner or admin who is the only
# member allowed to approve (a one-person workspace), since nobody else could ever approve it.
SELF_APPROVAL_ROLES = frozenset({Role.OWNER, Role.ADMIN})


def approval_self_allowed(*, workspace: Workspace, user: User, role: str | None) -> bool:
    """May ``user`` approve posts they wrote themselves? Only an owner or admin who is the workspace's
    only active member with approval rights."""
    if role not in SELF_APPROVAL_ROLES or not role_allows(role, Action.APPROVE_POST):
        return False
    others = Membership.objects.filter(
        workspace=workspace, role__in=approver_roles(), user__is_active=True
    ).exclude(user=user)
    return not others.exists()


def approval_own_post_blocked(*, workspace: Workspace, post: Post, user: User, role: str | None) -> bool:
    """True when the four-eyes rule keeps ``user`` from approving ``post`` (they wrote it)."""
    if post.author_id is None or post.author_id != user.pk:
        return False
    return not approval_self_allowed(workspace=workspace, user=user, role=role)


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
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
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
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
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


def approval_can_decide(
    *, workspace: Workspace, post: Post, state: ApprovalState, user: User, role: str | None
) -> bool:
    """May this member approve the post's current step? Not at an external step, not step 2 after
    approving step 1, not a post they wrote (four-eyes rule, ``approval_own_post_blocked``)."""
    if state.step is None or not role_allows(role, Action.APPROVE_POST) or state.step_external:
        return False
    if state.step == 2 and state.step1_approved_by_id == user.pk:
        return False
    return not approval_own_post_blocked(workspace=workspace, post=post, user=user, role=role)


def plan_state(post: Post) -> str:
    """Where an approved post stands with its planned time: ``passed`` (it had passed at approval, or
    has since: not scheduled, a new time is needed), ``waiting`` (planned in the future but not scheduled:
    someone who may schedule has to), or "" (scheduled, no planned time, or not approved yet)."""
    if post.status != PostStatus.APPROVED or post.scheduled_at is None:
        return ""
    return "passed" if post.scheduled_at <= timezone.now() else "waiting"


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
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    events = (
        PostEvent.objects.filter(post=post, kind__in=HISTORY_KINDS)
        .select_related("actor", "approval_decision")
        .order_by("pk")
    )
    entries = []
    for event in events:
        decision: ApprovalDecision | None = getattr(event, "approval_decision", None)
        external = decision is not None and decision.is_external
        if decision is not None and external:
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


@dataclass(frozen=True)
class MediaItem:
    """An image (or video) of a post as approvers see it: the file and its description (alt text)."""

    asset: MediaAsset
    alt: str

    @property
    def is_video(self) -> bool:
        return self.asset.mime_type.startswith("video/")


def media_items(attachments: Iterable[PartMedia]) -> list[MediaItem]:
    """Each file with its alt text once, in order (every channel's variant carries the same images)."""
    seen: set[tuple[int, str]] = set()
    items = []
    for pm in attachments:
        item = MediaItem(asset=pm.asset, alt=(pm.alt_text or pm.asset.alt_text).strip())
        if (pm.asset_id, item.alt) not in seen:
            seen.add((pm.asset_id, item.alt))
            items.append(item)
    return items


def approval_post_media(*, workspace: Workspace, post: Post) -> list[MediaItem]:
    """The images of a post under review (one query)."""
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    attachments = (
        PartMedia.objects.filter(part__variant__post=post)
        .select_related("asset")
        .order_by("part__index", "position", "part__variant__channel_id")
    )
    return media_items(attachments)


def _prefetched_media(post: Post) -> list[MediaItem]:
    parts = sorted((p for v in post.variants.all() for p in v.parts.all()), key=lambda p: p.index)
    return media_items(pm for part in parts for pm in part.partmedia_set.all())


@dataclass
class WaitingPost:
    post: Post
    step: int
    steps_total: int
    external: bool
    round: int
    media: list[MediaItem] = field(default_factory=list)


def approval_queue(*, workspace: Workspace, user: User, role: str | None) -> dict[str, list[WaitingPost]]:
    """Posts in review, split into ``mine`` (the user may decide the current step), ``external`` (waiting
    for an external reviewer) and ``others`` (waiting for someone else, e.g. another approver, and the
    user's own posts: four-eyes rule)."""
    total = steps_total(workspace)
    external_step2 = total == 2 and approval_settings_get(workspace=workspace).step2_external
    approver = role_allows(role, Action.APPROVE_POST)
    qs = (
        _in_review(workspace)
        .select_related("author")
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.select_related("channel").order_by("channel_id")),
            Prefetch("variants__parts", queryset=VariantPart.objects.order_by("index")),
            Prefetch(
                "variants__parts__partmedia_set",
                queryset=PartMedia.objects.select_related("asset").order_by("position"),
            ),
        )
        .order_by("updated_at", "pk")
    )
    result: dict[str, list[WaitingPost]] = {"mine": [], "external": [], "others": []}
    # Four-eyes rule: the user's own posts wait for someone else (unless nobody else may approve).
    own_ok: bool | None = None  # asked only when one of the posts is the user's
    for post in qs:
        step = 2 if total == 2 and post.step1_done else 1  # type: ignore[attr-defined]
        external = step == 2 and external_step2
        item = WaitingPost(
            post=post,
            step=step,
            steps_total=total,
            external=external,
            round=post.round_start,  # type: ignore[attr-defined]
            media=_prefetched_media(post),
        )
        if external:
            result["external"].append(item)
        elif not approver or (step == 2 and post.step1_by == user.pk):  # type: ignore[attr-defined]
            result["others"].append(item)
        elif post.author_id != user.pk:
            result["mine"].append(item)
        else:
            if own_ok is None:
                own_ok = approval_self_allowed(workspace=workspace, user=user, role=role)
            result["mine" if own_ok else "others"].append(item)
    return result


def _waiting(*, workspace: Workspace, user: User) -> QuerySet[Post]:
    """Posts whose current step an approver may decide, before the four-eyes rule (any number of steps)."""
    qs = _in_review(workspace)
    if steps_total(workspace) == 2:
        if approval_settings_get(workspace=workspace).step2_external:
            qs = qs.filter(step1_done=False)  # type: ignore[misc]  # an annotation
        else:  # step 2 is not for the person who approved step 1
            qs = qs.filter(Q(step1_done=False) | Q(step1_by__isnull=True) | ~Q(step1_by=user.pk))
    return qs


def _waiting_one_step(*, workspace: Workspace) -> QuerySet[Post]:
    """``_waiting`` for a one-step workspace: every post in review is at step 1 (no rounds to look at)."""
    return Post.objects.filter(workspace=workspace, status=PostStatus.IN_REVIEW)


def approval_waiting_count(*, workspace: Workspace, user: User, role: str | None) -> int:
    """How many posts wait for this user's decision (the number in the navigation): not their own posts
    (four-eyes rule), unless they are the only one who may approve. Runs on every page: one-step
    workspaces get a plain COUNT without the round/step subqueries."""
    if not role_allows(role, Action.APPROVE_POST):
        return 0
    if steps_total(workspace) == 1:
        qs = _waiting_one_step(workspace=workspace)
    else:
        qs = _waiting(workspace=workspace, user=user)
    if role not in SELF_APPROVAL_ROLES:
        return qs.exclude(author_id=user.pk).count()
    # Owners and admins: the membership check only when some of the waiting posts are their own.
    counts = qs.aggregate(total=Count("pk"), own=Count("pk", filter=Q(author_id=user.pk)))
    if counts["own"] and not approval_self_allowed(workspace=workspace, user=user, role=role):
        return int(counts["total"] - counts["own"])
    return int(counts["total"])


def review_link_list(*, workspace: Workspace, post: Post) -> QuerySet[ReviewLink]:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    return ReviewLink.objects.filter(post=post).select_related("created_by")


def review_link_get(*, workspace: Workspace, link_id: int) -> ReviewLink:
    return ReviewLink.objects.select_related("post").get(post__workspace=workspace, pk=link_id)


def post_unapproved_scheduled_count(*, workspace: Workspace) -> int:
    """Scheduled posts without approval: they would not publish if approval were switched on."""
    return Post.objects.filter(
        workspace=workspace, status=PostStatus.SCHEDULED, approved_at__isnull=True
    ).count()
