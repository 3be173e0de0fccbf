"""Tenant checks of the engagement service and selector: another workspace's variant raises
``WorkspaceMismatch`` (a 404) before a metric is stored or read, also under ``python -O``."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.base import Engagement
from resonanz.core.errors import WorkspaceMismatch
from resonanz.engagement.models import MetricSample
from resonanz.engagement.selectors import metric_series
from resonanz.engagement.services import engagement_store
from resonanz.posts.models import Variant
from resonanz.posts.services import PostInput, post_create


@pytest.fixture
def foreign_variant(other_workspace: Workspace, make_channel: Callable[..., Channel]) -> Variant:
    channel = make_channel("mastodon", ws=other_workspace, handle="rival")
    author = other_workspace.memberships.get().user
    post = post_create(
        workspace=other_workspace, author=author, data=PostInput(text="geheim", channel_ids=[channel.pk])
    )
    return post.variants.get()


def test_metrics_of_another_workspaces_variant_are_neither_stored_nor_read(
    workspace: Workspace, foreign_variant: Variant
) -> None:
    with pytest.raises(WorkspaceMismatch):
        engagement_store(workspace=workspace, variant=foreign_variant, engagement=Engagement(likes=3))
    assert not MetricSample.objects.exists()
    with pytest.raises(WorkspaceMismatch):
        metric_series(workspace=workspace, variant=foreign_variant)
