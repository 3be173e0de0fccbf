"""Tenant checks of the engagement service and selector: another workspace's variant raises
``WorkspaceMismatch`` (a 404) before a metric is stored or read, also under ``python -O``."""

from __future__ import annotations

import pytest

from resonanz.accounts.models import Workspace
from resonanz.connectors.base import Engagement
from resonanz.core.errors import WorkspaceMismatch
from resonanz.engagement.models import MetricSample
from resonanz.engagement.selectors import metric_series
from resonanz.engagement.services import engagement_store
from resonanz.posts.models import Variant


def test_metrics_of_another_workspaces_variant_are_neither_stored_nor_read(
    workspace: Workspace, foreign_variant: Variant
) -> None:
    with pytest.raises(WorkspaceMismatch):
        engagement_store(workspace=workspace, variant=foreign_variant, engagement=Engagement(likes=3))
    assert not MetricSample.objects.exists()
    with pytest.raises(WorkspaceMismatch):
        metric_series(workspace=workspace, variant=foreign_variant)
