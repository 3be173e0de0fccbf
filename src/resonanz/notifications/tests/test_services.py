"""notification_send: who gets what, in which language, and when the mail leaves."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.utils import translation

from resonanz.accounts.models import Role
from resonanz.accounts.services import membership_set
from resonanz.notifications import kinds
from resonanz.notifications.kinds import KINDS, NotificationKind, language_for, render_email
from resonanz.notifications.models import Notification
from resonanz.notifications.selectors import notification_list, notification_unread_count
from resonanz.notifications.services import (
    notification_email,
    notification_mark_read,
    notification_recipients,
    notification_send,
)

PARAMS = {"post": "Sommerkampagne", "channel": "Mastodon brand", "workspace": "Brand A", "message": "422"}


def test_every_kind_has_texts_that_render_with_and_without_params() -> None:
    assert set(KINDS) == set(NotificationKind.values)
    for kind in KINDS:
        subject, body = render_email(kind, {}, language="en")
        assert subject.startswith("Resonanz: ")
        assert "%(" not in subject + body, kind


def test_recipients_are_deduplicated_and_inactive_or_foreign_users_skipped(
    workspace, owner, member, make_user
) -> None:
    editor = member("editor")
    retired = member("admin")
    retired.is_active = False
    retired.save()
    outsider = make_user("outsider@example.com")
    created = notification_send(
        workspace=workspace,
        recipients=[owner, editor, owner, retired, outsider, editor],
        kind="publish_failed",
        params=PARAMS,
        url="/w/1/posts/2/",
    )
    assert sorted(n.recipient_id for n in created) == sorted([owner.pk, editor.pk])
    assert Notification.objects.count() == 2
    assert all(n.params == PARAMS and n.url == "/w/1/posts/2/" for n in created)


def test_unknown_kind_is_refused(workspace, owner) -> None:
    with pytest.raises(ValueError, match="unknown notification kind"):
        notification_send(workspace=workspace, recipients=[owner], kind="nope", params={})
    assert not Notification.objects.exists()


def test_recipients_by_role(workspace, owner, member) -> None:
    admin, editor = member("admin"), member("editor")
    member("analyst")
    assert notification_recipients(workspace=workspace, roles={Role.OWNER, Role.ADMIN}) == [owner, admin]
    editor.is_active = False
    editor.save()
    assert notification_recipients(workspace=workspace, roles={Role.EDITOR}) == []


def test_mail_leaves_after_commit_with_an_absolute_link(
    workspace, owner, member, settings, django_capture_on_commit_callbacks
) -> None:
    settings.BASE_URL = "https://resonanz.example.org/"
    editor = member("editor")
    editor.language = "en"
    editor.save()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_send(
            workspace=workspace,
            recipients=[owner, editor],
            kind="publish_failed",
            params=PARAMS,
            url="/w/1/posts/2/",
        )
        assert mail.outbox == [], "nothing is mailed before the transaction commits"
    assert len(callbacks) == 1
    assert sorted(m.to[0] for m in mail.outbox) == sorted([owner.email, editor.email])
    english = next(m for m in mail.outbox if m.to == [editor.email])
    assert english.subject == "Resonanz: Publishing to Mastodon brand failed"
    assert "could not be published to Mastodon brand in the workspace Brand A: 422" in english.body
    assert "https://resonanz.example.org/w/1/posts/2/" in english.body
    assert all(n.emailed_at is not None for n in Notification.objects.all())
    # Calling the mailer again does not send twice.
    assert notification_email(notification_ids=Notification.objects.values_list("pk", flat=True)) == 0
    assert len(mail.outbox) == 2


def test_rolled_back_notifications_are_never_mailed(
    workspace, owner, django_capture_on_commit_callbacks
) -> None:
    def send_then_fail() -> None:
        with transaction.atomic():
            notification_send(workspace=workspace, recipients=[owner], kind="publish_failed", params=PARAMS)
            raise RuntimeError("rollback")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        send_then_fail()
    assert callbacks == []
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_each_recipient_is_written_to_in_their_own_language(
    workspace, owner, member, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    owner.language = "de"  # chosen (a user who never chose one is written to in the default language)
    owner.save()
    admin = member("admin")
    admin.language = "en"
    admin.save()
    seen: dict[str, str | None] = {}
    original = kinds.render_title

    def spy(kind, params):
        seen[params["handle"]] = translation.get_language()
        return original(kind, params)

    monkeypatch.setattr(kinds, "render_title", spy)
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        for user in (owner, admin):
            notification_send(
                workspace=workspace,
                recipients=[user],
                kind="channel_reconnect_needed",
                params={"network": "Mastodon", "handle": user.email, "workspace": "Brand A", "message": "x"},
            )
    assert seen == {owner.email: "de", admin.email: "en"}
    german = next(m for m in mail.outbox if m.to == [owner.email])
    english = next(m for m in mail.outbox if m.to == [admin.email])
    # This body's msgid is in the German catalog already; the rest follows when the catalog has it.
    assert "kann nicht mehr veröffentlichen" in german.body
    assert "can no longer publish" in english.body
    assert "needs reconnecting" in english.subject


@pytest.mark.parametrize(
    ("language", "expected"),
    [("de", "de"), ("en", "en"), ("en-us", "en"), ("fr", "de"), ("", "de"), (None, "de")],
)
def test_language_choice_falls_back_to_the_site_default(language, expected) -> None:
    assert language_for(language) == expected


def test_display_uses_the_active_language_and_tolerates_missing_params(workspace, owner) -> None:
    [n] = notification_send(
        workspace=workspace, recipients=[owner], kind="post_rejected", params={"post": "Herbst"}
    )
    with translation.override("en"):
        assert n.title == "“Herbst” was rejected"
        assert n.body == " rejected the post “Herbst” in the workspace : "


def test_mark_read_and_counts(workspace, owner, make_user, notify) -> None:
    other = make_user("other@example.com")
    membership_set(workspace=workspace, user=other, role=Role.EDITOR)
    mine = notify(owner) + notify(owner) + notify(owner)
    [theirs] = notify(other)
    assert notification_unread_count(user=owner) == 3
    assert notification_mark_read(user=owner, notification_ids=[mine[0].pk, theirs.pk]) == 1
    assert notification_unread_count(user=owner) == 2
    assert notification_unread_count(user=other) == 1, "someone else's id is ignored"
    assert [n.pk for n in notification_list(user=owner, unread_only=True)] == [mine[2].pk, mine[1].pk]
    assert notification_mark_read(user=owner) == 0, "neither ids nor all: nothing"
    assert notification_mark_read(user=owner, all=True) == 2
    assert notification_unread_count(user=owner) == 0
    assert notification_unread_count(user=other) == 1


def test_list_is_newest_first_and_hides_workspaces_the_user_left(workspace, owner, member, notify) -> None:
    editor = member("editor")
    first, second = notify(editor)[0], notify(editor)[0]
    assert list(notification_list(user=editor)) == [second, first]
    from resonanz.accounts.models import Membership

    Membership.objects.filter(user=editor, workspace=workspace).delete()
    assert list(notification_list(user=editor)) == []
    assert notification_unread_count(user=editor) == 0
