"""The tenant check every service and selector runs: another workspace's object is not found (404)."""

from __future__ import annotations

import pytest
from django.http import Http404

from resonanz.accounts.models import Workspace
from resonanz.core.errors import WorkspaceMismatch, ensure_same_workspace


def test_an_object_of_the_same_workspace_passes(workspace: Workspace) -> None:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=workspace.pk)


def test_an_object_of_another_workspace_is_not_found(
    workspace: Workspace, other_workspace: Workspace
) -> None:
    with pytest.raises(WorkspaceMismatch) as raised:
        ensure_same_workspace(workspace=workspace, obj_workspace_id=other_workspace.pk)
    # A 404 for Django views (no handling needed) that names neither workspace to the caller.
    assert isinstance(raised.value, Http404)
    assert str(raised.value) == "Not found in this workspace."
    assert (raised.value.workspace_id, raised.value.obj_workspace_id) == (workspace.pk, other_workspace.pk)


def test_an_object_without_workspace_is_not_found(workspace: Workspace) -> None:
    with pytest.raises(WorkspaceMismatch):
        ensure_same_workspace(workspace=workspace, obj_workspace_id=None)
