"""The content builder's figures against real rows: latest sample per variant, the workspace's local
days as boundaries, clicks per post, the previous period, other workspaces invisible."""

from __future__ import annotations

from datetime import date

import pytest

from resonanz.accounts.models import Workspace
from resonanz.channels.models import Channel
from resonanz.reports.content import Section, report_build, section_keys, section_register
from resonanz.reports.periods import Period, month_of

from .conftest import utc

pytestmark = pytest.mark.django_db
NOVEMBER = month_of(date(2026, 11, 1))


def _kpi(report, key):  # type: ignore[no-untyped-def]
    return next(k for k in report.all_kpis if k.key == key)


def test_latest_sample_per_variant_before_the_period_end(workspace, channel, publish, sample):  # type: ignore[no-untyped-def]
    v = publish(channel, utc(2026, 11, 10, 9), title="Sommer")
    sample(v, utc(2026, 11, 10, 10), likes=1, reposts=0, replies=0)
    sample(v, utc(2026, 11, 20, 10), likes=7, reposts=2, replies=3, quotes=1, impressions=400)
    sample(v, utc(2026, 12, 2, 10), likes=99)  # after November: not in November's report
    report = report_build(workspace=workspace, period=NOVEMBER, language="en")
    posts = report.section("posts")
    assert posts is not None
    (row,) = posts.rows
    assert (row["likes"], row["reposts"], row["replies"], row["impressions"]) == (7, 2, 3, 400)
    assert row["engagement"] == 7 + 2 + 3 + 1
    assert _kpi(report, "engagement").value == 13
    assert _kpi(report, "likes").value == 7
    # The same variant in December's (still running) month shows the newest sample.
    december = report_build(workspace=workspace, period=month_of(date(2026, 12, 1)), language="en")
    assert december.section("posts").note  # type: ignore[union-attr]  # a November post, not December's


def test_period_boundaries_are_local_days(workspace: Workspace, channel: Channel, publish) -> None:  # type: ignore[no-untyped-def]
    assert workspace.time_zone == "Europe/Berlin"
    publish(channel, utc(2026, 10, 31, 23, 30), title="first-november")  # 00:30 CET on 1 Nov
    publish(channel, utc(2026, 11, 30, 22, 59), title="last-november")  # 23:59 CET on 30 Nov
    publish(channel, utc(2026, 11, 30, 23, 0), title="december")  # 00:00 CET on 1 Dec
    publish(channel, utc(2026, 10, 31, 22, 59), title="october")  # 23:59 CET on 31 Oct
    report = report_build(workspace=workspace, period=NOVEMBER, language="en")
    titles = {r["post"] for r in report.section("posts").rows}  # type: ignore[union-attr]
    assert titles == {"first-november", "last-november"}
    assert _kpi(report, "posts").value == 2
    assert _kpi(report, "posts").previous == 1  # October: the previous month
    assert report.previous_period == month_of(date(2026, 10, 1))
    row = next(r for r in report.section("posts").rows if r["post"] == "first-november")  # type: ignore[union-attr]
    assert row["published_at"].hour == 0
    assert row["published_at"].day == 1


def test_clicks_per_post_and_channel_and_change(
    workspace, channel, second_channel, publish, sample, clicks
) -> None:  # type: ignore[no-untyped-def]
    a = publish(channel, utc(2026, 11, 3, 8), title="A")
    b = publish(second_channel, utc(2026, 11, 4, 8), title="B")
    old = publish(channel, utc(2026, 10, 4, 8), title="old")
    sample(a, utc(2026, 11, 5), likes=10)
    sample(b, utc(2026, 11, 5), likes=2)
    sample(old, utc(2026, 10, 5), likes=4)
    clicks(a, utc(2026, 11, 3, 9), utc(2026, 11, 3, 10), utc(2026, 12, 1, 0))  # the last one is December
    clicks(b, *(utc(2026, 11, 6, h) for h in range(5)), visitor="same")
    clicks(old, utc(2026, 10, 5))
    report = report_build(workspace=workspace, period=NOVEMBER, language="en")
    rows = report.section("posts").rows  # type: ignore[union-attr]
    assert [r["post"] for r in rows] == ["B", "A"]  # traffic first
    assert (rows[0]["clicks"], rows[0]["unique_clicks"]) == (5, 1)
    assert (rows[1]["clicks"], rows[1]["unique_clicks"]) == (2, 2)
    clicks_kpi = _kpi(report, "clicks")
    assert (clicks_kpi.value, clicks_kpi.previous) == (7, 1)
    assert clicks_kpi.change == pytest.approx(6.0)
    engagement = _kpi(report, "engagement")
    assert (engagement.value, engagement.previous) == (12, 4)
    assert engagement.change == pytest.approx(2.0)
    channels = {r["channel"]: r for r in report.section("channels").rows}  # type: ignore[union-attr]
    assert channels[str(channel)]["clicks"] == 2
    assert channels[str(second_channel)]["clicks"] == 5
    daily = {r["day"]: r["clicks"] for r in report.section("clicks_daily").rows}  # type: ignore[union-attr]
    assert len(daily) == 30
    assert daily[date(2026, 11, 6)] == 5
    assert daily[date(2026, 11, 3)] == 2


def test_other_workspaces_are_invisible(
    workspace, other_workspace, foreign_channel, channel, publish, sample, clicks
) -> None:  # type: ignore[no-untyped-def]
    mine = publish(channel, utc(2026, 11, 3, 8), title="mine")
    theirs = publish(foreign_channel, utc(2026, 11, 3, 8), title="theirs")
    sample(theirs, utc(2026, 11, 5), likes=50)
    clicks(theirs, utc(2026, 11, 5))
    sample(mine, utc(2026, 11, 5), likes=1)
    report = report_build(workspace=workspace, period=NOVEMBER, language="en")
    assert [r["post"] for r in report.section("posts").rows] == ["mine"]  # type: ignore[union-attr]
    assert _kpi(report, "engagement").value == 1
    assert _kpi(report, "clicks").value == 0


def test_sections_are_pluggable(workspace: Workspace) -> None:
    from resonanz.reports import content

    def feedback(ctx: content.BuildContext) -> Section:
        return Section(
            "feedback",
            "Leads",
            [content.Column("source", "Source", "text"), content.Column("cpl", "Cost per lead", "money")],
            [{"source": "x", "cpl": 12.5}],
            kpis=[content.Kpi("feedback", "Leads", 4, 2)],
        )

    section_register("feedback", feedback)
    try:
        with pytest.raises(ValueError, match="registered already"):
            section_register("feedback", feedback)
        report = report_build(workspace=workspace, period=NOVEMBER, language="en")
        assert report.sections[-1].key == "feedback"
        assert _kpi(report, "feedback").change == pytest.approx(1.0)
        only = report_build(workspace=workspace, period=NOVEMBER, language="en", sections=["feedback"])
        assert [s.key for s in only.sections] == ["feedback"]
    finally:
        content._SECTIONS.pop("feedback")
    assert "feedback" not in section_keys()


def test_period_previous() -> None:
    assert NOVEMBER.previous() == Period(date(2026, 10, 1), date(2026, 10, 31))
    week = Period(date(2026, 11, 2), date(2026, 11, 8))
    assert week.previous() == Period(date(2026, 10, 26), date(2026, 11, 1))
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(
        date(2026, 2, 1), date(2026, 2, 28)
    )


def test_query_count_does_not_grow_with_posts(  # type: ignore[no-untyped-def]
    workspace, owner, channel, second_channel, publish, sample, clicks, django_assert_max_num_queries
) -> None:
    from resonanz.campaigns.services import campaign_create
    from resonanz.links.models import Click
    from resonanz.links.services import link_create

    campaign = campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="traffic")
    for i in range(30):
        v = publish(
            channel if i % 2 else second_channel,
            utc(2026, 11, 1 + i % 28, 9),
            title=f"p{i}",
            campaign=campaign,
        )
        sample(v, utc(2026, 11, 29), likes=i)
        sample(v, utc(2026, 11, 28), likes=1000)  # older: not the latest
        clicks(v, utc(2026, 11, 29, 12))
    # A campaign link without a post (e.g. in a newsletter) counts for the campaign and the totals.
    loose = link_create(
        workspace=workspace, actor=None, target_url="https://shop.example/x", campaign=campaign
    )
    Click.objects.create(link=loose, at=utc(2026, 11, 15, 12), day=date(2026, 11, 15), visitor="n")
    # 12 for engagement, clicks and campaigns, 10 for leads (per post, per campaign and channel, the
    # previous period: two grouped queries each) and up to 8 for paid posts; none of them per post.
    with django_assert_max_num_queries(30):
        report = report_build(workspace=workspace, period=NOVEMBER, language="de")
    assert _kpi(report, "likes").value == sum(range(30))
    assert _kpi(report, "clicks").value == 31
    (row,) = report.section("campaigns").rows  # type: ignore[union-attr]
    assert (row["campaign"], row["posts"], row["clicks"]) == ("Herbst", 30, 31)


def _lead(workspace, *, at, campaign=None, post=None, channel=None, confirmed=True):  # type: ignore[no-untyped-def]
    from resonanz.leads.models import Lead, LeadForm, LeadStatus

    form, _ = LeadForm.objects.get_or_create(
        workspace=workspace,
        slug="katalog",
        defaults={"name": "Katalog", "consent_de": "Ja", "consent_en": "Yes"},
    )
    return Lead.objects.create(
        workspace=workspace,
        form=form,
        email=f"p{Lead.objects.count()}@example.org",
        language="de",
        status=LeadStatus.CONFIRMED if confirmed else LeadStatus.PENDING,
        consent_text="Ja",
        consent_version=1,
        consented_at=at,
        confirmed_at=at if confirmed else None,
        campaign=campaign,
        post=post,
        channel=channel,
    )


def test_leads_and_paid_posts_with_cost_per_lead(  # type: ignore[no-untyped-def]
    workspace, owner, channel, publish
) -> None:
    """The month's report says which posts brought leads and what the paid posts cost per lead."""
    from decimal import Decimal

    from resonanz.ads.services import spend_create
    from resonanz.campaigns.services import campaign_create

    campaign = campaign_create(workspace=workspace, actor=owner, name="Winter", goal="leads")
    v = publish(channel, utc(2026, 11, 5, 9), title="Katalog bestellen", campaign=campaign)
    publish(channel, utc(2026, 11, 6, 9), title="Ohne Leads", campaign=campaign)
    for day in (6, 7, 8, 9):
        _lead(workspace, at=utc(2026, 11, day, 10), campaign=campaign, post=v.post, channel=channel)
    _lead(workspace, at=utc(2026, 11, 9, 11), campaign=campaign, post=v.post, confirmed=False)  # not yet
    _lead(workspace, at=utc(2026, 12, 1, 10), campaign=campaign, post=v.post)  # next month
    _lead(workspace, at=utc(2026, 10, 20, 10), campaign=campaign)  # previous month
    spend_create(
        workspace=workspace,
        actor=owner,
        spend=Decimal("120.00"),
        campaign=campaign,
        day=date(2026, 11, 10),
        currency="EUR",
        clicks=60,
        impressions=12000,
        leads=1,
    )

    report = report_build(workspace=workspace, period=NOVEMBER, language="de")
    assert (_kpi(report, "leads").value, _kpi(report, "leads").previous) == (4, 1)
    posts = report.section("posts").rows  # type: ignore[union-attr]
    assert (posts[0]["post"], posts[0]["leads"]) == ("Katalog bestellen", 4)  # the lead bringer first
    (paid,) = report.section("paid").rows  # type: ignore[union-attr]
    assert (paid["campaign"], paid["spend"], paid["cost_per_lead"], paid["cpc"]) == (
        "Winter",
        120.0,
        30.0,
        2.0,
    )
    assert _kpi(report, "cost_per_lead").value == 30.0  # 120 € / 4 confirmed form leads, not / 1
    assert "Kosten pro Lead (EUR)" in _kpi(report, "cost_per_lead").label
    by = {(r["source"], r["name"]): r["leads"] for r in report.section("leads").rows}  # type: ignore[union-attr]
    assert by[("Kampagne", "Winter")] == 4


def test_no_leads_and_no_spend_leave_the_sections_out(workspace, channel, publish) -> None:  # type: ignore[no-untyped-def]
    publish(channel, utc(2026, 11, 5, 9))
    report = report_build(workspace=workspace, period=NOVEMBER, language="en")
    assert report.section("leads") is None
    assert report.section("paid") is None
