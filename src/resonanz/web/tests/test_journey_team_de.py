# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""Issue 8's "done when", in German, in the browser: a new agency owner sets up her team without the
Django admin.

Sabine Hoffmann has just installed Resonanz: ``resonanz manage bootstrap`` (what ``resonanz up`` runs)
made her the first owner, of "Agentur Lichtblick" with one workspace. In a German Chromium
(``--lang=de-DE``, locale de-DE) she signs in, creates two client workspaces ("Bäckerei Sonnenschein"
without approval, "Autohaus Berger" with one approval step) from the workspace settings, invites an
editor to the bakery and the car dealer's approver (an editor there: editors approve) from the members
page, creates a read-and-write API token for the bakery on the API tokens page and copies its secret.
Each invitee accepts through the link in her e-mail in a browser of her own (a second context), which
creates her account. Then the README's curl example runs, as it stands, with the token from the page
(``curl`` as a subprocess against the live server; only the address, workspace, channel and post ids are
this server's), and Sabine sees the post "Geplant" at 09:00 on the post page.

The bakery's channel is a Mastodon channel with cached instance settings made in the database (connecting
a network is the channels' own journey); nothing is published: no worker runs.
Screenshots: ``artifacts/screenshots/team-*.png``.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from resonanz.accounts.models import ApiToken, ApprovalMode, Membership, Role, User, Workspace
from resonanz.channels.models import Channel
from resonanz.conftest import MASTODON_INSTANCE_SETTINGS
from resonanz.core.timezones import zone
from resonanz.posts.models import Post, PostStatus
from resonanz.web.tests.journey_support import tr
from testsupport.browser import (  # noqa: F401 - fixtures
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    TIMEOUT_MS,
    allow_orm_beside_playwright,
    login,
)

pytestmark = pytest.mark.browser

README = Path(__file__).resolve().parents[4] / "README.md"
OWNER_EMAIL = "sabine@lichtblick.example"
OWNER_PASSWORD = "Sonnenaufgang-2026!"
INVITEE_PASSWORD = "Morgenrot-über-Köln-7"


def de(msgid: str, **values: object) -> str:
    return tr("de", msgid, **values)


@pytest.fixture(scope="module")
def german_browser(allow_orm_beside_playwright: None) -> Iterator[Any]:
    """Debian's chromium in German, as a German user's browser is."""
    if not CHROMIUM.exists():
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    env: dict[str, str | float | bool] = {
        **os.environ,
        "LANG": "de_DE.UTF-8",
        "LANGUAGE": "de",
        "LC_ALL": "de_DE.UTF-8",
    }
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, "--lang=de-DE"], env=env
        )
        yield launched
        launched.close()


def readme_curl_commands() -> list[str]:
    """The README's "API in one minute" block: its commands, continuation lines joined, without the
    headless token line (the token comes from the page here)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## API in one minute", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's curl example is missing"
    joined = re.sub(r"\\\n\s*", "", block.group(1))
    commands = [line.strip() for line in joined.splitlines() if line.strip()]
    assert commands[0].startswith("TOKEN=$("), commands[0]
    assert all(c.startswith("curl ") for c in commands[1:]), commands
    return commands[1:]


def run_curl(command: str, token: str) -> dict[str, Any] | list[Any]:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        env={**os.environ, "TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{command}\n{result.stderr}\n{result.stdout}"
    answer: dict[str, Any] | list[Any] = json.loads(result.stdout)
    return answer


def _invitation_path(message: mail.EmailMessage) -> str:
    match = re.search(r"/invitations/(inv_[\w-]+)/", str(message.body))
    assert match, message.body
    return match.group(0)


def test_new_agency_owner_sets_up_her_team_and_schedules_with_curl_in_german(
    german_browser: Any,
    live_server: Any,
    transactional_db: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import expect

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shot(page: Any, step: str) -> None:
        path = SCREENSHOTS / f"team-{len(shots) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

    # -- the installation made her the first owner (no Django admin) ------------------------------
    assert not User.objects.exists()
    monkeypatch.setenv("RESONANZ_ADMIN_EMAIL", OWNER_EMAIL)
    monkeypatch.setenv("RESONANZ_ADMIN_PASSWORD", OWNER_PASSWORD)
    monkeypatch.setenv("RESONANZ_ORGANISATION", "Agentur Lichtblick")
    monkeypatch.setenv("RESONANZ_WORKSPACE", "Agentur intern")
    call_command("bootstrap", stdout=open(os.devnull, "w"))  # noqa: SIM115 - closed with the process
    owner = User.objects.get(email=OWNER_EMAIL)
    base = live_server.url
    problems: list[str] = []

    def german_page() -> tuple[Any, Any]:
        context = german_browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda exc: problems.append(str(exc)))
        return context, page

    context, page = german_page()
    try:
        login(page, base, OWNER_EMAIL, password=OWNER_PASSWORD)
        expect(page.locator("html")).to_have_attribute("lang", "de")

        # -- two client workspaces, from the workspace settings ----------------------------------
        def create_workspace(name: str, approval: int) -> Workspace:
            page.click("#user-menu summary")
            page.click("#menu-workspace-settings")
            expect(page.locator("h1")).to_have_text(de("Workspace settings"))
            page.click("#new-workspace")
            expect(page.locator("h1")).to_have_text(de("New workspace"))
            page.fill("#id_name", name)
            page.select_option("#id_time_zone", "Europe/Berlin")
            page.select_option("#id_language", "de")
            page.select_option("#id_approval_mode", str(approval))
            page.click("#create-workspace")
            expect(page.locator(".messages")).to_be_visible()
            created = Workspace.objects.get(name=name)
            assert page.url.endswith(reverse("web:workspace_settings", args=[created.pk]))
            expect(page.locator("#id_name")).to_have_value(name)
            return created

        bakery = create_workspace("Bäckerei Sonnenschein", ApprovalMode.NONE)
        shot(page, "bakery-created")
        dealer = create_workspace("Autohaus Berger", ApprovalMode.ONE_STEP)
        assert (bakery.language, dealer.approval_mode) == ("de", ApprovalMode.ONE_STEP)
        assert {m.role for m in Membership.objects.filter(user=owner, workspace__in=[bakery, dealer])} == {
            Role.OWNER
        }

        # -- invitations, from the members page --------------------------------------------------
        def invite(workspace: Workspace, email: str, role: str) -> None:
            page.goto(base + reverse("web:workspace_settings", args=[workspace.pk]))
            page.click("#settings-members")
            page.fill("#id_email", email)
            page.select_option("#id_role", role)
            page.click("#send-invitation")
            expect(page.locator("#invitations")).to_contain_text(email)

        invite(bakery, "lena.koch@lichtblick.example", Role.EDITOR)
        invite(dealer, "thomas.berger@autohaus-berger.example", Role.EDITOR)
        shot(page, "invitations")
        assert len(mail.outbox) == 2
        assert all("Einladung" in m.subject for m in mail.outbox)  # the workspaces' language: German

        # -- an API token for the bakery, on the page --------------------------------------------
        page.click("#user-menu summary")
        page.click("#menu-tokens")
        expect(page.locator("h1")).to_have_text(de("API tokens"))
        page.fill("#id_name", "CMS-Import")
        page.check(f"input[name=workspaces][value='{bakery.pk}']")
        page.check("input[name=access][value=write]")
        page.click("#create-token")
        secret = page.locator("#secret").inner_text().strip()
        shot(page, "token")
        assert secret
        token = ApiToken.objects.get(name="CMS-Import")
        assert (token.read_only, list(token.workspaces.all())) == (False, [bakery])
    finally:
        context.close()

    # -- each invitee accepts in her own browser ---------------------------------------------------
    for message, name, workspace in (
        (mail.outbox[0], "Lena Koch", bakery),
        (mail.outbox[1], "Thomas Berger", dealer),
    ):
        invitee_context, invitee = german_page()
        try:
            invitee.goto(base + _invitation_path(message))
            expect(invitee.locator("h1")).to_have_text(de("Join %(name)s", name=workspace.name))
            invitee.fill("#id_name", name)
            invitee.fill("#id_password1", INVITEE_PASSWORD)
            invitee.fill("#id_password2", INVITEE_PASSWORD)
            invitee.click("#accept-invitation")
            invitee.wait_for_url(re.compile(rf"/w/{workspace.pk}/$"))
            expect(invitee.locator("html")).to_have_attribute("lang", "de")
            if name == "Thomas Berger":
                shot(invitee, "approver-joined")
        finally:
            invitee_context.close()
        user = User.objects.get(email=message.to[0])
        assert Membership.objects.get(user=user, workspace=workspace).role == Role.EDITOR
        assert user.name == name

    # -- the README's curl example with the token from the page ------------------------------------
    channel = Channel.objects.create(
        workspace=bakery,
        network="mastodon",
        base_url="https://social.example",
        handle="baeckerei@social.example",
        remote_id="mastodon-baeckerei",
        credentials={"access_token": "x"},
        settings=copy.deepcopy(MASTODON_INSTANCE_SETTINGS),
    )
    listing, create, schedule = readme_curl_commands()

    def here(command: str) -> str:
        return (
            command.replace("http://127.0.0.1:8000", base)
            .replace("/workspaces/1/", f"/workspaces/{bakery.pk}/")
            .replace('"channel_ids": [1]', f'"channel_ids": [{channel.pk}]')
        )

    workspaces = run_curl(here(listing), secret)
    assert [w["name"] for w in workspaces] == ["Bäckerei Sonnenschein"]  # type: ignore[index]
    created = run_curl(here(create), secret)
    assert isinstance(created, dict)
    scheduled = run_curl(here(schedule).replace("<id>", str(created["id"])), secret)
    assert isinstance(scheduled, dict)
    assert scheduled["status"] == PostStatus.SCHEDULED
    post = Post.objects.get(pk=created["id"], workspace=bakery)
    assert post.status == PostStatus.SCHEDULED
    assert post.scheduled_at is not None
    local = post.scheduled_at.astimezone(zone(bakery.time_zone))
    assert (local.year, local.month, local.day, local.hour, local.minute) == (2030, 6, 3, 9, 0)

    # -- and she sees it scheduled in the app ------------------------------------------------------
    context, page = german_page()
    try:
        login(page, base, OWNER_EMAIL, password=OWNER_PASSWORD)
        page.goto(base + reverse("web:post_detail", args=[bakery.pk, post.pk]))
        expect(page.locator("#post-status")).to_have_text(de("Scheduled"))
        expect(page.locator("body")).to_contain_text("Frische Brötchen ab 7 Uhr!")
        expect(page.locator("body")).to_contain_text("03.06.2030")
        expect(page.locator("body")).to_contain_text("09:00")
        shot(page, "scheduled-by-curl")
    finally:
        context.close()
    assert problems == []
