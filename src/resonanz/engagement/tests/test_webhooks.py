"""Webhook deliveries at ``/hooks/<network>/`` (engagement/webhooks.py) against the Meta emulator: the
subscription check, the signature, and a delivered comment that ends up in the post's conversation once
(through the real reply sync against the emulator), however often it is delivered and polled."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.channels.services import channel_account
from resonanz.connectors.base import DraftPart, DraftVariant
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.registry import get_connector
from resonanz.engagement.models import Message
from resonanz.engagement.services import engagement_sync_variant
from resonanz.posts.models import Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create
from testsupport.emulators.meta import IgMedia, MetaEmulator

pytestmark = pytest.mark.django_db

VERIFY_TOKEN = "hooks-verify-token"


@pytest.fixture
def meta(monkeypatch: pytest.MonkeyPatch) -> Iterator[MetaEmulator]:
    with MetaEmulator() as emulator:
        monkeypatch.setenv("RESONANZ_FACEBOOK_API_URL", emulator.base_url)
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_SECRET", emulator.app_secret)
        monkeypatch.setenv("RESONANZ_META_WEBHOOK_VERIFY_TOKEN", VERIFY_TOKEN)
        yield emulator


def _published(workspace: Workspace, owner: User, channel: Channel, remote_id: str) -> Variant:
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Neu!", channel_ids=[channel.pk])
    )
    Variant.objects.filter(post=post).update(
        status=VariantStatus.PUBLISHED, remote_id=remote_id, published_at=timezone.now()
    )
    return Variant.objects.select_related("post", "channel").get(post=post)


@pytest.fixture
def fb_variant(
    meta: MetaEmulator, workspace: Workspace, owner: User, make_channel: Callable[..., Channel]
) -> Variant:
    page = meta.default_page
    channel = make_channel(
        "facebook", base_url=meta.base_url, remote_id=page.id, credentials={"page_access_token": page.token}
    )
    ref = get_connector("facebook").publish_part(
        account=channel_account(channel=channel),
        variant=DraftVariant(parts=[DraftPart(text="Neu!")]),
        part_index=0,
        key=PublishKey(key="rz-test-hooks", created_at=datetime.now(UTC)),
    )
    # The Page installed the app (what connecting does when push is configured, test below).
    meta.subscribed_pages[page.id] = ["feed"]
    return _published(workspace, owner, channel, ref.remote_id)


def _run_queued() -> list[Any]:
    """Run what the delivery queued after its commit, as the worker would (the task itself, by id)."""
    from django.utils.module_loading import import_string

    results = []
    for queued in DBTaskResult.objects.filter(status="READY").order_by("enqueued_at"):
        results.append(import_string(queued.task_path).call(**queued.args_kwargs["kwargs"]))
        queued.delete()
    return results


def _deliver(client: Client, network: str, body: bytes, headers: dict[str, str], capture: Any) -> int:
    extra = {k: v for k, v in headers.items() if k != "Content-Type"}
    with capture(execute=True):
        response = client.post(
            f"/hooks/{network}/", data=body, content_type="application/json", headers=extra
        )
    return int(response.status_code)


def test_the_subscription_check_echoes_the_challenge_only_for_our_token(
    client: Client, meta: MetaEmulator
) -> None:
    ok = client.get(
        "/hooks/facebook/",
        {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN},
    )
    assert (ok.status_code, ok.content, ok["Content-Type"].split(";")[0]) == (
        200,
        b"1158201444",
        "text/plain",
    )
    wrong = client.get(
        "/hooks/instagram/", {"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "guess"}
    )
    assert wrong.status_code == 403
    assert (
        client.get("/hooks/facebook/", {"hub.challenge": "1", "hub.verify_token": VERIFY_TOKEN}).status_code
        == 403
    )


def test_unknown_networks_and_networks_without_webhooks_are_404(client: Client, meta: MetaEmulator) -> None:
    assert (
        client.post("/hooks/nosuchnetwork/", data=b"{}", content_type="application/json").status_code == 404
    )
    assert client.get("/hooks/mastodon/").status_code == 404
    assert client.post("/hooks/mastodon/", data=b"{}", content_type="application/json").status_code == 404


def test_push_not_configured_is_404(
    client: Client, meta: MetaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESONANZ_META_WEBHOOK_VERIFY_TOKEN")
    assert (
        client.get("/hooks/facebook/", {"hub.mode": "subscribe", "hub.verify_token": ""}).status_code == 404
    )


def test_unsigned_or_wrongly_signed_deliveries_are_refused_and_logged(
    client: Client,
    meta: MetaEmulator,
    fb_variant: Variant,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    meta.comment_as(meta.create_person("Fan AT"), fb_variant.remote_id, "Wann ist Eröffnung?")
    _, body, headers = meta.webhook_deliveries[-1]
    with caplog.at_level(logging.WARNING):
        assert _deliver(client, "facebook", body, {}, django_capture_on_commit_callbacks) == 403
        wrong = "sha256=" + hmac.new(b"not-the-secret", body, hashlib.sha256).hexdigest()
        assert (
            _deliver(
                client, "facebook", body, {"X-Hub-Signature-256": wrong}, django_capture_on_commit_callbacks
            )
            == 403
        )
        tampered = body.replace(b"Er", b"er")
        assert _deliver(client, "facebook", tampered, headers, django_capture_on_commit_callbacks) == 403
    assert "missing or wrong signature" in caplog.text
    assert not DBTaskResult.objects.exists()
    assert _deliver(client, "facebook", body, headers, django_capture_on_commit_callbacks) == 200
    assert DBTaskResult.objects.filter(task_path__endswith="refresh_variant_engagement").count() == 1


def test_bad_json_is_400_and_stores_nothing(
    client: Client, meta: MetaEmulator, fb_variant: Variant, django_capture_on_commit_callbacks: Any
) -> None:
    for body in (b"{not json", b"[]", json.dumps({"object": "page", "entry": [{"changes": []}]}).encode()):
        signature = "sha256=" + hmac.new(meta.app_secret.encode(), body, hashlib.sha256).hexdigest()
        status = _deliver(
            client, "facebook", body, {"X-Hub-Signature-256": signature}, django_capture_on_commit_callbacks
        )
        assert status == 400
    assert not DBTaskResult.objects.exists()
    assert not Message.objects.exists()


def test_a_delivery_too_large_is_refused(client: Client, meta: MetaEmulator, settings: Any) -> None:
    settings.RESONANZ_WEBHOOK_MAX_BYTES = 100
    body = json.dumps({"object": "page", "entry": [], "pad": "x" * 200}).encode()
    signature = "sha256=" + hmac.new(meta.app_secret.encode(), body, hashlib.sha256).hexdigest()
    response = client.post(
        "/hooks/facebook/", data=body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature
    )
    assert response.status_code == 413


def test_a_facebook_comment_is_filed_once_under_its_post_even_delivered_twice_and_polled(
    client: Client,
    meta: MetaEmulator,
    fb_variant: Variant,
    workspace: Workspace,
    django_capture_on_commit_callbacks: Any,
) -> None:
    comment = meta.comment_as(meta.create_person("Fan AT"), fb_variant.remote_id, "Gibt es das auch in Blau?")
    assert len(meta.webhook_deliveries) == 1
    _, body, headers = meta.webhook_deliveries[0]
    assert json.loads(body)["entry"][0]["id"] == fb_variant.channel.remote_id

    assert _deliver(client, "facebook", body, headers, django_capture_on_commit_callbacks) == 200
    _run_queued()
    message = Message.objects.select_related("conversation").get(remote_id=comment.id)
    assert message.conversation.channel_id == fb_variant.channel_id
    assert message.text == "Gibt es das auch in Blau?"

    # Meta retries (same content), then the periodic poll comes by: nothing twice.
    assert _deliver(client, "facebook", body, headers, django_capture_on_commit_callbacks) == 200
    _run_queued()
    engagement_sync_variant(workspace=workspace, variant=fb_variant)
    assert Message.objects.filter(remote_id=comment.id).count() == 1


def test_our_own_comments_and_reactions_queue_nothing(
    client: Client, meta: MetaEmulator, fb_variant: Variant, django_capture_on_commit_callbacks: Any
) -> None:
    page = meta.default_page
    value = {
        "from": {"id": page.id, "name": page.name},
        "post_id": fb_variant.remote_id,
        "item": "comment",
        "verb": "add",
    }
    body, headers = meta.signed_delivery("page", page.id, "feed", value)
    assert _deliver(client, "facebook", body, headers, django_capture_on_commit_callbacks) == 200
    reaction = {"from": {"id": "1"}, "post_id": fb_variant.remote_id, "item": "reaction", "verb": "add"}
    body, headers = meta.signed_delivery("page", page.id, "feed", reaction)
    assert _deliver(client, "facebook", body, headers, django_capture_on_commit_callbacks) == 200
    body, headers = meta.signed_delivery("page", page.id, "some_new_field", {"x": 1})
    assert _deliver(client, "facebook", body, headers, django_capture_on_commit_callbacks) == 200
    assert not DBTaskResult.objects.exists()


@pytest.fixture
def ig_variant(
    meta: MetaEmulator, workspace: Workspace, owner: User, make_channel: Callable[..., Channel]
) -> Variant:
    page = meta.default_page
    user = meta.create_ig_user(page, "resonanz.demo")
    media = IgMedia(meta.new_id(), user.id, "Neu!", "IMAGE", meta.now())
    meta.ig_media[media.id] = media
    channel = make_channel(
        "instagram",
        base_url=meta.base_url,
        handle=user.username,
        remote_id=user.id,
        credentials={"page_access_token": page.token},
    )
    meta.subscribed_pages[page.id] = ["feed"]
    return _published(workspace, owner, channel, media.id)


def test_an_instagram_comment_is_filed_once_under_its_media(
    client: Client,
    meta: MetaEmulator,
    ig_variant: Variant,
    workspace: Workspace,
    django_capture_on_commit_callbacks: Any,
) -> None:
    comment = meta.ig_comment_as("fan.at", ig_variant.remote_id, "Wie viel kostet das?")
    object_type, body, headers = meta.webhook_deliveries[-1]
    assert object_type == "instagram"
    assert (
        _deliver(client, "facebook", body, headers, django_capture_on_commit_callbacks) == 200
    )  # wrong address
    assert not DBTaskResult.objects.exists()
    for _ in range(2):
        assert _deliver(client, "instagram", body, headers, django_capture_on_commit_callbacks) == 200
        _run_queued()
    engagement_sync_variant(workspace=workspace, variant=ig_variant)
    message = Message.objects.select_related("conversation").get(remote_id=comment.id)
    assert message.conversation.channel_id == ig_variant.channel_id
    assert Message.objects.filter(remote_id=comment.id).count() == 1


def test_an_instagram_mention_makes_the_inbox_poll_run(
    client: Client, meta: MetaEmulator, ig_variant: Variant, django_capture_on_commit_callbacks: Any
) -> None:
    meta.ig_mention_as("fan.at", ig_variant.channel.remote_id, media_id=meta.new_id())
    _, body, headers = meta.webhook_deliveries[-1]
    assert _deliver(client, "instagram", body, headers, django_capture_on_commit_callbacks) == 200
    resync = DBTaskResult.objects.get(task_path__endswith="sync_channel_inbox")
    assert resync.args_kwargs["kwargs"] == {"channel_id": ig_variant.channel_id}
    # The poll runs; this connector reads no mentions yet, so it files nothing (and fails nothing).
    assert _run_queued() == [
        {"mentions": 0, "mentions_failed": 0, "direct_messages": 0, "direct_messages_failed": 0}
    ]


def test_the_emulator_posts_its_delivery_to_the_callback_and_the_comment_arrives(
    transactional_db: None, live_server: Any, meta: MetaEmulator, workspace: Workspace, owner: User
) -> None:
    """End to end over HTTP: the emulator signs and POSTs to the live callback address as Meta does; the
    commit queues the reply sync for real (no captured callbacks)."""
    page = meta.default_page
    channel = Channel.objects.create(
        workspace=workspace,
        network="facebook",
        base_url=meta.base_url,
        handle=page.username,
        remote_id=page.id,
        credentials={"page_access_token": page.token},
    )
    ref = get_connector("facebook").publish_part(
        account=channel_account(channel=channel),
        variant=DraftVariant(parts=[DraftPart(text="Live!")]),
        part_index=0,
        key=PublishKey(key="rz-test-hooks-live", created_at=datetime.now(UTC)),
    )
    variant = _published(workspace, owner, channel, ref.remote_id)
    meta.subscribed_pages[page.id] = ["feed"]
    meta.webhook_urls["page"] = f"{live_server.url}/hooks/facebook/"

    comment = meta.comment_as(meta.create_person("Fan AT"), variant.remote_id, "Super, danke!")
    assert DBTaskResult.objects.filter(task_path__endswith="refresh_variant_engagement").count() == 1
    _run_queued()
    assert Message.objects.get(remote_id=comment.id).conversation.channel_id == channel.pk
