"""Workspace settings in the product's own UI: owners and admins create, rename and re-zone workspaces and
change their approval mode; editors and below may not; every change is in the audit log."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from resonanz.accounts.models import ApprovalMode, Membership, Role, Workspace
from resonanz.accounts.permissions import Action, role_allows
from resonanz.accounts.selectors import organisation_list_for_workspace_create
from resonanz.accounts.services import AccountsError, workspace_update
from resonanz.core.models import AuditLogEntry


def test_owner_renames_and_rezones(owner_client, owner, workspace) -> None:
    url = reverse("web:workspace_settings", args=[workspace.pk])
    page = owner_client.get(url)
    assert page.status_code == 200
    assert 'value="Brand A"' in page.content.decode()
    response = owner_client.post(
        url, {"name": "Marke A", "time_zone": "America/New_York", "approval_mode": ApprovalMode.ONE_STEP}
    )
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.time_zone, workspace.approval_mode) == (
        "Marke A",
        "America/New_York",
        ApprovalMode.ONE_STEP,
    )
    entry = AuditLogEntry.objects.get(workspace=workspace, action="workspace.update")
    assert entry.actor == owner
    assert entry.data["before"]["name"] == "Brand A"
    assert entry.data["after"]["time_zone"] == "America/New_York"


def test_unknown_time_zone_is_refused(owner_client, workspace) -> None:
    url = reverse("web:workspace_settings", args=[workspace.pk])
    response = owner_client.post(url, {"name": "X", "time_zone": "Mars/Olympus", "approval_mode": 0})
    assert response.status_code == 400
    workspace.refresh_from_db()
    assert workspace.name == "Brand A"


@pytest.mark.parametrize("role", [Role.EDITOR, Role.CONTRIBUTOR, Role.ANALYST, Role.AGENT])
def test_lower_roles_may_not_change_or_create(role, workspace, member, login) -> None:
    client = login(member(role))
    settings_url = reverse("web:workspace_settings", args=[workspace.pk])
    assert client.get(settings_url).status_code == 403
    assert (
        client.post(settings_url, {"name": "Hijacked", "time_zone": "UTC", "approval_mode": 0}).status_code
        == 403
    )
    assert client.get(reverse("web:workspace_new", args=[workspace.pk])).status_code == 403
    workspace.refresh_from_db()
    assert workspace.name == "Brand A"


def test_service_checks_the_permissions_table(workspace, member) -> None:
    editor = member(Role.EDITOR)
    with pytest.raises(PermissionDenied):
        workspace_update(workspace=workspace, actor=editor, name="Nope")
    assert not role_allows(Role.EDITOR, Action.CREATE_WORKSPACE)
    assert role_allows(Role.ADMIN, Action.CREATE_WORKSPACE)


def test_empty_name_is_refused(workspace, owner) -> None:
    with pytest.raises(AccountsError) as exc:
        workspace_update(workspace=workspace, actor=owner, name="  ")
    assert exc.value.code == "name_required"


def test_admin_creates_a_workspace_and_owns_it(workspace, member, login) -> None:
    admin = member(Role.ADMIN)
    client = login(admin)
    response = client.post(
        reverse("web:workspace_new", args=[workspace.pk]),
        {
            "organisation": workspace.organisation_id,
            "name": "Autohaus Berger",
            "time_zone": "Europe/Vienna",
            "approval_mode": ApprovalMode.TWO_STEPS,
        },
    )
    created = Workspace.objects.get(name="Autohaus Berger")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:workspace_settings", args=[created.pk])
    assert created.organisation_id == workspace.organisation_id
    assert (created.time_zone, created.approval_mode) == ("Europe/Vienna", ApprovalMode.TWO_STEPS)
    assert Membership.objects.get(workspace=created, user=admin).role == Role.OWNER
    assert AuditLogEntry.objects.filter(workspace=created, action="workspace.create", actor=admin).exists()


def test_cannot_create_in_a_foreign_organisation(owner_client, owner, workspace, other_workspace) -> None:
    assert list(organisation_list_for_workspace_create(user=owner)) == [workspace.organisation]
    response = owner_client.post(
        reverse("web:workspace_new", args=[workspace.pk]),
        {
            "organisation": other_workspace.organisation_id,
            "name": "Sneaky",
            "time_zone": "UTC",
            "approval_mode": 0,
        },
    )
    assert response.status_code == 400
    assert not Workspace.objects.filter(name="Sneaky").exists()


def test_german_settings_page(owner, workspace, login) -> None:
    html = login(owner, "de").get(reverse("web:workspace_settings", args=[workspace.pk])).content.decode()
    assert "Workspace-Einstellungen" in html
    assert "Zeitzone" in html
    assert "Neuer Workspace" in html
    html = login(owner, "de").get(reverse("web:workspace_new", args=[workspace.pk])).content.decode()
    assert "Workspace anlegen" in html
