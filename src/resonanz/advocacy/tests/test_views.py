"""The advocacy pages: the advocate's landing page in German, the one-click share (htmx), personal
channels nobody else sees, the managers' page, and who may open what."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.accounts.models import Role
from resonanz.advocacy.models import AdvocacyOffer, AdvocacyShare
from resonanz.advocacy.services import share_create
from resonanz.channels.models import Channel

pytestmark = pytest.mark.django_db


def _client(user, language: str = "de") -> Client:
    client = Client(headers={"accept-language": language})
    client.force_login(user)
    return client


def test_advocate_lands_on_the_advocacy_page_in_german(workspace, offer, advocate, personal_channel) -> None:
    personal_channel(advocate)
    client = _client(advocate)
    home = client.get("/")
    assert home.status_code == 302
    assert home["Location"] == f"/w/{workspace.pk}/advocacy/"
    page = client.get(home["Location"])
    html = page.content.decode()
    assert page.status_code == 200
    assert "Offene Angebote" in html
    assert "Schaut euch das an: unser neues Produkt!" in html  # the preview with the suggested text
    assert ">Teilen<" in html
    assert 'id="nav-advocacy"' in html
    # Nothing of the brand beyond the offers: no posts, channels or calendar in the navigation.
    assert 'id="nav-posts"' not in html
    assert 'id="nav-channels"' not in html


def test_one_click_share_via_htmx_then_shown_as_shared(workspace, offer, advocate, personal_channel) -> None:
    channel = personal_channel(advocate)
    client = _client(advocate)
    url = f"/w/{workspace.pk}/advocacy/offers/{offer.pk}/share/{channel.pk}/"
    first = client.post(url, {"text": "Mein Text"}, headers={"HX-Request": "true"})
    assert first.status_code == 200
    body = first.content.decode()
    assert "Geteilt auf anna@social.example am" in body
    assert "disabled" in body
    # A double click or a second tab: the same share, nothing new.
    second = client.post(url, {"text": "Anderer Text"}, headers={"HX-Request": "true"})
    assert second.status_code == 200
    assert AdvocacyShare.objects.count() == 1
    assert AdvocacyShare.objects.get().variant.parts.get().text == "Mein Text"
    page = client.get(f"/w/{workspace.pk}/advocacy/").content.decode()
    assert "Geteilt auf anna@social.example am" in page


def test_too_long_text_is_refused_in_place_and_kept(workspace, offer, advocate, personal_channel) -> None:
    channel = personal_channel(advocate)
    client = _client(advocate)
    url = f"/w/{workspace.pk}/advocacy/offers/{offer.pk}/share/{channel.pk}/"
    text = "ä" * 501
    answer = client.post(url, {"text": text}, headers={"HX-Request": "true"})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert text in body  # nothing lost
    assert "500" in body
    assert not AdvocacyShare.objects.exists()


def test_personal_channels_are_invisible_to_everyone_else(
    workspace, owner, offer, advocate, personal_channel, mastodon
) -> None:
    channel = personal_channel(advocate, handle="anna-privat@social.example")
    share_create(workspace=workspace, user=advocate, offer=offer, channel=channel)
    editor = _client(owner)
    for path in ("channels/", "posts/", "posts/new/", "calendar/", "advocacy/"):
        html = editor.get(f"/w/{workspace.pk}/{path}").content.decode()
        assert "anna-privat" not in html, path
    manage = editor.get(f"/w/{workspace.pk}/advocacy/manage/").content.decode()
    assert "anna-privat" not in manage
    assert '<td class="share-count">1</td>' in manage  # counted, not shown
    assert editor.get(f"/w/{workspace.pk}/posts/{AdvocacyShare.objects.get().post_id}/").status_code == 404
    assert editor.post(f"/w/{workspace.pk}/channels/{channel.pk}/disconnect/").status_code == 404
    assert Channel.objects.filter(pk=channel.pk).exists()
    # Its owner does see it.
    assert "anna-privat" in _client(advocate).get(f"/w/{workspace.pk}/advocacy/").content.decode()


def test_another_advocate_cannot_see_or_use_my_channel(
    workspace, offer, advocate, member, personal_channel
) -> None:
    mine = personal_channel(advocate, handle="anna-privat@social.example")
    colleague = member(Role.EDITOR)
    client = _client(colleague)
    assert "anna-privat" not in client.get(f"/w/{workspace.pk}/advocacy/").content.decode()
    url = f"/w/{workspace.pk}/advocacy/offers/{offer.pk}/share/{mine.pk}/"
    assert client.post(url).status_code == 404
    assert client.post(f"/w/{workspace.pk}/advocacy/channels/{mine.pk}/disconnect/").status_code == 404
    assert not AdvocacyShare.objects.exists()


def test_advocate_disconnects_own_channel(workspace, advocate, personal_channel) -> None:
    channel = personal_channel(advocate)
    client = _client(advocate)
    assert client.post(f"/w/{workspace.pk}/advocacy/channels/{channel.pk}/disconnect/").status_code == 302
    channel.refresh_from_db()
    assert channel.credentials == {}
    assert channel.status == "disabled"


@pytest.mark.parametrize(
    ("role", "page", "manage"),
    [
        (Role.OWNER, 200, 200),
        (Role.EDITOR, 200, 200),
        (Role.CONTRIBUTOR, 403, 403),
        (Role.ANALYST, 403, 403),
        (Role.AGENT, 403, 403),
        (Role.ADVOCATE, 200, 403),
    ],
)
def test_pages_per_role(workspace, owner, member, role, page, manage) -> None:
    user = owner if role == Role.OWNER else member(role)
    client = _client(user)
    assert client.get(f"/w/{workspace.pk}/advocacy/").status_code == page
    assert client.get(f"/w/{workspace.pk}/advocacy/manage/").status_code == manage
    html = client.get(f"/w/{workspace.pk}/advocacy/").content.decode() if page == 200 else ""
    assert ('id="nav-advocacy"' in html) == (page == 200)


def test_advocate_sees_no_brand_pages(workspace, advocate, mastodon) -> None:
    client = _client(advocate)
    for path in ("", "posts/", "channels/", "calendar/", "campaigns/", "inbox/"):
        assert client.get(f"/w/{workspace.pk}/{path}").status_code == 403, path


def test_stranger_gets_404(workspace, offer, other_workspace) -> None:
    stranger = other_workspace.memberships.get().user
    client = _client(stranger)
    assert client.get(f"/w/{workspace.pk}/advocacy/").status_code == 404
    assert client.get(f"/w/{workspace.pk}/advocacy/manage/").status_code == 404


def test_editor_offers_a_post_with_a_suggested_text(workspace, owner, brand_post, campaign) -> None:
    client = _client(owner)
    form = client.get(f"/w/{workspace.pk}/advocacy/manage/").content.decode()
    assert "Textvorschlag für Mastodon" in form
    answer = client.post(
        f"/w/{workspace.pk}/advocacy/offers/new/",
        {
            "post": brand_post.pk,
            "campaign": "post",
            "ends_on": "2999-01-31",
            "text_mastodon": "Teilt das!",
            "text_editable": "on",
        },
    )
    assert answer.status_code == 302
    offer = AdvocacyOffer.objects.get()
    assert offer.campaign_id == campaign.pk
    assert offer.suggested_texts == {"mastodon": "Teilt das!"}
    assert offer.ends_at is not None
    assert offer.ends_at.year == 2999


def test_connect_boxes_only_for_networks_that_allow_personal_accounts(workspace, advocate) -> None:
    from resonanz.channels.services import personal_networks
    from resonanz.connectors.registry import network_slugs

    html = _client(advocate).get(f"/w/{workspace.pk}/advocacy/").content.decode()
    personal = personal_networks()
    assert personal  # at least one connector declares it
    for network in network_slugs():
        assert (f'id="connect-{network}"' in html) == (network in personal)


def test_shares_are_not_in_the_brands_lists_exports_or_calendar(
    workspace, owner, offer, advocate, personal_channel
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from resonanz.bulk.selectors import calendar_entries
    from resonanz.calendar.selectors import calendar_channels
    from resonanz.posts.selectors import post_list

    channel = personal_channel(advocate)
    share = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel).share
    now = timezone.now()
    assert share.post_id not in set(post_list(workspace=workspace).values_list("pk", flat=True))
    assert offer.post_id in set(post_list(workspace=workspace).values_list("pk", flat=True))
    exported = calendar_entries(
        workspace=workspace, start=now - timedelta(days=1), end=now + timedelta(days=30)
    )
    assert share.variant_id not in {v.pk for v in exported}
    assert channel.pk not in {c.pk for c in calendar_channels(workspace=workspace)}
    listed = _client(owner).get(f"/api/v1/workspaces/{workspace.pk}/posts/").json()["results"]
    assert [p["id"] for p in listed] == [offer.post_id]


def test_advocate_connects_a_personal_channel_through_the_networks_sign_in(
    workspace, advocate, masto
) -> None:
    """The advocacy page's connect box → the network's sign-in (the emulator approves as "anna") → the
    shared callback → back on the advocacy page with a personal channel nobody else has."""
    import re
    from html import unescape
    from urllib.parse import urlsplit

    import httpx

    from resonanz.channels.models import PendingOAuth

    masto.issue_token("anna")
    masto.approve_as("anna")
    client = _client(advocate)
    begin = client.post(
        f"/w/{workspace.pk}/advocacy/connect/mastodon/", {"mastodon-instance_url": masto.base_url}
    )
    assert begin.status_code == 200, begin.content.decode()[:500]
    assert PendingOAuth.objects.get().personal is True
    link = re.search(r'href="([^"]*/oauth/authorize[^"]*)"', begin.content.decode())
    assert link is not None
    approved = httpx.get(unescape(link.group(1)), follow_redirects=False)
    assert approved.status_code == 302
    back = urlsplit(approved.headers["location"])
    done = client.get(f"{back.path}?{back.query}")
    assert done.status_code == 302
    assert done["Location"] == f"/w/{workspace.pk}/advocacy/"
    channel = Channel.objects.get()
    assert channel.owner_id == advocate.pk
    assert channel.handle.startswith("anna")
    assert "anna" in client.get(done["Location"]).content.decode()


def test_reports_count_shares_without_naming_the_personal_account(
    workspace, offer, advocate, personal_channel
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from resonanz.posts.models import Variant, VariantStatus
    from resonanz.reports.periods import Period
    from resonanz.reports.selectors import variant_facts

    channel = personal_channel(advocate, handle="anna-privat@social.example")
    share = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel).share
    Variant.objects.filter(pk=share.variant_id).update(
        status=VariantStatus.PUBLISHED, published_at=timezone.now()
    )
    today = timezone.now().date()
    facts = variant_facts(
        workspace=workspace, period=Period(start=today - timedelta(days=1), end=today + timedelta(days=1))
    )
    [fact] = [f for f in facts if f.variant_id == share.variant_id]
    assert fact.channel_name == "Shares by advocates"
    assert fact.channel_id == 0
    assert fact.campaign_id == offer.campaign_id
