"""Tenant checks of the publishing services: another workspace's variant raises ``WorkspaceMismatch``
(a 404) before the network is called or the variant changes, also under ``python -O``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.core.errors import WorkspaceMismatch
from resonanz.posts.models import PostEvent, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create
from resonanz.publishing.services import (
    variant_delete_remote,
    variant_edit_remote,
    variant_repost,
    variant_retry,
)


@pytest.fixture
def foreign_variant(other_workspace: Workspace, make_channel: Callable[..., Channel]) -> Variant:
    channel = make_channel("mastodon", ws=other_workspace, handle="rival")
    author = other_workspace.memberships.get().user
    post = post_create(
        workspace=other_workspace, author=author, data=PostInput(text="geheim", channel_ids=[channel.pk])
    )
    variant = post.variants.get()
    # Failed: the state in which retry and repost would otherwise act on it.
    Variant.objects.filter(pk=variant.pk).update(status=VariantStatus.FAILED)
    return variant


CALLS: dict[str, Callable[[Workspace, Variant], Any]] = {
    "variant_delete_remote": lambda ws, v: variant_delete_remote(workspace=ws, variant=v),
    "variant_edit_remote": lambda ws, v: variant_edit_remote(workspace=ws, variant=v, text="übernommen"),
    "variant_retry": lambda ws, v: variant_retry(workspace=ws, variant=v),
    "variant_repost": lambda ws, v: variant_repost(workspace=ws, variant=v),
}


@pytest.mark.parametrize("name", CALLS)
def test_a_variant_of_another_workspace_is_not_found(
    name: str, workspace: Workspace, foreign_variant: Variant
) -> None:
    events = PostEvent.objects.count()
    with pytest.raises(WorkspaceMismatch):
        CALLS[name](workspace, foreign_variant)
    foreign_variant.refresh_from_db()
    assert foreign_variant.status == VariantStatus.FAILED
    assert PostEvent.objects.count() == events
