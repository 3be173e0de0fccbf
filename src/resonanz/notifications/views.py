"""The user's notifications across all their workspaces. Not workspace-scoped: every query is filtered
by ``request.user`` (a notification is only ever shown to its recipient)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from resonanz.accounts.models import User

from .selectors import notification_list, notification_unread_count
from .services import notification_mark_read

PER_PAGE = 30


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
        raise PermissionDenied
    return user


def _list_context(request: HttpRequest, user: User) -> dict[str, object]:
    page = Paginator(notification_list(user=user), PER_PAGE).get_page(request.GET.get("page"))
    return {"page": page, "unread": notification_unread_count(user=user)}


@require_GET
@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/list.html", _list_context(request, _user(request)))


@require_GET
def badge(request: HttpRequest) -> HttpResponse:
    """The header bell, polled by htmx. Anonymous (e.g. session expired): an empty answer, which
    removes the bell and stops the polling, instead of a redirect to the login page."""
    if not request.user.is_authenticated:
        return HttpResponse("")
    return render(request, "notifications/_badge.html")


@require_POST
@login_required
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark all (``all=1``) or the posted ``id``s of the user's own notifications read."""
    user = _user(request)
    if request.POST.get("all"):
        notification_mark_read(user=user, all=True)
    else:
        ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
        notification_mark_read(user=user, notification_ids=ids)
    if getattr(request, "htmx", False):
        return render(
            request, "notifications/_list.html", {**_list_context(request, user), "oob_badge": True}
        )
    return redirect("notifications:list")


@require_GET
@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Mark one notification read and go where it points (only ever to a page of this site)."""
    user = _user(request)
    notification = get_object_or_404(notification_list(user=user), pk=notification_id)
    notification_mark_read(user=user, notification_ids=[notification.pk])
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect("notifications:list")
    return redirect(target)
