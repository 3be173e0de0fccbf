"""GDPR in the inbox: retention of closed conversations (batched, per workspace, periodic), erasure of one
person's messages (notes keep their words, lose the quote; the audit log keeps no personal data) and
their export, on the page (English and German) and over the API with the same permissions."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts.models import Role
from resonanz.core.models import AuditLogEntry
from resonanz.engagement.models import Conversation, ConversationStatus, Message, Note
from resonanz.engagement.services import (
    conversation_set_status,
    inbox_retention_apply,
    inbox_retention_apply_all,
    inbox_settings_set_retention,
    note_add,
    person_erase,
    person_export,
)
from resonanz.engagement.tasks import apply_retention

from .inbox_support import conversation_with

COMPLAINT = "Meine Bestellung 4711 an Musterstraße 5 kam nie an"


def _close(workspace, conversation, days_ago: int) -> None:
    conversation_set_status(workspace=workspace, conversation=conversation, status=ConversationStatus.CLOSED)
    Conversation.objects.filter(pk=conversation.pk).update(
        closed_at=timezone.now() - timedelta(days=days_ago)
    )


# -- retention -------------------------------------------------------------------------------------------


def test_retention_deletes_what_was_closed_long_enough_ago_in_batches(workspace, mastodon, owner) -> None:
    old = [conversation_with(workspace, mastodon, f"alt {i}") for i in range(3)]
    recent = conversation_with(workspace, mastodon, "neu geschlossen")
    still_open = conversation_with(workspace, mastodon, "offen")
    for c in old:
        _close(workspace, c, days_ago=40)
        note_add(workspace=workspace, conversation=c, author=owner, text="erledigt")
    _close(workspace, recent, days_ago=5)
    assert inbox_retention_apply(workspace=workspace) == {"conversations": 0, "messages": 0}  # no retention

    inbox_settings_set_retention(workspace=workspace, actor=owner, days=30)
    done = inbox_retention_apply(workspace=workspace, batch=2)

    assert done == {"conversations": 3, "messages": 3}
    assert set(Conversation.objects.values_list("pk", flat=True)) == {recent.pk, still_open.pk}
    assert not Note.objects.exists()
    entry = AuditLogEntry.objects.get(action="inbox.retention.applied")
    assert entry.data == {"days": 30, "conversations": 3, "messages": 3}


def test_the_periodic_task_covers_every_workspace_with_a_retention(
    workspace, other_workspace, mastodon, make_channel, owner
) -> None:
    mine = conversation_with(workspace, mastodon, "meins")
    theirs_channel = make_channel(ws=other_workspace, handle="other")
    theirs = conversation_with(other_workspace, theirs_channel, "deren")
    _close(workspace, mine, days_ago=10)
    _close(other_workspace, theirs, days_ago=10)
    inbox_settings_set_retention(workspace=workspace, actor=owner, days=7)
    assert apply_retention.call() == {"conversations": 1, "messages": 1}
    assert not Conversation.objects.filter(pk=mine.pk).exists()
    assert Conversation.objects.filter(pk=theirs.pk).exists()  # no retention set there
    assert inbox_retention_apply_all() == {"conversations": 0, "messages": 0}


def test_retention_needs_owner_or_admin_and_at_least_a_day(workspace, member, owner) -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(PermissionDenied):
        inbox_settings_set_retention(workspace=workspace, actor=member(Role.EDITOR), days=30)
    with pytest.raises(ValidationError):
        inbox_settings_set_retention(workspace=workspace, actor=owner, days=0)
    assert inbox_settings_set_retention(workspace=workspace, actor=owner, days=None).retention_days is None


# -- erasure and export -----------------------------------------------------------------------------------


@pytest.fixture
def person_data(workspace, mastodon, make_channel, owner):
    second = make_channel(handle="brand2")
    a = conversation_with(workspace, mastodon, COMPLAINT, "Hallo?", author="kundin")
    # A conversation with only their message and no note: nothing is left of it after erasure.
    b = conversation_with(workspace, second, "Noch eine Frage", author="kundin")
    c = conversation_with(workspace, mastodon, "Ich bin jemand anderes", author="fan")
    note_add(
        workspace=workspace,
        conversation=a,
        author=owner,
        text=f"Sie schrieb:\n> {COMPLAINT}\nBitte Versand prüfen.",
    )
    note_add(workspace=workspace, conversation=a, author=owner, text=f"Zitat: „{COMPLAINT}“ - Adresse stimmt")
    return a, b, c


def test_erasure_removes_their_messages_and_the_quotes_but_keeps_the_notes(
    workspace, owner, person_data
) -> None:
    a, b, c = person_data
    done = person_erase(workspace=workspace, actor=owner, person="@KUNDIN@social.example")
    assert done == {"messages": 3, "notes": 2, "conversations": 1}
    assert not Message.objects.filter(author_handle="kundin@social.example").exists()
    assert Message.objects.filter(conversation=c).count() == 1
    assert not Conversation.objects.filter(pk=b.pk).exists()
    notes = sorted(Note.objects.filter(conversation=a).values_list("text", flat=True))
    assert notes == ["Sie schrieb:\n> […]\nBitte Versand prüfen.", "Zitat: „[…]“ - Adresse stimmt"]
    entry = AuditLogEntry.objects.get(action="inbox.person.erased")
    assert entry.data == done
    blob = json.dumps({"data": entry.data, "target": entry.target_id}, ensure_ascii=False)
    assert "kundin" not in blob.lower()
    assert "4711" not in blob


def test_erasure_by_account_id_and_of_nobody(workspace, owner, person_data) -> None:
    assert person_erase(workspace=workspace, actor=owner, person="  ")["messages"] == 0
    assert person_erase(workspace=workspace, actor=owner, person="id-fan")["messages"] == 1
    assert Message.objects.filter(author_handle="kundin@social.example").count() == 3


def test_erasure_stays_in_its_workspace(workspace, other_workspace, make_channel, owner, person_data) -> None:
    theirs = conversation_with(other_workspace, make_channel(ws=other_workspace, handle="z"), "hi")
    person_erase(workspace=workspace, actor=owner, person="kundin@social.example")
    assert Message.objects.filter(conversation=theirs).count() == 1


def test_export_holds_every_message_of_the_person(workspace, owner, person_data) -> None:
    data = person_export(workspace=workspace, actor=owner, person="kundin@social.example")
    # Oldest first, across the channels.
    assert [m["text"] for m in data["messages"]] == [COMPLAINT, "Noch eine Frage", "Hallo?"]
    assert {m["network"] for m in data["messages"]} == {"Mastodon"}
    assert json.loads(json.dumps(data))["messages"][0]["author_handle"] == "kundin@social.example"
    assert AuditLogEntry.objects.get(action="inbox.person.exported").data == {"messages": 3}


def test_only_owners_and_admins_erase_or_export(workspace, member, person_data) -> None:
    editor = member(Role.EDITOR)
    with pytest.raises(PermissionDenied):
        person_erase(workspace=workspace, actor=editor, person="kundin@social.example")
    with pytest.raises(PermissionDenied):
        person_export(workspace=workspace, actor=editor, person="kundin@social.example")
    assert Message.objects.filter(author_handle="kundin@social.example").count() == 3


# -- the page ------------------------------------------------------------------------------------------------


def _url(name: str, workspace) -> str:
    return reverse(f"engagement:{name}", args=[workspace.pk])


def test_privacy_page_in_german_search_confirm_erase(workspace, owner, login, person_data) -> None:
    client = login(owner, language="de")
    settings_page = client.get(reverse("web:workspace_settings", args=[workspace.pk])).content.decode()
    assert 'id="settings-privacy"' in settings_page
    page = client.get(_url("privacy", workspace), {"person": "@kundin@social.example"}).content.decode()
    assert "3 Nachrichten gefunden." in page
    assert COMPLAINT in page
    assert "Ich bin jemand anderes" not in page

    unconfirmed = client.post(_url("erase", workspace), {"person": "kundin@social.example"})
    assert unconfirmed.status_code == 400
    assert "Dieses Feld ist zwingend erforderlich." in unconfirmed.content.decode()
    assert Message.objects.filter(author_handle="kundin@social.example").count() == 3

    erased = client.post(
        _url("erase", workspace), {"person": "kundin@social.example", "confirm": "on"}, follow=True
    )
    assert "3 Nachrichten gelöscht" in erased.content.decode()
    assert not Message.objects.filter(author_handle="kundin@social.example").exists()


def test_export_download_and_retention_on_the_page(workspace, owner_client, person_data) -> None:
    response = owner_client.get(_url("export", workspace), {"person": "kundin@social.example"})
    assert response["Content-Disposition"] == 'attachment; filename="inbox-export.json"'
    assert len(json.loads(response.content)["messages"]) == 3
    bad = owner_client.post(_url("retention", workspace), {"retention_days": "0"})
    assert bad.status_code == 400
    assert owner_client.post(_url("retention", workspace), {"retention_days": "90"}).status_code == 302
    assert 'value="90"' in owner_client.get(_url("privacy", workspace)).content.decode()


def test_the_privacy_page_is_for_owners_and_admins(workspace, member, login) -> None:
    assert login(member(Role.EDITOR)).get(_url("privacy", workspace)).status_code == 403
    assert login(member(Role.ADMIN)).get(_url("privacy", workspace)).status_code == 200


# -- API -----------------------------------------------------------------------------------------------------


def test_gdpr_over_the_api(api, workspace, member, person_data) -> None:
    base = f"/api/v1/workspaces/{workspace.pk}"
    settings = api.patch(f"{base}/inbox-settings/", {"retention_days": 30}, format="json")
    assert settings.status_code == 200
    assert settings.json()["retention_days"] == 30
    assert api.patch(f"{base}/inbox-settings/", {"retention_days": 0}, format="json").status_code == 400
    export = api.get(f"{base}/inbox-person/", {"person": "kundin@social.example"})
    assert export.status_code == 200
    assert len(export.json()["messages"]) == 3
    erased = api.post(f"{base}/inbox-person/erase/", {"person": "kundin@social.example"}, format="json")
    assert erased.json() == {"messages": 3, "notes": 2, "conversations": 1}

    from rest_framework.test import APIClient

    editor = APIClient()
    editor.force_authenticate(member(Role.EDITOR))
    assert editor.post(f"{base}/inbox-person/erase/", {"person": "id-fan"}, format="json").status_code == 403
    assert editor.get(f"{base}/inbox-settings/").status_code == 200
    assert editor.patch(f"{base}/inbox-settings/", {"retention_days": 1}, format="json").status_code == 403
