"""The user's own settings, linked from the header's account menu: profile and language (ours), password,
two-factor and active sessions (allauth's pages); organisations that require two-factor send members
without a second factor to set it up."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from resonanz.accounts import middleware
from resonanz.accounts.models import Role, User

MENU = {
    "menu-profile": "web:profile",
    "menu-password": "account_change_password",
    "menu-two-factor": "mfa_index",
    "menu-sessions": "usersessions_list",
    "menu-tokens": "web:api_tokens",
}


def test_header_menu_links_every_settings_page_and_each_answers(owner_client, workspace) -> None:
    html = owner_client.get(reverse("web:dashboard", args=[workspace.pk])).content.decode()
    for element_id, name in MENU.items():
        url = reverse(name)
        assert f'id="{element_id}" href="{url}"' in html, element_id
        assert owner_client.get(url).status_code == 200, name
    assert f'href="{reverse("web:workspace_settings", args=[workspace.pk])}"' in html


def test_profile_saves_name_and_language(owner_client, owner) -> None:
    response = owner_client.post(reverse("web:profile"), {"name": "Olga Owner", "language": "de"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert (owner.name, owner.language) == ("Olga Owner", "de")
    html = owner_client.get(reverse("web:profile")).content.decode()
    assert "Profil" in html  # the saved language wins over the browser's English
    response = owner_client.post(reverse("web:profile"), {"name": "Olga Owner", "language": "xx"})
    assert response.status_code == 400


def test_sessions_page_lists_this_session_in_german(owner, login) -> None:
    client = login(owner, "de")
    html = client.get(reverse("usersessions_list")).content.decode()
    assert "Sitzung" in html


@pytest.fixture
def strict_org(workspace):
    workspace.organisation.require_two_factor = True
    workspace.organisation.save()
    return workspace.organisation


def test_required_two_factor_sends_to_setup(strict_org, owner_client, workspace) -> None:
    response = owner_client.get(reverse("web:dashboard", args=[workspace.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # The set-up page stays open (allauth first asks a session this old for the password again).
    setup = owner_client.get(reverse("mfa_activate_totp"), follow=True)
    assert setup.status_code == 200
    assert setup.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))


def test_second_factor_lifts_the_redirect(strict_org, owner: User, login, workspace) -> None:
    from allauth.mfa.models import Authenticator
    from allauth.mfa.signals import authenticator_added

    client = login(owner)
    assert client.get(reverse("web:dashboard", args=[workspace.pk])).status_code == 302
    # allauth.mfa's flows send ``authenticator_added`` with the request: the session learns at once.
    authenticator = Authenticator.objects.create(
        user=owner, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    request = RequestFactory().get("/")
    request.session = client.session
    authenticator_added.send(sender=Authenticator, request=request, user=owner, authenticator=authenticator)
    request.session.save()
    assert client.get(reverse("web:dashboard", args=[workspace.pk])).status_code == 200


def test_other_organisations_are_not_affected(strict_org, other_workspace, login) -> None:
    stranger = other_workspace.memberships.get().user
    assert login(stranger).get(reverse("web:dashboard", args=[other_workspace.pk])).status_code == 200


def test_owner_requires_two_factor_for_the_organisation(
    owner, owner_client, workspace, member, login, monkeypatch
) -> None:
    from resonanz.core.models import AuditLogEntry

    admin_client = login(member(Role.ADMIN))
    url = reverse("web:organisation_two_factor", args=[workspace.pk])
    assert admin_client.post(url, {"required": "1"}).status_code == 403  # owners only
    workspace.organisation.refresh_from_db()
    assert not workspace.organisation.require_two_factor
    assert (
        'id="two-factor-on"'
        in owner_client.get(reverse("web:workspace_settings", args=[workspace.pk])).content.decode()
    )
    assert owner_client.post(url, {"required": "1"}).status_code == 302
    workspace.organisation.refresh_from_db()
    assert workspace.organisation.require_two_factor
    assert AuditLogEntry.objects.filter(
        workspace=workspace, action="organisation.two_factor", actor=owner
    ).exists()
    # Signed in already, the admin (no second factor) is sent to set one up at the session's next check.
    monkeypatch.setattr(middleware, "TWO_FACTOR_RECHECK_SECONDS", 0)
    assert admin_client.get(reverse("web:dashboard", args=[workspace.pk]))["Location"] == reverse(
        "mfa_activate_totp"
    )
