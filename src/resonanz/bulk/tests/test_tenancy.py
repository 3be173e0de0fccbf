"""Tenant checks of the import services and selectors: another workspace's import raises
``WorkspaceMismatch`` (a 404) before a row is checked or imported, also under ``python -O``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import Workspace
from resonanz.bulk.models import ImportBatch
from resonanz.bulk.selectors import import_row_list
from resonanz.bulk.services import import_batch_check, import_batch_create, import_batch_process
from resonanz.channels.models import Channel
from resonanz.core.errors import WorkspaceMismatch
from resonanz.posts.models import Post

from .conftest import FUTURE, make_csv


@pytest.fixture
def foreign_batch(other_workspace: Workspace, make_channel: Callable[..., Channel]) -> ImportBatch:
    make_channel("mastodon", ws=other_workspace, handle="rival@social.example")
    return import_batch_create(
        workspace=other_workspace,
        actor=other_workspace.memberships.get().user,
        filename="plan.csv",
        data=make_csv([[FUTURE, "09:00", "rival@social.example", "geheim"]]),
    )


CALLS: dict[str, Callable[[Workspace, ImportBatch], Any]] = {
    "import_batch_check": lambda ws, batch: import_batch_check(workspace=ws, batch=batch),
    "import_batch_process": lambda ws, batch: import_batch_process(workspace=ws, batch=batch),
    "import_row_list": lambda ws, batch: import_row_list(workspace=ws, batch=batch),
}


@pytest.mark.parametrize("name", CALLS)
def test_an_import_of_another_workspace_is_not_found(
    name: str, workspace: Workspace, foreign_batch: ImportBatch
) -> None:
    with pytest.raises(WorkspaceMismatch):
        CALLS[name](workspace, foreign_batch)
    assert not Post.objects.exists()
