"""Helpers of the end-to-end browser journey (``test_journey.py``): browser sessions per user, numbered
screenshots, the catalog's words in the journey's language, a test image, and the worker loop."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import translation
from django.utils.translation import gettext
from PIL import Image, ImageDraw

from testsupport.browser import LOCALES, PASSWORD, TIMEOUT_MS, watch
from testsupport.tasks import run_ready_tasks


def tr(lang: str, msgid: str, **values: object) -> str:
    """``msgid`` as the German or English catalog has it (compiled .mo), formatted like the code does."""
    with translation.override(lang):
        text = gettext(msgid)
    return text % values if values else text


def poster_png(width: int = 640, height: int = 400) -> bytes:
    """A small, recognisable PNG (stripes and a label): well under Bluesky's 1 MB, no recompression."""
    img = Image.new("RGB", (width, height), "#fde68a")
    draw = ImageDraw.Draw(img)
    for i, colour in enumerate(("#dc2626", "#f97316", "#db2777", "#65a30d")):
        draw.rectangle((i * width // 4, height // 2, (i + 1) * width // 4, height), fill=colour)
    draw.text((24, 24), "Resonanz journey", fill="#111827")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


@dataclass
class Journey:
    """Numbered screenshots ``journey-<lang>-<NN>-<step>.png`` across all sessions of one language, and
    every console error, page error and failed request any of its pages reported."""

    browser: Any
    base_url: str
    lang: str
    directory: Path
    problems: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def session(self, *, width: int = 1280, height: int = 900) -> tuple[Any, Any]:
        context = self.browser.new_context(
            locale=LOCALES[self.lang], viewport={"width": width, "height": height}
        )
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        watch(page, self.problems, detailed=True)
        return context, page

    def shot(self, page: Any, step: str) -> None:
        path = self.directory / f"journey-{self.lang}-{len(self.shots) + 1:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    def login(self, page: Any, email: str, *, step: str) -> None:
        """allauth's login form, with a screenshot of it filled in (the password field shows dots)."""
        page.goto(f"{self.base_url}/accounts/login/")
        page.fill("input[name=login]", email)
        page.fill("input[name=password]", PASSWORD)
        self.shot(page, step)
        page.locator("form button[type=submit]").last.click()
        page.wait_for_url(re.compile(r"/(w/\d+/(inbox/)?|overview/)$"))  # dashboard, inbox or overview


def drive(until: Callable[[], bool], *, timeout: float = 30.0) -> None:
    """The worker, in-process: run ready tasks until ``until()`` holds (as publishing/tests/conftest)."""
    deadline = time.monotonic() + timeout
    while True:
        run_ready_tasks()
        if until():
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)
