"""The shared contract suite on the Threads emulator (testsupport/emulators/threads.py). The emulator
fetches every picture from Resonanz's own signed media address (a live server on 127.0.0.1), as Threads'
crawler would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from resonanz.connectors.base import ChannelAccount, PublishedRef
from resonanz.connectors.tests.contract import ConnectorContract, ContractEnv, ContractRoutes
from resonanz.connectors.threads.provider import ThreadsConnector
from testsupport.emulators.threads import ThreadsEmulator


def emulator_account(emulator: ThreadsEmulator) -> ChannelAccount:
    token = emulator.issue_token()
    return ChannelAccount(
        network="threads",
        base_url=emulator.base_url,
        credentials={
            "access_token": token.access_token,
            "expires_at": int(time.time()) + 60 * 86400,
            "obtained_at": int(time.time()),
        },
    )


@pytest.fixture
def public_media(live_server: Any, settings: Any, tmp_path: Any) -> str:
    settings.RESONANZ_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    return str(live_server.url)


class TestThreadsEmulatorContract(ConnectorContract):
    @pytest.fixture
    def env(self, public_media: str) -> Iterator[ContractEnv]:
        with ThreadsEmulator() as emulator:
            account = emulator_account(emulator)
            connector = ThreadsConnector(poll_interval=0.01, allow_private_media_urls=True)
            connector.verify(account=account)
            fan = emulator.create_user("fan.at", "Fan")

            def engage(ref: PublishedRef) -> None:
                emulator.like_as(fan, ref.remote_id)
                emulator.reply_as(fan, ref.remote_id, "Schöner Beitrag!")

            yield ContractEnv(
                connector=connector,
                account=account,
                count_posts_with_text=lambda text: sum(1 for p in emulator.live_posts() if p.text == text),
                engage=engage,
                faults=emulator.faults,
                routes=ContractRoutes(
                    publish=f"/v1.0/{emulator.default_user.id}/threads_publish",
                    credentials=("/refresh_access_token",),
                ),
                refreshable=True,
            )
            assert all(u.startswith(public_media) for u in emulator.fetched_urls)
            assert not emulator.errors, emulator.errors
