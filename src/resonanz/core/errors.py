"""Errors every app may raise (core is the lowest layer, so each app can import them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

if TYPE_CHECKING:
    from resonanz.accounts.models import Workspace


class WorkspaceMismatch(Http404):
    """A service or selector got an object of another workspace than the one it works in.

    A subclass of ``Http404``: a Django view answers 404 without any handling of its own, and the API's
    exception handler (``resonanz.api.errors``) answers with its usual 404 body. To the caller the object
    does not exist, so nothing tells them that the id is taken in another workspace.
    """

    def __init__(self, *, workspace_id: int, obj_workspace_id: int | None) -> None:
        # The message stays neutral (Django's debug 404 page shows it); the ids are for logs and tests.
        super().__init__("Not found in this workspace.")
        self.workspace_id = workspace_id
        self.obj_workspace_id = obj_workspace_id


def ensure_same_workspace(*, workspace: Workspace, obj_workspace_id: int | None) -> None:
    """The tenant check of services and selectors: raise ``WorkspaceMismatch`` unless the object (its
    ``workspace_id``) belongs to ``workspace``. An explicit check, not an ``assert``: it must hold under
    ``python -O`` too."""
    if obj_workspace_id != workspace.pk:
        raise WorkspaceMismatch(workspace_id=workspace.pk, obj_workspace_id=obj_workspace_id)
