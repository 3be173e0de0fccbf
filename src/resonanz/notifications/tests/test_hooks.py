"""The two producers wired here: a channel that needs reconnecting and a publish that failed for good."""

from __future__ import annotations

import time

import pytest
from django.core import mail

from resonanz.accounts.models import Role
from resonanz.channels.services import channel_mark_reconnect_needed
from resonanz.notifications.models import Notification
from resonanz.posts.models import Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule
from resonanz.publishing.services import variant_retry
from testsupport.tasks import run_ready_tasks

REJECTION = "Validation failed: Text character limit of 50 exceeded"


def test_reconnect_needed_notifies_owners_and_admins_once(workspace, owner, member, make_channel) -> None:
    admin = member("admin")
    member("editor")
    channel = make_channel("mastodon", handle="brand@social.example")
    channel_mark_reconnect_needed(channel=channel, message="The access token was revoked")
    channel_mark_reconnect_needed(channel=channel, message="The access token was revoked")
    notifications = list(Notification.objects.order_by("recipient_id"))
    assert [n.recipient_id for n in notifications] == [owner.pk, admin.pk]
    n = notifications[0]
    assert n.kind == "channel_reconnect_needed"
    assert n.url == f"/w/{workspace.pk}/channels/"
    assert n.params == {
        "network": "Mastodon",
        "handle": "brand@social.example",
        "workspace": "Brand A",
        "message": "The access token was revoked",
    }
    assert n.title == "Mastodon channel brand@social.example needs reconnecting"
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, admin.email])


# -- a failed publish, through the real engine and the Mastodon emulator ---------------------------


@pytest.fixture
def team(owner, member) -> dict[str, object]:
    return {role: member(role) for role in (Role.ADMIN, Role.EDITOR, Role.CONTRIBUTOR, Role.ANALYST)}


def _publish(workspace, author, scheduler, channel, text):
    post = post_create(
        workspace=workspace, author=author, data=PostInput(text=text, channel_ids=[channel.pk])
    )
    post_schedule(workspace=workspace, post=post, actor=scheduler, at=None)
    return post


@pytest.mark.django_db(transaction=True)
def test_failed_publish_notifies_author_and_team_with_the_networks_message(
    masto, masto_channel, workspace, owner, team, settings
) -> None:
    settings.BASE_URL = "https://resonanz.example.org"
    author = team[Role.CONTRIBUTOR]
    masto.fail_next("/api/v1/statuses", status=422, method="POST", body={"error": REJECTION})
    post = _publish(workspace, author, owner, masto_channel, "Zu lang für diesen Server")
    run_ready_tasks()
    assert Variant.objects.get(post=post).status == VariantStatus.FAILED

    notifications = list(Notification.objects.all())
    expected = {owner.pk, team[Role.ADMIN].pk, team[Role.EDITOR].pk, author.pk}  # not the analyst
    assert {n.recipient_id for n in notifications} == expected
    assert len(notifications) == len(expected)
    n = notifications[0]
    assert n.kind == "publish_failed"
    assert n.url == f"/w/{workspace.pk}/posts/{post.pk}/"
    assert n.params["message"] == REJECTION
    assert n.params["post"] == "Zu lang für diesen Server"
    assert n.params["channel"] == f"Mastodon {masto_channel.handle}"
    # Mailed right away (the engine runs outside a transaction), one per person, with the post's link.
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        u.email for u in (owner, team[Role.ADMIN], team[Role.EDITOR], author)
    )
    assert all(
        f"https://resonanz.example.org/w/{workspace.pk}/posts/{post.pk}/" in m.body for m in mail.outbox
    )
    assert all(REJECTION in m.body for m in mail.outbox)

    # A manual retry that fails again is a new failure: told again, once.
    masto.fail_next("/api/v1/statuses", status=422, method="POST", body={"error": REJECTION})
    variant_retry(workspace=workspace, variant=Variant.objects.get(post=post), actor=owner)
    run_ready_tasks()
    assert Variant.objects.get(post=post).status == VariantStatus.FAILED
    assert Notification.objects.count() == 2 * len(expected)


@pytest.mark.django_db(transaction=True)
def test_automatic_retries_notify_only_on_the_final_failure(
    masto, masto_channel, workspace, owner, settings, monkeypatch
) -> None:
    from resonanz.publishing import services

    monkeypatch.setattr(services, "BACKOFF_BASE_SECONDS", 0.05)
    settings.RESONANZ_PUBLISH_MAX_ATTEMPTS = 3
    masto.fail_next("/api/v1/statuses", status=502, times=10, method="POST")
    post = _publish(workspace, owner, owner, masto_channel, "Server dauerhaft kaputt")
    variant = Variant.objects.get(post=post)
    deadline = time.monotonic() + 20
    while Variant.objects.get(pk=variant.pk).status != VariantStatus.FAILED:
        assert Notification.objects.count() == 0, "no notification while retries are pending"
        assert time.monotonic() < deadline, "the variant never failed"
        run_ready_tasks()
        time.sleep(0.05)
    assert Variant.objects.get(pk=variant.pk).attempt_count == 3
    assert list(Notification.objects.values_list("recipient_id", "kind")) == [(owner.pk, "publish_failed")]
    assert len(mail.outbox) == 1
