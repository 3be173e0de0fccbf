"""Issue 8, #13 and #14 on the post page: per channel the latest counts, a chart of them over time, the
engagement rate with its definition, the replies (newest first, linked into the inbox for those who may
use it), and "refresh now" with its polling panel, in English and German."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from resonanz.accounts.models import Role, User, Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.base import Engagement, RemoteReply
from resonanz.connectors.registry import find_spec
from resonanz.core.timezones import zone
from resonanz.engagement.models import Conversation
from resonanz.engagement.services import engagement_store, follower_sample_store
from resonanz.posts.models import Post, Variant, VariantStatus
from resonanz.posts.services import PostInput, post_create

pytestmark = pytest.mark.django_db


def _reply(n: int, text: str, hours_ago: float) -> RemoteReply:
    return RemoteReply(
        remote_id=f"reply-{n}",
        url=f"https://social.example/@fan/{n}",
        author_id=f"fan-{n}",
        author_handle=f"fan{n}",
        author_name=f"Fan {n}",
        text=text,
        created_at=timezone.now() - timedelta(hours=hours_ago),
        in_reply_to_remote_id="remote-1",
    )


@pytest.fixture
def published(workspace: Workspace, owner: User, mastodon: Channel) -> Variant:
    """A post published on the channel three hours ago, sampled twice, with two replies and followers."""
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Frühlingsaktion", channel_ids=[mastodon.pk])
    )
    now = timezone.now()
    Variant.objects.filter(post=post).update(
        status=VariantStatus.PUBLISHED, remote_id="remote-1", published_at=now - timedelta(hours=3)
    )
    variant = Variant.objects.select_related("post", "channel").get(post=post)
    follower_sample_store(
        workspace=workspace, channel=mastodon, followers=200, taken_at=now - timedelta(days=1)
    )
    engagement_store(
        workspace=workspace,
        variant=variant,
        engagement=Engagement(
            likes=3, reposts=1, replies=1, quotes=0, reply_items=[_reply(1, "Erste Antwort", 2)]
        ),
        taken_at=now - timedelta(hours=2),
    )
    engagement_store(
        workspace=workspace,
        variant=variant,
        engagement=Engagement(
            likes=1234, reposts=5, replies=2, quotes=1, reply_items=[_reply(2, "Zweite Antwort", 0.5)]
        ),
        taken_at=now - timedelta(minutes=20),
    )
    return variant


def _page(client: Client, workspace: Workspace, post: Post) -> str:
    response = client.get(reverse("web:post_detail", args=[workspace.pk, post.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _panel(html: str) -> str:
    start = html.index('id="post-engagement"')
    return html[start : html.index("</section>", start)]


def test_the_post_page_shows_counts_chart_rate_and_replies_in_english(
    owner_client: Client, workspace: Workspace, published: Variant
) -> None:
    panel = _panel(_page(owner_client, workspace, published.post))
    assert "Refresh now" in panel
    counts = dict(re.findall(r'<dt class="kpi-label">([^<]+)</dt><dd class="kpi-value">([^<]+)</dd>', panel))
    assert counts == {"Likes": "1,234", "Reposts": "5", "Replies": "2", "Quotes": "1"}
    # (1234 + 5 + 2 + 1) / 200 followers
    assert '<dd class="kpi-value engagement-rate">621.00%</dd>' in panel
    spec = find_spec(published.channel.network)
    assert spec is not None
    assert spec.engagement_rate is not None
    assert spec.engagement_rate.definition in panel
    # The chart: both samples of every reported count.
    chart = json.loads(
        re.search(
            rf'<script id="engagement-chart-{published.pk}-spec" type="application/json">(.*?)</script>',
            panel,
            re.S,
        )[1]  # type: ignore[index]
    )
    values = chart["data"]["values"]
    assert sorted(v["value"] for v in values if v["metric"] == "Likes") == [3, 1234]
    assert {v["metric"] for v in values} == {"Likes", "Reposts", "Replies", "Quotes"}
    # Replies newest first, each linked to its inbox thread.
    assert panel.index("Zweite Antwort") < panel.index("Erste Antwort")
    thread = reverse("engagement:thread", args=[workspace.pk, Conversation.objects.get().pk])
    assert panel.count(f'href="{thread}"') == 2
    assert "Open in the inbox" in panel
    assert "updated " in panel


def test_the_post_page_shows_the_engagement_in_german(
    owner: User, login: Callable[..., Client], workspace: Workspace, published: Variant
) -> None:
    panel = _panel(_page(login(owner, "de"), workspace, published.post))
    assert "Jetzt aktualisieren" in panel
    assert "Interaktionsrate" in panel
    assert '<dd class="kpi-value">1.234</dd>' in panel
    assert "621,00\u00a0%" in panel
    spec = find_spec(published.channel.network)
    assert spec is not None
    assert spec.engagement_rate is not None
    with translation.override("de"):
        assert spec.engagement_rate.definition in panel
    assert "Antworten" in panel
    assert "Im Posteingang öffnen" in panel
    local = published.metrics.latest("taken_at").taken_at.astimezone(zone(workspace.time_zone))
    assert f"aktualisiert {local:%H:%M}" in panel


def test_who_may_not_use_the_inbox_sees_the_replies_without_the_link(
    workspace: Workspace, published: Variant, member: Callable[[str], User], login: Callable[..., Client]
) -> None:
    panel = _panel(_page(login(member(Role.ANALYST)), workspace, published.post))
    assert "Zweite Antwort" in panel
    assert "/inbox/" not in panel


def test_refresh_now_on_the_page_polls_until_the_new_counts_are_there_in_german(
    owner: User,
    login: Callable[..., Client],
    workspace: Workspace,
    published: Variant,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = login(owner, "de")
    url = reverse("web:post_engagement_refresh", args=[workspace.pk, published.post_id])
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Die neuesten Zahlen und Antworten werden abgerufen" in first
    assert 'hx-trigger="every 3s"' in first
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Bereits um" in second
    assert "erneut aktualisieren können Sie ab" in second

    # The task stored its sample: the polled panel stops polling and says when.
    sample = engagement_store(
        workspace=workspace, variant=published, engagement=Engagement(likes=1300, reposts=5, replies=2)
    )
    polled = client.get(
        reverse("web:post_engagement", args=[workspace.pk, published.post_id])
    ).content.decode()
    assert "hx-trigger" not in polled
    assert f"aktualisiert {sample.taken_at.astimezone(zone(workspace.time_zone)):%H:%M}" in polled
    assert '<dd class="kpi-value">1.300</dd>' in polled


def test_the_engagement_pages_of_another_workspaces_post_are_404(
    owner_client: Client, workspace: Workspace, foreign_post: Post
) -> None:
    assert (
        owner_client.get(reverse("web:post_engagement", args=[workspace.pk, foreign_post.pk])).status_code
        == 404
    )
    refresh = reverse("web:post_engagement_refresh", args=[workspace.pk, foreign_post.pk])
    assert owner_client.post(refresh, HTTP_HX_REQUEST="true").status_code == 404
