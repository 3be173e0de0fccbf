"""The shared contract suite on the Graph API emulator (testsupport/emulators/meta.py), as an Instagram
professional account. The emulator fetches every image from Resonanz's own signed media address (a live
server on 127.0.0.1), as Meta's crawler would."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from resonanz.connectors.base import ChannelAccount, PublishedRef
from resonanz.connectors.facebook.graph import graph_version
from resonanz.connectors.instagram.provider import InstagramConnector
from resonanz.connectors.tests.contract import ConnectorContract, ContractEnv, ContractRoutes
from testsupport.emulators.meta import IgUser, MetaEmulator


def ig_account(emulator: MetaEmulator, user: IgUser) -> ChannelAccount:
    return ChannelAccount(
        network="instagram",
        base_url=emulator.base_url,
        remote_id=user.id,
        credentials={"page_access_token": emulator.default_page.token},
    )


@pytest.fixture
def public_media(live_server: Any, settings: Any, tmp_path: Any) -> str:
    settings.RESONANZ_PUBLIC_URL = live_server.url
    settings.MEDIA_ROOT = tmp_path
    return str(live_server.url)


class TestInstagramEmulatorContract(ConnectorContract):
    @pytest.fixture
    def env(self, public_media: str) -> Iterator[ContractEnv]:
        with MetaEmulator() as emulator:
            user = emulator.create_ig_user(emulator.default_page, "resonanz.demo", "Resonanz Demo")
            account = ig_account(emulator, user)
            connector = InstagramConnector(poll_interval=0.01, allow_private_media_urls=True)
            connector.verify(account=account)
            fan = emulator.create_person("Fan AT")

            def engage(ref: PublishedRef) -> None:
                emulator.ig_like_as(fan, ref.remote_id)
                emulator.ig_comment_as("fan_at", ref.remote_id, "Schöner Beitrag!")

            def count(text: str) -> int:
                # An answer is the account's comment, so it counts with the account's media.
                media = sum(1 for m in emulator.live_ig_media(user) if m.caption == text)
                return media + sum(
                    1 for c in emulator.ig_comments.values() if c.from_id == user.id and c.text == text
                )

            publish = f"/{graph_version()}/{user.id}/media_publish"
            # The contract's create route also covers answers: comments on media, replies to comments.
            emulator.faults.cover(publish, rf"/{graph_version()}/\d+/(comments|replies)")
            yield ContractEnv(
                connector=connector,
                account=account,
                count_posts_with_text=count,
                engage=engage,
                faults=emulator.faults,
                routes=ContractRoutes(publish=publish),
                refreshable=False,
            )
            assert all(u.startswith(public_media) for u in emulator.fetched_urls)
            assert not emulator.validation_failures, emulator.validation_failures
            assert not emulator.errors, emulator.errors
