"""Template tags that put approvals into pages owned by the web app: the nav item and the post panel."""

from __future__ import annotations

from typing import Any

from django import template

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Action, role_allows
from resonanz.web.scope import Scope

from ..panel import panel_context
from ..selectors import approval_waiting_count

register = template.Library()


def _scope(context: template.Context) -> Scope | None:
    workspace = context.get("workspace")
    request = context.get("request")
    role = context.get("role")
    user = getattr(request, "user", None)
    if workspace is None or not isinstance(user, User) or not role:
        return None
    return Scope(workspace=workspace, user=user, role=role)


@register.inclusion_tag("approvals/_nav.html", takes_context=True)
def approvals_nav(context: template.Context) -> dict[str, Any]:
    """The "Approvals" item of the main navigation, with the number of posts waiting for this user."""
    scope = _scope(context)
    if scope is None:
        return {"show": False}
    approver = role_allows(scope.role, Action.APPROVE_POST)
    if not (approver or scope.approval_required):
        return {"show": False}
    return {
        "show": True,
        "workspace": scope.workspace,
        "request": context.get("request"),
        "count": approval_waiting_count(workspace=scope.workspace, user=scope.user, role=scope.role),
    }


@register.inclusion_tag("approvals/_panel_block.html", takes_context=True)
def approval_panel(context: template.Context) -> dict[str, Any]:
    """The approval section of the post page (uses the page's ``post`` and, after a failed reject, its
    ``reject_form`` with the errors)."""
    scope = _scope(context)
    post = context.get("post")
    if scope is None or post is None:
        return {"approval_visible": False}
    ctx = panel_context(
        scope,
        post,
        approve_form=context.get("approve_form"),
        reject_form=context.get("reject_form"),
    )
    ctx["csrf_token"] = context.get("csrf_token")
    ctx["request"] = context.get("request")
    return ctx
