"""The ad-reporting sync: a channel's results through the task, matched to the variant it published by the
boosted post's remote id; an expired login flags the channel; a rate limit is retried later."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from resonanz.ads.models import AdSpend, AdSync, AdSyncStatus, SpendSource
from resonanz.ads.services import ad_sync_channel, channel_ad_account_set
from resonanz.ads.tasks import sync_ad_results
from resonanz.channels.models import ChannelStatus
from resonanz.posts.models import VariantStatus
from resonanz.posts.services import PostInput, post_create
from testsupport.emulators.linkedin import LinkedInEmulator
from testsupport.emulators.meta import MetaEmulator
from testsupport.tasks import run_ready_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def meta() -> Iterator[MetaEmulator]:
    with MetaEmulator() as server:
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]


@pytest.fixture
def fb_channel(meta, make_channel, workspace):
    ad_account = meta.create_ad_account("Werbekonto", currency="EUR")
    channel = make_channel(
        "facebook",
        base_url=meta.base_url,
        handle="resonanzdemo",
        credentials={"page_access_token": meta.default_page.token, "user_access_token": meta.user_token()},
    )
    channel_ad_account_set(workspace=workspace, channel=channel, ad_account_id=f"act_{ad_account.id}")
    channel.ad_account = ad_account  # type: ignore[attr-defined]
    return channel


def test_the_task_stores_results_and_matches_the_boosted_post(workspace, owner, fb_channel, meta) -> None:
    from resonanz.campaigns.services import campaign_create

    campaign = campaign_create(workspace=workspace, actor=owner, name="Advent", goal="leads")
    post = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Adventsangebot", channel_ids=[fb_channel.pk])
    )
    post.campaign = campaign
    post.save(update_fields=["campaign"])
    variant = post.variants.get()
    variant.status = VariantStatus.PUBLISHED
    variant.remote_id = f"{meta.default_page.id}_4711"
    variant.save(update_fields=["status", "remote_id"])
    today = timezone.localdate()
    boosted = meta.create_ad(
        fb_channel.ad_account, "Boost Advent", campaign="Meta-Kampagne", story_id=variant.remote_id
    )
    other = meta.create_ad(fb_channel.ad_account, "Neue Anzeige", campaign="Advent")
    meta.add_ad_day(boosted, today - timedelta(days=1), spend="30.00", impressions=3000, clicks=60, leads=2)
    meta.add_ad_day(other, today - timedelta(days=2), spend="5.00", impressions=100, clicks=1)

    sync_ad_results.enqueue(workspace_id=workspace.pk, channel_id=fb_channel.pk)
    run_ready_tasks(queues=("sync",))

    matched = AdSpend.objects.get(remote_id=f"{fb_channel.pk}:{boosted.id}")
    assert (matched.source, matched.variant, matched.post, matched.campaign) == (
        SpendSource.API,
        variant,
        post,
        campaign,
    )
    assert (matched.spend, matched.clicks, matched.leads) == (Decimal("30.00"), 60, 2)
    unmatched = AdSpend.objects.get(remote_id=f"{fb_channel.pk}:{other.id}")
    # No post to match, but the network's campaign name is one of the workspace's campaigns.
    assert (unmatched.variant, unmatched.campaign) == (None, campaign)
    sync = AdSync.objects.get(channel=fb_channel)
    assert (sync.status, sync.rows, sync.matched) == (AdSyncStatus.OK, 2, 1)

    # The same days again: the rows are updated, not added.
    meta.ad_days[0].spend = "31.50"
    ad_sync_channel(workspace=workspace, channel=fb_channel)
    assert AdSpend.objects.count() == 2
    assert AdSpend.objects.get(pk=matched.pk).spend == Decimal("31.50")


def test_an_expired_login_flags_the_channel_for_reconnecting(workspace, fb_channel, meta) -> None:
    meta.faults.expire_token(f"/v26.0/act_{fb_channel.ad_account.id}/")
    sync = ad_sync_channel(workspace=workspace, channel=fb_channel)
    assert sync.status == AdSyncStatus.FAILED
    assert "expired" in sync.last_error
    fb_channel.refresh_from_db()
    assert fb_channel.status == ChannelStatus.RECONNECT_NEEDED
    assert not AdSpend.objects.exists()


def test_a_rate_limit_is_retried_after_the_networks_wait(workspace, make_channel) -> None:
    with LinkedInEmulator() as linkedin:
        ad_account = linkedin.create_ad_account("Ads", currency="EUR")
        token = linkedin.issue_token()
        channel = make_channel(
            "linkedin",
            base_url=linkedin.base_url,
            handle="rita",
            credentials={"access_token": token.access_token},
            settings={"ad_account_id": str(ad_account.id)},
        )
        linkedin.faults.rate_limit("/rest/adAnalytics", retry_after=600)
        result = sync_ad_results.enqueue(workspace_id=workspace.pk, channel_id=channel.pk)
        run_ready_tasks(queues=("sync",))
        result.refresh()
        assert result.return_value == "retry in 600s"
        waiting = DBTaskResult.objects.filter(status="READY").get()
        assert waiting.args_kwargs["kwargs"]["attempt"] == 2
        assert waiting.run_after is not None
        assert waiting.run_after > timezone.now() + timedelta(seconds=500)
        assert AdSync.objects.get(channel=channel).status == AdSyncStatus.RETRYING
        assert not AdSpend.objects.exists()


def test_a_foreign_channel_is_not_synced(workspace, foreign_channel) -> None:
    from django.http import Http404

    with pytest.raises(Http404):
        ad_sync_channel(workspace=workspace, channel=foreign_channel)


def test_the_periodic_job_queues_one_task_per_channel_with_an_ad_account(
    workspace, make_channel, fb_channel
) -> None:
    from resonanz.ads.services import ad_sync_all

    make_channel("linkedin", handle="ohne-konto", credentials={"access_token": "x"})  # no ad account chosen
    make_channel("mastodon", handle="masto", settings={"ad_account_id": "123"})  # no ad reporting
    assert ad_sync_all() == 1
    queued = DBTaskResult.objects.get()
    assert queued.args_kwargs["kwargs"] == {"workspace_id": workspace.pk, "channel_id": fb_channel.pk}
