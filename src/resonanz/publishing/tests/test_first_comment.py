"""The first comment, end to end on the emulators: posted once under the published post by the engine's
own step (publishing/first_comments.py) — also when the comment's answer is lost (timeout after
accept), when the worker dies between the post and the comment or in the middle of the comment's call,
and a refused comment leaves the post published, shown on the post page and notified."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.utils import timezone

from resonanz.channels.models import Channel
from resonanz.channels.services import channel_account, channel_connect_begin, channel_connect_complete
from resonanz.connectors.base import PublishedRef
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.facebook.graph import GRAPH_VERSION
from resonanz.connectors.registry import get_connector
from resonanz.notifications.models import Notification
from resonanz.posts.models import Post, PostEvent, Variant, VariantStatus
from resonanz.posts.services import PostInput, VariantInput, post_create, post_schedule
from resonanz.publishing import first_comments
from resonanz.publishing.batch import variants_publish_batch
from resonanz.publishing.models import FirstCommentState, FirstCommentStep
from resonanz.publishing.tests.conftest import drive
from testsupport.emulators.linkedin import LinkedInEmulator
from testsupport.emulators.meta import MetaEmulator
from testsupport.emulators.x import XEmulator
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]

COMMENT = "Mehr dazu: #resonanz #dach"


@pytest.fixture
def meta(
    monkeypatch: pytest.MonkeyPatch, live_server: Any, settings: Any, tmp_path: Any
) -> Iterator[MetaEmulator]:
    settings.RESONANZ_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE = True
    with MetaEmulator() as server:
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_ID", server.app_id)
        monkeypatch.setenv("RESONANZ_FACEBOOK_APP_SECRET", server.app_secret)
        monkeypatch.setenv("RESONANZ_FACEBOOK_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_FACEBOOK_LOGIN_URL", server.base_url)
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


def _connect(network: str, workspace: Any, owner: Any, values: dict[str, str] | None = None) -> Channel:
    url = channel_connect_begin(
        workspace=workspace,
        user=owner,
        network=network,
        values=values or {},
        redirect_uri=f"http://127.0.0.1:8000/channels/{network}/callback/",
    )
    answer = httpx.get(url, follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    return channel_connect_complete(user=owner, network=network, params=params)


def _publish(workspace: Any, owner: Any, channel: Channel, text: str, comment: str = COMMENT) -> Variant:
    """Publish through the engine's batch (as ``publish_due`` does) and return the published variant;
    its first comment's task is enqueued, not run yet, so a test can set a fault for it first."""
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(
            text=text,
            channel_ids=[channel.pk],
            overrides=[VariantInput(channel_id=channel.pk, first_comment=comment)],
        ),
    )
    post_schedule(workspace=workspace, post=post, actor=owner, at=None)
    variant = Variant.objects.get(post=post)
    variants_publish_batch(limit=10, variant_id=variant.pk, schedule_version=variant.schedule_version)
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    return variant


def _step(variant: Variant) -> FirstCommentStep:
    return FirstCommentStep.objects.get(variant=variant)


def _settled(variant: Variant) -> bool:
    return _step(variant).state in (FirstCommentState.DONE, FirstCommentState.FAILED)


def _events(variant: Variant, kind: str) -> list[PostEvent]:
    return list(PostEvent.objects.filter(variant=variant, kind=kind))


def _fb_comments(server: MetaEmulator, object_id: str) -> list[str]:
    return [c.message for c in server.comments.values() if c.object_id == object_id and not c.deleted]


def _ig_comments(server: MetaEmulator, media_id: str) -> list[str]:
    return [c.text for c in server.ig_comments.values() if c.media_id == media_id]


def test_facebook_first_comment_once_when_its_answer_is_lost(meta, workspace, owner, fast_retries) -> None:
    channel = _connect("facebook", workspace, owner)
    variant = _publish(workspace, owner, channel, "Neu im Shop")
    step = _step(variant)
    assert step.state == FirstCommentState.PENDING
    assert step.key == f"rz-{variant.pk}-g0-c"
    # The comment is created by Facebook, its answer lost: the step reads the post's comments back.
    meta.faults.timeout_after_accept(f"/{GRAPH_VERSION}/{variant.remote_id}/comments")
    drive(lambda: _settled(variant))
    step = _step(variant)
    assert step.state == FirstCommentState.DONE, step.message
    assert _fb_comments(meta, variant.remote_id) == [COMMENT]
    posts = meta.requests_to(f"/{GRAPH_VERSION}/{variant.remote_id}/comments", "POST")
    assert [r.fault for r in posts] == ["drop"]  # never sent a second time
    assert step.remote_id in meta.comments
    assert [e.data for e in _events(variant, "first_comment_published")] == [{"recovered": True}]
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PUBLISHED


def test_instagram_first_comment_after_the_post(meta, workspace, owner, fast_retries) -> None:
    meta.create_ig_user(meta.default_page, "resonanz.demo")
    channel = _connect("instagram", workspace, owner)
    variant = _publish(workspace, owner, channel, "Herbst im Atelier")
    drive(lambda: _settled(variant))
    assert _step(variant).state == FirstCommentState.DONE
    assert _ig_comments(meta, variant.remote_id) == [COMMENT]
    # Another run of the task (a duplicate delivery) does nothing.
    assert first_comments.first_comment_send(step_id=_step(variant).pk) == "skipped"
    assert _ig_comments(meta, variant.remote_id) == [COMMENT]


@pytest.mark.parametrize("sent_before_the_crash", [True, False])
def test_worker_dies_during_the_comment_never_twice_never_lost(
    meta, workspace, owner, fast_retries, sent_before_the_crash
) -> None:
    """The worker committed SENDING and died — after the network created the comment, or before the
    request left. The sweep finds the expired lease; the reconcile decides, so the comment exists once."""
    channel = _connect("facebook", workspace, owner)
    variant = _publish(workspace, owner, channel, f"Absturz {sent_before_the_crash}")
    claimed = first_comments._claim(_step(variant).pk)  # what the dying worker committed
    assert claimed is not None
    step, reconcile = claimed
    assert not reconcile
    if sent_before_the_crash:
        account = channel_account(channel=channel)
        get_connector("facebook").publish_first_comment(
            account=account,
            ref=PublishedRef(remote_id=variant.remote_id, url=variant.remote_url),
            text=step.text,
            key=PublishKey(key=step.key, created_at=step.key_created_at),
        )  # the network has it; the worker dies before it records anything (its settings are lost too)
    run_ready_tasks()  # the task enqueued after the publish finds the step taken: it does nothing
    assert _step(variant).state == FirstCommentState.SENDING
    assert first_comments.first_comments_sweep() == 0  # the lease still runs
    FirstCommentStep.objects.filter(pk=step.pk).update(lease_expires_at=timezone.now())
    assert first_comments.first_comments_sweep() == 1
    drive(lambda: _settled(variant))
    assert _step(variant).state == FirstCommentState.DONE
    assert _fb_comments(meta, variant.remote_id) == [COMMENT]
    posts = meta.requests_to(f"/{GRAPH_VERSION}/{variant.remote_id}/comments", "POST")
    assert len(posts) == 1
    assert _step(variant).attempts == 2


def test_a_refused_comment_leaves_the_post_published_and_is_shown(
    meta, workspace, owner, fast_retries, client
) -> None:
    channel = _connect("facebook", workspace, owner)
    variant = _publish(workspace, owner, channel, "Mit abgelehntem Kommentar")
    meta.faults.reject(f"/{GRAPH_VERSION}/{variant.remote_id}/comments", "Comments are turned off")
    drive(lambda: _settled(variant))
    step = _step(variant)
    assert step.state == FirstCommentState.FAILED
    assert "Comments are turned off" in step.message
    variant.refresh_from_db()
    post = Post.objects.get(pk=variant.post_id)
    assert variant.status == VariantStatus.PUBLISHED
    assert post.status == "published"
    assert _fb_comments(meta, variant.remote_id) == []
    assert Notification.objects.filter(kind="first_comment_failed", recipient=owner).count() == 1
    client.force_login(owner)
    page = client.get(f"/w/{workspace.pk}/posts/{post.pk}/", HTTP_ACCEPT_LANGUAGE="de")
    body = page.content.decode()
    assert 'data-first-comment-state="failed"' in body
    assert "Comments are turned off" in body


def test_a_temporary_error_is_retried(meta, workspace, owner, fast_retries) -> None:
    channel = _connect("facebook", workspace, owner)
    variant = _publish(workspace, owner, channel, "Mit kurzem Ausfall")
    meta.faults.fail(f"/{GRAPH_VERSION}/{variant.remote_id}/comments", 503, method="POST")
    drive(lambda: _settled(variant))
    assert _step(variant).state == FirstCommentState.DONE
    assert _step(variant).attempts == 2
    assert _fb_comments(meta, variant.remote_id) == [COMMENT]


def test_no_step_without_a_comment(meta, workspace, owner, fast_retries) -> None:
    channel = _connect("facebook", workspace, owner)
    variant = _publish(workspace, owner, channel, "Ohne Kommentar", comment="  ")
    assert not FirstCommentStep.objects.filter(variant=variant).exists()


def test_linkedin_first_comment_once_when_its_answer_is_lost(
    monkeypatch, workspace, owner, fast_retries
) -> None:
    with LinkedInEmulator() as server:
        monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_ID", server.client_id)
        monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_SECRET", server.client_secret)
        monkeypatch.setenv("RESONANZ_LINKEDIN_API_URL", server.base_url)
        channel = _connect("linkedin", workspace, owner, {"organization": "page"})
        variant = _publish(workspace, owner, channel, "Neu bei uns")
        server.faults.timeout_after_accept("/rest/socialActions/")
        drive(lambda: _settled(variant))
        assert _step(variant).state == FirstCommentState.DONE, _step(variant).message
        comments = server.posts[variant.remote_id].comments
        assert [c["message"]["text"] for c in comments] == [COMMENT]
        assert len(server.requests_to("/rest/socialActions/", "POST")) == 1
        assert not server.errors


def test_x_first_comment_is_a_reply_of_our_own(monkeypatch, workspace, owner, fast_retries) -> None:
    with XEmulator() as server:
        monkeypatch.setenv("RESONANZ_X_CLIENT_ID", server.client_id)
        monkeypatch.setenv("RESONANZ_X_API_URL", server.base_url)
        monkeypatch.setenv("RESONANZ_X_AUTHORIZE_URL", server.base_url + "/i/oauth2/authorize")
        channel = _connect("x", workspace, owner)
        variant = _publish(workspace, owner, channel, "Hallo X")
        server.faults.timeout_after_accept("/2/tweets")  # the comment's create: processed, answer lost
        drive(lambda: _settled(variant))
        assert _step(variant).state == FirstCommentState.DONE, _step(variant).message
        replies = [p for p in server.live_posts() if p.reply_to == variant.remote_id]
        assert [(p.text, p.author_id) for p in replies] == [(COMMENT, channel.remote_id)]
        assert not server.validation_failures
        assert not server.errors
