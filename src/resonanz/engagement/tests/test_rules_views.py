"""The rules page (owners and admins), its preview against the last 50 conversations, in English and
German, and the same over the REST API with the same permissions and tenant checks."""

from __future__ import annotations

import pytest
from django.urls import reverse

from resonanz.accounts.models import Role
from resonanz.core.models import AuditLogEntry
from resonanz.engagement.models import AssignmentRule, Conversation

from .inbox_support import conversation_with


def _url(name: str, workspace, *args) -> str:
    return reverse(f"engagement:{name}", args=[workspace.pk, *args])


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.EDITOR, 403), (Role.AGENT, 403)])
def test_who_may_manage_rules(workspace, member, login, role, status) -> None:
    client = login(member(role))
    assert client.get(_url("rules", workspace)).status_code == status
    inbox = client.get(_url("inbox", workspace)).content.decode()
    assert ('id="inbox-rules"' in inbox) is (status == 200)


def test_create_edit_move_and_delete_a_rule_on_the_page(
    workspace, mastodon, owner, member, owner_client
) -> None:
    agent = member(Role.AGENT)
    response = owner_client.post(
        _url("rules", workspace),
        {
            "name": "Rückgaben",
            "enabled": "on",
            "channel": mastodon.pk,
            "keywords": "Rückgabe\nrefund",
            "assign_mode": "person",
            "assignee": agent.pk,
            "set_priority": "high",
        },
    )
    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert (rule.channel, rule.assignee, rule.keywords, rule.set_priority) == (
        mastodon,
        agent,
        "Rückgabe\nrefund",
        "high",
    )
    page = owner_client.get(_url("rules", workspace)).content.decode()
    assert "Rückgaben" in page
    assert "refund" in page
    second = owner_client.post(
        _url("rules", workspace), {"name": "Team", "assign_mode": "round_robin", "pool": [agent.pk, owner.pk]}
    )
    assert second.status_code == 302
    team = AssignmentRule.objects.get(name="Team")
    assert set(team.pool.all()) == {agent, owner}
    owner_client.post(_url("rule_move", workspace, team.pk), {"direction": "up"})
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Team", "Rückgaben"]
    edit = owner_client.post(
        _url("rule_edit", workspace, rule.pk),
        {"name": "Rückgaben", "keywords": "Umtausch", "set_status": "pending"},
    )
    assert edit.status_code == 302
    rule.refresh_from_db()
    assert (rule.keywords, rule.assign_mode, rule.set_status, rule.enabled) == (
        "Umtausch",
        "",
        "pending",
        False,
    )
    owner_client.post(_url("rule_delete", workspace, rule.pk))
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["Team"]
    assert (
        AuditLogEntry.objects.filter(action__startswith="inbox.rule.").count() == 5
    )  # 2 creates, move, update, delete


def test_bad_input_is_explained_in_german_and_the_form_keeps_what_was_typed(workspace, owner, login) -> None:
    client = login(owner, language="de")
    response = client.post(_url("rules", workspace), {"name": "Ohne Aktion", "keywords": "Lieferung"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Eine Regel braucht eine Aktion" in html
    assert "Lieferung" in html
    assert "Ohne Aktion" in html
    assert "An den letzten 50 Gesprächen testen" in html
    assert not AssignmentRule.objects.exists()


def test_preview_lists_the_conversations_a_draft_would_take(
    workspace, mastodon, owner, owner_client, login
) -> None:
    hit = conversation_with(workspace, mastodon, "Die RÜCKGABE klappt nicht")
    miss = conversation_with(workspace, mastodon, "Danke!")
    data = {"name": "Test", "keywords": "rueckgabe", "assign_mode": "person", "assignee": owner.pk}
    fragment = owner_client.post(_url("rule_preview", workspace), data, HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert fragment.status_code == 200
    assert f'id="preview-{hit.pk}"' in html
    assert f'id="preview-{miss.pk}"' not in html
    assert "1 of 2 conversations would match." in html
    german = login(owner, language="de").post(_url("rule_preview", workspace), data).content.decode()
    assert "1 von 2 Gesprächen würden passen." in german
    assert 'id="rule-form"' in german  # without htmx: the whole page, the form as filled in
    assert not AssignmentRule.objects.exists()
    assert not Conversation.objects.filter(assignee__isnull=False).exists()


def test_another_workspace_s_rule_is_a_404(workspace, other_workspace, owner_client) -> None:
    from resonanz.engagement.services import rule_create

    stranger = other_workspace.memberships.get().user
    foreign = rule_create(
        workspace=other_workspace, actor=stranger, values={"name": "x", "set_priority": "high"}
    )
    assert owner_client.get(_url("rule_edit", workspace, foreign.pk)).status_code == 404
    assert owner_client.post(_url("rule_delete", workspace, foreign.pk)).status_code == 404
    assert AssignmentRule.objects.filter(pk=foreign.pk).exists()


# -- API -------------------------------------------------------------------------------------------------


def test_rules_over_the_api(api, workspace, mastodon, owner, member, foreign_channel) -> None:
    agent = member(Role.AGENT)
    base = f"/api/v1/workspaces/{workspace.pk}/inbox-rules/"
    created = api.post(
        base,
        {"name": "Rückgaben", "keywords": ["Rückgabe"], "assign_mode": "person", "assignee_id": agent.pk},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["keywords"], body["assignee_id"], body["position"]) == (["Rückgabe"], agent.pk, 0)
    patched = api.patch(f"{base}{body['id']}/", {"set_priority": "urgent"}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["set_priority"], patched.json()["assignee_id"]) == ("urgent", agent.pk)
    assert [r["name"] for r in api.get(base).json()] == ["Rückgaben"]

    bad = api.post(
        base, {"name": "x", "channel_id": foreign_channel.pk, "set_priority": "high"}, format="json"
    )
    assert bad.status_code == 400
    assert "channel_id" in bad.json()
    no_action = api.post(base, {"name": "x"}, format="json")
    assert no_action.status_code == 400

    conv = conversation_with(workspace, mastodon, "rueckgabe bitte")
    preview = api.post(f"{base}preview/", {"name": "p", "keywords": ["Rückgabe"]}, format="json")
    assert preview.status_code == 200
    assert preview.json() == [{"conversation_id": conv.pk, "text": "rueckgabe bitte", "matches": True}]
    assert Conversation.objects.get(pk=conv.pk).assignee == agent  # the saved rule took it on arrival

    assert api.delete(f"{base}{body['id']}/").status_code == 204
    assert not AssignmentRule.objects.exists()


def test_the_api_asks_the_same_role_as_the_page(workspace, member) -> None:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(member(Role.EDITOR))
    base = f"/api/v1/workspaces/{workspace.pk}/inbox-rules/"
    assert client.get(base).status_code == 403
    assert client.post(base, {"name": "x", "set_priority": "high"}, format="json").status_code == 403
