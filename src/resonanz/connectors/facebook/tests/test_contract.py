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

            page = emulator.default_page

            def count(text: str) -> int:
                # An answer is the Page's comment, so it counts with the Page's posts.
                posts = sum(1 for p in emulator.live_posts() if p.message == text)
                return posts + sum(
                    1 for c in emulator.comments.values() if c.author.id == page.id and c.message == text
                )

            publish = f"/{graph_version()}/{page.id}/feed"
            # The contract's create route also covers comments (answers) on posts and comments.
            emulator.faults.cover(publish, rf"/{graph_version()}/\d+_\d+/comments")
            yield ContractEnv(
                connector=connector,
                account=account,
                count_posts_with_text=count,
                engage=engage,
                faults=emulator.faults,
                routes=ContractRoutes(publish=publish),
                refreshable=False,
            )
            assert not emulator.validation_failures, emulator.validation_failures
            assert not emulator.errors, emulator.errors
