"""The inbox's services and selectors: assignment (by hand, round robin, bulk), statuses and their
times, notes with mentions, saved replies, presence, filters and the response-time report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from resonanz.accounts.models import Role
from resonanz.accounts.services import membership_set
from resonanz.core.errors import WorkspaceMismatch
from resonanz.engagement.models import Conversation, ConversationStatus, Message
from resonanz.engagement.selectors import conversation_list, first_response_due, response_report
from resonanz.engagement.services import (
    conversation_assign,
    conversation_bulk,
    conversation_set_status,
    inbox_settings_update,
    note_add,
    presence_touch,
    saved_reply_create,
    saved_reply_render,
)
from resonanz.notifications.models import Notification

from .inbox_support import conversation_with


@pytest.fixture
def conv(workspace, mastodon) -> Conversation:
    return conversation_with(workspace, mastodon, "Wann kommt meine Bestellung?", "Hallo??")


def test_stored_replies_make_one_open_conversation_with_its_messages_in_order(workspace, mastodon) -> None:
    c = conversation_with(workspace, mastodon, "erste", "zweite")
    assert c.status == ConversationStatus.OPEN
    assert c.kind == "replies"
    assert [m.text for m in c.messages.all()] == ["erste", "zweite"]


def test_assign_by_hand_only_to_members_with_inbox_rights(workspace, conv, member) -> None:
    agent, analyst = member(Role.AGENT), member(Role.ANALYST)
    conversation_assign(workspace=workspace, conversation=conv, assignee=agent)
    assert Conversation.objects.get(pk=conv.pk).assignee == agent
    with pytest.raises(ValidationError):
        conversation_assign(workspace=workspace, conversation=conv, assignee=analyst)
    assert Conversation.objects.get(pk=conv.pk).assignee == agent


def test_round_robin_gives_new_conversations_to_the_agents_in_turn(workspace, mastodon, make_user) -> None:
    a1, a2 = make_user("a1@example.com"), make_user("a2@example.com")
    for agent in (a1, a2):
        membership_set(workspace=workspace, user=agent, role=Role.AGENT)
    inbox_settings_update(workspace=workspace, round_robin=True, first_response_minutes=30)
    got = [conversation_with(workspace, mastodon, f"Frage {i}").assignee for i in range(3)]
    assert got == [a1, a2, a1]  # the owner has inbox rights too, but agents form the pool


def test_without_round_robin_nobody_is_assigned(workspace, mastodon, member) -> None:
    member(Role.AGENT)
    assert conversation_with(workspace, mastodon, "Frage").assignee is None


def test_closing_records_closed_at_and_reopening_clears_it(workspace, conv) -> None:
    conversation_set_status(workspace=workspace, conversation=conv, status=ConversationStatus.CLOSED)
    assert Conversation.objects.get(pk=conv.pk).closed_at is not None
    conversation_set_status(workspace=workspace, conversation=conv, status=ConversationStatus.PENDING)
    found = Conversation.objects.get(pk=conv.pk)
    assert found.status == ConversationStatus.PENDING
    assert found.closed_at is None
    with pytest.raises(ValidationError):
        conversation_set_status(workspace=workspace, conversation=conv, status="done")


def test_bulk_close_and_assign(workspace, mastodon, owner) -> None:
    a = conversation_with(workspace, mastodon, "a")
    b = conversation_with(workspace, mastodon, "b")
    assert (
        conversation_bulk(workspace=workspace, conversation_ids=[a.pk, b.pk], action="assign", assignee=owner)
        == 2
    )
    conversation_bulk(workspace=workspace, conversation_ids=[a.pk], action="close")
    assert {c.pk: (c.status, c.assignee_id) for c in Conversation.objects.all()} == {
        a.pk: (ConversationStatus.CLOSED, owner.pk),
        b.pk: (ConversationStatus.OPEN, owner.pk),
    }


def test_bulk_with_an_id_of_another_workspace_changes_nothing(
    workspace, other_workspace, mastodon, foreign_channel
) -> None:
    ours = conversation_with(workspace, mastodon, "a")
    theirs = conversation_with(other_workspace, foreign_channel, "b")
    with pytest.raises(WorkspaceMismatch):
        conversation_bulk(workspace=workspace, conversation_ids=[ours.pk, theirs.pk], action="close")
    assert not Conversation.objects.filter(status=ConversationStatus.CLOSED).exists()


def test_a_new_message_reopens_a_closed_conversation(workspace, mastodon) -> None:
    from resonanz.connectors.base import Engagement
    from resonanz.engagement.services import engagement_store

    from .inbox_support import reply

    c = conversation_with(workspace, mastodon, "a")
    conversation_set_status(workspace=workspace, conversation=c, status=ConversationStatus.CLOSED)
    assert c.variant is not None
    engagement_store(
        workspace=workspace,
        variant=c.variant,
        engagement=Engagement(reply_items=[reply(99, "noch was", at=timezone.now())]),
    )
    assert Conversation.objects.get(pk=c.pk).status == ConversationStatus.OPEN


def test_note_mentions_notify_the_colleagues_named(workspace, conv, owner, member) -> None:
    agent = member(Role.AGENT)  # agent@example.com
    note = note_add(
        workspace=workspace, conversation=conv, author=owner, text="@agent bitte übernehmen, @niemand"
    )
    assert list(note.mentions.all()) == [agent]
    [notification] = Notification.objects.all()
    assert notification.recipient == agent
    assert notification.kind == "inbox_mention"
    assert "bitte übernehmen" in notification.params["note"]


def test_saved_reply_fills_in_its_variables(workspace, conv, owner) -> None:
    owner.name = "Lena Koch"
    owner.save()
    saved = saved_reply_create(
        workspace=workspace,
        title="Danke",
        text="Hallo {author_name}, danke! {agent_name} von {channel_name} {unbekannt}",
    )
    text = saved_reply_render(workspace=workspace, saved_reply=saved, conversation=conv, agent=owner)
    assert text == "Hallo Kundin, danke! Lena Koch von brand@social.example {unbekannt}"


def test_presence_shows_the_others_and_whether_they_type(workspace, conv, owner, member) -> None:
    agent = member(Role.AGENT)
    assert presence_touch(workspace=workspace, conversation=conv, user=owner, typing=False) == []
    assert presence_touch(workspace=workspace, conversation=conv, user=agent, typing=True) == [
        ("owner@example.com", False)
    ]
    assert presence_touch(workspace=workspace, conversation=conv, user=owner, typing=False) == [
        ("agent@example.com", True)
    ]


def test_search_finds_text_and_author_in_any_case_within_the_workspace(
    workspace, other_workspace, mastodon, make_channel, owner
) -> None:
    a = conversation_with(workspace, mastodon, "Wo ist mein GUTSCHEINCODE?")
    b = conversation_with(workspace, mastodon, "Alles gut", author="gutscheinfan")
    conversation_with(workspace, mastodon, "Danke")
    conversation_with(other_workspace, make_channel(ws=other_workspace, remote_id="9"), "Gutschein bitte")

    def pks(search):
        return {c.pk for c in conversation_list(workspace=workspace, search=search)}

    assert pks("gutschein") == {a.pk, b.pk}
    assert pks("Gutscheincode") == {a.pk}
    assert pks("nirgends") == set()


def test_filters_status_assignee_kind_language_sentiment(workspace, mastodon, owner) -> None:
    a = conversation_with(workspace, mastodon, "gut")
    b = conversation_with(workspace, mastodon, "schlecht")
    # Set by hand (the first pass at ingest judged them already; these labels are what is filtered on).
    Message.objects.filter(conversation=a).update(language="other", sentiment="positive")
    Message.objects.filter(conversation=b).update(language="de", sentiment="negative")
    conversation_assign(workspace=workspace, conversation=a, assignee=owner)

    def pks(**kw):
        return {c.pk for c in conversation_list(workspace=workspace, user=owner, **kw)}

    assert pks() == {a.pk, b.pk}
    assert pks(assignee="mine") == {a.pk}
    assert pks(assignee="unassigned") == {b.pk}
    assert pks(sentiment="negative") == {b.pk}
    assert pks(language="de") == {b.pk}
    assert pks(language="en") == set()
    assert pks(kind="direct_messages") == set()
    assert pks(status="closed") == set()
    row: Any = conversation_list(workspace=workspace, sentiment="negative").get()
    assert (row.last_language, row.last_sentiment, row.last_text) == ("de", "negative", "schlecht")


def test_timer_and_report_medians(workspace, mastodon, owner) -> None:
    c1 = conversation_with(workspace, mastodon, "a")
    c2 = conversation_with(workspace, mastodon, "b")
    row: Any = conversation_list(workspace=workspace).get(pk=c1.pk)
    due = first_response_due(conversation=row, target_minutes=60)
    assert due is not None
    assert due < timezone.now()
    start1 = row.started_at
    start2 = cast(Any, conversation_list(workspace=workspace).get(pk=c2.pk)).started_at
    Conversation.objects.filter(pk=c1.pk).update(
        first_response_at=start1 + timedelta(minutes=10),
        closed_at=start1 + timedelta(minutes=60),
        assignee=owner,
    )
    Conversation.objects.filter(pk=c2.pk).update(
        first_response_at=start2 + timedelta(minutes=30), assignee=owner
    )
    report = response_report(workspace=workspace)
    [person] = report["person"]
    assert person.conversations == 2
    assert person.median_first_response == timedelta(minutes=20)
    assert person.median_handling == timedelta(minutes=60)
    assert len(report["week"]) == 1
    assert report["channel"][0].label == "brand@social.example"
