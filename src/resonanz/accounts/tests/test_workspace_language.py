"""The workspace's language (de/en): set on creation and in the settings (page and API, audit-logged), and
used for what goes out on the workspace's behalf when no person's language is known — the review page of
a reviewer without an account, invitations to new addresses, e-mails to members who never chose one, the
iCal feed of a creator without a language."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from resonanz.accounts.models import ApprovalMode, Role, User, Workspace
from resonanz.accounts.services import AccountsError, invitation_create, workspace_update
from resonanz.approvals.services import review_link_create
from resonanz.channels.models import Channel
from resonanz.core.models import AuditLogEntry
from resonanz.notifications.services import notification_send
from resonanz.posts.services import PostInput, post_create


def _settings_post(language: str) -> dict[str, object]:
    return {"name": "Brand A", "time_zone": "Europe/Berlin", "approval_mode": 0, "language": language}


def test_settings_page_changes_the_language_and_logs_it(owner_client, owner, workspace) -> None:
    assert workspace.language == "de"  # the site's default
    url = reverse("web:workspace_settings", args=[workspace.pk])
    html = owner_client.get(url).content.decode()
    assert 'name="language"' in html
    assert owner_client.post(url, _settings_post("en")).status_code == 302
    workspace.refresh_from_db()
    assert workspace.language == "en"
    entry = AuditLogEntry.objects.get(workspace=workspace, action="workspace.update")
    assert entry.actor == owner
    assert entry.data == {"before": {"language": "de"}, "after": {"language": "en"}}


def test_unknown_language_is_refused_and_nothing_changes(owner_client, workspace) -> None:
    url = reverse("web:workspace_settings", args=[workspace.pk])
    response = owner_client.post(url, {**_settings_post("fr"), "name": "Umbenannt"})
    assert response.status_code == 400
    workspace.refresh_from_db()
    assert (workspace.name, workspace.language) == ("Brand A", "de")
    with pytest.raises(AccountsError):
        workspace_update(workspace=workspace, actor=workspace.memberships.get().user, language="fr")


def test_a_form_without_the_field_keeps_the_language(owner_client, workspace) -> None:
    workspace.language = "en"
    workspace.save()
    url = reverse("web:workspace_settings", args=[workspace.pk])
    data = _settings_post("")
    del data["language"]
    assert owner_client.post(url, {**data, "name": "Neu"}).status_code == 302
    workspace.refresh_from_db()
    assert (workspace.name, workspace.language) == ("Neu", "en")


def test_create_form_sets_the_language(owner_client, owner, workspace) -> None:
    url = reverse("web:workspace_new", args=[workspace.pk])
    assert 'name="language"' in owner_client.get(url).content.decode()
    response = owner_client.post(
        url,
        {
            "organisation": workspace.organisation_id,
            "name": "Client London",
            "time_zone": "Europe/London",
            "approval_mode": ApprovalMode.ONE_STEP,
            "language": "en",
        },
    )
    assert response.status_code == 302
    created = Workspace.objects.get(name="Client London")
    assert created.language == "en"
    entry = AuditLogEntry.objects.get(workspace=created, action="workspace.create")
    assert entry.data["language"] == "en"


def test_api_shows_and_changes_the_language(api, owner, workspace, member) -> None:
    url = reverse("api:workspace", args=[workspace.pk])
    assert api.get(url).json()["language"] == "de"
    response = api.patch(url, {"language": "en"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["language"] == "en"
    workspace.refresh_from_db()
    assert workspace.language == "en"
    assert AuditLogEntry.objects.filter(workspace=workspace, action="workspace.update").count() == 1
    refused = api.patch(url, {"language": "fr"}, format="json")
    assert refused.status_code == 400
    assert "language" in refused.json()
    # Same permission as the settings page: an editor may read, not change.
    editor_api = type(api)()
    editor_api.force_authenticate(member(Role.EDITOR))
    assert editor_api.get(url).status_code == 200
    assert editor_api.patch(url, {"language": "de"}, format="json").status_code == 403
    workspace.refresh_from_db()
    assert workspace.language == "en"


def test_invitation_to_a_new_address_is_in_the_workspace_language(
    workspace, owner, django_capture_on_commit_callbacks
) -> None:
    owner.language = "en"  # the inviter's language is not the client's
    owner.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(workspace=workspace, actor=owner, email="kundin@example.com", role=Role.EDITOR)
    assert "Einladung zu Brand A" in mail.outbox[0].subject
    workspace.language = "en"
    workspace.save()
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(workspace=workspace, actor=owner, email="client@example.com", role=Role.EDITOR)
    assert "Invitation to Brand A" in mail.outbox[1].subject


def test_member_without_a_language_gets_mail_in_the_workspace_language(
    workspace, owner, member, django_capture_on_commit_callbacks
) -> None:
    chose_german = member(Role.ADMIN)
    chose_german.language = "de"
    chose_german.save()
    assert owner.language == ""
    workspace.language = "en"
    workspace.save()
    params = {"post": "Sommer", "channel": "Mastodon brand", "workspace": "Brand A", "message": "422"}
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(
            workspace=workspace, recipients=[owner, chose_german], kind="publish_failed", params=params
        )
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert by_recipient[owner.email].subject == "Resonanz: Publishing to Mastodon brand failed"
    assert "Mastodon brand" in by_recipient[chose_german.email].subject
    assert by_recipient[chose_german.email].subject != by_recipient[owner.email].subject


@pytest.fixture
def review_token(workspace: Workspace, owner: User, make_channel: Callable[..., Channel]) -> str:
    channel = make_channel("mastodon", handle="brand@social.example")
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Hallo Welt", channel_ids=[channel.pk])
    )
    issued = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name="Kundin")
    return issued.url.rstrip("/").rsplit("/", 1)[1]


def test_review_page_speaks_the_workspace_language(workspace, review_token) -> None:
    url = reverse("approvals_public:review", args=[review_token])
    # An English browser, but a German client: the page is German.
    german = Client(HTTP_ACCEPT_LANGUAGE="en").get(url).content.decode()
    assert "Beitrag prüfen" in german
    workspace.language = "en"
    workspace.save()
    english = Client(HTTP_ACCEPT_LANGUAGE="de").get(url).content.decode()
    assert "Review a post" in english
    # What the reviewer chose with the language switcher wins.
    chooser = Client(HTTP_ACCEPT_LANGUAGE="en")
    chooser.cookies["django_language"] = "de"
    assert "Beitrag prüfen" in chooser.get(url).content.decode()
