"""Answering from the inbox on the Mastodon emulator, exactly once: the key is stored before the call,
a dropped connection after the network created the reply is reconciled (no second status), a
temporary error is retried with the same key, and the next sync does not duplicate our answer."""

from __future__ import annotations

from resonanz.engagement.models import Conversation, Message, OutgoingReply, ReplyStatus
from resonanz.engagement.services import engagement_sync_variant, reply_create, reply_send


def _conversation(workspace, variant, fan) -> tuple[Conversation, str]:
    fan_status = fan.reply(variant.remote_id, "Gilt das auch online?")
    engagement_sync_variant(workspace=workspace, variant=variant)
    return Conversation.objects.get(variant=variant), fan_status


def _ours(masto, text: str) -> list[dict[str, object]]:
    return [s for s in masto.statuses if s.get("text") == text]


def test_reply_goes_out_once_and_lands_in_the_thread(workspace, variant, fan, masto, owner) -> None:
    conversation, fan_status = _conversation(workspace, variant, fan)
    reply = reply_create(
        workspace=workspace, conversation=conversation, author=owner, text="Ja, auch online!"
    )
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "skipped"  # a second task sends nothing
    [status] = _ours(masto, "Ja, auch online!")
    assert str(status["in_reply_to_id"]) == fan_status
    ours = Message.objects.get(conversation=conversation, sent_by=owner)
    assert ours.remote_id == str(status["id"])
    assert Conversation.objects.get(pk=conversation.pk).first_response_at is not None
    engagement_sync_variant(workspace=workspace, variant=variant)  # the network shows it again: dedup
    assert Message.objects.filter(conversation=conversation, remote_id=ours.remote_id).count() == 1


def test_dropped_connection_after_create_is_reconciled_not_sent_twice(
    workspace, variant, fan, masto, owner
) -> None:
    conversation, _fan_status = _conversation(workspace, variant, fan)
    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="Wir prüfen das.")
    masto.accept_then_drop()
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    assert len(_ours(masto, "Wir prüfen das.")) == 1
    found = OutgoingReply.objects.get(pk=reply.pk)
    assert found.status == ReplyStatus.SENT
    assert found.attempts == 1


def test_temporary_error_retries_with_the_same_key(workspace, variant, fan, masto, owner) -> None:
    conversation, _fan_status = _conversation(workspace, variant, fan)
    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="Gleich!")
    masto.fail_next("/api/v1/statuses", 503, method="POST")  # the create, not the parent lookup
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "retry"
    assert OutgoingReply.objects.get(pk=reply.pk).status == ReplyStatus.PENDING
    assert _ours(masto, "Gleich!") == []
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    assert len(_ours(masto, "Gleich!")) == 1
    creates = [r for r in masto.requests_to("/api/v1/statuses") if r.method == "POST" and b"Gleich" in r.body]
    assert len(creates) == 2
    assert {r.headers.get("idempotency-key") for r in creates} == {reply.key}


def test_a_refused_reply_fails_and_says_why(workspace, variant, fan, masto, owner) -> None:
    conversation, _fan_status = _conversation(workspace, variant, fan)
    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="x" * 600)
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "failed"
    found = OutgoingReply.objects.get(pk=reply.pk)
    assert found.status == ReplyStatus.FAILED
    assert found.last_error
