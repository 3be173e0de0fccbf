"""Approval of posts: per-workspace settings, the decisions and comments of each step, review links.

``Workspace.approval_mode`` (0 = none, 1 = one step, 2 = two steps) is the switch; ``ApprovalSettings``
says who decides step 2 (the workspace's approvers again, or an external reviewer through a link).

Which step a post in review is at is derived, never stored: step 2 if step 1 was approved *in the current
round*. A round starts with every event that changes what is being reviewed (submitted, edited, sent back,
rejected), so any edit restarts the whole chain without the editing code having to know about approvals.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# PostEvent kinds that start a new approval round (decisions before them no longer count).
ROUND_START_KINDS = ("created", "submitted", "edited", "sent_back_to_review", "rejected")


class ApprovalSettings(models.Model):
    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="approval_settings"
    )
    step2_external = models.BooleanField(
        _("step 2 is decided by an external reviewer"),
        default=False,
        help_text=_("The client approves through a review link, without an account."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("approval settings")
        verbose_name_plural = _("approval settings")

    def __str__(self) -> str:
        return f"approval settings of {self.workspace_id}"


class Decision(models.TextChoices):
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    COMMENTED = "commented", _("Commented")


class ReviewLink(models.Model):
    """A signed, expiring link for someone without an account. Only the id is signed; the token itself is
    never stored (it can be recomputed only with the server's secret key, and is shown once)."""

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="review_links")
    # The step the reviewer may decide (2 = the external step 2); 0 = they may only comment.
    step = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewer_name = models.CharField(_("reviewer's name"), max_length=150)
    reviewer_email = models.EmailField(_("reviewer's e-mail"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)  # last decision or comment through the link

    class Meta:
        verbose_name = _("review link")
        verbose_name_plural = _("review links")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"review link {self.pk} for post {self.post_id} ({self.reviewer_name})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class ApprovalDecision(models.Model):
    """One approval, rejection or comment on a post, by a member or an external reviewer."""

    post = models.ForeignKey("posts.Post", on_delete=models.CASCADE, related_name="approval_decisions")
    # The step under review when this was written; None for a comment while the post was not in review.
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comment = models.TextField(_("comment"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # External reviewers (no account): who they said they are, and through which link.
    reviewer_name = models.CharField(max_length=150, blank=True)
    reviewer_email = models.EmailField(blank=True)
    review_link = models.ForeignKey(
        ReviewLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="decisions"
    )
    # The timeline entry; its id orders decisions against the events that start a new round.
    event = models.OneToOneField(
        "posts.PostEvent", on_delete=models.CASCADE, related_name="approval_decision"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("approval decision")
        verbose_name_plural = _("approval decisions")
        ordering = ["event_id"]
        indexes = [models.Index(fields=["post", "step", "decision"])]

    def __str__(self) -> str:
        return f"{self.post_id} step {self.step}: {self.decision}"

    @property
    def is_external(self) -> bool:
        return self.decided_by_id is None and bool(self.reviewer_name)
