"""The channel health check on a LinkedIn channel: seven days before a login that cannot be renewed ends,
owners and admins are told once, in the app and by e-mail, with the way back to the channels page."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core import mail

from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_verify_all
from resonanz.notifications.models import Notification
from testsupport.emulators.linkedin import LinkedInEmulator


@pytest.fixture
def emulator() -> Iterator[LinkedInEmulator]:
    with LinkedInEmulator() as server:
        yield server


@pytest.fixture
def linkedin_channel(
    emulator: LinkedInEmulator, make_channel: Callable[..., Channel]
) -> Callable[..., Channel]:
    def make(*, refresh: bool, days_left: float) -> Channel:
        token = emulator.issue_token()
        credentials: dict[str, Any] = {
            "access_token": token.access_token,
            "expires_at": int(time.time() + days_left * 86400),
        }
        if refresh:
            credentials["expires_at"] = int(time.time()) + 60 * 86400
            credentials["refresh_token"] = token.refresh_token
            credentials["refresh_expires_at"] = int(time.time() + days_left * 86400)
        return make_channel(
            "linkedin",
            base_url=emulator.base_url,
            handle="rita",
            remote_id=emulator.default_member.id,
            credentials=credentials,
        )

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("refresh", [False, True], ids=["access-token-only", "refresh-token-ends"])
def test_login_ending_within_seven_days_is_warned_once(
    linkedin_channel: Callable[..., Channel], owner: Any, refresh: bool
) -> None:
    channel = linkedin_channel(refresh=refresh, days_left=6.5)
    assert channel_verify_all() == {"ok": 1, "flagged": 0}
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ACTIVE
    assert channel.login_expires_soon
    notes = list(Notification.objects.filter(kind="channel_login_expires_soon"))
    assert len(notes) == 1
    assert notes[0].url.endswith(f"/channels/#channel-{channel.pk}")
    assert [m.to for m in mail.outbox] == [[owner.email]]
    # The next checks do not repeat it.
    channel_verify_all()
    assert Notification.objects.filter(kind="channel_login_expires_soon").count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_channels_page_says_the_login_expires_soon(
    linkedin_channel: Callable[..., Channel], owner_client: Any
) -> None:
    channel = linkedin_channel(refresh=False, days_left=3)
    channel_verify_all()
    page = owner_client.get(f"/w/{channel.workspace_id}/channels/").content.decode()
    row = page[page.index(f'id="channel-{channel.pk}"') :]
    assert "status-expires-soon" in row[: row.index("</tr>")]


@pytest.mark.django_db
def test_a_login_with_more_than_seven_days_left_is_not_warned(
    linkedin_channel: Callable[..., Channel],
) -> None:
    channel = linkedin_channel(refresh=False, days_left=8)
    assert channel_verify_all() == {"ok": 1, "flagged": 0}
    channel.refresh_from_db()
    assert channel.login_expires_at is not None
    assert not channel.login_expires_soon
    assert not Notification.objects.filter(kind="channel_login_expires_soon").exists()
    assert mail.outbox == []
