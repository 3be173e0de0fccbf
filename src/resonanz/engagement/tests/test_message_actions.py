"""Like, hide and delete from the inbox, only where the channel's connector declares them
(``NetworkSpec.inbox_actions``), against the Mastodon emulator: a favourite arrives on the fan's reply
once, our own answer is deleted on the network; the page and the API offer the same."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from resonanz.accounts.models import Role
from resonanz.core.models import AuditLogEntry
from resonanz.engagement.models import Conversation, Message
from resonanz.engagement.services import (
    engagement_sync_variant,
    message_act,
    message_actions,
    reply_create,
    reply_send,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def fan_reply(workspace, variant, fan) -> Message:
    fan.reply(variant.remote_id, "Gibt es das auch in Blau?")
    engagement_sync_variant(workspace=workspace, variant=variant)
    return Message.objects.select_related("conversation__channel").get(sent_by__isnull=True)


def _status(masto, token: str, status_id: str) -> dict[str, Any]:
    with httpx.Client(base_url=masto.base_url, headers={"Authorization": f"Bearer {token}"}) as client:
        found: dict[str, Any] = client.get(f"/api/v1/statuses/{status_id}").raise_for_status().json()
        return found


def test_like_favourites_the_reply_on_the_network_once(workspace, owner, fan, masto, fan_reply) -> None:
    conversation = fan_reply.conversation
    assert message_actions(conversation=conversation, message=fan_reply) == ["like"]  # no hide on Mastodon
    message_act(workspace=workspace, message=fan_reply, action="like", actor=owner)
    assert _status(masto, fan.token, fan_reply.remote_id)["favourites_count"] == 1
    liked = Message.objects.get(pk=fan_reply.pk)
    assert liked.liked_at is not None
    assert message_actions(conversation=conversation, message=liked) == []  # done: not offered again
    with pytest.raises(ValidationError):
        message_act(workspace=workspace, message=liked, action="like", actor=owner)
    with pytest.raises(ValidationError):
        message_act(workspace=workspace, message=liked, action="hide", actor=owner)
    assert _status(masto, fan.token, fan_reply.remote_id)["favourites_count"] == 1
    assert AuditLogEntry.objects.filter(action="inbox.message.like").count() == 1


def test_delete_our_answer_on_the_network(workspace, owner, masto, fan_reply) -> None:
    conversation = fan_reply.conversation
    reply = reply_create(workspace=workspace, conversation=conversation, author=owner, text="Ja, ab Mai!")
    assert reply_send(workspace=workspace, reply_id=reply.pk) == "sent"
    ours = Message.objects.get(sent_by=owner)
    assert message_actions(conversation=conversation, message=ours) == ["delete_reply"]
    with pytest.raises(ValidationError):  # not someone else's message
        message_act(workspace=workspace, message=fan_reply, action="delete_reply", actor=owner)
    message_act(workspace=workspace, message=ours, action="delete_reply", actor=owner)
    assert [s["id"] for s in masto.deleted_statuses] == [ours.remote_id]
    assert not Message.objects.filter(pk=ours.pk).exists()
    assert Message.objects.filter(pk=fan_reply.pk).exists()


def test_a_network_refusal_is_explained_and_nothing_is_recorded(workspace, owner, masto, fan_reply) -> None:
    masto.fail_next(f"/api/v1/statuses/{fan_reply.remote_id}/favourite", status=422)
    with pytest.raises(ValidationError) as exc:
        message_act(workspace=workspace, message=fan_reply, action="like", actor=owner)
    assert "The network refused" in " ".join(exc.value.messages)
    assert Message.objects.get(pk=fan_reply.pk).liked_at is None


def test_the_thread_offers_what_the_network_allows_in_german(
    workspace, owner, login, masto, fan, fan_reply
) -> None:
    client = login(owner, language="de")
    url = reverse("engagement:thread", args=[workspace.pk, fan_reply.conversation_id])
    html = client.get(url).content.decode()
    assert f'id="like-{fan_reply.pk}">Gefällt mir</button>' in html
    assert f'id="hide-{fan_reply.pk}"' not in html
    action = reverse(
        "engagement:message_action", args=[workspace.pk, fan_reply.conversation_id, fan_reply.pk, "like"]
    )
    page = client.post(action, follow=True).content.decode()
    assert "Im Netzwerk mit „Gefällt mir“ markiert." in page
    assert f'id="liked-{fan_reply.pk}"' in page
    assert _status(masto, fan.token, fan_reply.remote_id)["favourites_count"] == 1
    refused = client.post(action.replace("/like/", "/hide/"), follow=True).content.decode()
    assert "Das ist mit dieser Nachricht in diesem Netzwerk nicht möglich." in refused


def test_the_api_likes_for_agents_not_analysts(workspace, member, masto, fan, fan_reply) -> None:
    url = (
        f"/api/v1/workspaces/{workspace.pk}/conversations/{fan_reply.conversation_id}"
        f"/messages/{fan_reply.pk}/like/"
    )
    analyst = APIClient()
    analyst.force_authenticate(member(Role.ANALYST))
    assert analyst.post(url).status_code == 403
    agent = APIClient()
    agent.force_authenticate(member(Role.AGENT))
    response = agent.post(url)
    assert response.status_code == 200
    assert response.json()["liked_at"] is not None
    assert agent.post(url).status_code == 400  # done already
    assert _status(masto, fan.token, fan_reply.remote_id)["favourites_count"] == 1


def test_another_workspace_s_message_is_a_404(workspace, other_workspace, api, fan_reply) -> None:
    url = f"/api/v1/workspaces/{workspace.pk}/conversations/{fan_reply.conversation_id}/messages/999999/like/"
    assert api.post(url).status_code == 404
    assert Conversation.objects.count() == 1


def test_hide_where_the_network_has_it_on_the_meta_emulator(
    workspace, owner, make_channel, monkeypatch
) -> None:
    """A network that declares hide (and not like): the inbox offers hide, the comment is hidden there."""
    from datetime import UTC, datetime

    from django.utils import timezone

    from resonanz.connectors.base import DraftPart, DraftVariant, Engagement, RemoteReply
    from resonanz.connectors.base.provider import PublishKey
    from resonanz.connectors.registry import get_connector
    from resonanz.engagement.services import engagement_store
    from resonanz.posts.models import Variant, VariantStatus
    from resonanz.posts.services import PostInput, post_create
    from testsupport.emulators.meta import MetaEmulator

    with MetaEmulator() as meta:
        monkeypatch.setenv("RESONANZ_FACEBOOK_API_URL", meta.base_url)
        channel = make_channel(
            "facebook",
            base_url=meta.base_url,
            remote_id=meta.default_page.id,
            credentials={"page_access_token": meta.default_page.token},
        )
        connector = get_connector("facebook")
        from resonanz.channels.services import channel_account

        ref = connector.publish_part(
            account=channel_account(channel=channel),
            variant=DraftVariant(parts=[DraftPart(text="Neu!")]),
            part_index=0,
            key=PublishKey(key="rz-test-fb", created_at=datetime.now(UTC)),
        )
        post = post_create(
            workspace=workspace, author=owner, data=PostInput(text="Neu!", channel_ids=[channel.pk])
        )
        Variant.objects.filter(post=post).update(
            status=VariantStatus.PUBLISHED, remote_id=ref.remote_id, published_at=timezone.now()
        )
        variant = Variant.objects.select_related("post", "channel").get(post=post)
        comment = meta.comment_as(meta.create_person("Fan AT"), ref.remote_id, "Spam spam")
        item = RemoteReply(
            remote_id=comment.id,
            url="",
            author_id="fan",
            author_handle="Fan AT",
            author_name="Fan AT",
            text="Spam spam",
            created_at=timezone.now(),
            in_reply_to_remote_id=ref.remote_id,
        )
        engagement_store(workspace=workspace, variant=variant, engagement=Engagement(reply_items=[item]))
        message = Message.objects.select_related("conversation__channel").get(remote_id=comment.id)
        assert message_actions(conversation=message.conversation, message=message) == ["hide"]
        message_act(workspace=workspace, message=message, action="hide", actor=owner)
        assert meta.comments[comment.id].is_hidden is True
        assert Message.objects.get(pk=message.pk).hidden_at is not None
