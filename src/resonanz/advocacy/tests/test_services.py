"""Offers and shares: exactly one share per offer and channel, the share is a normal post on the
personal channel in the offer's campaign, scheduled now; the rules of who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from resonanz.accounts.models import Role
from resonanz.accounts.services import membership_remove
from resonanz.advocacy.models import AdvocacyShare
from resonanz.advocacy.services import AdvocacyError, offer_create, offer_withdraw, share_create
from resonanz.channels.models import ChannelStatus
from resonanz.core.errors import WorkspaceMismatch
from resonanz.posts.models import Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import PostError, PostInput, post_create

pytestmark = pytest.mark.django_db


def test_share_is_a_scheduled_post_on_the_personal_channel_in_the_offers_campaign(
    workspace, offer, advocate, personal_channel, campaign
) -> None:
    channel = personal_channel(advocate)
    before = timezone.now()
    result = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel)
    assert result.created
    share = result.share
    post = Post.objects.get(pk=share.post_id)
    assert post.campaign_id == campaign.pk
    assert post.author_id == advocate.pk
    assert post.status == PostStatus.SCHEDULED
    variant = Variant.objects.get(post=post)
    assert variant == share.variant
    assert variant.channel_id == channel.pk
    assert variant.status == VariantStatus.SCHEDULED
    assert variant.scheduled_at is not None
    assert before <= variant.scheduled_at <= timezone.now()
    # The suggested text for the network, not the post's own text.
    assert variant.parts.get().text == "Schaut euch das an: unser neues Produkt!"


def test_second_share_of_the_same_offer_and_channel_returns_the_first(
    workspace, offer, advocate, personal_channel
) -> None:
    channel = personal_channel(advocate)
    first = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel, text="Eins")
    again = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel, text="Zwei")
    assert not again.created
    assert again.share.pk == first.share.pk
    assert AdvocacyShare.objects.count() == 1
    assert Variant.objects.filter(channel=channel).count() == 1
    assert Variant.objects.get(channel=channel).parts.get().text == "Eins"


def test_the_database_refuses_a_second_share_row(workspace, offer, advocate, personal_channel) -> None:
    channel = personal_channel(advocate)
    share = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel).share
    other_post = Post.objects.create(workspace=workspace, text="x")
    other_variant = Variant.objects.create(post=other_post, channel=channel)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdvocacyShare.objects.create(
            workspace=workspace,
            offer=offer,
            channel=channel,
            user=advocate,
            post=other_post,
            variant=other_variant,
        )
    assert AdvocacyShare.objects.get() == share


def test_the_same_offer_on_two_channels_is_two_shares(workspace, offer, advocate, personal_channel) -> None:
    a = personal_channel(advocate, handle="anna@social.example")
    b = personal_channel(advocate, handle="anna@other.example")
    share_create(workspace=workspace, user=advocate, offer=offer, channel=a)
    share_create(workspace=workspace, user=advocate, offer=offer, channel=b)
    assert AdvocacyShare.objects.filter(offer=offer).count() == 2


def test_edited_text_is_checked_by_the_connector_and_nothing_is_kept(
    workspace, offer, advocate, personal_channel
) -> None:
    channel = personal_channel(advocate)
    with pytest.raises(PostError) as refused:
        share_create(workspace=workspace, user=advocate, offer=offer, channel=channel, text="x" * 501)
    assert "500" in refused.value.message
    assert not AdvocacyShare.objects.exists()
    assert not Variant.objects.filter(channel=channel).exists()
    # Within the limit it goes.
    assert share_create(
        workspace=workspace, user=advocate, offer=offer, channel=channel, text="x" * 500
    ).created


def test_a_locked_text_ignores_the_advocates_version(
    workspace, owner, brand_post, advocate, personal_channel
) -> None:
    locked = offer_create(workspace=workspace, actor=owner, post=brand_post, text_editable=False)
    channel = personal_channel(advocate)
    share = share_create(
        workspace=workspace, user=advocate, offer=locked, channel=channel, text="Meins"
    ).share
    assert share.variant.parts.get().text == "Unser neues Produkt ist da!"


def test_someone_elses_or_a_brand_channel_cannot_be_used(
    workspace, offer, advocate, member, personal_channel, mastodon
) -> None:
    colleague = member(Role.EDITOR)
    theirs = personal_channel(colleague, handle="ben@social.example")
    for channel in (theirs, mastodon):
        with pytest.raises(AdvocacyError):
            share_create(workspace=workspace, user=advocate, offer=offer, channel=channel)
    assert not AdvocacyShare.objects.exists()


def test_brand_posts_never_reach_a_personal_channel(workspace, owner, advocate, personal_channel) -> None:
    channel = personal_channel(advocate)
    with pytest.raises(PostError) as refused:
        post_create(workspace=workspace, author=owner, data=PostInput(text="Hallo", channel_ids=[channel.pk]))
    assert refused.value.code == "unknown_channel"


def test_closed_offers_and_disconnected_channels_refuse(
    workspace, owner, offer, advocate, personal_channel
) -> None:
    channel = personal_channel(advocate)
    offer_withdraw(workspace=workspace, actor=owner, offer=offer)
    with pytest.raises(AdvocacyError) as closed:
        share_create(workspace=workspace, user=advocate, offer=offer, channel=channel)
    assert closed.value.code == "offer_closed"
    offer.withdrawn_at = None
    offer.save()
    channel.status = ChannelStatus.DISABLED
    channel.save()
    with pytest.raises(AdvocacyError) as inactive:
        share_create(workspace=workspace, user=advocate, offer=offer, channel=channel)
    assert inactive.value.code == "channel_inactive"


def test_ended_offer_refuses(workspace, owner, brand_post, advocate, personal_channel) -> None:
    offer = offer_create(
        workspace=workspace, actor=owner, post=brand_post, ends_at=timezone.now() + timedelta(hours=1)
    )
    offer.ends_at = timezone.now() - timedelta(seconds=1)
    offer.save()
    with pytest.raises(AdvocacyError):
        share_create(workspace=workspace, user=advocate, offer=offer, channel=personal_channel(advocate))


@pytest.mark.parametrize(
    ("role", "may_offer", "may_share"),
    [
        (Role.ADMIN, True, True),
        (Role.EDITOR, True, True),
        (Role.CONTRIBUTOR, False, False),
        (Role.ANALYST, False, False),
        (Role.AGENT, False, False),
        (Role.ADVOCATE, False, True),
    ],
)
def test_permissions_per_role(
    workspace, brand_post, offer, member, personal_channel, role, may_offer, may_share
) -> None:
    user = member(role)
    if may_offer:
        assert offer_create(workspace=workspace, actor=user, post=brand_post).pk
    else:
        with pytest.raises(PermissionDenied):
            offer_create(workspace=workspace, actor=user, post=brand_post)
    channel = personal_channel(user, handle=f"{role}@social.example")
    if may_share:
        assert share_create(workspace=workspace, user=user, offer=offer, channel=channel).created
    else:
        with pytest.raises(PermissionDenied):
            share_create(workspace=workspace, user=user, offer=offer, channel=channel)


def test_only_approved_or_published_posts_are_offered(workspace, owner, mastodon) -> None:
    draft = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Entwurf", channel_ids=[mastodon.pk])
    )
    with pytest.raises(AdvocacyError) as refused:
        offer_create(workspace=workspace, actor=owner, post=draft)
    assert refused.value.code == "not_offerable"


def test_campaign_defaults_to_the_posts_and_can_be_none(workspace, owner, brand_post, campaign) -> None:
    assert offer_create(workspace=workspace, actor=owner, post=brand_post).campaign_id == campaign.pk
    none = offer_create(workspace=workspace, actor=owner, post=brand_post, use_post_campaign=False)
    assert none.campaign_id is None


def test_another_workspaces_offer_is_refused(
    workspace, other_workspace, offer, advocate, personal_channel, foreign_post
) -> None:
    stranger = other_workspace.memberships.get().user
    with pytest.raises(WorkspaceMismatch):
        offer_create(workspace=other_workspace, actor=stranger, post=offer.post)
    with pytest.raises(WorkspaceMismatch):
        share_create(
            workspace=other_workspace, user=stranger, offer=offer, channel=personal_channel(advocate)
        )


def test_removing_a_member_disconnects_their_personal_channels(
    workspace, owner, offer, advocate, personal_channel
) -> None:
    channel = personal_channel(advocate)
    share = share_create(workspace=workspace, user=advocate, offer=offer, channel=channel).share
    membership = workspace.memberships.get(user=advocate)
    membership_remove(workspace=workspace, actor=owner, membership_id=membership.pk)
    channel.refresh_from_db()
    assert channel.credentials == {}
    assert channel.status == ChannelStatus.DISABLED
    # The share and its post stay: their reach still counts in the campaign.
    assert AdvocacyShare.objects.filter(pk=share.pk).exists()


def test_a_personal_channels_reconnect_warning_goes_to_its_owner_only(
    workspace, advocate, personal_channel
) -> None:
    from resonanz.channels.services import channel_mark_reconnect_needed
    from resonanz.notifications.models import Notification

    channel = personal_channel(advocate)
    channel_mark_reconnect_needed(channel=channel, message="The access token was revoked")
    sent = Notification.objects.filter(kind="channel_reconnect_needed")
    assert [n.recipient_id for n in sent] == [advocate.pk]
    assert sent.get().url == f"/w/{workspace.pk}/advocacy/"


def test_an_account_cannot_be_both_the_brands_and_someones(workspace, advocate, mastodon) -> None:
    from resonanz.channels.services import ChannelConnectError, _upsert_channel
    from resonanz.connectors.base import AccountInfo

    info = AccountInfo(remote_id=mastodon.remote_id, handle=mastodon.handle, display_name="", avatar_url="")
    with pytest.raises(ChannelConnectError):
        _upsert_channel(
            workspace=workspace,
            network=mastodon.network,
            base_url=mastodon.base_url,
            info=info,
            credentials={"access_token": "mine"},
            actor=advocate,
            owner=advocate,
        )
    mastodon.refresh_from_db()
    assert mastodon.owner_id is None
    assert mastodon.credentials == {"access_token": "x"}


def test_the_share_is_one_of_the_campaigns_posts(
    workspace, offer, advocate, personal_channel, campaign
) -> None:
    from resonanz.campaigns.selectors import campaign_list

    def count() -> int:
        # The campaigns page's and API's post_count (campaign_list annotates Count("posts")).
        row = campaign_list(workspace=workspace).get(pk=campaign.pk)
        return int(row.post_count)  # type: ignore[attr-defined]

    before = count()
    share_create(workspace=workspace, user=advocate, offer=offer, channel=personal_channel(advocate))
    assert count() == before + 1
