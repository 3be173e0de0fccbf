"""End to end on the mastodon-mock server (a stateful Mastodon API from PyPI, as publishing's own e2e
test uses): an advocate connects a personal channel through the OAuth flow, shares an offer, the normal
engine publishes it exactly once, engagement comes back and counts in the offer and its campaign, while
the brand's inbox stays free of the advocate's replies. Also two concurrent share requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connections

from resonanz.advocacy.models import AdvocacyShare
from resonanz.advocacy.selectors import campaign_reach, offer_reach, user_reach
from resonanz.advocacy.services import share_create
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import channel_connect_begin, channel_connect_complete
from resonanz.engagement.models import Message, MetricSample
from resonanz.engagement.services import engagement_sync_all
from resonanz.posts.models import Variant, VariantStatus
from resonanz.publishing.models import PublishAttempt
from testsupport.servers.mastodon_mock import MastodonMockServer
from testsupport.tasks import run_ready_tasks

pytestmark = [pytest.mark.engine, pytest.mark.django_db(transaction=True)]
REDIRECT = "http://127.0.0.1:8000/channels/mastodon/callback/"


@pytest.fixture(scope="module")
def mock() -> Iterator[MastodonMockServer]:
    with MastodonMockServer() as server:
        yield server


def _connect(mock: MastodonMockServer, workspace, user, username: str) -> Channel:
    authorize_url = channel_connect_begin(
        workspace=workspace,
        user=user,
        network="mastodon",
        values={"instance_url": mock.base_url},
        redirect_uri=REDIRECT,
        personal=True,
    )
    query = parse_qs(urlsplit(authorize_url).query)
    code = mock.authorize(
        client_id=query["client_id"][0], username=username, redirect_uri=REDIRECT, state=query["state"][0]
    )
    return channel_connect_complete(
        user=user, network="mastodon", params={"state": query["state"][0], "code": code}
    )


def _statuses_with(mock: MastodonMockServer, variant: Variant, text: str) -> int:
    status = mock.get_status(variant.remote_id, token=mock.user("bob").access_token)
    return int(text in status["content"])


def test_personal_share_is_published_once_and_counts_in_the_campaign(
    mock, workspace, offer, advocate, campaign
) -> None:
    channel = _connect(mock, workspace, advocate, "alice")
    assert channel.owner_id == advocate.pk
    assert channel.status == ChannelStatus.ACTIVE
    first = share_create(
        workspace=workspace, user=advocate, offer=offer, channel=channel, text="Mein Tipp 🚀"
    )
    # A double click while the first is still going out, and a retried request after it went out.
    again = share_create(
        workspace=workspace, user=advocate, offer=offer, channel=channel, text="Mein Tipp 🚀"
    )
    run_ready_tasks()
    retried = share_create(
        workspace=workspace, user=advocate, offer=offer, channel=channel, text="Mein Tipp 🚀"
    )
    run_ready_tasks()
    assert first.created
    assert not again.created
    assert not retried.created
    assert {first.share.pk, again.share.pk, retried.share.pk} == {first.share.pk}
    variant = Variant.objects.get(pk=first.share.variant_id)
    assert variant.status == VariantStatus.PUBLISHED, variant.last_error
    assert _statuses_with(mock, variant, "Mein Tipp") == 1
    assert Variant.objects.filter(channel=channel).count() == 1
    assert PublishAttempt.objects.filter(variant=variant).count() == 1

    bob = mock.user("bob").access_token
    mock.favourite(bob, variant.remote_id)
    mock.reply(bob, variant.remote_id, "@alice Toll!")
    engagement_sync_all()
    sample = MetricSample.objects.filter(variant=variant).latest("taken_at")
    assert sample.likes == 1
    assert sample.replies >= 1
    # The reply is the advocate's conversation, not the brand's inbox.
    assert not Message.objects.filter(conversation__variant=variant).exists()

    expected = sample.likes + sample.reposts + sample.replies + (sample.quotes or 0)
    assert offer_reach(workspace=workspace)[offer.pk].interactions == expected
    assert user_reach(workspace=workspace, user=advocate).interactions == expected
    [row] = campaign_reach(workspace=workspace)
    assert row.campaign == campaign
    assert row.shares.interactions == expected
    assert row.total.interactions == expected  # the brand post is not out yet: all of it is the share's
    assert row.share_count == 1


def test_two_concurrent_share_requests_make_one_share(mock, workspace, offer, advocate) -> None:
    channel = _connect(mock, workspace, advocate, "alice")
    barrier = threading.Barrier(2)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            barrier.wait()
            r = share_create(
                workspace=workspace, user=advocate, offer=offer, channel=channel, text="Zweimal?"
            )
            results.append((r.share.pk, r.created))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert len({pk for pk, _c in results}) == 1
    assert sorted(created for _pk, created in results) == [False, True]
    run_ready_tasks()
    share = AdvocacyShare.objects.get()
    share.variant.refresh_from_db()
    assert share.variant.status == VariantStatus.PUBLISHED, share.variant.last_error
    assert Variant.objects.filter(channel=channel).count() == 1
    assert PublishAttempt.objects.filter(variant=share.variant).count() == 1


def test_a_refused_share_fails_clearly_and_tells_only_the_advocate(
    masto, workspace, owner, offer, advocate
) -> None:
    from resonanz.notifications.models import Notification
    from resonanz.overview.selectors import workspace_summaries

    token = masto.issue_token("anna")
    account = masto.account("anna")
    channel = Channel.objects.create(
        workspace=workspace,
        network="mastodon",
        base_url=masto.base_url,
        remote_id=str(account.id),
        handle=f"anna@{masto.domain}",
        credentials={"access_token": token},
        owner=advocate,
    )
    masto.fail_next(
        "/api/v1/statuses", status=422, method="POST", body={"error": "Validation failed: Text too long"}
    )
    share = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel).share
    run_ready_tasks()
    share.variant.refresh_from_db()
    assert share.variant.status == VariantStatus.FAILED
    assert share.variant.last_error == "Validation failed: Text too long"
    failed = Notification.objects.filter(kind="publish_failed")
    assert [n.recipient_id for n in failed] == [advocate.pk]
    assert failed.get().url == f"/w/{workspace.pk}/advocacy/"
    # The brand's agency overview does not count the advocate's failure as the brand's.
    [summary] = workspace_summaries(user=owner)
    assert summary.failed == 0
