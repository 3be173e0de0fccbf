# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""A real browser: upload a CSV with one bad row, read the reason in the report, confirm, find the posts.

Once with a German and once with an English browser; screenshots go to
``artifacts/screenshots/bulk-<lang>-<step>.png``. Reuses the browser fixtures of the web journey.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

# The shared Playwright fixtures (Debian's chromium; ORM calls beside Playwright's event loop).
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    TIMEOUT_MS,
    allow_orm_beside_playwright,
    browser,
    login,
    watch,
)

from .conftest import make_csv

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("lang", "locale"), [("de", "de-DE"), ("en", "en-US")])
def test_import_with_one_bad_row(
    browser, live_server, transactional_db, owner, workspace, make_channel, lang: str, locale: str
) -> None:
    from playwright.sync_api import expect

    make_channel("mastodon", handle="brand@social.example")
    make_channel("bluesky", base_url="https://bsky.social", handle="brand.bsky.social")
    day = (datetime.now(ZoneInfo(workspace.time_zone)) + timedelta(days=7)).date()
    data = make_csv(
        [
            [f"{day:%d.%m.%Y}", "09:00", "brand@social.example|brand.bsky.social", "Guten Morgen aus Köln!"],
            [f"{day:%d.%m.%Y}", "12:00", "brand@social.example", "Zu lang. " + "x" * 495],
            [day.isoformat(), "17:30", "brand.bsky.social", "Ein Thread, Teil 1"],
        ],
        encoding="cp1252",  # as German Excel saves "CSV (Trennzeichen-getrennt)"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    watch(page, problems)

    def shot(step: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"bulk-{lang}-{step}.png"), full_page=True)

    try:
        login(page, live_server.url, owner.email)
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/$"))

        # 1. Import/Export from the main navigation.
        page.click("#nav-bulk")
        expect(page).to_have_url(re.compile(rf"/w/{workspace.pk}/bulk/$"))
        expect(page.locator("html")).to_have_attribute("lang", lang)
        page.locator(".bulk-help summary").click()
        shot("01-index")

        # 2. Upload: every row is checked, nothing is imported yet.
        page.set_input_files("#id_file", files=[{"name": "plan.csv", "mimeType": "text/csv", "buffer": data}])
        page.click("#import-check")
        expect(page).to_have_url(re.compile(r"/bulk/import/\d+/$"))
        expect(page.locator("#row-2")).to_have_attribute("data-status", "valid")
        expect(page.locator("#row-4")).to_have_attribute("data-status", "valid")
        bad = page.locator("#row-3")
        expect(bad).to_have_attribute("data-status", "refused")
        expect(bad.locator(".bulk-issues li")).to_contain_text("Mastodon (brand@social.example)")
        expect(bad.locator(".bulk-issues li")).to_contain_text("504")
        expect(bad.locator(".bulk-issues li")).to_contain_text("500")
        expect(page.locator("#row-2")).to_contain_text("Köln")  # Windows-1252 read correctly
        shot("02-preview")

        # 3. Confirm: the two good rows are scheduled, the bad one is not imported.
        page.click("#confirm-import")
        expect(page.locator("#import-status")).to_have_text(re.compile(r"Importiert|Imported"))
        expect(page.locator("tr[data-status=imported]")).to_have_count(2)
        expect(page.locator("#row-3")).to_have_attribute("data-status", "refused")
        shot("03-report")

        # 4. The posts list shows them as scheduled.
        page.click("#nav-posts")
        rows = page.locator("#post-table tbody tr[data-status=scheduled]")
        expect(rows).to_have_count(2)
        expect(page.locator("#post-table")).to_contain_text("Guten Morgen aus Köln!")
        expect(page.locator("#post-table")).not_to_contain_text("Zu lang.")
        shot("04-posts")

        # 5. A calendar feed: the address is shown once.
        page.click("#nav-bulk")
        page.click("#manage-feeds")
        page.fill("#id_name", "Outlook Maria")
        page.click("#create-feed")
        expect(page.locator("#feed-url")).to_have_value(re.compile(r"/feeds/rzc_[0-9a-f]{12}_[\w-]+\.ics$"))
        shot("05-feed")
    finally:
        context.close()

    assert not problems, problems
