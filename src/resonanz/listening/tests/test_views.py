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


def _alert_with_spread(workspace: Workspace, make_mention: Callable[..., Mention]) -> object:
    """An alert whose cascade was read: a driving mention, two reposts and a quote, and the projection
    the model computed from them (``alert_project`` against the network: test_wave_bluesky.py)."""
    from resonanz.listening.models import Alert, Reshare
    from resonanz.listening.projection import CascadeEvent, cascade_project

    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    mention = make_mention(at=hour + timedelta(minutes=5), sentiment="negative", text="Acme ist Betrug")
    for k, kind in enumerate(("repost", "repost", "quote")):
        Reshare.objects.create(
            workspace=workspace,
            mention=mention,
            remote_id=f"r{k}",
            subject_remote_id=mention.remote_id,
            kind=kind,
            author=f"fan{k}.test",
            followers=100 * (k + 1),
            reshared_at=hour + timedelta(minutes=10 + 5 * k),
            first_seen_at=hour + timedelta(minutes=30),
            time_reported=kind == "quote",
        )
    events = [CascadeEvent(at=0.0, tree="m", root=True)] + [
        CascadeEvent(at=(5 + 5 * k) / 60, tree="m", reach=100 * (k + 1)) for k in range(3)
    ]
    projection = cascade_project(events=events, now=0.5, runs=200)
    return Alert.objects.create(
        workspace=workspace,
        hour_start=hour,
        negative_count=12,
        total_count=15,
        baseline_count=2,
        baseline_share=0.2,
        projection=projection.as_dict(),
        projected_at=hour + timedelta(minutes=35),
    )


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["Erwartete Verbreitung", "In den nächsten", "Reposts und Zitate", "Zitat", "fan2.test"]),
        ("en", ["Projected spread", "In the next", "Reposts and quotes", "quote", "fan2.test"]),
    ],
)
def test_alert_page_shows_the_projection_and_its_chart(
    login: Callable[..., Client],
    owner: User,
    workspace: Workspace,
    make_mention: Callable[..., Mention],
    language: str,
    words: list[str],
) -> None:
    import json
    import re

    alert = _alert_with_spread(workspace, make_mention)
    client = login(owner, language=language)
    body = client.get(_url("alert", workspace, alert.pk)).content.decode()  # type: ignore[attr-defined]
    for word in words:
        assert word in body
    assert "Acme ist Betrug" in body
    assert f"R = {alert.projection['r']:.2f}".replace(".", "," if language == "de" else ".") in body  # type: ignore[attr-defined]
    found = re.search(r'<script id="spread-chart-spec" type="application/json">(.*?)</script>', body, re.S)
    assert found is not None
    spec = json.loads(found[1])
    layers = spec["layer"]
    assert [layer["mark"]["type"] for layer in layers] == ["area", "line", "line"]
    seen = layers[1]["data"]["values"]
    assert [row["value"] for row in seen][:4] == [0, 1, 2, 3]
    projected = layers[2]["data"]["values"]
    assert len(projected) == 5  # the start and the four horizons
    # The list links each alert to its page.
    listing = client.get(_url("alerts", workspace)).content.decode()
    assert _url("alert", workspace, alert.pk) in listing  # type: ignore[attr-defined]


def test_alert_page_of_another_workspace_is_404(
    owner_client: Client,
    other_workspace: Workspace,
    workspace: Workspace,
    make_mention: Callable[..., Mention],
) -> None:
    from resonanz.listening.models import Alert

    foreign = Alert.objects.create(
        workspace=other_workspace,
        hour_start=timezone.now(),
        negative_count=9,
        total_count=9,
        baseline_count=1,
        baseline_share=0.1,
    )
    assert owner_client.get(_url("alert", workspace, foreign.pk)).status_code == 404


def test_webhook_payload_and_email_carry_the_projection(
    workspace: Workspace, make_mention: Callable[..., Mention]
) -> None:
    from resonanz.listening.services import _projection_params, alert_payload
    from resonanz.notifications.kinds import render_body

    alert = _alert_with_spread(workspace, make_mention)
    payload = alert_payload(alert=alert)  # type: ignore[arg-type]
    assert payload["projection"]["r"] == alert.projection["r"]  # type: ignore[attr-defined]
    assert [h["hours"] for h in payload["projection"]["horizons"]] == [1, 3, 6, 12]
    body = render_body("listening_alert", {"count": "12", **_projection_params(alert.projection)})  # type: ignore[attr-defined]
    assert "3 reposts and quotes so far" in body
    assert f"R = {alert.projection['r']:.2f}" in body  # type: ignore[attr-defined]
