"""Members and roles in the app: owners and admins change roles and remove members, the last owner stays,
only an owner hands out the owner role, every change is in the audit log; "who can do what" renders the
permissions table; archiving hides a workspace and is refused while posts are scheduled."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts.models import Membership, Role
from resonanz.accounts.permissions import ROLE_ACTIONS, Action
from resonanz.accounts.selectors import workspace_list_for_user
from resonanz.accounts.services import (
    AccountsError,
    LastOwnerError,
    api_token_create,
    membership_remove,
    membership_role_change,
    workspace_archive,
)
from resonanz.core.errors import WorkspaceMismatch
from resonanz.core.models import AuditLogEntry
from resonanz.posts.services import PostInput, post_create, post_schedule


def _membership(workspace, user) -> Membership:
    return Membership.objects.get(workspace=workspace, user=user)


def test_admin_changes_a_role_and_it_is_logged(workspace, member, login) -> None:
    admin, editor = member(Role.ADMIN), member(Role.EDITOR)
    target = _membership(workspace, editor)
    response = login(admin).post(
        reverse("web:member_role", args=[workspace.pk, target.pk]), {f"m{target.pk}-role": Role.ANALYST}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.ANALYST
    entry = AuditLogEntry.objects.get(workspace=workspace, action="membership.role_change")
    assert (entry.actor, entry.data["before"], entry.data["after"]) == (admin, Role.EDITOR, Role.ANALYST)


def test_members_page_lists_roles(owner_client, workspace, member) -> None:
    member(Role.CONTRIBUTOR)
    html = owner_client.get(reverse("web:members", args=[workspace.pk])).content.decode()
    assert "contributor@example.com" in html
    assert "(the only owner)" in html


def test_last_owner_can_be_neither_demoted_nor_removed(workspace, owner) -> None:
    own = _membership(workspace, owner)
    with pytest.raises(LastOwnerError):
        membership_role_change(workspace=workspace, actor=owner, membership_id=own.pk, role=Role.ADMIN)
    with pytest.raises(LastOwnerError):
        membership_remove(workspace=workspace, actor=owner, membership_id=own.pk)
    own.refresh_from_db()
    assert own.role == Role.OWNER


def test_last_owner_message_on_the_page_in_german(owner, workspace, login) -> None:
    own = _membership(workspace, owner)
    client = login(owner, "de")
    response = client.post(reverse("web:member_remove", args=[workspace.pk, own.pk]), follow=True)
    html = response.content.decode()
    assert "Ein Workspace braucht mindestens einen Inhaber" in html
    assert Membership.objects.filter(pk=own.pk).exists()


def test_second_owner_makes_the_first_removable(workspace, owner, member) -> None:
    second = member(Role.ADMIN)
    membership_role_change(
        workspace=workspace, actor=owner, membership_id=_membership(workspace, second).pk, role=Role.OWNER
    )
    membership_remove(workspace=workspace, actor=second, membership_id=_membership(workspace, owner).pk)
    assert not Membership.objects.filter(workspace=workspace, user=owner).exists()
    assert AuditLogEntry.objects.filter(
        workspace=workspace, action="membership.remove", actor=second
    ).exists()


def test_admin_may_not_hand_out_or_take_the_owner_role(workspace, owner, member) -> None:
    admin, editor = member(Role.ADMIN), member(Role.EDITOR)
    with pytest.raises(AccountsError) as exc:
        membership_role_change(
            workspace=workspace, actor=admin, membership_id=_membership(workspace, editor).pk, role=Role.OWNER
        )
    assert exc.value.code == "owner_only"
    with pytest.raises(AccountsError):
        membership_remove(workspace=workspace, actor=admin, membership_id=_membership(workspace, owner).pk)


@pytest.mark.parametrize("role", [Role.EDITOR, Role.CONTRIBUTOR, Role.ANALYST, Role.AGENT])
def test_lower_roles_may_not_manage_members(role, workspace, owner, member, login) -> None:
    user = member(role)
    own = _membership(workspace, owner)
    client = login(user)
    assert client.get(reverse("web:members", args=[workspace.pk])).status_code == 403
    assert client.post(reverse("web:member_remove", args=[workspace.pk, own.pk])).status_code == 403
    with pytest.raises(PermissionDenied):
        membership_role_change(workspace=workspace, actor=user, membership_id=own.pk, role=Role.AGENT)


def test_membership_of_another_workspace_is_a_typed_404(
    workspace, owner, other_workspace, owner_client
) -> None:
    foreign = other_workspace.memberships.get()
    with pytest.raises(WorkspaceMismatch):
        membership_remove(workspace=workspace, actor=owner, membership_id=foreign.pk)
    response = owner_client.post(reverse("web:member_remove", args=[workspace.pk, foreign.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()


def test_removed_member_loses_token_access(workspace, owner, member) -> None:
    editor = member(Role.EDITOR)
    issued = api_token_create(user=editor, name="ci", workspaces=[workspace])
    membership_remove(workspace=workspace, actor=owner, membership_id=_membership(workspace, editor).pk)
    assert not issued.token.workspaces.exists()


def test_permissions_page_renders_the_table(workspace, member, login) -> None:
    html = login(member(Role.ANALYST)).get(reverse("web:permissions", args=[workspace.pk])).content.decode()
    assert "Approve or reject posts" in html
    # One row per action, one cell per role; the analyst column says "yes" exactly for the analyst's actions.
    assert html.count('id="action-') == len(Action)
    assert html.count('visually-hidden">yes') == sum(len(actions) for actions in ROLE_ACTIONS.values())


def test_permissions_page_in_german(workspace, owner, login) -> None:
    html = login(owner, "de").get(reverse("web:permissions", args=[workspace.pk])).content.decode()
    assert "Wer darf was" in html
    assert "Beiträge freigeben oder ablehnen" in html


# -- archive ----------------------------------------------------------------------------------------


def test_owner_archives_and_the_workspace_disappears(workspace, owner, owner_client) -> None:
    response = owner_client.post(reverse("web:workspace_archive", args=[workspace.pk]))
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert workspace.archived_at is not None
    assert workspace not in workspace_list_for_user(user=owner)
    assert owner_client.get(reverse("web:dashboard", args=[workspace.pk])).status_code == 404
    assert AuditLogEntry.objects.filter(workspace=workspace, action="workspace.archive", actor=owner).exists()
    # Its settings page stays, to restore it.
    assert owner_client.get(reverse("web:workspace_settings", args=[workspace.pk])).status_code == 200
    owner_client.post(reverse("web:workspace_restore", args=[workspace.pk]))
    workspace.refresh_from_db()
    assert workspace.archived_at is None


def test_admin_may_not_archive(workspace, member, login) -> None:
    response = login(member(Role.ADMIN)).post(reverse("web:workspace_archive", args=[workspace.pk]))
    assert response.status_code == 403
    workspace.refresh_from_db()
    assert workspace.archived_at is None


def test_archive_refused_while_posts_are_scheduled(workspace, owner, mastodon) -> None:
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Bald", channel_ids=[mastodon.pk])
    )
    post_schedule(workspace=workspace, post=post, actor=owner, at=timezone.now() + timedelta(days=1))
    with pytest.raises(AccountsError) as exc:
        workspace_archive(workspace=workspace, actor=owner)
    assert exc.value.code == "posts_scheduled"
    assert "1 post is still scheduled" in exc.value.message
    workspace.refresh_from_db()
    assert workspace.archived_at is None


def test_archived_workspace_is_closed_to_the_api(workspace, owner, api) -> None:
    assert api.get(f"/api/v1/workspaces/{workspace.pk}/").status_code == 200
    workspace_archive(workspace=workspace, actor=owner)
    assert api.get(f"/api/v1/workspaces/{workspace.pk}/").status_code == 404
    assert api.get("/api/v1/workspaces/").json() == []
