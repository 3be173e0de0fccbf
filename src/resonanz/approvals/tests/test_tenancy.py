"""Tenant checks of the approval selectors: another workspace's post raises ``WorkspaceMismatch`` (a 404)
before its state, history, images or review links are read, also under ``python -O``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import Workspace
from resonanz.approvals.selectors import (
    approval_history,
    approval_post_media,
    approval_state,
    review_link_list,
    round_start,
)
from resonanz.channels.models import Channel
from resonanz.core.errors import WorkspaceMismatch
from resonanz.posts.models import Post
from resonanz.posts.services import PostInput, post_create


@pytest.fixture
def foreign_post(other_workspace: Workspace, make_channel: Callable[..., Channel]) -> Post:
    channel = make_channel("mastodon", ws=other_workspace, handle="rival")
    author = other_workspace.memberships.get().user
    return post_create(
        workspace=other_workspace, author=author, data=PostInput(text="geheim", channel_ids=[channel.pk])
    )


CALLS: dict[str, Callable[[Workspace, Post], Any]] = {
    "round_start": lambda ws, post: round_start(workspace=ws, post=post),
    "approval_state": lambda ws, post: approval_state(workspace=ws, post=post),
    "approval_history": lambda ws, post: approval_history(workspace=ws, post=post),
    "approval_post_media": lambda ws, post: approval_post_media(workspace=ws, post=post),
    "review_link_list": lambda ws, post: review_link_list(workspace=ws, post=post),
}


@pytest.mark.parametrize("name", CALLS)
def test_a_post_of_another_workspace_is_not_found(
    name: str, workspace: Workspace, foreign_post: Post
) -> None:
    with pytest.raises(WorkspaceMismatch):
        CALLS[name](workspace, foreign_post)
