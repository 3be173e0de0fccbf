"""Forms of the approvals pages. They only parse input; the rules live in ``services``."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.accounts.models import ApprovalMode
from resonanz.web.forms import WebForm

from .models import Decision
from .services import REVIEW_LINK_MAX_DAYS


class DecisionForm(WebForm):
    """Approve or reject (the button says which); ``round`` is the round the approver looked at."""

    decision = forms.ChoiceField(
        choices=[(Decision.APPROVED, _("Approve")), (Decision.REJECTED, _("Reject"))],
        widget=forms.HiddenInput,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you reject."),
    )
    round = forms.IntegerField(required=False, widget=forms.HiddenInput)


class PostCommentForm(WebForm):
    """A comment on the post page (the approval's own note has a label of its own: ``CommentForm``)."""

    comment = forms.CharField(
        label=_("Comment for everyone involved"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Goes into the history; the author and everyone who decided or commented are told."),
    )


class ReviewLinkForm(WebForm):
    reviewer_name = forms.CharField(label=_("Reviewer's name"), max_length=150)
    reviewer_email = forms.EmailField(label=_("Reviewer's e-mail"), required=False)
    valid_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=REVIEW_LINK_MAX_DAYS, initial=7
    )


class ApprovalSettingsForm(WebForm):
    approval_mode = forms.TypedChoiceField(
        label=_("Approval before publishing"),
        choices=ApprovalMode.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    step2_external = forms.BooleanField(
        label=_("Step 2 is decided by an external reviewer (e.g. the client) through a review link"),
        required=False,
        help_text=_(
            "Only used with two steps. Otherwise a second approver of this workspace decides step 2."
        ),
    )


class ExternalReviewForm(WebForm):
    """The public review page: who is writing, what they say, and which button they pressed."""

    name = forms.CharField(label=_("Your name"), max_length=150)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required when you reject or only comment."),
    )
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.HiddenInput)
    round = forms.IntegerField(required=False, widget=forms.HiddenInput)


class CommentForm(WebForm):
    """The optional note that goes with an approval (the post page's approval panel)."""

    comment = forms.CharField(
        label=_("Note with your approval (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RejectForm(WebForm):
    comment = forms.CharField(label=_("Why is it rejected?"), widget=forms.Textarea(attrs={"rows": 2}))
