"""The pages of listening: CRUD of queries, the query's page (German), CSV export, mention to inbox,
settings and alerts; roles and tenants."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts.models import User, Workspace
from resonanz.channels.models import Channel
from resonanz.engagement.models import Conversation
from resonanz.listening.models import ListeningSettings, Mention, SavedQuery

pytestmark = pytest.mark.django_db


def _url(name: str, workspace: Workspace, *args: int) -> str:
    return reverse(f"listening:{name}", args=[workspace.pk, *args])


def test_create_edit_delete_query(owner_client: Client, workspace: Workspace) -> None:
    response = owner_client.post(
        _url("new", workspace),
        {"name": "Rivale", "terms": "Rivalco\n#rivalco", "exclusions": "", "competitor": "on"},
    )
    query = SavedQuery.objects.get(workspace=workspace, name="Rivale")
    assert response.status_code == 302
    assert query.competitor
    assert query.term_list == ["Rivalco", "#rivalco"]
    response = owner_client.post(
        _url("edit", workspace, query.pk), {"name": "Rivale AG", "terms": "Rivalco", "exclusions": "Job"}
    )
    query.refresh_from_db()
    assert (query.name, query.exclusion_list, query.competitor) == ("Rivale AG", ["Job"], False)
    assert owner_client.post(_url("new", workspace), {"name": "leer", "terms": ""}).status_code == 400
    owner_client.post(_url("delete", workspace, query.pk))
    assert not SavedQuery.objects.filter(pk=query.pk).exists()


def test_query_page_in_german(
    login: Callable[..., Client],
    owner: User,
    workspace: Workspace,
    query: SavedQuery,
    make_mention: Callable[..., Mention],
    make_channel: Callable[..., Channel],
) -> None:
    make_channel("mastodon", handle="brand@social.example")
    now = timezone.now()
    make_mention(
        at=now - timedelta(hours=1), sentiment="negative", author="kunde1", text="Acme Lieferung verspätet"
    )
    make_mention(
        at=now - timedelta(days=2), sentiment="positive", author="kunde1", text="Acme Lieferung super"
    )
    response = login(owner, "de").get(_url("detail", workspace, query.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Top-Autoren" in body
    assert "Stimmung" in body
    assert "kunde1 (2)" in body
    assert "lieferung (2)" in body  # a top term; the query's own term "acme" is left out
    assert "acme (" not in body
    assert "In den Posteingang" in body
    nav = login(owner, "de").get(_url("list", workspace)).content.decode()
    assert 'id="nav-listening"' in nav
    assert "Zuhören" in nav


def test_analyst_sees_but_cannot_edit_agent_sees_nothing(
    login: Callable[..., Client], member: Callable[[str], User], workspace: Workspace, query: SavedQuery
) -> None:
    analyst = login(member("analyst"))
    assert analyst.get(_url("detail", workspace, query.pk)).status_code == 200
    assert analyst.get(_url("new", workspace)).status_code == 403
    agent = login(member("agent"))
    assert agent.get(_url("list", workspace)).status_code == 403
    assert (
        'id="nav-listening"'
        not in agent.get(reverse("engagement:inbox", args=[workspace.pk])).content.decode()
    )


def test_other_workspace_gets_404(
    owner_client: Client, workspace: Workspace, other_workspace: Workspace, make_user: Callable[..., User]
) -> None:
    foreign = SavedQuery.objects.create(workspace=other_workspace, name="Z", terms="Z")
    assert owner_client.get(_url("detail", workspace, foreign.pk)).status_code == 404
    assert owner_client.post(_url("delete", workspace, foreign.pk)).status_code == 404
    assert SavedQuery.objects.filter(pk=foreign.pk).exists()


def test_csv_export(
    owner_client: Client, workspace: Workspace, query: SavedQuery, make_mention: Callable[..., Mention]
) -> None:
    make_mention(at=timezone.now(), sentiment="negative", text='Acme, "kaputt"\nschon wieder')
    response = owner_client.get(_url("export", workspace, query.pk))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert response["Content-Type"].startswith("text/csv")
    assert rows[0][0] == "published_at"
    assert rows[1][5] == "negative"
    assert rows[1][7] == 'Acme, "kaputt"\nschon wieder'


def test_mention_to_inbox_conversation(
    owner_client: Client,
    workspace: Workspace,
    query: SavedQuery,
    make_mention: Callable[..., Mention],
    make_channel: Callable[..., Channel],
) -> None:
    channel = make_channel("mastodon", handle="brand@social.example")
    mention = make_mention(
        at=timezone.now(), sentiment="negative", url="https://blog.example/p/1", author="ann"
    )
    url = _url("to_inbox", workspace, mention.pk)
    response = owner_client.post(url, {"channel": str(channel.pk)})
    conversation = Conversation.objects.get(workspace=workspace)
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:thread", args=[workspace.pk, conversation.pk])
    assert conversation.kind == "mentions"
    message = conversation.messages.get()
    assert (message.text, message.author_handle, message.sentiment) == (mention.text, "ann", "negative")
    thread = owner_client.get(response["Location"])  # the inbox shows it though no post of ours is behind it
    assert thread.status_code == 200
    assert mention.text in thread.content.decode()
    owner_client.post(url, {"channel": str(channel.pk)})  # twice: still one conversation, one message
    assert Conversation.objects.filter(workspace=workspace).count() == 1
    assert conversation.messages.count() == 1


def test_mention_to_inbox_refuses_a_foreign_channel(
    owner_client: Client,
    workspace: Workspace,
    query: SavedQuery,
    make_mention: Callable[..., Mention],
    foreign_channel: Channel,
) -> None:
    mention = make_mention(at=timezone.now())
    owner_client.post(_url("to_inbox", workspace, mention.pk), {"channel": str(foreign_channel.pk)})
    assert not Conversation.objects.exists()


def test_settings_page(owner_client: Client, workspace: Workspace) -> None:
    response = owner_client.post(
        _url("settings", workspace),
        {"weeks": "6", "margin": "2.5", "min_negative": "8", "webhook_url": "https://hooks.example/x1"},
    )
    settings = ListeningSettings.objects.get(workspace=workspace)
    assert response.status_code == 302
    assert (settings.weeks, settings.margin, settings.min_negative) == (6, 2.5, 8)
    assert owner_client.post(_url("settings", workspace), {"weeks": "x"}).status_code == 400


def test_alerts_page_lists_alert_and_its_mentions(
    owner_client: Client, workspace: Workspace, make_mention: Callable[..., Mention]
) -> None:
    from resonanz.listening.models import Alert

    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    make_mention(at=hour + timedelta(minutes=1), sentiment="negative", text="Acme hat mein Paket verloren")
    Alert.objects.create(
        workspace=workspace,
        hour_start=hour,
        negative_count=12,
        total_count=15,
        baseline_count=2,
        baseline_share=0.2,
    )
    body = owner_client.get(_url("alerts", workspace)).content.decode()
    assert "12 negative mentions (usual: 2)" in body
    assert "Acme hat mein Paket verloren" in body
