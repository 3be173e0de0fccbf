"""Writes of employee advocacy: offer a brand post, withdraw an offer, share it on a personal channel.

A share goes out through the one publishing engine: it is a Post with one Variant on the advocate's
personal channel, scheduled "now" (``posts.services.post_schedule``), so the network sees it exactly once
by the engine's idempotency keys and reconciliation. Exactly one share per offer and channel is this
module's part: the offer row is locked while a share is made and ``(offer, channel)`` is unique, so a
double click, a retried request or a second tab returns the share that exists (docs/advocacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.connectors.registry import network_slugs
from resonanz.core.errors import ensure_same_workspace
from resonanz.core.services import audit_log_record
from resonanz.posts.models import PartMedia, Post
from resonanz.posts.services import MediaInput, PostError, PostInput, post_create, post_schedule

from .models import OFFERABLE_STATUSES, AdvocacyOffer, AdvocacyShare, AdvocateProfile


class AdvocacyError(PostError):
    """A refused offer or share, with a message in the user's language (the API answers 400 with code)."""


def post_offerable(*, post: Post) -> bool:
    """Approved or published brand content (a share post itself is never offered on)."""
    if post.status not in OFFERABLE_STATUSES and post.approved_at is None:
        return False
    return not post.variants.filter(channel__owner__isnull=False).exists()


def _clean_texts(texts: dict[str, str]) -> dict[str, str]:
    known = set(network_slugs())
    unknown = sorted(set(texts) - known)
    if unknown:
        raise AdvocacyError(
            _("Unknown network: %(names)s") % {"names": ", ".join(unknown)}, code="unknown_network"
        )
    return {network: text.strip() for network, text in texts.items() if text and text.strip()}


@transaction.atomic
def offer_create(
    *,
    workspace: Workspace,
    actor: User,
    post: Post,
    campaign_id: int | None = None,
    use_post_campaign: bool = True,
    suggested_texts: dict[str, str] | None = None,
    text_editable: bool = True,
    ends_at: datetime | None = None,
) -> AdvocacyOffer:
    """Offer ``post`` to the workspace's advocates. The campaign defaults to the post's
    (``use_post_campaign``); ``campaign_id`` names another (or None: no campaign)."""
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.MANAGE_CAMPAIGNS)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=post.workspace_id)
    if not post_offerable(post=post):
        raise AdvocacyError(
            _("Only approved or published posts can be offered to advocates."), code="not_offerable"
        )
    campaign = None
    wanted = post.campaign_id if use_post_campaign else campaign_id
    if wanted is not None:
        campaign = Campaign.objects.filter(workspace=workspace, pk=wanted).first()
        if campaign is None:
            raise AdvocacyError(_("Unknown campaign."), code="unknown_campaign")
        if campaign.archived:
            raise AdvocacyError(
                _("This campaign is archived; choose an active one."), code="archived_campaign"
            )
    if ends_at is not None:
        if timezone.is_naive(ends_at):
            raise AdvocacyError(_("A schedule time needs a time zone."), code="naive_time")
        if ends_at <= timezone.now():
            raise AdvocacyError(_("The end of the offer must be in the future."), code="past_time")
    offer = AdvocacyOffer.objects.create(
        workspace=workspace,
        post=post,
        campaign=campaign,
        suggested_texts=_clean_texts(suggested_texts or {}),
        text_editable=text_editable,
        ends_at=ends_at,
        created_by=actor,
    )
    audit_log_record(workspace=workspace, actor=actor, action="advocacy.offer", target=offer)
    return offer


@transaction.atomic
def offer_withdraw(*, workspace: Workspace, actor: User, offer: AdvocacyOffer) -> AdvocacyOffer:
    """No more shares of this offer; the shares made so far stay (and their reach)."""
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.MANAGE_CAMPAIGNS)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=offer.workspace_id)
    if offer.withdrawn_at is None:
        offer.withdrawn_at = timezone.now()
        offer.save(update_fields=["withdrawn_at"])
        audit_log_record(workspace=workspace, actor=actor, action="advocacy.withdraw", target=offer)
    return offer


def offer_is_open(*, offer: AdvocacyOffer, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return offer.withdrawn_at is None and (offer.ends_at is None or offer.ends_at > now)


def offer_text_for(*, offer: AdvocacyOffer, network: str) -> str:
    """The text suggested for ``network``, else the offered post's own text."""
    return str(offer.suggested_texts.get(network) or offer.post.text)


@dataclass(frozen=True)
class ShareResult:
    share: AdvocacyShare
    created: bool  # False: this offer was already shared on this channel (the existing share)


def _existing(offer: AdvocacyOffer, channel: Channel) -> AdvocacyShare | None:
    return (
        AdvocacyShare.objects.select_related("post", "variant", "channel")
        .filter(offer=offer, channel=channel)
        .first()
    )


def share_create(
    *,
    workspace: Workspace,
    user: User,
    offer: AdvocacyOffer,
    channel: Channel,
    text: str | None = None,
) -> ShareResult:
    """Share ``offer`` on ``user``'s personal ``channel``, exactly once: publish "now" through the engine.

    A second call for the same offer and channel (double click, retry, another tab) returns the existing
    share, whatever its text. ``text``: the advocate's version where the offer allows editing; the
    network's limits are checked by its connector before anything is scheduled.
    """
    ensure_allowed(membership_role(workspace=workspace, user=user), Action.SHARE_ADVOCACY)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=offer.workspace_id)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=channel.workspace_id)
    if channel.owner_id != user.pk:
        # Somebody else's or a brand channel: it does not exist for this user.
        raise AdvocacyError(_("Unknown channel."), code="unknown_channel")
    existing = _existing(offer, channel)
    if existing is not None:
        return ShareResult(share=existing, created=False)
    try:
        with transaction.atomic():
            # Serialises shares of one offer (PostgreSQL: row lock; SQLite: the write lock), so the second
            # of two concurrent requests finds the first one's share instead of racing it.
            locked = AdvocacyOffer.objects.select_for_update().select_related("post").get(pk=offer.pk)
            existing = _existing(locked, channel)
            if existing is not None:
                return ShareResult(share=existing, created=False)
            share = _share_new(workspace=workspace, user=user, offer=locked, channel=channel, text=text)
    except IntegrityError:
        # The unique (offer, channel) constraint: another request made it between our check and insert
        # (a database without row locks); its post was never scheduled in ours, which rolled back.
        existing = _existing(offer, channel)
        if existing is None:
            raise
        return ShareResult(share=existing, created=False)
    return ShareResult(share=share, created=True)


def _share_new(
    *, workspace: Workspace, user: User, offer: AdvocacyOffer, channel: Channel, text: str | None
) -> AdvocacyShare:
    if not offer_is_open(offer=offer):
        raise AdvocacyError(_("This offer is no longer open."), code="offer_closed")
    if channel.status != ChannelStatus.ACTIVE:
        raise AdvocacyError(
            _("%(handle)s is not connected. Connect it again first.") % {"handle": channel.handle},
            code="channel_inactive",
        )
    suggested = offer_text_for(offer=offer, network=channel.network)
    final = suggested if (text is None or not offer.text_editable) else text.strip()
    if not final:
        raise AdvocacyError(_("The text must not be empty."), code="empty_text")
    source = offer.post
    # The offered post's pictures go along (those of its first channel's first part, in their order).
    first_variant = source.variants.order_by("pk").first()
    media = [
        MediaInput(asset_id=pm.asset_id, alt_text=pm.alt_text)
        for pm in PartMedia.objects.filter(part__variant=first_variant, part__index=0).order_by("position")
    ]
    # The system writes the post (author None skips the role check that advocates would fail: they
    # may share, not write posts); the author is then the advocate.
    post = post_create(
        workspace=workspace,
        author=None,
        data=PostInput(
            text=final,
            title=(source.title or source.text[:60])[:200],
            channel_ids=[channel.pk],
            media=media,
            campaign_id=offer.campaign_id,
            personal_owner_id=user.pk,
        ),
    )
    # The offer is the brand's approval of this content (an editor offered approved content); an edited
    # text is the advocate's own words on their own account, as in every advocacy product.
    now = timezone.now()
    Post.objects.filter(pk=post.pk).update(
        author=user, approved_at=now, approved_by=offer.created_by, updated_at=now
    )
    post.author, post.approved_at, post.approved_by = user, now, offer.created_by
    post_schedule(workspace=workspace, post=post, actor=None, at=None)
    share = AdvocacyShare.objects.create(
        workspace=workspace,
        offer=offer,
        channel=channel,
        user=user,
        post=post,
        variant=post.variants.get(),
    )
    audit_log_record(
        workspace=workspace,
        actor=user,
        action="advocacy.share",
        target=share,
        data={"offer": offer.pk, "post": post.pk},
    )
    return share


def advocate_leaderboard_set(*, workspace: Workspace, user: User, opt_in: bool) -> AdvocateProfile:
    """The advocate's own consent to appear on the leaderboard (off by default)."""
    ensure_allowed(membership_role(workspace=workspace, user=user), Action.SHARE_ADVOCACY)
    profile, _created = AdvocateProfile.objects.update_or_create(
        workspace=workspace, user=user, defaults={"leaderboard_opt_in": opt_in}
    )
    return profile
