"""Tenant checks of the post services and selectors: another workspace's post or channel raises
``WorkspaceMismatch`` (a 404) before anything is read or written, also under ``python -O``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.core.errors import WorkspaceMismatch
from resonanz.posts.models import Post, QueueSlot
from resonanz.posts.selectors import post_events
from resonanz.posts.services import (
    post_validate,
    queue_next_free_slot,
    queue_slot_set,
)

POST_CALLS: dict[str, Callable[[Workspace, Post], Any]] = {
    "post_validate": lambda ws, post: post_validate(workspace=ws, post=post),
    "post_events": lambda ws, post: post_events(workspace=ws, post=post),
}


@pytest.mark.parametrize("name", POST_CALLS)
def test_a_post_of_another_workspace_is_not_found(
    name: str, workspace: Workspace, foreign_post: Post
) -> None:
    with pytest.raises(WorkspaceMismatch):
        POST_CALLS[name](workspace, foreign_post)


def test_the_queue_of_another_workspaces_channel_is_not_found(
    workspace: Workspace, owner: User, foreign_channel: Channel
) -> None:
    with pytest.raises(WorkspaceMismatch):
        queue_next_free_slot(workspace=workspace, channel=foreign_channel)
    with pytest.raises(WorkspaceMismatch):
        queue_slot_set(workspace=workspace, channel=foreign_channel, slots=[(0, "09:00")], actor=owner)
    assert not QueueSlot.objects.filter(channel=foreign_channel).exists()
