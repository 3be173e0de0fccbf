"""The external reviewer's page: no account, the signed review link is the permission.

An unknown or tampered token answers 404, an expired or withdrawn one 410; neither changes anything.
CSRF protection applies as everywhere (the form carries the token; the reviewer gets the cookie on GET).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from resonanz.posts.models import MediaAsset, PostStatus

from .forms import ExternalReviewForm
from .models import Decision, ReviewLink
from .panel import history_labels
from .selectors import approval_history, approval_state, media_items
from .services import (
    ApprovalError,
    ReviewLinkError,
    review_can_decide,
    review_decide_external,
    review_link_resolve,
)


def _private(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """The token is in the URL: never cached, never indexed, never sent to another site as a referrer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = never_cache(view)(request, *args, **kwargs)
        # Not "no-referrer": browsers then send "Origin: null" with the form, and CSRF rightly refuses it.
        response["Referrer-Policy"] = "same-origin"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _reviewer_language(request: HttpRequest, link: ReviewLink) -> str:
    """The reviewer has no account: the language she picked with the switcher (the cookie), or a
    signed-in user's own, else the workspace's language (a German client reads German, whatever the
    browser's default)."""
    languages = dict(settings.LANGUAGES)
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    user_language = getattr(getattr(request, "user", None), "language", "")
    for language in (chosen, user_language):
        if language in languages:
            return language
    return link.post.workspace.language


def _unavailable(request: HttpRequest, error: ReviewLinkError) -> HttpResponse:
    return render(
        request,
        "approvals/public/unavailable.html",
        {"error": error},
        status=410 if error.gone else 404,
    )


def _review_page(
    request: HttpRequest,
    link: ReviewLink,
    token: str,
    *,
    form: ExternalReviewForm | None = None,
    status: int = 200,
) -> HttpResponse:
    post = link.post
    workspace = post.workspace
    state = approval_state(workspace=workspace, post=post)
    labels = history_labels()
    # The reviewer sees decisions and what reviewers wrote; the team's internal comments stay internal.
    history = [
        {"entry": e, "label": labels.get(e.event.kind, e.event.kind)}
        for e in approval_history(workspace=workspace, post=post)
        if e.external or e.event.kind != "commented"
    ]
    variants = []
    for variant in post.variants.select_related("channel").prefetch_related("parts__partmedia_set__asset"):
        parts = [
            {"text": part.text, "media": media_items(part.partmedia_set.all())}
            for part in variant.parts.all()
        ]
        variants.append({"variant": variant, "parts": parts})
    can_decide = review_can_decide(link=link, state=state)
    if form is None:
        form = ExternalReviewForm(initial={"name": link.reviewer_name, "round": state.round})
    return render(
        request,
        "approvals/public/review.html",
        {
            "ws": workspace,
            "post": post,
            "link": link,
            "token": token,
            "state": state,
            "can_decide": can_decide,
            "waiting_for_team": state.step is not None and link.step > state.step,
            "history": history,
            "variants": variants,
            "form": form,
            "approved": post.approved_at is not None and post.status != PostStatus.IN_REVIEW,
        },
        status=status,
    )


@_private
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = review_link_resolve(token=token)
    except ReviewLinkError as error:
        return _unavailable(request, error)
    with translation.override(_reviewer_language(request, link)):
        return _review(request, link, token)


def _review(request: HttpRequest, link: ReviewLink, token: str) -> HttpResponse:
    if request.method == "GET":
        return _review_page(request, link, token)
    form = ExternalReviewForm(request.POST, initial={"name": link.reviewer_name})
    if form.is_valid():
        d = form.cleaned_data
        try:
            review_decide_external(
                token=token,
                decision=d["decision"],
                comment=d["comment"],
                name=d["name"],
                expected_round=d["round"],
            )
        except ReviewLinkError as error:  # expired or withdrawn while the page was open
            return _unavailable(request, error)
        except ApprovalError as exc:
            form.add_error("comment" if exc.code == "comment_required" else None, exc.message)
        else:
            messages.success(
                request,
                {
                    Decision.APPROVED: _("Thank you. You approved the post."),
                    Decision.REJECTED: _("Thank you. The post was sent back with your comment."),
                    Decision.COMMENTED: _("Thank you. Your comment was added."),
                }[d["decision"]],
            )
            return redirect("approvals_public:review", token=token)
    link = review_link_resolve(token=token)
    return _review_page(request, link, token, form=form, status=400)


@_private
@require_GET
def review_media(request: HttpRequest, token: str, asset_id: int) -> HttpResponseBase:
    """An image of the post under review (only files attached to that post)."""
    try:
        link = review_link_resolve(token=token)
    except ReviewLinkError as error:
        return _unavailable(request, error)
    asset = MediaAsset.objects.filter(
        pk=asset_id, workspace_id=link.post.workspace_id, partmedia__part__variant__post_id=link.post_id
    ).first()
    if asset is None:
        raise Http404
    return FileResponse(asset.file.open("rb"), content_type=asset.mime_type)
