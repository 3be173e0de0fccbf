"""The shared contract suite on the X emulator (testsupport/emulators/x.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from resonanz.connectors.base import ChannelAccount, PublishedRef
from resonanz.connectors.tests.contract import ConnectorContract, ContractEnv, ContractRoutes
from resonanz.connectors.x.provider import XConnector
from testsupport.emulators.x import XEmulator


def emulator_account(emulator: XEmulator) -> ChannelAccount:
    token = emulator.issue_token()
    return ChannelAccount(
        network="x",
        base_url=emulator.base_url,
        credentials={
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "expires_at": int(time.time()) + 7200,
        },
    )


@pytest.fixture
def x_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_X_CLIENT_ID", "resonanz-client")
    monkeypatch.delenv("RESONANZ_X_CLIENT_SECRET", raising=False)


class TestXEmulatorContract(ConnectorContract):
    @pytest.fixture
    def env(self, x_app: None) -> Iterator[ContractEnv]:
        with XEmulator() as emulator:
            account = emulator_account(emulator)
            connector = XConnector()
            connector.verify(account=account)
            fan = emulator.create_user("fan_at", "Fan")

            def engage(ref: PublishedRef) -> None:
                emulator.like_as(fan, ref.remote_id)
                emulator.reply_as(fan, ref.remote_id, "Schöner Beitrag!")

            def mention(text: str) -> None:
                with emulator.lock:
                    emulator._new_post(fan.id, f"@{account.handle} {text}")

            yield ContractEnv(
                connector=connector,
                account=account,
                count_posts_with_text=lambda text: sum(1 for p in emulator.live_posts() if p.text == text),
                engage=engage,
                mention=mention,
                faults=emulator.faults,
                routes=ContractRoutes(publish="/2/tweets", credentials=("/2/oauth2/token",)),
                refreshable=True,
            )
            assert not emulator.validation_failures, emulator.validation_failures
            assert not emulator.errors, emulator.errors
