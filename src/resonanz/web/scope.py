"""The workspace scope of every web view: membership (404 for strangers) and role checks (403)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Concatenate, ParamSpec

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from resonanz.accounts.models import ApprovalMode, Membership, User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed, role_allows
from resonanz.accounts.selectors import workspace_list_for_user

P = ParamSpec("P")


@dataclass(frozen=True)
class Scope:
    """The current workspace, the signed-in user and their role in it (passed to every view)."""

    workspace: Workspace
    user: User
    role: str

    def can(self, action: Action) -> bool:
        return role_allows(self.role, action)

    @property
    def approval_required(self) -> bool:
        return self.workspace.approval_mode != ApprovalMode.NONE


ScopedView = Callable[Concatenate[HttpRequest, Scope, P], HttpResponse]


def _member_scope(user: User, workspace_id: int, *, allow_archived: bool = False) -> Scope | None:
    """The user's membership of the workspace with the workspace (and its organisation): one query.
    An archived workspace has no pages but its settings (``allow_archived``), where it is restored."""
    membership = (
        Membership.objects.select_related("workspace__organisation")
        .filter(user=user, workspace_id=workspace_id)
        .first()
    )
    if membership is None or (membership.workspace.archived_at is not None and not allow_archived):
        return None
    return Scope(workspace=membership.workspace, user=user, role=membership.role)


def workspace_view(
    action: Action = Action.VIEW, *, allow_archived: bool = False
) -> Callable[[ScopedView[P]], Callable[..., HttpResponse]]:
    def decorator(view: ScopedView[P]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(
            request: HttpRequest, workspace_id: int, *args: P.args, **kwargs: P.kwargs
        ) -> HttpResponse:
            user = request.user
            if not isinstance(user, User):  # login_required stops anonymous users; this narrows the type
                raise PermissionDenied
            scope = _member_scope(user, workspace_id, allow_archived=allow_archived)
            if scope is None:
                raise Http404
            ensure_allowed(scope.role, action)
            return view(request, scope, *args, **kwargs)

        return wrapper

    return decorator


def or_404[T](fetch: Callable[..., T], **kwargs: Any) -> T:
    try:
        return fetch(**kwargs)
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


def render_scoped(
    request: HttpRequest,
    scope: Scope,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """Render with what the layout needs: the workspace, the switcher list and the role's abilities."""
    base = {
        "workspace": scope.workspace,
        "workspaces": workspace_list_for_user(user=scope.user),  # lazy: only full pages list them
        "role": scope.role,
        "can": {a.value: scope.can(a) for a in Action},
        "approval_required": scope.approval_required,
    }
    return render(request, template, {**base, **(context or {})}, status=status)


# -- home and dashboard -------------------------------------------------------------------------


def landing_url(*, workspace: Workspace, role: str) -> str:
    """Where a member of ``workspace`` starts: the dashboard, or the inbox for a role that works only
    there (agents), or the advocacy page for advocates."""
    if not role_allows(role, Action.VIEW) and role_allows(role, Action.USE_INBOX):
        return reverse("engagement:inbox", args=[workspace.pk])
    if not role_allows(role, Action.VIEW) and role_allows(role, Action.SHARE_ADVOCACY):
        return reverse("advocacy:page", args=[workspace.pk])  # advocates: their offers
    return reverse("web:dashboard", args=[workspace.pk])


# Old private names, kept for the view modules that use them.
_or_404 = or_404
_render = render_scoped
