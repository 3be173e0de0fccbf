"""The channels page: list, verify, disconnect, connect (each registered network's flow), queue slots.

Network calls are the services' business (tested there); here the services are replaced where they would
reach a network, so these tests check the views' wiring and what the user sees.
"""

from __future__ import annotations

from datetime import time

from django.urls import reverse

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import ChannelConnectError
from resonanz.posts.models import QueueSlot


def test_list_shows_channels_and_forms(owner_client, workspace, mastodon) -> None:
    mastodon.last_error = "Instance unreachable"
    mastodon.save()
    html = owner_client.get(reverse("web:channels", args=[workspace.pk])).content.decode()
    assert "brand@social.example" in html
    assert "Instance unreachable" in html
    assert 'id="connect-bluesky"' in html
    assert 'value="https://bsky.social"' in html
    assert 'id="connect-mastodon"' in html
    assert reverse("web:channel_verify", args=[workspace.pk, mastodon.pk]) in html


def test_analyst_sees_list_without_management(workspace, member, login, mastodon) -> None:
    html = login(member("analyst")).get(reverse("web:channels", args=[workspace.pk])).content.decode()
    assert "brand@social.example" in html
    assert 'id="connect-bluesky"' not in html
    assert "Verify" not in html


def test_verify_reports_result(owner_client, workspace, mastodon, monkeypatch) -> None:
    def fake_verify(*, workspace, channel):
        channel.status, channel.last_error = ChannelStatus.RECONNECT_NEEDED, "The access token was revoked"
        return channel

    monkeypatch.setattr("resonanz.channels.views.channel_verify", fake_verify)
    response = owner_client.post(reverse("web:channel_verify", args=[workspace.pk, mastodon.pk]), follow=True)
    assert "The access token was revoked" in response.content.decode()


def test_disconnect_asks_first(owner_client, workspace, mastodon) -> None:
    url = reverse("web:channel_disconnect", args=[workspace.pk, mastodon.pk])
    confirm = owner_client.get(url).content.decode()
    assert 'id="confirm"' in confirm
    assert 'method="post"' in confirm
    assert Channel.objects.filter(pk=mastodon.pk).exists()
    response = owner_client.post(url)
    assert response.status_code == 302
    assert not Channel.objects.filter(pk=mastodon.pk).exists()


def test_channel_of_another_workspace_is_404(owner_client, workspace, make_channel, other_workspace) -> None:
    foreign = make_channel("mastodon", handle="foreign", ws=other_workspace)
    verify = reverse("web:channel_verify", args=[workspace.pk, foreign.pk])
    disconnect = reverse("web:channel_disconnect", args=[workspace.pk, foreign.pk])
    assert owner_client.post(verify).status_code == 404
    assert owner_client.get(disconnect).status_code == 404


def test_connect_bluesky_success_and_error(owner_client, workspace, monkeypatch) -> None:
    calls = []

    def fake_connect(**kwargs):
        calls.append(kwargs)
        if kwargs["values"]["app_password"] == "wrong":
            raise ChannelConnectError("Bluesky did not accept the login: Invalid identifier or password")
        return Channel(handle=kwargs["values"]["identifier"])

    monkeypatch.setattr("resonanz.channels.views.channel_connect_credentials", fake_connect)
    url = reverse("web:channel_connect", args=[workspace.pk, "bluesky"])
    data = {
        "bluesky-pds_url": "https://bsky.social",
        "bluesky-identifier": "brand.bsky.social",
        "bluesky-app_password": "wrong",
    }
    response = owner_client.post(url, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Invalid identifier or password" in html
    assert 'value="brand.bsky.social"' in html  # the handle is kept, the password is not echoed
    assert "wrong" not in html
    response = owner_client.post(url, {**data, "bluesky-app_password": "abcd-efgh-ijkl-mnop"})
    assert response.status_code == 302
    assert calls[-1]["workspace"] == workspace
    assert calls[-1]["network"] == "bluesky"
    assert calls[-1]["values"]["pds_url"] == "https://bsky.social"


def test_connect_mastodon_links_to_the_server(owner_client, workspace, monkeypatch) -> None:
    seen = {}

    def fake_begin(**kwargs):
        seen.update(kwargs)
        return "https://social.example/oauth/authorize?client_id=abc&state=xyz"

    monkeypatch.setattr("resonanz.channels.views.channel_connect_begin", fake_begin)
    response = owner_client.post(
        reverse("web:channel_connect", args=[workspace.pk, "mastodon"]),
        {"mastodon-instance_url": "social.example"},
    )
    assert response.status_code == 200
    link = 'href="https://social.example/oauth/authorize?client_id=abc&amp;state=xyz"'
    assert link in response.content.decode()
    assert seen["redirect_uri"] == "http://testserver/channels/mastodon/callback/"
    assert seen["workspace"] == workspace
    assert seen["network"] == "mastodon"
    assert seen["values"] == {"instance_url": "https://social.example"}  # the form adds the scheme


def test_mastodon_callback_completes(owner_client, workspace, mastodon, monkeypatch) -> None:
    monkeypatch.setattr("resonanz.channels.views.channel_connect_complete", lambda **kw: mastodon)
    url = reverse("web:channel_callback", args=["mastodon"])
    response = owner_client.get(url, {"state": "s", "code": "c"})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:channels", args=[workspace.pk])
    denied = owner_client.get(url, {"error": "access_denied"}, follow=True).content.decode()
    assert "Mastodon did not authorize Resonanz." in denied


def test_mastodon_callback_with_expired_state(owner_client, workspace) -> None:
    # The real service: an unknown state is refused with a message, nothing is created.
    url = reverse("web:channel_callback", args=["mastodon"])
    response = owner_client.get(url, {"state": "unknown", "code": "c"}, follow=True)
    assert "This authorization link has expired." in response.content.decode()


def test_queue_slots(owner_client, workspace, mastodon) -> None:
    url = reverse("web:channel_queue", args=[workspace.pk, mastodon.pk])
    prefix = f"slots-{mastodon.pk}-slots"
    response = owner_client.post(url, {prefix: "Mon 09:30\nDi 14:00\n\n5 18:15"})
    assert response.status_code == 302
    slots = sorted((s.weekday, s.time) for s in QueueSlot.objects.filter(channel=mastodon))
    assert slots == [(0, time(9, 30)), (1, time(14, 0)), (4, time(18, 15))]
    html = owner_client.get(reverse("web:channels", args=[workspace.pk])).content.decode()
    assert "Mon 09:30" in html

    bad_day = owner_client.post(url, {prefix: "Someday 09:30"})
    assert bad_day.status_code == 400
    assert "is not a weekday and a time" in bad_day.content.decode()
    bad_time = owner_client.post(url, {prefix: "Mon 25:99"})
    assert bad_time.status_code == 400
    assert "25:99 is not a time like 09:30." in bad_time.content.decode()
    assert QueueSlot.objects.filter(channel=mastodon).count() == 3  # errors changed nothing


def test_server_fields_take_a_bare_host_name(owner_client, workspace) -> None:
    """type=url would make the browser refuse "mastodon.social" (its placeholder) in its own words; the
    field is a text box for URLs and the scheme is assumed."""
    import re

    from django.urls import reverse

    html = owner_client.get(reverse("web:channels", args=[workspace.pk])).content.decode()
    inputs = re.findall(r"<input[^>]*inputmode=\"url\"[^>]*>", html)
    assert inputs, "no server address field on the channels page"
    assert all('type="text"' in tag for tag in inputs), inputs
