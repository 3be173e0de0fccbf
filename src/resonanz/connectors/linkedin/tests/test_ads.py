"""Ad reporting of the LinkedIn connector against the emulator (adAnalytics with pivot CREATIVE, daily):
the promoted post of each creative, leads, the pinned version, an expired token, a 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from resonanz.connectors.base import AD_ACCOUNT_SETTING, AuthExpired, RateLimited, Rejected
from resonanz.connectors.base.spec import Capability
from resonanz.connectors.linkedin import oauth
from resonanz.connectors.linkedin.client import API_VERSION
from resonanz.connectors.linkedin.provider import LinkedInConnector
from testsupport.emulators.linkedin import LinkedInEmulator

from .test_contract import emulator_account


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[LinkedInEmulator]:
    with LinkedInEmulator() as server:
        monkeypatch.delenv("RESONANZ_LINKEDIN_API_VERSION", raising=False)
        yield server
        assert not server.errors, server.errors


@pytest.fixture
def connector() -> LinkedInConnector:
    return LinkedInConnector(readback_delays=(0.0,))


def test_the_spec_declares_ad_reporting_and_the_scopes_are_opt_in(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Capability.AD_REPORTING in LinkedInConnector().capabilities
    monkeypatch.delenv("RESONANZ_LINKEDIN_ADS", raising=False)
    assert "r_ads_reporting" not in oauth.scopes_for(page=True)
    monkeypatch.setenv("RESONANZ_LINKEDIN_ADS", "1")
    assert {"r_ads", "r_ads_reporting"} <= set(oauth.scopes_for(page=False))


def test_ad_accounts_are_listed(emulator: LinkedInEmulator, connector: LinkedInConnector) -> None:
    mine = emulator.create_ad_account("Resonanz Ads", currency="EUR")
    emulator.create_ad_account("Fremd", member=emulator.create_member("Other"))
    found = connector.list_ad_accounts(account=emulator_account(emulator))
    assert [(a.remote_id, a.name, a.currency) for a in found] == [(str(mine.id), "Resonanz Ads", "EUR")]


def test_daily_results_per_creative_with_the_promoted_post(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    ad_account = emulator.create_ad_account("Resonanz Ads", currency="CHF")
    sponsored = emulator.create_creative(ad_account, reference="urn:li:share:7001", campaign="Messe")
    plain = emulator.create_creative(ad_account, campaign="Messe")
    emulator.add_ad_day(
        sponsored, date(2026, 11, 3), cost="20.40", impressions=2000, clicks=30, leads=2, conversions=1
    )
    emulator.add_ad_day(plain, date(2026, 11, 4), cost="3.10", impressions=100, clicks=2, value="250.00")
    emulator.add_ad_day(plain, date(2026, 12, 4), cost="9.99", impressions=1, clicks=1)  # outside
    account = emulator_account(emulator)
    account.settings[AD_ACCOUNT_SETTING] = str(ad_account.id)

    results = connector.fetch_ad_results(account=account, since=date(2026, 11, 1), until=date(2026, 11, 30))

    assert [(r.remote_id, r.day) for r in results] == [
        (sponsored, date(2026, 11, 3)),
        (plain, date(2026, 11, 4)),
    ]
    first, second = results
    assert (first.spend, first.currency, first.impressions, first.clicks, first.leads) == (
        Decimal("20.40"),
        "CHF",
        2000,
        30,
        3,
    )
    assert first.post_remote_id == "urn:li:share:7001"
    assert first.campaign_name == "Messe"
    assert (second.post_remote_id, second.conversion_value) == ("", Decimal("250.00"))
    analytics = emulator.requests_to("/rest/adAnalytics")[-1]
    assert analytics.headers["linkedin-version"] == API_VERSION
    assert analytics.query["dateRange"] == [
        "(start:(year:2026,month:11,day:1),end:(year:2026,month:11,day:30))"
    ]
    assert analytics.query["accounts"] == [f"List(urn:li:sponsoredAccount:{ad_account.id})"]


def test_without_an_ad_account_it_says_what_to_choose(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    with pytest.raises(Rejected) as caught:
        connector.fetch_ad_results(
            account=emulator_account(emulator), since=date(2026, 11, 1), until=date(2026, 11, 2)
        )
    assert "ad account" in caught.value.network_message


def test_an_expired_token_needs_a_reconnect(emulator: LinkedInEmulator, connector: LinkedInConnector) -> None:
    ad_account = emulator.create_ad_account("Resonanz Ads")
    account = emulator_account(emulator)
    account.settings[AD_ACCOUNT_SETTING] = str(ad_account.id)
    emulator.faults.expire_token("/rest/adAccounts")
    with pytest.raises(AuthExpired):
        connector.fetch_ad_results(account=account, since=date(2026, 11, 1), until=date(2026, 11, 2))


def test_a_429_with_retry_after_is_a_temporary_error(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    ad_account = emulator.create_ad_account("Resonanz Ads")
    account = emulator_account(emulator)
    account.settings[AD_ACCOUNT_SETTING] = str(ad_account.id)
    emulator.faults.rate_limit("/rest/adAnalytics", retry_after=90)
    with pytest.raises(RateLimited) as caught:
        connector.fetch_ad_results(account=account, since=date(2026, 11, 1), until=date(2026, 11, 2))
    assert caught.value.retry_after == pytest.approx(90, abs=2)
