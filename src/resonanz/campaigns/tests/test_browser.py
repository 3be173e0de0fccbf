# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""Campaigns in a real browser, in German: create a campaign (a refused form first, shown in place), put a
new post into it in the composer, and filter the calendar by it.

Screenshots: ``artifacts/screenshots/campaigns-de-<step>.png``.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from resonanz.campaigns.models import Campaign
from resonanz.core.timezones import zone
from resonanz.posts.models import Post
from resonanz.posts.services import PostInput, post_create, post_schedule
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser


def test_create_campaign_compose_into_it_and_filter_the_calendar(
    browser, live_server, transactional_db, owner, workspace, make_channel
) -> None:
    from playwright.sync_api import expect

    channel = make_channel("mastodon", handle="brand@social.example")
    tz = zone(workspace.time_zone)
    day = (timezone.now().astimezone(tz) + timedelta(days=7)).date()
    other = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Ohne Kampagne", channel_ids=[channel.pk])
    )
    other = post_schedule(
        workspace=workspace, post=other, actor=owner, at=datetime.combine(day, time(12, 0), tzinfo=tz)
    )
    other_variant = other.variants.get()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = new_page(browser, "de")

    def shot(step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"campaigns-de-{step}.png"), full_page=True)

    try:
        login(page, live_server.url, owner.email)
        expect(page.locator("html")).to_have_attribute("lang", "de")

        # 1. "Kampagnen" in the main navigation; nothing there yet.
        page.click("#nav-campaigns")
        expect(page.locator("h1")).to_have_text("Kampagnen")
        expect(page.locator("#no-campaigns")).to_be_visible()
        shot("01-empty")

        # 2. A campaign that ends before it starts is refused in place (htmx, no reload), input kept.
        page.click("#campaign-new")
        expect(page.locator("h1")).to_have_text("Neue Kampagne")
        page.evaluate("window.__noReload = true")
        page.fill("#id_name", "Herbstaktion 2026")
        page.select_option("#id_goal", "leads")
        page.fill("#id_target_audience", "Familien mit kleinen Kindern in Köln")
        page.fill("#id_starts_on", f"{day:%Y-%m-%d}")
        page.fill("#id_ends_on", f"{day - timedelta(days=1):%Y-%m-%d}")
        page.fill("#id_colour", "#0f766e")
        page.click("#campaign-save")
        expect(page.locator("#campaign-form")).to_contain_text(
            "Die Kampagne kann nicht enden, bevor sie beginnt."
        )
        expect(page.locator("#id_name")).to_have_value("Herbstaktion 2026")
        refused = f"400 {live_server.url}/w/{workspace.pk}/campaigns/new/"
        assert problems == [refused]  # the answer that carried the errors, nothing else
        problems.clear()
        shot("02-refused")

        # 3. Fixed and saved: the list comes in without a reload and the address follows.
        page.fill("#id_ends_on", f"{day + timedelta(days=30):%Y-%m-%d}")
        page.click("#campaign-save")
        expect(page.locator(".messages")).to_contain_text("Kampagne „Herbstaktion 2026“ angelegt.")
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/campaigns/$"))
        assert page.evaluate("window.__noReload") is True
        campaign = Campaign.objects.get(workspace=workspace)
        row = page.locator(f"#campaign-{campaign.pk}")
        expect(row).to_contain_text("Kontakte (Leads)")
        expect(row).to_contain_text("Familien mit kleinen Kindern in Köln")
        expect(row).to_contain_text("0 Beiträge")
        assert (campaign.goal, campaign.colour) == ("leads", "#0f766e")
        shot("03-created")

        # 4. The composer offers the campaign; the post is scheduled in it.
        page.click("#nav-new-post")
        expect(page.locator("#id_campaign")).to_be_visible()
        expect(page.locator("label[for=id_campaign]")).to_contain_text("Kampagne")
        page.select_option("#id_campaign", str(campaign.pk))
        page.check(f"input[name=channels][value='{channel.pk}']")
        page.locator("#id_text").fill("Herbstferien-Tipp: Kürbisse schnitzen im Stadtgarten")
        page.fill("#id_schedule_at", f"{day:%Y-%m-%d}T10:00")
        shot("04-composer")
        page.click("#schedule")
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/posts/\d+/$"))
        expect(page.locator("#post-campaign")).to_contain_text("Herbstaktion 2026")
        post = Post.objects.get(text__startswith="Herbstferien-Tipp")
        assert post.campaign_id == campaign.pk
        variant = post.variants.get()
        shot("05-detail")

        # 5. The calendar shows both posts; the campaign filter leaves only the campaign's.
        page.click("#nav-calendar")
        page.goto(f"{live_server.url}/w/{workspace.pk}/calendar/?date={day.isoformat()}")
        expect(page.locator(f"#entry-{variant.pk}")).to_be_visible()
        expect(page.locator(f"#entry-{other_variant.pk}")).to_be_visible()
        page.evaluate("window.__noReload = true")
        page.click("#cal-filter-campaigns summary")
        page.check(f"#cal-filter-campaigns input[name=campaign][value='{campaign.pk}']")
        expect(page.locator(f"#entry-{other_variant.pk}")).to_have_count(0)
        expect(page.locator(f"#entry-{variant.pk}")).to_be_visible()
        expect(page).to_have_url(re.compile(rf"campaign={campaign.pk}"))
        assert page.evaluate("window.__noReload") is True
        shot("06-calendar-filtered")

        # 6. Back in the list the campaign counts its post.
        page.click("#nav-campaigns")
        expect(page.locator(f"#campaign-{campaign.pk}")).to_contain_text("1 Beitrag")
        assert problems == []
    finally:
        context.close()
