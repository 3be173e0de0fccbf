from __future__ import annotations

import pytest
from django.urls import reverse

from resonanz.links.models import ShortLink
from resonanz.links.services import click_record

pytestmark = pytest.mark.django_db


def test_list_page_in_german_shows_links_and_clicks(workspace, owner, login, make_link, channel, campaign):
    link = make_link(channel=channel, campaign=campaign)
    click_record(link_id=link.pk, ip="203.0.113.1", user_agent="Mozilla/5.0")
    click_record(link_id=link.pk, ip="203.0.113.2", user_agent="Mozilla/5.0")
    response = login(owner, "de").get(reverse("links:list", args=[workspace.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Kurzlinks" in html
    assert "Eindeutige Klicks" in html
    assert f"/l/{link.code}" in html
    assert "Sommer Aktion 2026" in html


def test_create_via_form_and_german_error(workspace, owner, login, channel):
    client = login(owner, "de")
    url = reverse("links:new", args=[workspace.pk])
    bad = client.post(url, {"target_url": "javascript:alert(1)"})
    assert bad.status_code == 400
    assert "Nur Webadressen" in bad.content.decode()
    ok = client.post(
        url, {"target_url": "https://shop.example/x", "channel": channel.pk, "utm_term": "schuhe"}
    )
    assert ok.status_code == 302
    link = ShortLink.objects.get()
    assert link.channel == channel
    assert link.utm_term == "schuhe"
    detail = client.get(ok["Location"])
    assert "utm_term=schuhe" in detail.content.decode()


def test_analyst_sees_but_may_not_create(workspace, member, login):
    analyst = login(member("analyst"))
    assert analyst.get(reverse("links:list", args=[workspace.pk])).status_code == 200
    response = analyst.post(reverse("links:new", args=[workspace.pk]), {"target_url": "https://a.example/"})
    assert response.status_code == 403
    assert not ShortLink.objects.exists()


def test_settings_change_short_url(workspace, owner, login, make_link):
    link = make_link()
    client = login(owner)
    response = client.post(
        reverse("links:settings", args=[workspace.pk]), {"base_url": "https://go.brand.example"}
    )
    assert response.status_code == 302
    page = client.get(reverse("links:list", args=[workspace.pk])).content.decode()
    assert f"https://go.brand.example/l/{link.code}" in page


def test_foreign_link_404(workspace, owner, login, other_workspace):
    from resonanz.links.services import link_create

    theirs = link_create(
        workspace=other_workspace,
        actor=other_workspace.memberships.get().user,
        target_url="https://t.example/",
    )
    response = login(owner).get(reverse("links:detail", args=[workspace.pk, theirs.pk]))
    assert response.status_code == 404
