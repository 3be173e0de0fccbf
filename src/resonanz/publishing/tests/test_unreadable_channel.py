"""Issue 8 defect: one channel whose stored login cannot be decrypted (a wrong or removed encryption key)
aborted every post of the same publishing batch, other workspaces' too. Now that channel is marked
"reconnect needed" with the reason, its post fails clearly, and the others go out."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.db import connection, transaction

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.notifications.models import Notification
from resonanz.posts.models import PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create, post_schedule
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]


def _store_unreadable_login(channel: Channel) -> None:
    """What a channel saved under a key that is no longer configured looks like in the database."""
    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"access_token": "x"}').decode()
    table = connection.ops.quote_name(Channel._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET credentials = %s WHERE id = %s", [foreign, channel.pk])  # noqa: S608


def test_an_undecryptable_channel_fails_alone(
    masto, masto_channel, emulator_channel, other_workspace, publish
) -> None:
    broken = emulator_channel(other_workspace)
    stranger = other_workspace.memberships.get().user
    with transaction.atomic():  # both due at once: one batch claims them together
        good = publish(masto_channel, "Geht trotzdem raus")
        bad = post_create(
            workspace=other_workspace,
            author=stranger,
            data=PostInput(text="Kommt nicht an", channel_ids=[broken.pk]),
        )
        post_schedule(workspace=other_workspace, post=bad, actor=stranger, at=None)
    _store_unreadable_login(broken)  # e.g. the key it was saved with was removed from the settings
    run_ready_tasks()

    good_variant = Variant.objects.get(post=good)
    assert good_variant.status == VariantStatus.PUBLISHED, good_variant.last_error
    assert [s["content"] for s in masto.statuses if "trotzdem" in s["content"]]

    bad_variant = Variant.objects.get(post=bad)
    assert bad_variant.status == VariantStatus.FAILED
    assert "reconnect" in bad_variant.last_error.lower()
    bad.refresh_from_db()
    assert bad.status == PostStatus.FAILED
    marked = Channel.objects.defer("credentials").get(pk=broken.pk)
    assert marked.status == ChannelStatus.RECONNECT_NEEDED
    assert "encryption keys" in marked.last_error
    # Its owner is told, as for any channel that needs reconnecting; nothing of the good workspace.
    assert Notification.objects.filter(recipient=stranger, workspace=other_workspace).exists()
    assert not Notification.objects.exclude(workspace=other_workspace).exists()
