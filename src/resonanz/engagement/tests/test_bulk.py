"""Bulk actions on the inbox list: assign, set status, close; all or nothing, one audit entry, the same
rules on the page and over the API."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from resonanz.accounts.models import Role
from resonanz.core.models import AuditLogEntry
from resonanz.engagement.models import Conversation
from resonanz.engagement.services import conversation_bulk

from .inbox_support import conversation_with


@pytest.fixture
def three(workspace, mastodon) -> list[Conversation]:
    return [conversation_with(workspace, mastodon, f"Frage {i}") for i in range(3)]


def test_set_status_for_several_with_one_audit_entry(workspace, owner, three) -> None:
    ids = [c.pk for c in three[:2]]
    assert (
        conversation_bulk(
            workspace=workspace, conversation_ids=ids, action="status", status="pending", actor=owner
        )
        == 2
    )
    assert list(Conversation.objects.order_by("pk").values_list("status", flat=True)) == [
        "pending",
        "pending",
        "open",
    ]
    [entry] = AuditLogEntry.objects.filter(action="inbox.bulk")
    assert entry.data == {"action": "status", "conversations": sorted(ids), "status": "pending"}
    assert entry.actor == owner


def test_refusals_change_nothing(workspace, owner, member, three, other_workspace, make_channel) -> None:
    analyst = member(Role.ANALYST)
    ids = [c.pk for c in three]
    with pytest.raises(ValidationError):
        conversation_bulk(
            workspace=workspace, conversation_ids=ids, action="status", status="done", actor=owner
        )
    with pytest.raises(ValidationError):  # an analyst cannot be given conversations
        conversation_bulk(
            workspace=workspace, conversation_ids=ids, action="assign", assignee=analyst, actor=owner
        )
    with pytest.raises(PermissionDenied):  # nor act on them
        conversation_bulk(workspace=workspace, conversation_ids=ids, action="close", actor=analyst)
    theirs = conversation_with(other_workspace, make_channel(ws=other_workspace, handle="z"), "x")
    from resonanz.core.errors import WorkspaceMismatch

    with pytest.raises(WorkspaceMismatch):
        conversation_bulk(
            workspace=workspace, conversation_ids=[*ids, theirs.pk], action="close", actor=owner
        )
    assert set(Conversation.objects.values_list("status", flat=True)) == {"open"}
    assert not Conversation.objects.filter(assignee__isnull=False).exists()
    assert not AuditLogEntry.objects.filter(action="inbox.bulk").exists()


def test_bulk_status_from_the_german_list(workspace, owner, login, three) -> None:
    client = login(owner, language="de")
    page = client.get(reverse("engagement:inbox", args=[workspace.pk])).content.decode()
    assert '<option value="status">Status setzen</option>' in page
    response = client.post(
        reverse("engagement:bulk", args=[workspace.pk]),
        {"ids": [three[0].pk], "action": "status", "status": "pending"},
        follow=True,
    )
    assert "1 Gespräche geändert." in response.content.decode()
    assert Conversation.objects.get(pk=three[0].pk).status == "pending"


def test_bulk_over_the_api_for_agents(workspace, member, three) -> None:
    agent = member(Role.AGENT)
    client = APIClient()
    client.force_authenticate(agent)
    base = f"/api/v1/workspaces/{workspace.pk}/conversations/"
    assert client.get(base).status_code == 200  # the inbox's permission, not VIEW
    ids = [c.pk for c in three]
    response = client.post(
        f"{base}bulk/", {"ids": ids, "action": "assign", "assignee_id": agent.pk}, format="json"
    )
    assert response.json() == {"changed": 3}
    assert set(Conversation.objects.values_list("assignee", flat=True)) == {agent.pk}
    bad = client.post(f"{base}bulk/", {"ids": ids, "action": "status", "status": "done"}, format="json")
    assert bad.status_code == 400
    analyst = APIClient()
    analyst.force_authenticate(member(Role.ANALYST))
    assert analyst.post(f"{base}bulk/", {"ids": ids, "action": "close"}, format="json").status_code == 403
    assert analyst.get(base).status_code == 403
