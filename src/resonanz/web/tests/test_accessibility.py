# ruff: noqa: F811 - pytest fixtures imported from the web browser tests are used as arguments
"""Accessibility of the main pages: axe-core (WCAG 2 A/AA rules) in German and English, and the keyboard.

axe runs in Debian's chromium through Playwright (``axe-playwright-python`` bundles axe-core). A page
fails on any violation of impact "serious" or "critical". A known violation in a template that another
part of the code owns is marked ``xfail(strict=True)`` naming the exact rule, so that the test turns red
(XPASS) the day it is fixed and the mark must go. Screenshots: ``artifacts/screenshots/a11y-*.png``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from resonanz.accounts.models import ApprovalMode, Role, User, Workspace
from resonanz.accounts.services import membership_set, workspace_create
from resonanz.approvals.services import approval_comment, post_submit_for_approval
from resonanz.bulk.models import ImportBatch
from resonanz.bulk.services import import_batch_create
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.notifications.services import notification_send
from resonanz.posts.models import Post, PostStatus, VariantStatus
from resonanz.posts.services import (
    MediaInput,
    PostInput,
    media_asset_create,
    post_create,
    post_schedule,
)
from testsupport.browser import SCREENSHOTS, TIMEOUT_MS, allow_orm_beside_playwright, browser  # noqa: F401

pytestmark = pytest.mark.browser

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
FAILING_IMPACTS = {"serious", "critical"}
LANGUAGES = [("de", "de-DE"), ("en", "en-US")]


@dataclass
class Site:
    workspace: Workspace
    owner: User
    post: Post
    batch: ImportBatch


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "#1d4ed8").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def site(workspace: Workspace, owner: User, make_channel: Callable[..., Channel], member) -> Site:
    """A workspace as a team has it after a week: channels, planned, failed and reviewed posts, an
    import preview and notifications."""
    workspace_create(organisation=workspace.organisation, name="Brand B", owner=owner)
    mastodon = make_channel("mastodon", handle="brand@social.example")
    bluesky = make_channel("bluesky", base_url="https://bsky.social", handle="brand.bsky.social")
    broken = make_channel("mastodon", handle="alt@social.example", remote_id="alt")
    broken.status = ChannelStatus.RECONNECT_NEEDED
    broken.last_error = "The access token was revoked."
    broken.save()
    now = timezone.now()
    for days, text in [(1, "Neue Kollektion ab Montag im Laden"), (3, "Rezept der Woche: Linsensuppe")]:
        planned = post_create(
            workspace=workspace,
            author=owner,
            data=PostInput(text=text, channel_ids=[mastodon.pk, bluesky.pk]),
        )
        post_schedule(workspace=workspace, post=planned, actor=owner, at=now + timedelta(days=days))
    failed = post_create(
        workspace=workspace, author=owner, data=PostInput(text="Sommerfest-Fotos", channel_ids=[mastodon.pk])
    )
    Post.objects.filter(pk=failed.pk).update(status=PostStatus.FAILED)
    failed.variants.update(status=VariantStatus.FAILED, last_error="Server answered 503.")

    campaign_create(workspace=workspace, actor=owner, name="Herbst", goal="leads", target_audience="Köln")
    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    contributor = member(Role.CONTRIBUTOR)
    asset = media_asset_create(
        workspace=workspace, data=_png(), filename="logo.png", actor=contributor, alt_text="Unser Logo"
    )
    post = post_create(
        workspace=workspace,
        author=contributor,
        data=PostInput(
            title="Herbstaktion",
            text="Herbstaktion: 20 % auf alle Jacken bis Sonntag.",
            thread=["Nur solange der Vorrat reicht."],
            channel_ids=[mastodon.pk, bluesky.pk],
            media=[MediaInput(asset_id=asset.pk, alt_text="Unser Logo")],
        ),
    )
    post = post_submit_for_approval(workspace=workspace, post=post, actor=contributor)
    approval_comment(
        workspace=workspace, post=post, actor=contributor, comment="Bitte bis Freitag freigeben."
    )
    csv = (
        "Datum;Uhrzeit;Kanäle;Text\r\n"
        "01.12.2099;09:00;brand@social.example;Adventskalender Tür 1\r\n"
        "02.12.2099;25:00;brand@social.example;Falsche Uhrzeit\r\n"
    ).encode()
    batch = import_batch_create(workspace=workspace, actor=owner, filename="plan.csv", data=csv)
    notification_send(
        workspace=workspace,
        recipients=[owner],
        kind="comment_added",
        params={
            "post": "Herbstaktion",
            "actor": contributor.email,
            "workspace": workspace.name,
            "comment": "ok",
        },
        url=reverse("web:post_detail", args=[workspace.pk, post.pk]),
    )
    return Site(workspace=workspace, owner=owner, post=post, batch=batch)


def _page_url(name: str, site: Site) -> str:
    ws = site.workspace.pk
    return {
        "login": reverse("account_login"),
        "dashboard": reverse("web:dashboard", args=[ws]),
        "posts": reverse("web:posts", args=[ws]),
        "composer": reverse("web:post_new", args=[ws]),
        "post-detail": reverse("web:post_detail", args=[ws, site.post.pk]),
        "channels": reverse("web:channels", args=[ws]),
        "calendar-month": reverse("calendar:index", args=[ws]) + "?view=month",
        "approvals": reverse("approvals:list", args=[ws]),
        "import-export": reverse("bulk:index", args=[ws]),
        "import-preview": reverse("bulk:import_detail", args=[ws, site.batch.pk]),
        "notifications": reverse("notifications:list"),
        "campaigns": reverse("campaigns:list", args=[ws]),
        "campaign-form": reverse("campaigns:new", args=[ws]),
        "calendar-week": reverse("calendar:index", args=[ws]) + "?view=week",
        "calendar-list": reverse("calendar:index", args=[ws]) + "?view=list",
        "not-found": reverse("web:post_detail", args=[ws, 999_999]),
        "forbidden": reverse("web:post_new", args=[ws]),
    }[name]


def _context(browser: Any, live_server: Any, user: User | None, locale: str) -> Any:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
    if user is not None:
        client = Client()
        client.force_login(user)
        context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
    return context


def axe_violations(page: Any) -> list[dict[str, Any]]:
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    return [v for v in results.response["violations"] if v["impact"] in FAILING_IMPACTS]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines += [f"    {node['target']} {node['html'][:160]}" for node in violation["nodes"][:8]]
    return "\n".join(lines)


PAGES = [
    "login",
    "dashboard",
    "posts",
    "composer",
    "post-detail",
    "channels",
    "calendar-month",
    "approvals",
    "import-export",
    "import-preview",
    "notifications",
    "campaigns",
    "campaign-form",
]
# Known violations in templates owned elsewhere: (page, rule) -> where. Strict: they flip when fixed.
KNOWN: dict[tuple[str, str], str] = {}


def _params() -> list[Any]:
    params = []
    for name in PAGES:
        for lang, locale in LANGUAGES:
            rules = {rule: where for (page, rule), where in KNOWN.items() if page == name}
            marks = (
                [
                    pytest.mark.xfail(
                        strict=True, reason="axe " + "; ".join(f"{r}: {w}" for r, w in rules.items())
                    )
                ]
                if rules
                else []
            )
            params.append(pytest.param(name, lang, locale, marks=marks, id=f"{name}-{lang}"))
    return params


@pytest.mark.parametrize(("name", "lang", "locale"), _params())
def test_axe_finds_no_serious_violation(
    browser, live_server, transactional_db, site: Site, name: str, lang: str, locale: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = _context(browser, live_server, None if name == "login" else site.owner, locale)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        response = page.goto(live_server.url + _page_url(name, site))
        assert response is not None
        assert response.status == 200
        page.wait_for_load_state("networkidle")
        assert page.locator("html").get_attribute("lang") == lang
        page.screenshot(path=str(SCREENSHOTS / f"a11y-{name}-{lang}.png"), full_page=True)
        violations = axe_violations(page)
    finally:
        context.close()
    assert not violations, describe(violations)


def _login_failed(page: Any, site: Site) -> None:
    page.fill("input[name=login]", site.owner.email)
    page.fill("input[name=password]", "wrong password 123")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")


def _open_switcher(page: Any, site: Site) -> None:
    page.locator("#workspace-switcher summary").click()


def _composer_over_limit(page: Any, site: Site) -> None:
    page.locator("input[name=channels]").first.check()
    page.locator("#id_text").fill("Zu lang. " * 70)
    page.locator("#id_text").press("End")
    page.wait_for_load_state("networkidle")


STATES: dict[str, tuple[str, Callable[[Any, Site], None] | None, dict[str, int] | None]] = {
    # state: (page, what to do there first, viewport)
    "login-error": ("login", _login_failed, None),
    "switcher-open": ("dashboard", _open_switcher, None),
    "composer-over-limit": ("composer", _composer_over_limit, None),
    "calendar-week": ("calendar-week", None, None),
    "calendar-list": ("calendar-list", None, None),
    "phone-dashboard": ("dashboard", None, {"width": 390, "height": 844}),
    "phone-calendar": ("calendar-month", None, {"width": 390, "height": 844}),
    "phone-post-detail": ("post-detail", None, {"width": 390, "height": 844}),
    "not-found": ("not-found", None, None),
    "forbidden": ("forbidden", None, None),
}


@pytest.mark.parametrize("state", list(STATES))
def test_axe_finds_no_serious_violation_in_other_states(
    browser, live_server, transactional_db, site: Site, member, state: str
) -> None:
    name, prepare, viewport = STATES[state]
    user = None if name == "login" else member(Role.ANALYST) if name == "forbidden" else site.owner
    context = _context(browser, live_server, user, "de-DE")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    if viewport:
        page.set_viewport_size(viewport)
    try:
        page.goto(live_server.url + _page_url(name, site))
        page.wait_for_load_state("networkidle")
        if prepare:
            prepare(page, site)
        page.screenshot(path=str(SCREENSHOTS / f"a11y-state-{state}-de.png"), full_page=True)
        violations = axe_violations(page)
    finally:
        context.close()
    assert not violations, describe(violations)


def test_no_page_scrolls_sideways_on_a_phone(browser, live_server, transactional_db, site: Site) -> None:
    """WCAG 1.4.10 reflow at 390 px: wide data tables scroll inside their own box, the page does not."""
    context = _context(browser, live_server, site.owner, "de-DE")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.set_viewport_size({"width": 390, "height": 844})
    wide = {}
    try:
        for name in [*PAGES, "calendar-week", "calendar-list"]:
            if name == "login":
                continue
            page.goto(live_server.url + _page_url(name, site))
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > 390:
                wide[name] = width
    finally:
        context.close()
    assert wide == {}


def test_axe_check_can_fail(browser) -> None:
    """The same check on a page with known faults finds them (the integration is live, not a no-op)."""
    page = browser.new_page()
    try:
        page.set_content(
            '<html><head><title>t</title></head><body><main><img src="x.png"><a href="#"></a>'
            '<input type="text"></main></body></html>'
        )
        found = {v["id"] for v in axe_violations(page)}
    finally:
        page.close()
    assert {"html-has-lang", "image-alt", "link-name", "label"} <= found


def _focus_style(page: Any) -> dict[str, Any]:
    style: dict[str, Any] = page.evaluate(
        r"""() => {
            const el = document.activeElement;
            const s = getComputedStyle(el);
            const r = el.getBoundingClientRect();
            const rgb = c => (c.match(/[\d.]+/g) || []).map(Number);
            const lum = c => {
                const [r, g, b] = rgb(c).slice(0, 3).map(v => v / 255).map(
                    v => v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4));
                return 0.2126 * r + 0.7152 * g + 0.0722 * b;
            };
            // The ring is drawn outside the element: measure it against the parent's background.
            let bg = 'rgb(255, 255, 255)';
            for (let p = el.parentElement; p; p = p.parentElement) {
                const c = getComputedStyle(p).backgroundColor;
                if (rgb(c).length === 3 || rgb(c)[3] > 0) { bg = c; break; }
            }
            if (el.classList.contains('skip-link')) {
                bg = getComputedStyle(document.querySelector('.site-header')).backgroundColor;
            }
            const [a, b] = [lum(s.outlineColor), lum(bg)].sort((x, y) => y - x);
            return {tag: el.tagName, id: el.id, text: (el.textContent || '').trim().slice(0, 40),
                    outline: s.outlineStyle, outlineWidth: parseFloat(s.outlineWidth),
                    ringContrast: (a + 0.05) / (b + 0.05), outlineColor: s.outlineColor, background: bg,
                    shadow: s.boxShadow, width: r.width, height: r.height, left: r.left, top: r.top};
        }"""
    )
    return style


def _visible_focus(style: dict[str, Any]) -> bool:
    """A focus ring of at least 2 px with 3:1 contrast against the background around it (WCAG 1.4.11)."""
    ring = style["outline"] != "none" and style["outlineWidth"] >= 2 and style["ringContrast"] >= 3
    return bool(ring and style["width"] > 0 and style["height"] > 0 and style["left"] >= 0)


@pytest.mark.parametrize(("lang", "locale"), LANGUAGES)
def test_keyboard_skip_link_and_visible_focus_on_the_dashboard(
    browser, live_server, transactional_db, site: Site, lang: str, locale: str
) -> None:
    context = _context(browser, live_server, site.owner, locale)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(live_server.url + _page_url("dashboard", site))
        page.keyboard.press("Tab")
        first = _focus_style(page)
        assert first["tag"] == "A"
        assert first["text"] == {"de": "Zum Inhalt springen", "en": "Skip to content"}[lang]
        assert _visible_focus(first), first
        page.screenshot(path=str(SCREENSHOTS / f"a11y-skip-link-{lang}.png"))
        # The skip link moves the focus to the main content: the next Tab is inside <main>.
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        assert page.evaluate("document.querySelector('main').contains(document.activeElement)")

        # From the top, every stop of the header, the navigation and the page shows where the focus is.
        page.goto(live_server.url + _page_url("dashboard", site))
        seen, invisible = [], []
        for _ in range(30):
            page.keyboard.press("Tab")
            style = _focus_style(page)
            if style["tag"] == "BODY":
                break
            seen.append(style)
            if not _visible_focus(style):
                invisible.append(style)
            if style["id"] == "nav-calendar":
                page.screenshot(path=str(SCREENSHOTS / f"a11y-focus-nav-{lang}.png"))
        assert len(seen) >= 10
        assert {"workspace-switcher", "nav-dashboard", "nav-calendar", "logout"} <= {
            s["id"] for s in seen
        } | {"workspace-switcher" if s["tag"] == "SUMMARY" else "" for s in seen}
        assert not invisible, invisible
    finally:
        context.close()


def test_keyboard_workspace_switch_keeps_the_calendar(
    browser, live_server, transactional_db, site: Site
) -> None:
    second = Workspace.objects.get(name="Brand B")
    context = _context(browser, live_server, site.owner, "en-US")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(live_server.url + reverse("calendar:index", args=[site.workspace.pk]) + "?view=week")
        summary = page.locator("#workspace-switcher summary")
        summary.focus()
        page.keyboard.press("Enter")  # opens the <details>
        link = page.locator("#workspace-switcher a", has_text="Brand B")
        assert link.is_visible()
        page.screenshot(path=str(SCREENSHOTS / "a11y-switcher-open-en.png"))
        link.focus()
        assert _visible_focus(_focus_style(page))
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/w/{second.pk}/calendar/?view=week*")
        assert page.locator("#nav-calendar[aria-current=page]").count() == 1
    finally:
        context.close()


def test_dashboard_of_an_analyst_with_one_workspace_is_accessible(
    browser, live_server, transactional_db, site: Site, make_user
) -> None:
    """A user with one workspace gets the switcher too (it names the workspace); the list has one link."""
    analyst = make_user("solo@example.com")
    membership_set(workspace=site.workspace, user=analyst, role=Role.ANALYST)
    context = _context(browser, live_server, analyst, "de-DE")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(live_server.url + _page_url("dashboard", site))
        assert page.locator("#workspace-switcher a").count() == 1
        violations = axe_violations(page)
    finally:
        context.close()
    assert not violations, describe(violations)
