"""The workspace switcher: go to the same place in another workspace.

The header's switcher links to ``/w/<other>/switch/?next=<page>``. ``next`` is the address the page was
loaded at; htmx may have moved the address bar since (the calendar's views and weeks push their URL), so
the place is taken from where the browser is at click time: the ``HX-Current-URL`` header or the
``Referer`` (same site only), and ``next`` only when the browser sends neither. The current page is resolved
against the URLconf (so only pages of this site are ever a target) and mapped to the page of the same
name in the other workspace. Objects do not exist there: a page about one object (a post, a channel, an
import) leads to its section's page instead (the post list, the channels, Import/Export), found by
walking up the path. A page the user's role in the other workspace may not open, or anything unknown,
leads to that workspace's dashboard.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import Resolver404, resolve, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from resonanz.accounts.permissions import Action

from .scope import Scope, landing_url, workspace_view

# Pages that make sense in any workspace, without an object, and the action each needs (the same as
# their view's ``workspace_view(Action.X)``). Everything else is reached through its parent path.
LANDING_PAGES: dict[str, Action] = {
    "web:dashboard": Action.VIEW,
    "engagement:inbox": Action.USE_INBOX,
    "web:posts": Action.VIEW,
    "web:post_new": Action.CREATE_POST,
    "web:channels": Action.VIEW,
    "calendar:index": Action.VIEW,
    "calendar:slots": Action.VIEW,
    "approvals:list": Action.VIEW,
    "approvals:settings": Action.MANAGE_WORKSPACE,
    "bulk:index": Action.VIEW,
    "bulk:feeds": Action.VIEW,
}
# Query parameters that describe a place (calendar view and day, a status filter), not an object of the
# old workspace (channel or author ids, page numbers): only these are carried over.
PLACE_PARAMS = ("view", "date", "status")


def _parent(path: str) -> str | None:
    """``/w/1/posts/5/edit/`` -> ``/w/1/posts/5/``; None above ``/w/<id>/``."""
    parts = [p for p in path.split("/") if p]
    if len(parts) <= 2:  # ["w", "<id>"]
        return None
    return "/" + "/".join(parts[:-1]) + "/"


def _place_query(query: str) -> str:
    params = QueryDict(query)
    kept = [(key, value) for key in PLACE_PARAMS for value in params.getlist(key)]
    return f"?{urlencode(kept)}" if kept else ""


def switch_target(*, scope: Scope, next_url: str) -> str:
    """The URL of the place in ``scope.workspace`` that corresponds to ``next_url`` (a page of another
    workspace), for the user's role there; the role's landing page when there is none."""
    ws = scope.workspace
    fallback = landing_url(workspace=ws, role=scope.role)
    parts = urlsplit(next_url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/w/"):
        return fallback
    path: str | None = parts.path
    exact = True
    while path is not None:
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if (
            match is not None
            and match.view_name in LANDING_PAGES
            and set(match.kwargs) == {"workspace_id"}
            and scope.can(LANDING_PAGES[match.view_name])
        ):
            target = reverse(match.view_name, kwargs={"workspace_id": ws.pk})
            return target + (_place_query(parts.query) if exact else "")
        path, exact = _parent(path), False
    return fallback


def current_place(request: HttpRequest) -> str | None:
    """Path and query of the workspace page the browser shows now (``HX-Current-URL``, else the
    ``Referer``), if it is a page of this site; None otherwise."""
    for raw in (request.headers.get("HX-Current-URL"), request.headers.get("Referer")):
        if not raw or not url_has_allowed_host_and_scheme(
            raw, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            continue
        parts = urlsplit(raw)
        if parts.path.startswith("/w/"):
            return parts.path + (f"?{parts.query}" if parts.query else "")
    return None


@require_GET
@workspace_view()
def workspace_switch(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Switch to ``scope.workspace`` (the target; 404 for non-members) at the place the user is at: the
    browser's current address, else the page ``?next=`` names."""
    here = current_place(request) or request.GET.get("next", "")
    return HttpResponseRedirect(switch_target(scope=scope, next_url=here))
