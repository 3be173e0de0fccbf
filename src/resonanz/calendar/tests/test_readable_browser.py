# ruff: noqa: F811 - pytest fixtures imported from testsupport.browser are used as arguments
"""Calendar entries stay readable (issue 8, #20: "titles and channel names are cut to uselessness;
'Verschieben' overflows its card"): measured in a real browser, German, at 1280 and 390 px.

A character counts as shown when its box (a DOM Range over it) lies inside the element's own box: text cut
by ``text-overflow`` lies right of it, text cut by a line clamp below it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from resonanz.channels.models import Channel
from resonanz.posts.models import Post
from testsupport.browser import (  # noqa: F401 - fixtures
    SCREENSHOTS,
    allow_orm_beside_playwright,
    browser,
    login,
    new_page,
)

pytestmark = pytest.mark.browser

TITLE = "Adventskalender Tür 24: großes Gewinnspiel mit Gutschein für alle Stammkunden"
HANDLE = "kundenservice-nord@social.example"
MIN_TITLE_CHARS = 20  # on one line or two
MIN_HANDLE_CHARS = 12

# Characters of ``el`` (all its text nodes, visually hidden ones excluded) whose box lies inside ``el``.
SHOWN_CHARS = """el => {
  const box = el.getBoundingClientRect();
  const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  let shown = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(".visually-hidden")) continue;
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const r = range.getBoundingClientRect();
      if (r.width === 0) continue;
      if (r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5
          && r.bottom <= box.bottom + 0.5) shown += node.data[i];
    }
  }
  return shown;
}"""


def _inside(inner: dict[str, float], outer: dict[str, float]) -> bool:
    return (
        inner["x"] >= outer["x"] - 0.5
        and inner["y"] >= outer["y"] - 0.5
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + 0.5
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + 0.5
    )


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("view", ["month", "week", "list"])
def test_titles_channels_and_the_move_link_stay_readable(
    browser,
    live_server,
    transactional_db,
    owner,
    workspace,
    make_channel: Callable[..., Channel],
    schedule: Callable[..., Post],
    view: str,
    width: int,
) -> None:
    tz = ZoneInfo(workspace.time_zone)
    day = (timezone.now().astimezone(tz) + timedelta(days=3)).date()
    channel = make_channel("mastodon", handle=HANDLE)
    post = schedule(datetime.combine(day, time(10, 15)), TITLE, channels=[channel])
    variant = post.variants.get()
    context, page, problems = new_page(browser, "de", width=width, height=900)
    try:
        login(page, live_server.url, owner.email)
        page.goto(f"{live_server.url}/w/{workspace.pk}/calendar/?view={view}&date={day.isoformat()}")
        entry = page.locator(f"#entry-{variant.pk}")
        entry.wait_for()
        entry.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / f"calendar-readable-{view}-{width}-de.png"), full_page=True)
        title = entry.locator(".cal-title").evaluate(SHOWN_CHARS)
        # Letters only: the space where a line wraps has no box, so it is not "shown".
        letters = "".join(title.split())
        assert len(letters) >= MIN_TITLE_CHARS, f"{view} at {width}px shows only {title!r}"
        assert "".join(TITLE.split()).startswith(letters), title  # from the start, in order
        channel_text = entry.locator(".cal-channel").evaluate(SHOWN_CHARS)
        handle_shown = channel_text.split(": ", 1)[-1].strip()  # after the network's name
        print(f"{view} {width}px: title {title.strip()!r}, channel {channel_text.strip()!r}")
        assert len(handle_shown) >= MIN_HANDLE_CHARS, f"{view} at {width}px shows only {channel_text!r}"
        if view == "list":
            move = page.locator(".cal-row", has=entry).locator(".cal-move-link")
            assert move.inner_text().startswith("Verschieben")
            box, row, card = (
                move.bounding_box(),
                page.locator(".cal-row", has=entry).bounding_box(),
                page.locator("#cal-list").bounding_box(),
            )
            assert box is not None
            assert row is not None
            assert card is not None
            assert _inside(box, row), f"'Verschieben' {box} outside its row {row} at {width}px"
            assert _inside(box, card), f"'Verschieben' {box} outside its card {card} at {width}px"
        width_now = page.evaluate("document.documentElement.scrollWidth")
        assert width_now <= width, f"{view} is {width_now}px wide at {width}px"
    finally:
        context.close()
    assert not problems, problems
