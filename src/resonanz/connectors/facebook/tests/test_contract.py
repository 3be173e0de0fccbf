"""The shared contract suite on the Graph API emulator (testsupport/emulators/meta.py), as a Page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from resonanz.connectors.base import ChannelAccount, PublishedRef
from resonanz.connectors.facebook.graph import graph_version
from resonanz.connectors.facebook.provider import FacebookConnector
from resonanz.connectors.tests.contract import ConnectorContract, ContractEnv, ContractRoutes
from testsupport.emulators.meta import MetaEmulator


def page_account(emulator: MetaEmulator) -> ChannelAccount:
    return ChannelAccount(
        network="facebook",
        base_url=emulator.base_url,
        credentials={"page_access_token": emulator.default_page.token},
    )


class TestFacebookEmulatorContract(ConnectorContract):
    @pytest.fixture
    def env(self) -> Iterator[ContractEnv]:
        with MetaEmulator() as emulator:
            account = page_account(emulator)
            connector = FacebookConnector()
            connector.verify(account=account)
            fan = emulator.create_person("Fan AT")

            def engage(ref: PublishedRef) -> None:
                emulator.react_as(fan, ref.remote_id)
                emulator.comment_as(fan, ref.remote_id, "Schöner Beitrag!")

            yield ContractEnv(
                connector=connector,
                account=account,
                count_posts_with_text=lambda text: sum(1 for p in emulator.live_posts() if p.message == text),
                engage=engage,
                faults=emulator.faults,
                routes=ContractRoutes(publish=f"/{graph_version()}/{emulator.default_page.id}/feed"),
                refreshable=False,
            )
            assert not emulator.validation_failures, emulator.validation_failures
            assert not emulator.errors, emulator.errors
