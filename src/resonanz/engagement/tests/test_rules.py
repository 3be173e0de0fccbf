"""Assignment rules: keyword matching (case, umlauts, word boundaries), the order of rules, assigning to a
person or in turn among a group, status and priority, waiting for the classifier on language and
sentiment, a rule applied once per new message, the preview, permissions, tenancy and the audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from resonanz.accounts.models import Role
from resonanz.connectors.base import Engagement
from resonanz.core.errors import WorkspaceMismatch
from resonanz.core.models import AuditLogEntry
from resonanz.engagement.models import AssignmentRule, Conversation, Message
from resonanz.engagement.rules import fold, keyword_found, keyword_list
from resonanz.engagement.selectors import rule_preview
from resonanz.engagement.services import (
    conversation_assign,
    conversation_route,
    engagement_store,
    inbox_settings_update,
    messages_analyse,
    note_add,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
)
from resonanz.engagement.tasks import refine_messages
from testsupport.tasks import run_ready_tasks

from .inbox_support import conversation_with, published_variant, reply

COMPLAINT = "Die Lieferung kam zwei Wochen zu spät und der Karton war kaputt. Sehr enttäuschend!"
PRAISE = "Absolutely love the new collection, the quality is fantastic. Thank you!"


# -- keywords -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keyword", "text", "found"),
    [
        ("Rückgabe", "Wie läuft die RÜCKGABE?", True),
        ("Rückgabe", "wie funktioniert die rueckgabe", True),  # umlaut written out
        ("Rueckgabe", "Rückgabe bitte", True),
        ("Straße", "Welche STRASSE?", True),
        ("kaputt", "Der Karton war kaputt.", True),
        ("kaputt", "ein kaputtes Gerät", False),  # word boundary
        ("kaputt*", "ein kaputtes Gerät", True),  # prefix on purpose
        ("Tür", "Urlaub in der Türkei", False),  # an umlaut is a word character
        ("refund", "I want a REFUND now", True),
        ("refund", "refunded already", False),
        ("geht nicht", "Die App geht   nicht mehr", True),  # a phrase, any white space
        ("app", "Die App-Version", True),  # a hyphen ends a word
    ],
)
def test_keyword_matching(keyword: str, text: str, found: bool) -> None:
    assert (keyword_found(keywords=[keyword], text=text) is not None) is found


def test_keywords_are_one_per_line_or_comma_and_folding_is_symmetric() -> None:
    assert keyword_list("Rückgabe\n  kaputt ,refund\n\nRückgabe") == ["Rückgabe", "kaputt", "refund"]
    assert fold("ÄÖÜß") == fold("aeoeuess")


# -- rules on arrival ---------------------------------------------------------------------------------


def test_a_keyword_rule_assigns_on_arrival(workspace, mastodon, owner, member) -> None:
    agent = member(Role.AGENT)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={
            "name": "Rückgaben",
            "keywords": "Rückgabe\nrefund",
            "assign_mode": "person",
            "assignee": agent,
        },
    )
    hit = conversation_with(workspace, mastodon, "Wie läuft die RUECKGABE?")
    miss = conversation_with(workspace, mastodon, "Schönes Foto!")
    assert Conversation.objects.get(pk=hit.pk).assignee == agent
    assert Conversation.objects.get(pk=miss.pk).assignee is None
    applied = AuditLogEntry.objects.get(action="inbox.rule.applied")
    assert applied.target_id == str(hit.pk)
    assert applied.data["assignee"] == agent.pk


def test_first_matching_rule_wins_and_disabled_rules_are_skipped(workspace, mastodon, owner, member) -> None:
    agent, editor = member(Role.AGENT), member(Role.EDITOR)
    off = rule_create(
        workspace=workspace,
        actor=owner,
        values={
            "name": "aus",
            "keywords": "kaputt",
            "assign_mode": "person",
            "assignee": owner,
            "enabled": False,
        },
    )
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "erste", "keywords": "kaputt", "assign_mode": "person", "assignee": agent},
    )
    second = rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "zweite", "keywords": "kaputt", "assign_mode": "person", "assignee": editor},
    )
    assert conversation_with(workspace, mastodon, "Alles kaputt").assignee == agent
    rule_move(workspace=workspace, rule=second, actor=owner, offset=-1)
    assert list(AssignmentRule.objects.values_list("name", flat=True)) == ["aus", "zweite", "erste"]
    assert conversation_with(workspace, mastodon, "wieder kaputt").assignee == editor
    assert off.enabled is False


def test_round_robin_among_the_rule_s_group(workspace, mastodon, owner, member, make_user) -> None:
    a1, a2 = member(Role.AGENT), member(Role.EDITOR)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "Team", "channel": mastodon, "assign_mode": "round_robin"},
        pool=[a1, a2],
    )
    got = [conversation_with(workspace, mastodon, f"Frage {i}").assignee for i in range(3)]
    assert got == [a1, a2, a1]


def test_status_and_priority_without_assigning(workspace, mastodon, owner) -> None:
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "Dringend", "keywords": "Anwalt", "set_priority": "urgent", "set_status": "pending"},
    )
    c = Conversation.objects.get(pk=conversation_with(workspace, mastodon, "Mein Anwalt meldet sich").pk)
    assert (c.priority, c.status, c.assignee) == ("urgent", "pending", None)


def test_no_rule_matches_then_the_workspace_round_robin_takes_new_conversations(
    workspace, mastodon, owner, member
) -> None:
    agent = member(Role.AGENT)
    inbox_settings_update(workspace=workspace, round_robin=True, first_response_minutes=30)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "VIP", "keywords": "Großkunde", "assign_mode": "person", "assignee": owner},
    )
    assert conversation_with(workspace, mastodon, "Großkunde hier").assignee == owner
    assert conversation_with(workspace, mastodon, "Frage").assignee == agent


def test_a_new_message_on_an_unassigned_conversation_is_routed_an_assigned_one_is_not(
    workspace, mastodon, owner, member
) -> None:
    agent = member(Role.AGENT)
    variant = published_variant(workspace, mastodon)
    base = timezone.now() - timedelta(minutes=30)

    def store(n: int, text: str) -> Conversation:
        item = reply(n, text, at=base + timedelta(minutes=n), parent=variant.remote_id)
        engagement_store(workspace=workspace, variant=variant, engagement=Engagement(reply_items=[item]))
        return Conversation.objects.get(variant=variant)

    assert store(1, "Hallo").assignee is None
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "Defekt", "keywords": "defekt", "assign_mode": "person", "assignee": agent},
    )
    # A rule is tried on new messages only: storing the old one again changes nothing.
    assert store(1, "Hallo").assignee is None
    conv = store(2, "Das Gerät ist defekt")
    assert conv.assignee == agent
    conversation_assign(workspace=workspace, conversation=conv, assignee=owner)
    assert store(3, "Immer noch defekt").assignee == owner  # someone owns it: rules stay out
    assert Message.objects.filter(conversation=conv, routed=False).count() == 0


# -- language and sentiment: the first pass at ingest, the full model later ----------------------------


def test_a_sentiment_rule_decides_on_the_first_pass_and_is_applied_once(
    workspace, mastodon, owner, member
) -> None:
    agent = member(Role.AGENT)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "Beschwerden", "language": "de", "sentiment": "negative", "set_priority": "high"},
    )
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "Rest", "assign_mode": "person", "assignee": agent},
    )
    complaint = conversation_with(workspace, mastodon, COMPLAINT)
    praise = conversation_with(workspace, mastodon, PRAISE, author="fan")
    # The ingest stored the fast tier's judgement with the messages: the rules decided at once.
    assert set(Message.objects.values_list("sentiment_tier", flat=True)) == {"fast"}
    complaint = Conversation.objects.get(pk=complaint.pk)
    praise = Conversation.objects.get(pk=praise.pk)
    assert (complaint.priority, complaint.assignee) == ("high", None)
    assert (praise.priority, praise.assignee) == ("normal", agent)
    # The full model agrees on these: refining applies nothing twice.
    assert messages_analyse(workspace=workspace) == 2
    assert set(Message.objects.values_list("sentiment_tier", flat=True)) == {"full"}
    assert AuditLogEntry.objects.filter(action="inbox.rule.applied").count() == 2


def test_a_sentiment_rule_waits_for_a_message_not_judged_yet(workspace, mastodon, owner, member) -> None:
    agent = member(Role.AGENT)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "Beschwerden", "sentiment": "negative", "set_priority": "high"},
    )
    rule_create(
        workspace=workspace, actor=owner, values={"name": "Rest", "assign_mode": "person", "assignee": agent}
    )
    conversation = Conversation.objects.create(workspace=workspace, channel=mastodon, root_remote_id="w")
    message = Message.objects.create(
        conversation=conversation,
        remote_id="w",
        author_id="1",
        author_handle="k",
        text=COMPLAINT,
        created_at=timezone.now(),
    )
    conversation_route(workspace=workspace, conversation=conversation, message_ids=[message.pk])
    assert not AuditLogEntry.objects.filter(action="inbox.rule.applied").exists()  # waits
    assert messages_analyse(workspace=workspace, tier="fast") == 1
    conversation.refresh_from_db()
    assert (conversation.priority, conversation.assignee) == ("high", None)
    Message.objects.update(sentiment=None)
    messages_analyse(workspace=workspace, tier="fast")
    assert AuditLogEntry.objects.filter(action="inbox.rule.applied").count() == 1  # once per message


def test_a_refined_label_re_runs_the_rules_only_where_nobody_touched_the_conversation(
    workspace, mastodon, owner, member
) -> None:
    agent = member(Role.AGENT)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "neg", "sentiment": "negative", "assign_mode": "person", "assignee": agent},
    )
    # Two complaints the first pass got wrong ("positive"), routed on that label (no rule held).
    conversations = []
    for n in range(2):
        conversation = Conversation.objects.create(
            workspace=workspace, channel=mastodon, root_remote_id=f"c{n}"
        )
        Message.objects.create(
            conversation=conversation,
            remote_id=f"c{n}",
            author_id="1",
            author_handle="k",
            text=COMPLAINT,
            created_at=timezone.now(),
            language="de",
            sentiment="positive",
            sentiment_tier="fast",
            routed=True,
        )
        conversations.append(conversation)
    untouched, touched = conversations
    note_add(workspace=workspace, conversation=touched, author=owner, text="Ich kümmere mich.")

    assert (
        refine_messages.call(
            workspace_id=workspace.pk, message_ids=list(Message.objects.values_list("pk", flat=True))
        )
        == 2
    )
    assert set(Message.objects.values_list("sentiment", "sentiment_tier")) == {("negative", "full")}
    assert Conversation.objects.get(pk=untouched.pk).assignee == agent  # the refined label decided
    assert Conversation.objects.get(pk=touched.pk).assignee is None  # a person is on it: left alone
    # Idempotent: judged "full" already, a second run (a repeated task) judges and applies nothing.
    assert (
        refine_messages.call(
            workspace_id=workspace.pk, message_ids=list(Message.objects.values_list("pk", flat=True))
        )
        == 0
    )
    assert AuditLogEntry.objects.filter(action="inbox.rule.applied").count() == 1


def test_a_rule_before_the_sentiment_rule_decides_at_once(workspace, mastodon, owner, member) -> None:
    agent = member(Role.AGENT)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "Karton", "keywords": "Karton", "assign_mode": "person", "assignee": agent},
    )
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "neg", "sentiment": "negative", "set_priority": "high"},
    )
    assert conversation_with(workspace, mastodon, COMPLAINT).assignee == agent


@pytest.mark.django_db(transaction=True)
def test_sentiment_rule_end_to_end_through_the_analysis_task(workspace, mastodon, owner, member) -> None:
    agent = member(Role.AGENT)
    rule_create(
        workspace=workspace,
        actor=owner,
        values={"name": "neg", "sentiment": "negative", "assign_mode": "person", "assignee": agent},
    )
    conv = conversation_with(workspace, mastodon, COMPLAINT)
    assert Conversation.objects.get(pk=conv.pk).assignee == agent  # the first pass, in the ingest
    run_ready_tasks(queues=("sync",))  # the refinement: same label, the conversation stays as it is
    assert Message.objects.get(conversation=conv).sentiment_tier == "full"
    assert Conversation.objects.get(pk=conv.pk).assignee == agent


# -- managing rules ------------------------------------------------------------------------------------


def test_only_owners_and_admins_manage_rules(workspace, owner, member) -> None:
    editor, admin = member(Role.EDITOR), member(Role.ADMIN)
    values = {"name": "x", "keywords": "a", "set_priority": "high"}
    with pytest.raises(PermissionDenied):
        rule_create(workspace=workspace, actor=editor, values=values)
    rule = rule_create(workspace=workspace, actor=admin, values=values)
    with pytest.raises(PermissionDenied):
        rule_delete(workspace=workspace, rule=rule, actor=editor)
    assert AssignmentRule.objects.count() == 1


def test_refusals_name_the_field_and_keep_nothing(workspace, owner, member, foreign_channel) -> None:
    analyst = member(Role.ANALYST)
    cases = [
        ({"name": " ", "set_priority": "high"}, "name"),
        ({"name": "a"}, "assign_mode"),  # no action
        ({"name": "a", "assign_mode": "person"}, "assignee"),
        ({"name": "a", "assign_mode": "person", "assignee": analyst}, "assignee"),
        ({"name": "a", "assign_mode": "round_robin"}, "pool"),
        ({"name": "a", "set_status": "done"}, "set_status"),
    ]
    for values, field in cases:
        with pytest.raises(ValidationError) as exc:
            rule_create(workspace=workspace, actor=owner, values=values)
        assert field in exc.value.message_dict, (values, exc.value.message_dict)
    with pytest.raises(WorkspaceMismatch):
        rule_create(
            workspace=workspace,
            actor=owner,
            values={"name": "a", "channel": foreign_channel, "set_priority": "high"},
        )
    assert AssignmentRule.objects.count() == 0


def test_changes_are_in_the_audit_log(workspace, owner) -> None:
    rule = rule_create(
        workspace=workspace, actor=owner, values={"name": "a", "keywords": "x", "set_priority": "high"}
    )
    rule_update(workspace=workspace, rule=rule, actor=owner, values={"keywords": "y\nz"})
    rule_delete(workspace=workspace, rule=rule, actor=owner)
    entries = list(
        AuditLogEntry.objects.filter(workspace=workspace, action__startswith="inbox.").order_by("pk")
    )
    assert [e.action for e in entries] == ["inbox.rule.create", "inbox.rule.update", "inbox.rule.delete"]
    assert entries[1].data["keywords"] == ["y", "z"]
    assert all(e.actor == owner for e in entries)


def test_a_rule_of_another_workspace_is_refused(workspace, other_workspace, owner) -> None:
    stranger = other_workspace.memberships.get().user
    foreign = rule_create(
        workspace=other_workspace, actor=stranger, values={"name": "a", "set_priority": "high"}
    )
    with pytest.raises(WorkspaceMismatch):
        rule_update(workspace=workspace, rule=foreign, actor=owner, values={"name": "b"})
    with pytest.raises(WorkspaceMismatch):
        rule_preview(workspace=workspace, rules=[foreign])


# -- preview ---------------------------------------------------------------------------------------------


def test_preview_shows_what_an_unsaved_rule_would_take_and_changes_nothing(
    workspace, mastodon, owner
) -> None:
    hit = conversation_with(workspace, mastodon, "Die Rückgabe klappt nicht")
    conversation_with(workspace, mastodon, "Danke!")
    draft = AssignmentRule(
        workspace=workspace, name="Entwurf", keywords="rueckgabe", assign_mode="person", assignee=owner
    )
    rows = rule_preview(workspace=workspace, rules=[draft])
    assert len(rows) == 2
    assert [r.conversation.pk for r in rows if r.rule is draft] == [hit.pk]
    assert AssignmentRule.objects.count() == 0
    assert Conversation.objects.filter(assignee__isnull=False).count() == 0
