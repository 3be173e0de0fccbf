"""Reads of employee advocacy: open offers, shares, and their reach.

Reach is read from the engagement samples the periodic sync stores for every published variant
(``engagement.MetricSample``): the latest sample of each share variant. A share post belongs to the
offer's campaign like any post, so every campaign figure that sums its posts' variants includes the
shares without a line of code here (``campaign_reach`` is that sum, and its test holds it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from resonanz.accounts.models import User, Workspace
from resonanz.campaigns.models import Campaign
from resonanz.engagement.models import MetricSample
from resonanz.posts.models import Post, Variant

from .models import OFFERABLE_STATUSES, AdvocacyOffer, AdvocacyShare, AdvocateProfile


@dataclass
class Reach:
    """Interactions (likes, reposts, replies, quotes) and, where the network reports them, impressions."""

    interactions: int = 0
    impressions: int = 0
    posts: int = 0  # variants counted (published ones with at least one sample)

    def add(self, other: Reach) -> None:
        self.interactions += other.interactions
        self.impressions += other.impressions
        self.posts += other.posts


def variant_reach(*, variant_ids: list[int]) -> dict[int, Reach]:
    """The latest engagement sample of each variant (one query), as ``Reach``."""
    if not variant_ids:
        return {}
    latest = (
        MetricSample.objects.filter(variant_id=OuterRef("variant_id")).order_by("-taken_at").values("pk")[:1]
    )
    rows = MetricSample.objects.filter(variant_id__in=variant_ids, pk=Subquery(latest)).values(
        "variant_id", "likes", "reposts", "replies", "quotes", "impressions"
    )
    return {
        r["variant_id"]: Reach(
            interactions=r["likes"] + r["reposts"] + r["replies"] + (r["quotes"] or 0),
            impressions=r["impressions"] or 0,
            posts=1,
        )
        for r in rows
    }


def _sum(reach: dict[int, Reach], variant_ids: list[int]) -> Reach:
    total = Reach()
    for pk in variant_ids:
        if pk in reach:
            total.add(reach[pk])
    return total


def offer_list_open(*, workspace: Workspace, now: datetime | None = None) -> QuerySet[AdvocacyOffer]:
    """Offers advocates can share now: not withdrawn, not ended, newest first."""
    now = now or timezone.now()
    return (
        AdvocacyOffer.objects.filter(workspace=workspace, withdrawn_at__isnull=True)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .select_related("post", "campaign")
    )


def offer_get(*, workspace: Workspace, offer_id: int) -> AdvocacyOffer:
    """Any offer of the workspace (DoesNotExist outside it: 404)."""
    return AdvocacyOffer.objects.select_related("post", "campaign").get(workspace=workspace, pk=offer_id)


def offer_list(*, workspace: Workspace) -> QuerySet[AdvocacyOffer]:
    """Every offer of the workspace with ``share_count`` and ``advocate_count`` (managers' page)."""
    return (
        AdvocacyOffer.objects.filter(workspace=workspace)
        .select_related("post", "campaign", "created_by")
        .annotate(share_count=Count("shares"), advocate_count=Count("shares__user", distinct=True))
    )


def share_list_for_user(*, workspace: Workspace, user: User) -> QuerySet[AdvocacyShare]:
    return AdvocacyShare.objects.filter(workspace=workspace, user=user).select_related(
        "offer__post", "channel", "variant", "post"
    )


def shares_by_offer_for_user(*, workspace: Workspace, user: User) -> dict[tuple[int, int], AdvocacyShare]:
    """(offer id, channel id) -> the user's share: what the page shows as "Shared on … at …"."""
    return {(s.offer_id, s.channel_id): s for s in share_list_for_user(workspace=workspace, user=user)}


def offer_reach(*, workspace: Workspace) -> dict[int, Reach]:
    """Offer id -> the summed reach of its shares."""
    pairs = list(AdvocacyShare.objects.filter(workspace=workspace).values_list("offer_id", "variant_id"))
    reach = variant_reach(variant_ids=[v for _o, v in pairs])
    result: dict[int, Reach] = {}
    for offer_id, variant_id in pairs:
        result.setdefault(offer_id, Reach())
        if variant_id in reach:
            result[offer_id].add(reach[variant_id])
    return result


@dataclass
class CampaignReach:
    campaign: Campaign
    total: Reach = field(default_factory=Reach)  # every post of the campaign, brand and shares
    shares: Reach = field(default_factory=Reach)  # of which: the advocates' shares
    share_count: int = 0


def campaign_reach(*, workspace: Workspace) -> list[CampaignReach]:
    """Per campaign: the reach of all its posts' variants, and the part of it that advocates' shares
    bring. Shares are counted because they are posts of the campaign (no special case)."""
    rows = list(
        Variant.objects.filter(post__workspace=workspace, post__campaign__isnull=False).values_list(
            "pk", "post__campaign_id"
        )
    )
    share_variants = set(
        AdvocacyShare.objects.filter(workspace=workspace).values_list("variant_id", flat=True)
    )
    reach = variant_reach(variant_ids=[pk for pk, _c in rows])
    campaigns = {c.pk: c for c in Campaign.objects.filter(workspace=workspace)}
    result: dict[int, CampaignReach] = {}
    for pk, campaign_id in rows:
        entry = result.setdefault(campaign_id, CampaignReach(campaign=campaigns[campaign_id]))
        r = reach.get(pk)
        if pk in share_variants:
            entry.share_count += 1
        if r is None:
            continue
        entry.total.add(r)
        if pk in share_variants:
            entry.shares.add(r)
    return sorted(result.values(), key=lambda e: (e.campaign.name.lower(), e.campaign.pk))


@dataclass
class LeaderboardRow:
    user: User
    shares: int
    reach: Reach


def leaderboard(*, workspace: Workspace) -> list[LeaderboardRow]:
    """Advocates who opted in, by interactions of their shares (then number of shares)."""
    opted = set(
        AdvocateProfile.objects.filter(workspace=workspace, leaderboard_opt_in=True).values_list(
            "user_id", flat=True
        )
    )
    shares = list(
        AdvocacyShare.objects.filter(workspace=workspace, user_id__in=opted).values_list(
            "user_id", "variant_id"
        )
    )
    reach = variant_reach(variant_ids=[v for _u, v in shares])
    users = {u.pk: u for u in User.objects.filter(pk__in=opted)}
    rows: dict[int, LeaderboardRow] = {}
    for user_id, variant_id in shares:
        row = rows.setdefault(user_id, LeaderboardRow(user=users[user_id], shares=0, reach=Reach()))
        row.shares += 1
        if variant_id in reach:
            row.reach.add(reach[variant_id])
    return sorted(rows.values(), key=lambda r: (-r.reach.interactions, -r.shares, r.user.pk))


def advocate_opted_in(*, workspace: Workspace, user: User) -> bool:
    return AdvocateProfile.objects.filter(workspace=workspace, user=user, leaderboard_opt_in=True).exists()


def offerable_posts(*, workspace: Workspace) -> QuerySet[Post]:
    """Brand posts an editor may offer (approved or published), newest first."""
    return (
        Post.objects.filter(workspace=workspace)
        .filter(Q(status__in=OFFERABLE_STATUSES) | Q(approved_at__isnull=False))
        .exclude(variants__channel__owner__isnull=False)
        .order_by("-created_at")
    )


def user_reach(*, workspace: Workspace, user: User) -> Reach:
    ids = list(share_list_for_user(workspace=workspace, user=user).values_list("variant_id", flat=True))
    return _sum(variant_reach(variant_ids=ids), ids)
