"""Shared pieces of the browser tests: Debian's chromium through Playwright, and signing in.

Playwright's own browser download does not work here; the tests drive the system browser
(``apt-get install -y chromium``) and are skipped when it is missing. Use the fixtures by importing them
into a test module (pytest registers fixtures found in a module's namespace)::

    from testsupport.browser import allow_orm_beside_playwright, browser  # noqa: F401 - fixtures
    from testsupport.browser import login, new_page
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"  # the conftest's make_user default
TIMEOUT_MS = 10_000
LOCALES = {"de": "de-DE", "en": "en-US"}


@pytest.fixture(scope="module", autouse=True)
def allow_orm_beside_playwright() -> Iterator[None]:
    # Playwright's sync API runs an asyncio loop in this thread; Django would then refuse ORM calls made
    # by the test's fixtures ("You cannot call this from an async context"). They are not async code.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


def launch_chromium(playwright: Any) -> Any:
    """Debian's chromium, headless, with the flags a container needs."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser(allow_orm_beside_playwright: None) -> Iterator[Any]:
    """One headless chromium per test module (skipped when the system browser is not installed)."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


def watch(
    page: Any, problems: list[str], *, detailed: bool = False, ignore_failed_resources: bool = True
) -> None:
    """Collect into ``problems`` what a page reports: console errors, uncaught page errors and answers
    with status 400 or more (except /favicon.ico). "Failed to load resource" console lines are skipped by
    default (the failed request itself is recorded, with its URL). ``detailed`` prefixes the kind and
    names the request method."""

    def console(message: Any) -> None:
        if message.type != "error":
            return
        if ignore_failed_resources and message.text.startswith("Failed to load resource"):
            return
        problems.append(f"console: {message.text}" if detailed else message.text)

    def page_error(exc: Any) -> None:
        problems.append(f"pageerror: {exc}" if detailed else str(exc))

    def response(answer: Any) -> None:
        if answer.status >= 400 and not answer.url.endswith("/favicon.ico"):
            method = f"{answer.request.method} " if detailed else ""
            problems.append(f"{answer.status} {method}{answer.url}")

    page.on("console", console)
    page.on("pageerror", page_error)
    page.on("response", response)


def new_page(
    browser: Any, lang: str = "en", *, width: int = 1280, height: int = 900
) -> tuple[Any, Any, list[str]]:
    """A fresh browser context in ``lang`` (``de`` or ``en``, or a locale like ``de-DE``) and its page,
    with the default timeout and the list of problems it reports (see ``watch``)."""
    context = browser.new_context(locale=LOCALES.get(lang, lang), viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems: list[str] = []
    watch(page, problems)
    return context, page, problems


def login(page: Any, base_url: str, email: str, *, password: str = PASSWORD) -> None:
    """Sign in through allauth's form and wait for the landing page (dashboard or agency overview)."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(re.compile(r"/(w/\d+/(inbox/)?|overview/)$"))  # dashboard, inbox or overview


__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "LOCALES",
    "PASSWORD",
    "SCREENSHOTS",
    "TIMEOUT_MS",
    "allow_orm_beside_playwright",
    "browser",
    "launch_chromium",
    "login",
    "new_page",
    "watch",
]
