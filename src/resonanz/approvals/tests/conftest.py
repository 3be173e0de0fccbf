"""Fixtures for the approval tests: workspaces in each approval mode, a post, signed-in clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from resonanz.accounts.models import ApprovalMode, User, Workspace
from resonanz.approvals.models import ApprovalSettings
from resonanz.channels.models import Channel
from resonanz.posts.models import Post
from resonanz.posts.services import PostInput, post_create


@pytest.fixture
def channel(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")


@pytest.fixture(autouse=True)
def english_workspace(workspace: Workspace) -> None:
    """The public review page speaks the workspace's language (the reviewer has no account); these tests
    assert English. German: ``test_public_page_in_german`` and accounts/tests/test_workspace_language.py."""
    workspace.language = "en"
    workspace.save(update_fields=["language"])


@pytest.fixture
def set_mode(workspace: Workspace) -> Callable[..., Workspace]:
    def apply(mode: int, *, external: bool = False) -> Workspace:
        workspace.approval_mode = mode
        workspace.save()
        ApprovalSettings.objects.update_or_create(workspace=workspace, defaults={"step2_external": external})
        return workspace

    return apply


@pytest.fixture
def contributor(member: Callable[[str], User]) -> User:
    return member("contributor")


@pytest.fixture
def editor(member: Callable[[str], User]) -> User:
    return member("editor")


@pytest.fixture
def post(workspace: Workspace, contributor: User, channel: Channel) -> Post:
    return post_create(
        workspace=workspace, author=contributor, data=PostInput(text="Hallo Welt", channel_ids=[channel.pk])
    )


__all__ = ["ApprovalMode"]
