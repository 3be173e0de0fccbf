"""Invitations: by e-mail with a role, mailed after commit in the invitee's (or inviter's) language; the
link is single-use and expires; accepting creates the account or attaches a signed-in one; an organisation
that requires two-factor sends the new member to set it up; revoke and resend; bad links get a clear page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts.models import Invitation, Membership, Role, User
from resonanz.accounts.services import (
    AccountsError,
    InvitationInvalid,
    invitation_accept,
    invitation_create,
    invitation_revoke,
)
from resonanz.core.errors import WorkspaceMismatch
from resonanz.core.models import AuditLogEntry


@pytest.fixture
def anon() -> Client:
    """A visitor who is not signed in, in English (the site's default language is German)."""
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def _link(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://\S+/invitations/(inv_[\w-]+)/", str(message.body))
    assert match, message.body
    return reverse("web:invitation_accept", args=[match.group(1)])


def test_invite_sends_mail_after_commit_and_new_user_joins(
    owner_client, workspace, anon, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_client.post(
            reverse("web:invitation_new", args=[workspace.pk]),
            {"email": "Neu@Example.com", "role": Role.EDITOR},
        )
        assert response.status_code == 302
        assert mail.outbox == []  # not before the commit
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["neu@example.com"]
    assert "Brand A" in mail.outbox[0].subject
    link = _link(mail.outbox[0])
    page = anon.get(link)
    assert page.status_code == 200
    assert "Create account and join" in page.content.decode()
    response = anon.post(
        link, {"name": "Nina Neu", "password1": "Sonnenblume-2026!", "password2": "Sonnenblume-2026!"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard", args=[workspace.pk])
    user = User.objects.get(email="neu@example.com")
    assert (user.name, Membership.objects.get(user=user, workspace=workspace).role) == (
        "Nina Neu",
        Role.EDITOR,
    )
    assert anon.get(reverse("web:dashboard", args=[workspace.pk])).status_code == 200  # signed in
    # The link is used up.
    used = anon.get(link)
    assert used.status_code == 410
    assert "already been accepted" in used.content.decode()
    actions = set(AuditLogEntry.objects.filter(workspace=workspace).values_list("action", flat=True))
    assert {"invitation.create", "invitation.accept"} <= actions


def test_weak_password_is_refused_with_a_message(
    workspace, owner, anon, django_capture_on_commit_callbacks
) -> None:
    issued = invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.EDITOR)
    link = reverse("web:invitation_accept", args=[issued.secret])
    response = anon.post(link, {"password1": "123", "password2": "123"})
    assert response.status_code == 400
    assert not User.objects.filter(email="neu@example.com").exists()


def test_mail_in_the_invitees_language(
    workspace, owner, make_user, django_capture_on_commit_callbacks
) -> None:
    invitee = make_user("kollegin@example.com")
    invitee.language = "de"
    invitee.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(workspace=workspace, actor=owner, email=invitee.email, role=Role.ANALYST)
    assert mail.outbox[0].subject == "[Resonanz] Einladung zu Brand A bei Resonanz" or (
        "Einladung zu Brand A" in mail.outbox[0].subject
    )
    assert "als Analyst" in mail.outbox[0].body


def test_existing_account_signs_in_then_accepts(workspace, owner, make_user, login, anon) -> None:
    existing = make_user("kollege@example.com")
    issued = invitation_create(workspace=workspace, actor=owner, email=existing.email, role=Role.CONTRIBUTOR)
    link = reverse("web:invitation_accept", args=[issued.secret])
    anonymous = anon.get(link).content.decode()
    assert "Sign in to accept" in anonymous
    assert anon.post(link, {"password1": "x", "password2": "x"}).status_code == 400  # no account takeover
    response = login(existing).post(link)
    assert response.status_code == 302
    assert Membership.objects.get(user=existing, workspace=workspace).role == Role.CONTRIBUTOR


def test_forwarded_link_does_not_make_someone_else_a_member(workspace, owner, make_user) -> None:
    issued = invitation_create(workspace=workspace, actor=owner, email="a@example.com", role=Role.EDITOR)
    other = make_user("b@example.com")
    with pytest.raises(InvitationInvalid) as exc:
        invitation_accept(secret=issued.secret, user=other)
    assert exc.value.code == "other_address"
    assert not Membership.objects.filter(user=other, workspace=workspace).exists()


def test_organisation_requiring_two_factor_sends_to_setup(workspace, owner, anon) -> None:
    workspace.organisation.require_two_factor = True
    workspace.organisation.save()
    issued = invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.EDITOR)
    response = anon.post(
        reverse("web:invitation_accept", args=[issued.secret]),
        {"password1": "Sonnenblume-2026!", "password2": "Sonnenblume-2026!"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # Just signed up with a password: the set-up page opens without asking for it again.
    setup = anon.get(response["Location"])
    assert setup.status_code == 200


@pytest.mark.parametrize("state", ["revoked", "expired", "used"])
def test_dead_links_get_a_clear_page(state, workspace, owner, make_user, anon) -> None:
    issued = invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.EDITOR)
    invitation = issued.invitation
    if state == "revoked":
        invitation_revoke(workspace=workspace, actor=owner, invitation_id=invitation.pk)
    elif state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    else:
        invitation_accept(secret=issued.secret, user=make_user("neu@example.com"))
    response = anon.get(reverse("web:invitation_accept", args=[issued.secret]))
    assert response.status_code == 410
    assert "This invitation cannot be used" in response.content.decode()
    assert anon.post(reverse("web:invitation_accept", args=[issued.secret])).status_code == 410


def test_unknown_link_is_404_page_in_german(client, db) -> None:
    response = client.get(reverse("web:invitation_accept", args=["inv_nonsense"]), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 404
    assert "Dieser Einladungslink ist ungültig" in response.content.decode()


def test_resend_replaces_the_link(
    owner_client, workspace, owner, anon, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.EDITOR)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            reverse("web:invitation_resend", args=[workspace.pk, first.invitation.pk])
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    assert anon.get(reverse("web:invitation_accept", args=[first.secret])).status_code == 404
    assert anon.get(_link(mail.outbox[1])).status_code == 200
    assert AuditLogEntry.objects.filter(workspace=workspace, action="invitation.resend").exists()


def test_invitations_list_and_revoke(owner_client, workspace, owner) -> None:
    issued = invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.EDITOR)
    row = f'id="invitation-{issued.invitation.pk}"'
    html = owner_client.get(reverse("web:members", args=[workspace.pk])).content.decode()
    assert row in html
    assert "neu@example.com" in html
    owner_client.post(reverse("web:invitation_revoke", args=[workspace.pk, issued.invitation.pk]))
    issued.invitation.refresh_from_db()
    assert issued.invitation.revoked_at is not None
    assert row not in owner_client.get(reverse("web:members", args=[workspace.pk])).content.decode()
    assert AuditLogEntry.objects.filter(workspace=workspace, action="invitation.revoke", actor=owner).exists()


def test_duplicate_and_member_invitations_are_refused(workspace, owner) -> None:
    with pytest.raises(AccountsError) as exc:
        invitation_create(workspace=workspace, actor=owner, email="OWNER@example.com", role=Role.EDITOR)
    assert exc.value.code == "already_member"
    invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.EDITOR)
    with pytest.raises(AccountsError) as exc:
        invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.ADMIN)
    assert exc.value.code == "already_invited"


def test_editor_may_not_invite_and_admin_may_not_invite_owners(workspace, member, login) -> None:
    response = login(member(Role.EDITOR)).post(
        reverse("web:invitation_new", args=[workspace.pk]), {"email": "x@example.com", "role": Role.EDITOR}
    )
    assert response.status_code == 403
    admin = member(Role.ADMIN)
    with pytest.raises(AccountsError) as exc:
        invitation_create(workspace=workspace, actor=admin, email="x@example.com", role=Role.OWNER)
    assert exc.value.code == "owner_only"
    assert not Invitation.objects.exists()


def test_foreign_invitation_is_a_typed_404(workspace, owner, other_workspace, owner_client) -> None:
    stranger = other_workspace.memberships.get().user
    foreign = invitation_create(
        workspace=other_workspace, actor=stranger, email="x@example.com", role=Role.EDITOR
    )
    with pytest.raises(WorkspaceMismatch):
        invitation_revoke(workspace=workspace, actor=owner, invitation_id=foreign.invitation.pk)
    response = owner_client.post(reverse("web:invitation_revoke", args=[workspace.pk, foreign.invitation.pk]))
    assert response.status_code == 404
    foreign.invitation.refresh_from_db()
    assert foreign.invitation.revoked_at is None


def test_members_page_in_german_names_the_configured_expiry(owner, workspace, login, settings) -> None:
    settings.RESONANZ_INVITATION_DAYS = 3
    html = login(owner, "de").get(reverse("web:members", args=[workspace.pk])).content.decode()
    assert "Jemanden einladen" in html
    assert "läuft nach 3 Tagen ab" in html
    issued = invitation_create(workspace=workspace, actor=owner, email="neu@example.com", role=Role.EDITOR)
    assert issued.invitation.expires_at - issued.invitation.sent_at == timedelta(days=3)
