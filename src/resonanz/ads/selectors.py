"""Reads of paid posts: the figures per campaign or post for a period, per currency.

Money is never added across currencies: every figure row is one (campaign or post, currency). A ratio
whose divisor is zero is ``None`` (the page shows "—").

Leads: by default the leads the ad rows carry (the network's or the CSV's count). The ``leads`` app
(built in parallel) counts leads of its own; a caller hands its counts in through ``lead_counts``, a
:class:`LeadCounter` — any callable with that signature — so this app never imports that one (it would be
a layer above). Until it exists the views pass ``None``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.connectors.base.spec import Capability
from resonanz.connectors.registry import find_spec
from resonanz.core.errors import ensure_same_workspace
from resonanz.leads.selectors import leads_count_by

from .models import AdBudget, AdSpend, AdSync

Group = Literal["campaign", "post"]


class LeadCounter(Protocol):
    """Leads per campaign id or post id (``group``) from ``since`` to ``until``; a key missing = 0."""

    def __call__(self, *, workspace: Workspace, since: date, until: date, group: Group) -> dict[int, int]: ...


def form_leads(*, workspace: Workspace, since: date, until: date, group: Group) -> dict[int, int]:
    """Confirmed leads of Resonanz's own lead forms attributed to each campaign or post (through a short
    link or ``utm_content``), consent given from ``since`` to ``until`` inclusive."""
    counted = leads_count_by(workspace=workspace, start=since, end=until + timedelta(days=1), by=group)
    return {key: n for key, n in counted.items() if key is not None}


def ratio(numerator: Decimal | int, divisor: Decimal | int, *, scale: int = 1) -> Decimal | None:
    """``numerator * scale / divisor``, or ``None`` when the divisor is zero."""
    if not divisor:
        return None
    return (Decimal(numerator) * scale / Decimal(divisor)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@dataclass
class Figures:
    key: int | None  # the campaign's / post's id; None = spend assigned to none
    label: str
    currency: str
    spend: Decimal = Decimal(0)
    impressions: int = 0
    clicks: int = 0
    leads: int = 0
    conversion_value: Decimal = Decimal(0)
    budget: Decimal | None = None
    rows: int = 0
    leads_from: str = "ads"  # "ads" | "leads" (the leads app's count)

    @property
    def cpc(self) -> Decimal | None:
        return ratio(self.spend, self.clicks)

    @property
    def cpm(self) -> Decimal | None:
        return ratio(self.spend, self.impressions, scale=1000)

    @property
    def cost_per_lead(self) -> Decimal | None:
        return ratio(self.spend, self.leads)

    @property
    def roas(self) -> Decimal | None:
        return ratio(self.conversion_value, self.spend)

    @property
    def budget_used(self) -> Decimal | None:
        """Percent of the budget spent (the budgets overlapping the period, same currency)."""
        return ratio(self.spend, self.budget or 0, scale=100)


def spend_list(
    *, workspace: Workspace, since: date | None = None, until: date | None = None
) -> QuerySet[AdSpend]:
    qs = AdSpend.objects.filter(workspace=workspace).select_related("campaign", "post", "channel")
    if since is not None:
        qs = qs.filter(day__gte=since)
    if until is not None:
        qs = qs.filter(day__lte=until)
    return qs


def spend_get(*, workspace: Workspace, spend_id: int) -> AdSpend:
    row = AdSpend.objects.get(pk=spend_id)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=row.workspace_id)
    return row


def budget_list(*, workspace: Workspace) -> QuerySet[AdBudget]:
    return AdBudget.objects.filter(workspace=workspace).select_related("campaign", "post")


def budget_get(*, workspace: Workspace, budget_id: int) -> AdBudget:
    budget = AdBudget.objects.get(pk=budget_id)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=budget.workspace_id)
    return budget


def _label(group: Group, key: int | None, names: dict[int, str]) -> str:
    if key is None:
        return ""
    return names.get(key, f"#{key}")


def ad_figures(
    *,
    workspace: Workspace,
    since: date,
    until: date,
    group: Group = "campaign",
    lead_counts: LeadCounter | None = None,
) -> list[Figures]:
    """One row per (campaign or post, currency) with spend in the period, plus every budget overlapping it
    (a budget without spend yet shows 0 spent). Two grouped queries, and one for the leads.

    Leads: where Resonanz's own lead forms brought leads to a campaign or post (``form_leads``), those
    count — the team's own, confirmed (double opt-in) leads; elsewhere the leads the ad network reports
    for the ads. ``RESONANZ_ADS_LEAD_SOURCE`` = "networks" uses only the networks' figures, "forms" only
    the forms' (docs/ads.md). ``lead_counts`` replaces the forms' counter (tests)."""
    source = settings.RESONANZ_ADS_LEAD_SOURCE
    if lead_counts is None and source != "networks":
        lead_counts = form_leads
    field_name = "campaign" if group == "campaign" else "post"
    rows = (
        AdSpend.objects.filter(workspace=workspace, day__gte=since, day__lte=until)
        .values(field_name, "currency")
        .annotate(
            spend=Sum("spend"),
            impressions=Sum("impressions"),
            clicks=Sum("clicks"),
            leads=Sum("leads"),
            conversion_value=Sum("conversion_value"),
            rows=Count("pk"),
        )
        .order_by(field_name, "currency")
    )
    found: dict[tuple[int | None, str], Figures] = {}
    for row in rows:
        key = row[field_name]
        found[(key, row["currency"])] = Figures(
            key=key,
            label="",
            currency=row["currency"],
            spend=row["spend"] or Decimal(0),
            impressions=int(row["impressions"] or 0),
            clicks=int(row["clicks"] or 0),
            leads=int(row["leads"] or 0),
            conversion_value=row["conversion_value"] or Decimal(0),
            rows=int(row["rows"]),
        )
    budgets = (
        AdBudget.objects.filter(workspace=workspace, period_start__lte=until, period_end__gte=since)
        .filter(Q(campaign__isnull=False) if group == "campaign" else Q(post__isnull=False))
        .values(field_name, "currency")
        .annotate(total=Sum("amount"))
    )
    for budget in budgets:
        key = budget[field_name]
        figures = found.setdefault(
            (key, budget["currency"]), Figures(key=key, label="", currency=budget["currency"])
        )
        figures.budget = budget["total"]
    if lead_counts is not None:
        counted = lead_counts(workspace=workspace, since=since, until=until, group=group)
        for (key, _currency), figures in found.items():
            if key is not None and (counted.get(key) or source == "forms"):
                figures.leads = counted.get(key, 0)
                figures.leads_from = "leads"
    names = _names(workspace=workspace, group=group, keys={k for k, _c in found if k is not None})
    for (key, _currency), figures in found.items():
        figures.label = _label(group, key, names)
    return sorted(found.values(), key=lambda f: (f.key is None, f.label.casefold(), f.currency))


def _names(*, workspace: Workspace, group: Group, keys: set[int]) -> dict[int, str]:
    if group == "campaign":
        from resonanz.campaigns.models import Campaign

        return dict(Campaign.objects.filter(workspace=workspace, pk__in=keys).values_list("pk", "name"))
    from resonanz.posts.models import Post

    return {
        p.pk: str(p)
        for p in Post.objects.filter(workspace=workspace, pk__in=keys).only("pk", "title", "text")
    }


def ad_totals(figures: list[Figures]) -> list[Figures]:
    """The sums per currency of a figure table (never across currencies)."""
    per: dict[str, Figures] = defaultdict(lambda: Figures(key=None, label="", currency=""))
    for row in figures:
        total = per[row.currency]
        total.currency = row.currency
        total.spend += row.spend
        total.impressions += row.impressions
        total.clicks += row.clicks
        total.leads += row.leads
        total.conversion_value += row.conversion_value
        if row.budget is not None:
            total.budget = (total.budget or Decimal(0)) + row.budget
        total.rows += row.rows
    return [per[c] for c in sorted(per)]


@dataclass(frozen=True)
class ChannelSyncInfo:
    channel: Channel
    ad_account_id: str
    sync: AdSync | None


def ad_channels(*, workspace: Workspace) -> list[ChannelSyncInfo]:
    """The workspace's channels whose network declares ad reporting, with their last sync."""
    from resonanz.connectors.base import AD_ACCOUNT_SETTING

    out: list[ChannelSyncInfo] = []
    for channel in (
        Channel.objects.filter(workspace=workspace).select_related("ad_sync").order_by("network", "handle")
    ):
        spec = find_spec(channel.network)
        if spec is None or Capability.AD_REPORTING not in spec.capabilities():
            continue
        sync = getattr(channel, "ad_sync", None)
        out.append(
            ChannelSyncInfo(channel, str((channel.settings or {}).get(AD_ACCOUNT_SETTING) or ""), sync)
        )
    return out
