"""The posts list: the campaign of each post (column) and the campaign filter (one campaign or none)."""

from __future__ import annotations

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from resonanz.campaigns.services import campaign_archive, campaign_create
from resonanz.posts.models import Post
from resonanz.posts.services import PostInput, post_create


def _post(workspace, owner, channel, text: str, campaign=None) -> Post:
    data = PostInput(text=text, channel_ids=[channel.pk], campaign_id=campaign.pk if campaign else None)
    return post_create(workspace=workspace, author=owner, data=data)


def _rows(html: str) -> list[str]:
    """The texts of the listed posts, top to bottom."""
    return re.findall(r'<tr id="post-\d+"[^>]*>\s*<td[^>]*><a href="[^"]+">([^<]*)</a>', html)


def test_without_campaigns_there_is_no_campaign_column_or_filter(owner_client, workspace, owner, mastodon):
    _post(workspace, owner, mastodon, "Hallo")
    html = owner_client.get(reverse("web:posts", args=[workspace.pk])).content.decode()
    assert _rows(html) == ["Hallo"]
    assert 'id="campaign-filter"' not in html
    assert '<td class="campaign">' not in html


def test_campaign_column_and_filter(owner_client, workspace, owner, mastodon, other_workspace):
    herbst = campaign_create(workspace=workspace, actor=owner, name="Herbst <b>2026</b>", goal="awareness")
    alt = campaign_create(workspace=workspace, actor=owner, name="Alt", goal="awareness")
    foreign = campaign_create(workspace=other_workspace, actor=None, name="Fremd", goal="awareness")
    _post(workspace, owner, mastodon, "Im Herbst", herbst)
    _post(workspace, owner, mastodon, "Früher", alt)
    _post(workspace, owner, mastodon, "Ohne")
    campaign_archive(workspace=workspace, campaign=alt, actor=owner)
    url = reverse("web:posts", args=[workspace.pk])

    html = owner_client.get(url).content.decode()
    assert set(_rows(html)) == {"Im Herbst", "Früher", "Ohne"}
    assert '<th scope="col">Campaign</th>' in html
    assert "Herbst &lt;b&gt;2026&lt;/b&gt;</span></td>" in html  # escaped
    assert "<b>2026</b>" not in html
    assert f'<option value="{alt.pk}">Alt (archived)</option>' in html  # old posts stay findable
    assert "Fremd" not in html

    assert _rows(owner_client.get(url, {"campaign": herbst.pk}).content.decode()) == ["Im Herbst"]
    assert _rows(owner_client.get(url, {"campaign": alt.pk}).content.decode()) == ["Früher"]
    assert _rows(owner_client.get(url, {"campaign": "none"}).content.decode()) == ["Ohne"]
    selected = owner_client.get(url, {"campaign": herbst.pk}).content.decode()
    assert f'<option value="{herbst.pk}" selected>' in selected
    # Another workspace's campaign or nonsense: not a filter, everything is listed.
    for value in (foreign.pk, "x", "-1"):
        assert len(_rows(owner_client.get(url, {"campaign": value}).content.decode())) == 3, value
    # Combined with the status filter; nothing left: the page says the filter found nothing.
    empty = owner_client.get(url, {"campaign": herbst.pk, "status": "scheduled"}).content.decode()
    assert _rows(empty) == []
    assert "No posts match the filter." in empty
    german = owner_client.get(url, {"campaign": "none"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Alle Kampagnen" in german
    assert '<option value="none" selected>Keine Kampagne</option>' in german


def test_pager_keeps_the_filters(owner_client, workspace, owner, mastodon):
    herbst = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="awareness")
    for n in range(27):
        _post(workspace, owner, mastodon, f"Beitrag {n}", herbst)
    _post(workspace, owner, mastodon, "Ohne")
    html = owner_client.get(
        reverse("web:posts", args=[workspace.pk]), {"campaign": herbst.pk, "status": "draft"}
    ).content.decode()
    assert f'href="?campaign={herbst.pk}&amp;status=draft&amp;page=2"' in html


def test_campaigns_cost_no_query_per_post(owner_client, workspace, owner, mastodon):
    herbst = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="awareness")
    url = reverse("web:posts", args=[workspace.pk])
    _post(workspace, owner, mastodon, "Eins", herbst)
    with CaptureQueriesContext(connection) as one:
        owner_client.get(url)
    for n in range(5):
        _post(workspace, owner, mastodon, f"Mehr {n}", herbst)
    with CaptureQueriesContext(connection) as six:
        html = owner_client.get(url).content.decode()
    assert html.count("Herbst</span></td>") == 6
    assert len(six) == len(one)
