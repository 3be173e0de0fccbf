"""Web views of approvals: the "waiting for me" queue, decisions, comments, review links, settings.

Thin like every view: parse the form, call a service with the workspace, render. Routine actions are
htmx requests answered with the changed fragment; without JavaScript the same forms post and redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.models import ApprovalMode
from resonanz.accounts.permissions import Action
from resonanz.posts.models import Post
from resonanz.posts.selectors import post_get
from resonanz.posts.services import PostError, PostValidationError
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import ApprovalSettingsForm, DecisionForm, PostCommentForm, ReviewLinkForm
from .panel import decision_outcome, panel_context
from .selectors import (
    approval_post_media,
    approval_queue,
    approval_settings_get,
    approval_state,
    approval_waiting_count,
    post_unapproved_scheduled_count,
    review_link_get,
)
from .services import (
    approval_comment,
    approval_decide,
    approval_settings_update,
    review_link_create,
    review_link_revoke,
)

SERVICE_ERRORS = (PostError, PermissionDenied)


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _error_text(exc: Exception) -> str:
    if isinstance(exc, PostValidationError):
        return exc.message
    return getattr(exc, "message", "") or str(exc) or _("Your role does not allow this action.")


def _panel(
    request: HttpRequest, scope: Scope, post: Post, *, status: int = 200, **forms: object
) -> HttpResponse:
    context = panel_context(scope, post, **forms)  # type: ignore[arg-type]
    return render(request, "approvals/_panel.html", context, status=status)


def _detail_redirect(scope: Scope, post: Post) -> HttpResponse:
    return redirect("web:post_detail", workspace_id=scope.workspace.pk, post_id=post.pk)


# -- the queue ----------------------------------------------------------------------------------


@require_GET
@workspace_view()
def approval_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    queue = approval_queue(workspace=scope.workspace, user=scope.user, role=scope.role)
    mine_authored = [
        item
        for group in ("external", "others")
        for item in queue[group]
        if item.post.author_id == scope.user.pk
    ]
    # The user's own posts are listed once, under "Your posts in review" (four-eyes rule: not hers to decide).
    queue["others"] = [item for item in queue["others"] if item.post.author_id != scope.user.pk]
    return render_scoped(
        request,
        scope,
        "approvals/list.html",
        {
            "queue": queue,
            "my_posts": mine_authored,
            "settings": approval_settings_get(workspace=scope.workspace),
            "can_approve": scope.can(Action.APPROVE_POST),
            "can_manage": scope.can(Action.MANAGE_WORKSPACE),
        },
    )


@require_POST
@workspace_view(Action.APPROVE_POST)
def approval_decide_view(request: HttpRequest, scope: Scope, post_id: int) -> HttpResponse:
    """Approve or reject from the queue; htmx gets the row replaced by the outcome."""
    post = or_404(post_get, workspace=scope.workspace, post_id=post_id)
    form = DecisionForm(request.POST, prefix=f"p{post.pk}")
    error = ""
    if form.is_valid():
        d = form.cleaned_data
        try:
            post = approval_decide(
                workspace=scope.workspace,
                post=post,
                actor=scope.user,
                decision=d["decision"],
                comment=d["comment"],
                expected_round=d["round"],
            )
        except SERVICE_ERRORS as exc:
            error = _error_text(exc)
    else:
        error = " ".join(str(m) for errors in form.errors.values() for m in errors)
    if error:
        if not _is_htmx(request):
            messages.error(request, error)
            return redirect("approvals:list", workspace_id=scope.workspace.pk)
        state = approval_state(workspace=scope.workspace, post=post)
        return render(
            request,
            "approvals/_queue_item.html",
            {
                "workspace": scope.workspace,
                "item": {
                    "post": post,
                    "step": state.step,
                    "steps_total": state.steps_total,
                    "round": state.round,
                    "media": approval_post_media(workspace=scope.workspace, post=post),
                },
                "comment": form.data.get(f"p{post.pk}-comment", ""),
                "error": error,
                "decidable": state.in_review,
            },
            status=400,
        )
    outcome = decision_outcome(scope.workspace, post)
    if not _is_htmx(request):
        messages.success(request, outcome)
        return redirect("approvals:list", workspace_id=scope.workspace.pk)
    return render(
        request,
        "approvals/_queue_done.html",
        {
            "workspace": scope.workspace,
            "post": post,
            "outcome": outcome,
            "approvals_count": approval_waiting_count(
                workspace=scope.workspace, user=scope.user, role=scope.role
            ),
        },
    )


# -- the panel on the post page -----------------------------------------------------------------


@require_POST
@workspace_view(Action.CREATE_POST)
def approval_comment_view(request: HttpRequest, scope: Scope, post_id: int) -> HttpResponse:
    post = or_404(post_get, workspace=scope.workspace, post_id=post_id)
    form = PostCommentForm(request.POST, prefix="note")
    if form.is_valid():
        try:
            approval_comment(
                workspace=scope.workspace, post=post, actor=scope.user, comment=form.cleaned_data["comment"]
            )
        except SERVICE_ERRORS as exc:
            form.add_error("comment", _error_text(exc))
    if not _is_htmx(request):
        if form.errors:
            messages.error(request, " ".join(str(m) for e in form.errors.values() for m in e))
        else:
            messages.success(request, _("Comment added."))
        return _detail_redirect(scope, post)
    if form.errors:
        return _panel(request, scope, post, comment_form=form, status=400)
    return _panel(request, scope, post)


@require_POST
@workspace_view(Action.APPROVE_POST)
def review_link_create_view(request: HttpRequest, scope: Scope, post_id: int) -> HttpResponse:
    post = or_404(post_get, workspace=scope.workspace, post_id=post_id)
    form = ReviewLinkForm(request.POST, prefix="link")
    url = ""
    if form.is_valid():
        d = form.cleaned_data
        try:
            url = review_link_create(
                workspace=scope.workspace,
                post=post,
                actor=scope.user,
                reviewer_name=d["reviewer_name"],
                reviewer_email=d["reviewer_email"] or "",
                valid_days=d["valid_days"],
            ).url
        except SERVICE_ERRORS as exc:
            form.add_error(None, _error_text(exc))
    if not _is_htmx(request):
        # Without JavaScript the link is shown once on a page of its own (it is never stored).
        return render_scoped(
            request,
            scope,
            "approvals/link_created.html",
            {"post": post, "url": url, "link_form": form},
            status=200 if url else 400,
        )
    if not url:
        return _panel(request, scope, post, link_form=form, status=400)
    return _panel(request, scope, post, new_link_url=url)


@require_POST
@workspace_view(Action.APPROVE_POST)
def review_link_revoke_view(request: HttpRequest, scope: Scope, post_id: int, link_id: int) -> HttpResponse:
    link = or_404(review_link_get, workspace=scope.workspace, link_id=link_id)
    post = or_404(post_get, workspace=scope.workspace, post_id=post_id)
    if link.post_id != post.pk:
        return HttpResponse(status=404)
    review_link_revoke(workspace=scope.workspace, link=link, actor=scope.user)
    if not _is_htmx(request):
        messages.success(request, _("The review link was withdrawn."))
        return _detail_redirect(scope, post)
    return _panel(request, scope, post)


# -- settings -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_WORKSPACE)
def approval_settings_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    current = approval_settings_get(workspace=ws)
    initial = {"approval_mode": ws.approval_mode, "step2_external": current.step2_external}
    status = 200
    if request.method == "POST":
        form = ApprovalSettingsForm(request.POST, initial=initial)
        if form.is_valid():
            approval_settings_update(
                workspace=ws,
                actor=scope.user,
                approval_mode=form.cleaned_data["approval_mode"],
                step2_external=form.cleaned_data["step2_external"],
            )
            messages.success(request, _("Approval settings saved."))
            return redirect("approvals:settings", workspace_id=ws.pk)
        status = 400
    else:
        form = ApprovalSettingsForm(initial=initial)
    unapproved_scheduled = post_unapproved_scheduled_count(workspace=ws)
    return render_scoped(
        request,
        scope,
        "approvals/settings.html",
        {
            "form": form,
            "unapproved_scheduled": unapproved_scheduled if ws.approval_mode == ApprovalMode.NONE else 0,
        },
        status=status,
    )
