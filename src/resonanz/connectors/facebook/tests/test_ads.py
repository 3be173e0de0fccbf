"""Ad reporting of the Facebook connector against the Graph API emulator (Marketing API Insights):
paging, the boosted post of each ad, leads and purchase value, an expired login, a rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from resonanz.connectors.base import AD_ACCOUNT_SETTING, AuthExpired, ChannelAccount, RateLimited, Rejected
from resonanz.connectors.base.spec import Capability
from resonanz.connectors.facebook import provider as fb_provider
from resonanz.connectors.facebook.provider import FacebookConnector
from testsupport.emulators.meta import MetaEmulator


@pytest.fixture
def emulator() -> Iterator[MetaEmulator]:
    with MetaEmulator() as server:
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]
        assert not server.errors, server.errors


def _account(emulator: MetaEmulator, ad_account_id: str = "") -> ChannelAccount:
    return ChannelAccount(
        network="facebook",
        base_url=emulator.base_url,
        credentials={
            "page_access_token": emulator.default_page.token,
            "user_access_token": emulator.user_token(),
        },
        settings={AD_ACCOUNT_SETTING: ad_account_id} if ad_account_id else {},
    )


def test_the_spec_declares_ad_reporting() -> None:
    assert Capability.AD_REPORTING in FacebookConnector().capabilities


def test_ads_read_is_asked_for_only_when_turned_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RESONANZ_FACEBOOK_ADS", raising=False)
    assert "ads_read" not in fb_provider.login_scopes()
    monkeypatch.setenv("RESONANZ_FACEBOOK_ADS", "1")
    assert "ads_read" in fb_provider.login_scopes()


def test_ad_accounts_are_listed(emulator: MetaEmulator) -> None:
    mine = emulator.create_ad_account("Werbekonto", currency="EUR")
    emulator.create_ad_account("Fremdes Konto", user=emulator.create_person("Other"))
    found = FacebookConnector().list_ad_accounts(account=_account(emulator))
    assert [(a.remote_id, a.name, a.currency) for a in found] == [(mine.id, "Werbekonto", "EUR")]


def test_results_per_ad_and_day_over_several_pages(
    emulator: MetaEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fb_provider, "INSIGHTS_PAGE_SIZE", 2)
    monkeypatch.setattr(fb_provider, "ADS_PAGE_SIZE", 1)
    ad_account = emulator.create_ad_account("Werbekonto", currency="EUR")
    boosted = emulator.create_ad(ad_account, "Boost Sommer", campaign="Sommer", story_id="111_222")
    other = emulator.create_ad(ad_account, "Neu", campaign="Sommer")
    emulator.add_ad_day(boosted, date(2026, 11, 1), spend="12.50", impressions=1000, clicks=40, leads=3)
    emulator.add_ad_day(
        boosted, date(2026, 11, 2), spend="7.25", impressions=500, clicks=10, purchase_value="99.90"
    )
    emulator.add_ad_day(other, date(2026, 11, 2), spend="1.00", impressions=100, clicks=1)
    emulator.add_ad_day(other, date(2026, 10, 30), spend="5.00", impressions=100, clicks=1)  # outside

    results = FacebookConnector().fetch_ad_results(
        account=_account(emulator, f"act_{ad_account.id}"), since=date(2026, 11, 1), until=date(2026, 11, 30)
    )

    assert len(emulator.requests_to("/v26.0/act_", "GET")) >= 4  # both edges were paged
    by_key = {(r.remote_id, r.day): r for r in results}
    assert len(results) == 3
    first = by_key[(boosted.id, date(2026, 11, 1))]
    assert (first.spend, first.currency, first.impressions, first.clicks, first.leads) == (
        Decimal("12.50"),
        "EUR",
        1000,
        40,
        3,  # "lead" only, not its pixel duplicate
    )
    assert first.post_remote_id == "111_222"
    assert first.campaign_name == "Sommer"
    assert by_key[(boosted.id, date(2026, 11, 2))].conversion_value == Decimal("99.90")
    assert by_key[(other.id, date(2026, 11, 2))].post_remote_id == ""


def test_without_an_ad_account_it_says_what_to_choose(emulator: MetaEmulator) -> None:
    with pytest.raises(Rejected) as caught:
        FacebookConnector().fetch_ad_results(
            account=_account(emulator), since=date(2026, 11, 1), until=date(2026, 11, 2)
        )
    assert "ad account" in caught.value.network_message


def test_an_expired_user_token_needs_a_reconnect(emulator: MetaEmulator) -> None:
    ad_account = emulator.create_ad_account("Werbekonto")
    emulator.faults.expire_token(f"/v26.0/act_{ad_account.id}/")
    with pytest.raises(AuthExpired):
        FacebookConnector().fetch_ad_results(
            account=_account(emulator, ad_account.id), since=date(2026, 11, 1), until=date(2026, 11, 2)
        )


def test_a_rate_limit_is_a_temporary_error_with_the_wait(emulator: MetaEmulator) -> None:
    ad_account = emulator.create_ad_account("Werbekonto")
    emulator.faults.rate_limit(f"/v26.0/act_{ad_account.id}/", retry_after=120)
    with pytest.raises(RateLimited) as caught:
        FacebookConnector().fetch_ad_results(
            account=_account(emulator, ad_account.id), since=date(2026, 11, 1), until=date(2026, 11, 2)
        )
    assert caught.value.retry_after == pytest.approx(120, abs=2)
