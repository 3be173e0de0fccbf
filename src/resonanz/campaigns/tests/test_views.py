"""Campaign pages (list, create, edit, archive; htmx and without JavaScript), the composer's campaign
select, and the calendar's campaign filter."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from resonanz.accounts.models import Role
from resonanz.campaigns.models import Campaign, Goal
from resonanz.campaigns.services import campaign_archive
from resonanz.core.timezones import zone
from resonanz.posts.models import Post
from resonanz.posts.services import PostInput, post_create, post_schedule

HTMX = {"HTTP_HX_REQUEST": "true"}
XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def url(name: str, *args: int) -> str:
    return reverse(f"campaigns:{name}", args=args)


def form_data(**changes: str) -> dict[str, str]:
    return {
        "name": "Herbstaktion",
        "goal": "leads",
        "target_audience": "Familien in Köln",
        "colour": "#0f766e",
        "starts_on": "2026-09-01",
        "ends_on": "2026-10-31",
        **changes,
    }


# -- the list -----------------------------------------------------------------------------------


def test_list_shows_campaigns_and_the_nav_links_there(workspace, owner, login, make_campaign) -> None:
    make_campaign("Sommer", goal=Goal.LOYALTY, target_audience="Stammkundschaft")
    old = make_campaign("Frühling")
    campaign_archive(workspace=workspace, campaign=old, actor=owner)
    client = login(owner)
    html = client.get(url("list", workspace.pk)).content.decode()
    active = html.split('id="campaigns-archived"')[0]
    assert "Sommer" in active
    assert "Loyalty" in active
    assert "Stammkundschaft" in active
    assert "Frühling" not in active
    assert "1 archived campaign" in html
    assert f'href="{url("new", workspace.pk)}"' in html
    assert f'?view=list&amp;campaign={old.pk}"' in html
    dashboard = client.get(reverse("web:dashboard", args=[workspace.pk])).content.decode()
    assert f'id="nav-campaigns" href="{url("list", workspace.pk)}"' in dashboard


def test_list_in_german(workspace, owner, login, make_campaign) -> None:
    make_campaign("Sommer", goal=Goal.AWARENESS)
    html = login(owner, "de").get(url("list", workspace.pk)).content.decode()
    assert "<h1>Kampagnen</h1>" in html
    assert "Bekanntheit" in html
    assert "Neue Kampagne" in html
    assert "0 Beiträge" in html


def test_user_content_is_escaped(workspace, owner, login, make_campaign) -> None:
    campaign = make_campaign(f"Name {XSS}", target_audience=f"Publikum {XSS}")
    client = login(owner)
    for page in (url("list", workspace.pk), url("edit", workspace.pk, campaign.pk)):
        html = client.get(page).content.decode()
        assert XSS not in html
        assert ESCAPED in html


# -- permissions --------------------------------------------------------------------------------


def test_agents_see_no_campaign_pages(workspace, member, login, make_campaign) -> None:
    campaign = make_campaign()
    client = login(member(Role.AGENT))
    assert client.get(url("list", workspace.pk)).status_code == 403
    assert client.get(url("edit", workspace.pk, campaign.pk)).status_code == 403


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.ANALYST])
def test_readers_see_the_list_but_cannot_change(workspace, member, login, make_campaign, role) -> None:
    campaign = make_campaign()
    client = login(member(role))
    html = client.get(url("list", workspace.pk)).content.decode()
    assert campaign.name in html
    assert 'id="campaign-new"' not in html
    assert f'id="campaign-archive-{campaign.pk}"' not in html
    assert client.get(url("new", workspace.pk)).status_code == 403
    assert client.post(url("new", workspace.pk), form_data()).status_code == 403
    assert client.get(url("edit", workspace.pk, campaign.pk)).status_code == 403
    assert client.post(url("edit", workspace.pk, campaign.pk), form_data()).status_code == 403
    assert client.post(url("archive", workspace.pk, campaign.pk), {"archived": "1"}).status_code == 403
    campaign.refresh_from_db()
    assert (campaign.name, campaign.archived) == ("Sommerschlussverkauf", False)
    assert Campaign.objects.count() == 1


def test_strangers_get_404(workspace, make_user, login, make_campaign) -> None:
    campaign = make_campaign()
    stranger = login(make_user("nosy@example.com"))
    assert stranger.get(url("list", workspace.pk)).status_code == 404
    assert stranger.post(url("new", workspace.pk), form_data()).status_code == 404
    assert stranger.post(url("archive", workspace.pk, campaign.pk), {"archived": "1"}).status_code == 404


def test_another_workspaces_campaign_is_404(workspace, other_workspace, owner, login, make_campaign) -> None:
    foreign = make_campaign("Fremd", ws=other_workspace)
    client = login(owner)
    assert client.get(url("edit", workspace.pk, foreign.pk)).status_code == 404
    assert client.post(url("archive", workspace.pk, foreign.pk), {"archived": "1"}).status_code == 404


# -- create, edit, archive ----------------------------------------------------------------------


def test_create_without_javascript(workspace, member, login) -> None:
    editor = member(Role.EDITOR)
    client = login(editor)
    page = client.get(url("new", workspace.pk)).content.decode()
    assert 'type="color"' in page
    assert 'type="date"' in page
    for value, label in Goal.choices:
        assert f'<option value="{value}"' in page
        assert str(label) in page
    response = client.post(url("new", workspace.pk), form_data())
    assert response.status_code == 302
    assert response["Location"] == url("list", workspace.pk)
    campaign = Campaign.objects.get()
    assert (campaign.name, campaign.goal, campaign.colour) == ("Herbstaktion", "leads", "#0f766e")
    assert (str(campaign.starts_on), str(campaign.ends_on)) == ("2026-09-01", "2026-10-31")
    assert campaign.created_by == editor
    assert "Campaign “Herbstaktion” created." in client.get(url("list", workspace.pk)).content.decode()


def test_create_with_htmx_loads_the_list_without_reload(workspace, owner, login) -> None:
    response = login(owner).post(url("new", workspace.pk), form_data(), **HTMX)
    assert response.status_code == 200
    location = json.loads(response["HX-Location"])
    assert location == {
        "path": url("list", workspace.pk),
        "target": "#main",
        "select": "#main",
        "swap": "outerHTML",
    }
    assert Campaign.objects.filter(name="Herbstaktion").exists()


def test_refused_form_keeps_the_input_and_names_the_problem(workspace, owner, login, make_campaign) -> None:
    make_campaign("Herbstaktion")
    client = login(owner)
    response = client.post(url("new", workspace.pk), form_data(ends_on="2026-08-01"), **HTMX)
    assert response.status_code == 400
    html = response.content.decode()
    assert "This workspace already has a campaign called “Herbstaktion”." in html
    assert "The campaign cannot end before it starts." in html
    assert 'value="Familien in Köln"' in html or "Familien in Köln</textarea>" in html
    assert "data-campaigns" in html  # campaigns.js lets htmx show this 400 answer in place
    response = client.post(url("new", workspace.pk), form_data(name="Neu", colour="blau"))
    assert response.status_code == 400
    assert "Enter a colour like #7c3aed." in response.content.decode()
    assert Campaign.objects.count() == 1


def test_edit(workspace, owner, login, make_campaign) -> None:
    campaign = make_campaign("Sommer", target_audience="Alle")
    client = login(owner)
    page = client.get(url("edit", workspace.pk, campaign.pk)).content.decode()
    assert 'value="Sommer"' in page
    assert "Alle</textarea>" in page
    response = client.post(
        url("edit", workspace.pk, campaign.pk), form_data(name="Sommer 2026", goal="support")
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.goal) == ("Sommer 2026", "support")


def test_archive_and_restore_with_htmx(workspace, owner, login, make_campaign) -> None:
    campaign = make_campaign()
    client = login(owner)
    response = client.post(url("archive", workspace.pk, campaign.pk), {"archived": "1"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith(f'<tr id="campaign-{campaign.pk}"')
    assert 'data-archived="true"' in html
    assert f'id="campaign-restore-{campaign.pk}"' in html
    campaign.refresh_from_db()
    assert campaign.archived is True
    response = client.post(url("archive", workspace.pk, campaign.pk), {"archived": ""})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.archived is False


# -- the composer -------------------------------------------------------------------------------


def test_composer_offers_active_campaigns_and_saves_the_choice(
    workspace, owner, channel, login, make_campaign
):
    active = make_campaign("Aktiv")
    archived = make_campaign("Vorbei")
    campaign_archive(workspace=workspace, campaign=archived, actor=owner)
    client = login(owner)
    page = client.get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    select = re.search(r'<select name="campaign".*?</select>', page, re.S)
    assert select is not None
    assert f'<option value="{active.pk}">Aktiv</option>' in select.group(0)
    assert "Vorbei" not in select.group(0)
    response = client.post(
        reverse("web:post_new", args=[workspace.pk]),
        {"text": "Hallo", "channels": [channel.pk], "campaign": str(active.pk), "action": "draft"},
    )
    assert response.status_code == 302
    post = Post.objects.get()
    assert post.campaign == active
    detail = client.get(response["Location"]).content.decode()
    assert 'id="post-campaign"' in detail
    assert "Aktiv" in detail
    edit = client.get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert f'<option value="{active.pk}" selected>Aktiv</option>' in edit


def test_composer_keeps_an_archived_campaign_of_the_post(
    workspace, owner, channel, login, make_campaign
) -> None:
    campaign = make_campaign("Vorbei")
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(text="Hi", channel_ids=[channel.pk], campaign_id=campaign.pk),
    )
    campaign_archive(workspace=workspace, campaign=campaign, actor=owner)
    edit = login(owner).get(reverse("web:post_edit", args=[workspace.pk, post.pk])).content.decode()
    assert f'<option value="{campaign.pk}" selected>Vorbei</option>' in edit


def test_composer_refuses_another_workspaces_campaign(
    workspace, other_workspace, owner, channel, login, make_campaign
) -> None:
    make_campaign("Meine")
    foreign = make_campaign("Fremd", ws=other_workspace)
    response = login(owner).post(
        reverse("web:post_new", args=[workspace.pk]),
        {"text": "Hallo", "channels": [channel.pk], "campaign": str(foreign.pk), "action": "draft"},
    )
    assert response.status_code == 400
    assert "Unknown campaign." in response.content.decode()
    assert not Post.objects.exists()


def test_composer_without_campaigns_shows_no_select(workspace, owner, channel, login) -> None:
    page = login(owner).get(reverse("web:post_new", args=[workspace.pk])).content.decode()
    assert 'name="campaign"' not in page


# -- the calendar filter ------------------------------------------------------------------------


def test_calendar_filters_by_campaign(workspace, owner, channel, login, make_campaign) -> None:
    summer, winter = make_campaign("Sommer"), make_campaign("Winter")
    day = (timezone.now().astimezone(zone(workspace.time_zone)) + timedelta(days=3)).date()
    posts = {}
    for name, campaign in (("Sommer-Post", summer), ("Winter-Post", winter), ("Ohne-Post", None)):
        post = post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(
                text=name, channel_ids=[channel.pk], campaign_id=campaign.pk if campaign else None
            ),
        )
        at = datetime.combine(day, time(10), tzinfo=zone(workspace.time_zone))
        posts[name] = post_schedule(workspace=workspace, post=post, actor=owner, at=at)
    client = login(owner)
    base = reverse("calendar:index", args=[workspace.pk])
    for view in ("month", "week", "list"):
        html = client.get(
            base, {"view": view, "date": day.isoformat(), "campaign": summer.pk}
        ).content.decode()
        assert "Sommer-Post" in html, view
        assert "Winter-Post" not in html, view
        assert "Ohne-Post" not in html, view
    both = client.get(base, {"view": "list", "date": day.isoformat(), "campaign": [summer.pk, winter.pk]})
    html = both.content.decode()
    assert "Sommer-Post" in html
    assert "Winter-Post" in html
    assert "Ohne-Post" not in html
    assert f'name="campaign" value="{summer.pk}" checked' in html
    assert f'name="campaign" value="{winter.pk}" checked' in html
    everything = client.get(base, {"view": "list", "date": day.isoformat()}).content.decode()
    assert all(name in everything for name in posts)
    assert 'id="cal-filter-campaigns"' in everything
