"""The shared contract suite on the LinkedIn emulator (testsupport/emulators/linkedin.py), as a member
and as an organisation page."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from resonanz.connectors.base import ChannelAccount, PublishedRef
from resonanz.connectors.linkedin.provider import LinkedInConnector
from resonanz.connectors.tests.contract import ConnectorContract, ContractEnv, ContractRoutes
from testsupport.emulators.linkedin import LinkedInEmulator


def emulator_account(emulator: LinkedInEmulator, *, page: bool = False) -> ChannelAccount:
    token = emulator.issue_token()
    account = ChannelAccount(
        network="linkedin",
        base_url=emulator.base_url,
        credentials={
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "expires_at": int(time.time()) + 60 * 86400,
            "refresh_expires_at": int(time.time()) + 365 * 86400,
        },
    )
    if page:
        account.settings["organization_urn"] = emulator.default_organization.urn
    return account


@pytest.fixture
def linkedin_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_ID", "resonanz-client")
    monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_SECRET", "resonanz-secret")
    for name in ("API_URL", "OAUTH_URL", "AUTHORIZE_URL", "API_VERSION"):
        monkeypatch.delenv(f"RESONANZ_LINKEDIN_{name}", raising=False)


def _env(emulator: LinkedInEmulator, *, page: bool) -> ContractEnv:
    account = emulator_account(emulator, page=page)
    connector = LinkedInConnector(readback_delays=(0.0, 0.0))
    connector.verify(account=account)
    author = connector.author(account)
    fan = emulator.create_member("Fan Fröhlich")

    def engage(ref: PublishedRef) -> None:
        emulator.like_as(fan, ref.remote_id)
        emulator.comment_as(fan, ref.remote_id, "Schöner Beitrag!")

    return ContractEnv(
        connector=connector,
        account=account,
        count_posts_with_text=lambda text: emulator.texts_of(author).count(text),
        engage=engage,
        faults=emulator.faults,
        # Every create is a POST under /rest/ (posts; comments under /rest/socialActions for replies).
        routes=ContractRoutes(publish="/rest/", credentials=("/oauth/v2/accessToken",)),
        refreshable=True,
    )


class TestLinkedInMemberContract(ConnectorContract):
    @pytest.fixture
    def env(self, linkedin_app: None) -> Iterator[ContractEnv]:
        with LinkedInEmulator() as emulator:
            yield _env(emulator, page=False)
            assert not emulator.errors, emulator.errors


class TestLinkedInPageContract(ConnectorContract):
    @pytest.fixture
    def env(self, linkedin_app: None) -> Iterator[ContractEnv]:
        with LinkedInEmulator() as emulator:
            yield _env(emulator, page=True)
            assert not emulator.errors, emulator.errors
