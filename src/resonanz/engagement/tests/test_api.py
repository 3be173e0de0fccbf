"""engagement.api: a variant's metrics and the inbox over the REST API, scoped to the workspace in the
URL; another workspace's variant is a 404 like a missing one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from resonanz.accounts.models import Role, User, Workspace
from resonanz.engagement.services import engagement_sync_variant
from resonanz.posts.models import Variant

from .conftest import Fan

pytestmark = pytest.mark.django_db


def test_metrics_and_inbox_after_a_sync(
    api: APIClient, workspace: Workspace, variant: Variant, fan: Fan
) -> None:
    fan.like(variant.remote_id)
    fan.reply(variant.remote_id, "Gibt es das auch in Blau?")
    engagement_sync_variant(workspace=workspace, variant=variant)
    base = f"/api/v1/workspaces/{workspace.pk}"

    metrics = api.get(f"{base}/variants/{variant.pk}/metrics/")
    inbox = api.get(f"{base}/conversations/")

    assert metrics.status_code == 200
    assert [(m["likes"], m["replies"], m["impressions"]) for m in metrics.json()] == [(1, 1, None)]
    assert inbox.status_code == 200
    [conversation] = inbox.json()
    assert (conversation["variant_id"], conversation["root_remote_id"], conversation["status"]) == (
        variant.pk,
        variant.remote_id,
        "open",
    )
    assert [(m["author_handle"], m["text"]) for m in conversation["messages"]] == [
        ("fan", "Gibt es das auch in Blau?")
    ]
    assert api.get(f"{base}/conversations/?status=done").json() == []


def test_another_workspaces_metrics_and_inbox_stay_hidden(
    api: APIClient,
    workspace: Workspace,
    other_workspace: Workspace,
    publish_on_emulator: Callable[..., Variant],
    fan: Fan,
) -> None:
    theirs = publish_on_emulator(other_workspace, "Ihr Post")
    fan.reply(theirs.remote_id, "Geheim")
    engagement_sync_variant(workspace=other_workspace, variant=theirs)

    ours = f"/api/v1/workspaces/{workspace.pk}"
    assert api.get(f"{ours}/variants/{theirs.pk}/metrics/").status_code == 404
    assert api.get(f"{ours}/conversations/").json() == []
    # Naming the other workspace in the URL does not help a non-member either.
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/conversations/").status_code in {403, 404}


def test_metrics_need_the_analytics_permission(
    workspace: Workspace, variant: Variant, member: Callable[[str], User]
) -> None:
    url = f"/api/v1/workspaces/{workspace.pk}/variants/{variant.pk}/metrics/"
    agent, analyst = APIClient(), APIClient()
    agent.force_authenticate(member(Role.AGENT))
    analyst.force_authenticate(member(Role.ANALYST))

    assert agent.get(url).status_code == 403
    assert analyst.get(url).status_code == 200
