# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""The analytics page in a real browser, in German: the charts are drawn by vega-embed from the script the
vl-convert wheel provides (no CDN, under the page's Content-Security-Policy: no eval, no inline styles), and
hovering a point of the engagement line shows its value in German number format.

Screenshot: ``artifacts/screenshots/analytics-de.png``.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from resonanz.analytics.views import _script_text
from resonanz.connectors.base import Engagement
from resonanz.engagement.services import engagement_store
from resonanz.posts.models import Post, Variant, VariantStatus
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser


def test_hovering_a_chart_point_shows_a_german_tooltip(
    browser, live_server, transactional_db, owner, workspace, mastodon
) -> None:
    from playwright.sync_api import expect

    now = timezone.now()
    post = Post.objects.create(workspace=workspace, author=owner, text="Herbstaktion")
    variant = Variant.objects.create(
        post=post, channel=mastodon, status=VariantStatus.PUBLISHED, remote_id="1", published_at=now
    )
    engagement_store(
        workspace=workspace,
        variant=Variant.objects.select_related("post", "channel").get(pk=variant.pk),
        engagement=Engagement(likes=1200, reposts=34, replies=5),
        taken_at=now,
    )

    _script_text()  # built once per installation (seconds); the page's load would wait for it
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = new_page(browser, "de", width=1280, height=900)
    try:
        login(page, live_server.url, owner.email)
        page.goto(f"{live_server.url}/w/{workspace.pk}/analytics/?period=7")
        chart = page.locator("#chart-engagements")
        expect(chart.locator("svg")).to_be_visible(timeout=30_000)
        expect(chart).to_contain_text("Vorheriger Zeitraum")  # the legend, in German
        # The point of today (the last of the current series): the one with the largest value.
        points = chart.locator("path[aria-roledescription='point']")
        expect(points.first).to_be_visible()
        count = points.count()
        target = None
        for index in range(count):
            label = points.nth(index).get_attribute("aria-label") or ""
            if "1.239" in label:
                target = points.nth(index)
                break
        assert target is not None, [points.nth(i).get_attribute("aria-label") for i in range(count)]
        target.hover()
        tooltip = page.locator("#vg-tooltip-element")
        expect(tooltip).to_be_visible()
        expect(tooltip).to_contain_text("1.239")
        expect(tooltip).to_contain_text("Interaktionen")
        page.screenshot(path=str(SCREENSHOTS / "analytics-de.png"), full_page=True)
        assert problems == []
    finally:
        context.close()
