"""The report content builder: one typed ``ReportData`` that every renderer (HTML, PDF, CSV, XLSX, the
API's JSON) draws from, so they always show the same figures.

A report is the cover facts (workspace, period, branding), the key figures against the previous period,
and a list of sections. A section is a table (typed columns, rows of plain values), optionally a chart
(a Vega-Lite spec) and key figures of its own. Sections come from a registry of builders
(``section_register``): the built-in ones read what exists today (published variants, their latest
engagement sample, short-link clicks, campaigns); leads and paid posts register their own builders later
without touching the renderers, and a builder may be replaced (``replace=True``) by one that reads the
analytics selectors.

Labels are translated when the report is built (``language``), so build one report per language.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from resonanz.accounts.models import Workspace
from resonanz.ads.selectors import ad_figures, ad_totals
from resonanz.analytics import charts
from resonanz.leads.selectors import leads_count_by

from .periods import Period
from .selectors import (
    VariantFacts,
    branding_get,
    click_days,
    click_groups,
    click_total,
    variant_facts,
    workspace_zone,
)

Kind = Literal["int", "float", "percent", "money", "text", "date", "datetime", "url"]


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: Kind = "int"


@dataclass(frozen=True)
class Chart:
    title: str
    spec: dict[str, Any]  # Vega-Lite (altair's ``to_dict()``), rendered by ``charts``


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float | None
    previous: float | None
    kind: Kind = "int"

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (0.25 = +25 %); None without a base."""
        if self.value is None or self.previous is None or self.previous == 0:
            return None
        return (self.value - self.previous) / self.previous


@dataclass
class Section:
    key: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    chart: Chart | None = None
    kpis: list[Kpi] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Branding:
    primary_color: str
    accent_color: str
    footer_text: str
    hide_resonanz_branding: bool
    logo_data_uri: str  # "" without a logo; a data: URI so PDF, e-mail and page need no file access


@dataclass
class ReportData:
    workspace_id: int
    workspace_name: str
    time_zone: str
    language: str
    period: Period
    previous_period: Period
    generated_at: datetime
    branding: Branding
    kpis: list[Kpi]
    sections: list[Section]

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    @property
    def all_kpis(self) -> list[Kpi]:
        return [*self.kpis, *(k for s in self.sections for k in s.kpis)]


@dataclass
class BuildContext:
    """What a section builder gets: the workspace and periods, and the facts read once for all."""

    workspace: Workspace
    period: Period
    previous_period: Period
    tz: ZoneInfo
    language: str
    branding: Branding
    variants: list[VariantFacts]
    previous_variants: list[VariantFacts]
    clicks_by_variant: dict[tuple[int, int | None], tuple[int, int]]  # (post, channel) → clicks, unique
    click_groups: list[Any]

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)


SectionBuilder = Callable[[BuildContext], Section | None]
_SECTIONS: dict[str, SectionBuilder] = {}


def section_register(key: str, builder: SectionBuilder, *, replace: bool = False) -> None:
    """Add a section builder (in report order). A builder returns None when it has nothing to show."""
    if key in _SECTIONS and not replace:
        raise ValueError(f"report section {key!r} is registered already")
    _SECTIONS[key] = builder


def section_keys() -> list[str]:
    return list(_SECTIONS)


def branding_data(*, workspace: Workspace) -> Branding:
    """The workspace's branding as the renderers use it (the logo inline as a data URI)."""
    row = branding_get(workspace=workspace)
    logo = ""
    if row.logo:
        try:
            with row.logo.open("rb") as fh:
                data = fh.read()
        except OSError:  # a logo file lost from the media storage must not stop the report
            data = b""
        if data:
            mime = "image/png" if data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
            if data[:4] == b"RIFF":
                mime = "image/webp"
            logo = f"data:{mime};base64,{base64.b64encode(data).decode()}"
    return Branding(
        primary_color=row.primary_color,
        accent_color=row.accent_color,
        footer_text=row.footer_text,
        hide_resonanz_branding=row.hide_resonanz_branding,
        logo_data_uri=logo,
    )


def _totals(variants: list[VariantFacts]) -> dict[str, float | None]:
    posts = len({v.post_id for v in variants})
    engagement = sum(v.engagement for v in variants)
    impressions = [v.impressions for v in variants if v.impressions is not None]
    return {
        "posts": posts,
        "publications": len(variants),
        "engagement": engagement,
        "likes": sum(v.likes for v in variants),
        "reposts": sum(v.reposts for v in variants),
        "replies": sum(v.replies for v in variants),
        "impressions": sum(impressions) if impressions else None,
        "engagement_per_post": (engagement / posts) if posts else None,
    }


def report_build(
    *, workspace: Workspace, period: Period, language: str, sections: list[str] | None = None
) -> ReportData:
    """Build the report of ``workspace`` for ``period`` (local days) in ``language`` (de/en)."""
    with translation.override(language):
        tz = workspace_zone(workspace=workspace)
        previous = period.previous()
        variants = variant_facts(workspace=workspace, period=period)
        previous_variants = variant_facts(workspace=workspace, period=previous)
        groups = click_groups(workspace=workspace, period=period)
        by_variant: dict[tuple[int, int | None], tuple[int, int]] = {}
        for g in groups:
            if g.post_id is not None:
                clicks, unique = by_variant.get((g.post_id, g.channel_id), (0, 0))
                by_variant[(g.post_id, g.channel_id)] = (clicks + g.clicks, unique + g.unique)
        ctx = BuildContext(
            workspace=workspace,
            period=period,
            previous_period=previous,
            tz=tz,
            language=language,
            branding=branding_data(workspace=workspace),
            variants=variants,
            previous_variants=previous_variants,
            clicks_by_variant=by_variant,
            click_groups=groups,
        )
        now_totals, before_totals = _totals(variants), _totals(previous_variants)
        clicks, unique = click_total(workspace=workspace, period=period)
        clicks_before, unique_before = click_total(workspace=workspace, period=previous)
        labels = {
            "posts": (_("Posts published"), "int"),
            "engagement": (_("Interactions"), "int"),
            "likes": (_("Likes"), "int"),
            "reposts": (_("Reposts"), "int"),
            "replies": (_("Replies"), "int"),
            "impressions": (_("Impressions"), "int"),
            "engagement_per_post": (_("Interactions per post"), "float"),
        }
        kpis = [
            Kpi(key, str(label), now_totals[key], before_totals[key], kind)  # type: ignore[arg-type]
            for key, (label, kind) in labels.items()
        ]
        kpis += [
            Kpi("clicks", _("Link clicks"), clicks, clicks_before),
            Kpi("unique_clicks", _("Unique link clicks"), unique, unique_before),
        ]
        built = []
        for key, builder in _SECTIONS.items():
            if sections is not None and key not in sections:
                continue
            section = builder(ctx)
            if section is not None:
                built.append(section)
        return ReportData(
            workspace_id=workspace.pk,
            workspace_name=workspace.name,
            time_zone=workspace.time_zone,
            language=language,
            period=period,
            previous_period=previous,
            generated_at=timezone.now(),
            branding=ctx.branding,
            kpis=kpis,
            sections=built,
        )


# -- built-in sections ----------------------------------------------------------------------------------


def _posts_section(ctx: BuildContext) -> Section | None:
    columns = [
        Column("post", _("Post"), "text"),
        Column("channel", _("Channel"), "text"),
        Column("campaign", _("Campaign"), "text"),
        Column("published_at", _("Published"), "datetime"),
        # What the marketing lead asks first (traffic and leads), then the interactions in detail.
        Column("clicks", _("Link clicks")),
        Column("leads", _("Leads")),
        Column("engagement", _("Interactions")),
        Column("impressions", _("Impressions")),
        Column("likes", _("Likes")),
        Column("reposts", _("Reposts")),
        Column("replies", _("Replies")),
        Column("unique_clicks", _("Unique link clicks")),
    ]
    start, end = ctx.period.bounds(ctx.tz)
    leads_by_post = leads_count_by(workspace=ctx.workspace, start=start, end=end, by="post")
    rows: list[dict[str, Any]] = []
    counted_posts: set[int] = set()
    for v in ctx.variants:
        clicks, unique = ctx.clicks_by_variant.get((v.post_id, v.channel_id), (0, 0))
        # A lead names the post (and the channel when it came through that channel's short link); it is
        # shown on the post's first row so a post on three channels does not count it three times.
        leads = 0 if v.post_id in counted_posts else leads_by_post.get(v.post_id, 0)
        counted_posts.add(v.post_id)
        rows.append(
            {
                "post": v.post_label,
                "channel": v.channel_name,
                "campaign": v.campaign_name,
                "published_at": ctx.local(v.published_at),
                "likes": v.likes,
                "reposts": v.reposts,
                "replies": v.replies,
                "impressions": v.impressions,
                "engagement": v.engagement,
                "clicks": clicks,
                "unique_clicks": unique,
                "leads": leads,
                "post_id": v.post_id,
                "variant_id": v.variant_id,
            }
        )
    # Traffic first (what the marketing lead asks), then interactions; stable for equal figures.
    rows.sort(key=lambda r: (-r["leads"], -r["clicks"], -r["engagement"], r["published_at"]))
    top = rows[:10]
    chart = None
    if any(r["clicks"] or r["engagement"] for r in top):
        chart = Chart(
            _("Top posts"),
            charts.grouped_bars(
                [
                    {"label": _short(r["post"]), "measure": m_label, "value": r[m]}
                    for r in top
                    for m, m_label in (("engagement", _("Interactions")), ("clicks", _("Link clicks")))
                ],
                colors=(ctx.branding.primary_color, ctx.branding.accent_color),
            ),
        )
    return Section(
        "posts",
        _("Posts"),
        columns,
        rows,
        chart=chart,
        note="" if rows else _("No post was published in this period."),
    )


def _short(text: str, n: int = 32) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _channel_row(name: str) -> dict[str, Any]:
    """An empty row of the channels table (a channel may first appear through its posts or its clicks)."""
    return {
        "channel": name,
        "posts": 0,
        "likes": 0,
        "reposts": 0,
        "replies": 0,
        "engagement": 0,
        "impressions": None,
        "clicks": 0,
        "unique_clicks": 0,
    }


def _channels_section(ctx: BuildContext) -> Section | None:
    acc: dict[int, dict[str, Any]] = {}
    for v in ctx.variants:
        row = acc.setdefault(v.channel_id, _channel_row(v.channel_name))
        row["posts"] += 1
        row["likes"] += v.likes
        row["reposts"] += v.reposts
        row["replies"] += v.replies
        row["engagement"] += v.engagement
        if v.impressions is not None:
            row["impressions"] = (row["impressions"] or 0) + v.impressions
    names = {v.channel_id: v.channel_name for v in ctx.variants}
    names |= _channel_names({g.channel_id for g in ctx.click_groups if g.channel_id} - set(names))
    for g in ctx.click_groups:
        if g.channel_id is None:
            continue
        row = acc.setdefault(g.channel_id, _channel_row(names.get(g.channel_id, "\u2014")))
        row["clicks"] += g.clicks
        row["unique_clicks"] += g.unique
    if not acc:
        return None
    rows = sorted(acc.values(), key=lambda r: (-r["engagement"], -r["clicks"], r["channel"]))
    columns = [
        Column("channel", _("Channel"), "text"),
        Column("posts", _("Posts")),
        Column("likes", _("Likes")),
        Column("reposts", _("Reposts")),
        Column("replies", _("Replies")),
        Column("impressions", _("Impressions")),
        Column("engagement", _("Interactions")),
        Column("clicks", _("Link clicks")),
        Column("unique_clicks", _("Unique link clicks")),
    ]
    chart = Chart(
        _("Interactions and link clicks per channel"),
        charts.grouped_bars(
            [
                {"label": r["channel"], "measure": m_label, "value": r[m]}
                for r in rows
                for m, m_label in (("engagement", _("Interactions")), ("clicks", _("Link clicks")))
            ],
            colors=(ctx.branding.primary_color, ctx.branding.accent_color),
        ),
    )
    return Section("channels", _("Channels"), columns, rows, chart=chart)


def _channel_names(ids: set[int]) -> dict[int, str]:
    """Names of channels that had clicks but no published post in the period (one query)."""
    from resonanz.channels.models import Channel

    return {c.pk: str(c) for c in Channel.objects.filter(pk__in=ids)} if ids else {}


def _campaign_row(name: str) -> dict[str, Any]:
    return {"campaign": name, "posts": set(), "engagement": 0, "clicks": 0, "unique_clicks": 0}


def _campaigns_section(ctx: BuildContext) -> Section | None:
    acc: dict[int, dict[str, Any]] = {}
    names = _campaign_names({g.campaign_id for g in ctx.click_groups if g.campaign_id})
    for v in ctx.variants:
        if v.campaign_id is None:
            continue
        row = acc.setdefault(v.campaign_id, _campaign_row(v.campaign_name))
        row["posts"].add(v.post_id)
        row["engagement"] += v.engagement
    for g in ctx.click_groups:
        if g.campaign_id is None:
            continue
        row = acc.setdefault(g.campaign_id, _campaign_row(names.get(g.campaign_id, "\u2014")))
        row["clicks"] += g.clicks
        row["unique_clicks"] += g.unique
    if not acc:
        return None
    rows = [{**r, "posts": len(r["posts"])} for r in acc.values()]
    rows.sort(key=lambda r: (-r["clicks"], -r["engagement"], r["campaign"]))
    columns = [
        Column("campaign", _("Campaign"), "text"),
        Column("posts", _("Posts")),
        Column("engagement", _("Interactions")),
        Column("clicks", _("Link clicks")),
        Column("unique_clicks", _("Unique link clicks")),
    ]
    return Section("campaigns", _("Campaigns"), columns, rows)


def _campaign_names(ids: set[int]) -> dict[int, str]:
    from resonanz.campaigns.models import Campaign

    return dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _clicks_daily_section(ctx: BuildContext) -> Section | None:
    days = click_days(workspace=ctx.workspace, period=ctx.period)
    if not days:
        return None
    rows: list[dict[str, Any]] = []
    day: date = ctx.period.start
    while day <= ctx.period.end:
        rows.append({"day": day, "clicks": days.get(day, 0)})
        day += timedelta(days=1)
    chart = Chart(
        _("Link clicks per day"),
        charts.daily_bars(
            [{"day": r["day"].isoformat(), "value": r["clicks"]} for r in rows],
            y_title=_("Link clicks"),
            color=ctx.branding.accent_color,
        ),
    )
    return Section(
        "clicks_daily",
        _("Link clicks per day"),
        [Column("day", _("Day"), "date"), Column("clicks", _("Link clicks"))],
        rows,
        chart=chart,
    )


def _leads_section(ctx: BuildContext) -> Section | None:
    """Confirmed leads of the workspace's lead forms by the campaign and channel that brought them."""
    start, end = ctx.period.bounds(ctx.tz)
    before_start, before_end = ctx.previous_period.bounds(ctx.tz)
    by_campaign = leads_count_by(workspace=ctx.workspace, start=start, end=end, by="campaign")
    by_channel = leads_count_by(workspace=ctx.workspace, start=start, end=end, by="channel")
    before = leads_count_by(workspace=ctx.workspace, start=before_start, end=before_end, by="campaign")
    total, total_before = sum(by_campaign.values()), sum(before.values())
    if not total and not total_before:
        return None
    campaigns = _campaign_names({k for k in by_campaign if k is not None})
    channels = _channel_names({k for k in by_channel if k is not None})
    rows: list[dict[str, Any]] = [
        {"source": _("Campaign"), "name": campaigns.get(k, "\u2014") if k else _("No campaign"), "leads": n}
        for k, n in by_campaign.items()
    ] + [
        {"source": _("Channel"), "name": channels.get(k, "\u2014") if k else _("No channel"), "leads": n}
        for k, n in by_channel.items()
    ]
    rows.sort(key=lambda r: (r["source"], -r["leads"], r["name"]))
    return Section(
        "leads",
        _("Leads"),
        [Column("source", _("By"), "text"), Column("name", _("Name"), "text"), Column("leads", _("Leads"))],
        rows,
        kpis=[Kpi("leads", _("Leads"), total, total_before)],
        note=_(
            "Confirmed leads of your lead forms (double opt-in), by the campaign and channel that "
            "brought them."
        ),
    )


def _paid_section(ctx: BuildContext) -> Section | None:
    """What the paid posts cost and brought, per campaign and currency (ads.selectors.ad_figures)."""
    rows_now = ad_figures(
        workspace=ctx.workspace, since=ctx.period.start, until=ctx.period.end, group="campaign"
    )
    if not rows_now:
        return None

    def num(value: Any) -> float | None:
        return None if value is None else float(value)

    rows = [
        {
            "campaign": f.label or _("No campaign"),
            "currency": f.currency,
            "spend": float(f.spend),
            "budget_used": None if f.budget_used is None else float(f.budget_used) / 100,
            "impressions": f.impressions,
            "clicks": f.clicks,
            "cpc": num(f.cpc),
            "cpm": num(f.cpm),
            "leads": f.leads,
            "cost_per_lead": num(f.cost_per_lead),
            "roas": num(f.roas),
        }
        for f in rows_now
    ]
    kpis: list[Kpi] = []
    totals = ad_totals(rows_now)
    if len(totals) == 1:  # money is never added across currencies
        [now] = totals
        before = ad_totals(
            ad_figures(
                workspace=ctx.workspace,
                since=ctx.previous_period.start,
                until=ctx.previous_period.end,
                group="campaign",
            )
        )
        prev = before[0] if len(before) == 1 and before[0].currency == now.currency else None
        kpis = [
            Kpi(
                "ad_spend",
                _("Ad spend (%(currency)s)") % {"currency": now.currency},
                float(now.spend),
                float(prev.spend) if prev else None,
                "money",
            ),
            Kpi(
                "cost_per_lead",
                _("Cost per lead (%(currency)s)") % {"currency": now.currency},
                num(now.cost_per_lead),
                num(prev.cost_per_lead) if prev else None,
                "money",
            ),
        ]
    columns = [
        Column("campaign", _("Campaign"), "text"),
        Column("currency", _("Currency"), "text"),
        Column("spend", _("Spend"), "money"),
        Column("budget_used", _("Budget used"), "percent"),
        Column("impressions", _("Impressions")),
        Column("clicks", _("Clicks")),
        Column("cpc", _("CPC"), "money"),
        Column("cpm", _("CPM"), "money"),
        Column("leads", _("Leads")),
        Column("cost_per_lead", _("Cost per lead"), "money"),
        Column("roas", _("ROAS"), "float"),
    ]
    return Section("paid", _("Paid posts"), columns, rows, kpis=kpis)


def _register_builtin() -> None:
    section_register("channels", _channels_section)
    section_register("posts", _posts_section)
    section_register("campaigns", _campaigns_section)
    section_register("clicks_daily", _clicks_daily_section)
    section_register("leads", _leads_section)
    section_register("paid", _paid_section)


_register_builtin()
