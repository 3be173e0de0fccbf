"""The list's rows and filter form rendered in Python (views._rows_html, views._filter_html) give the
same HTML as the templates they replace, byte for byte, for every kind of row — and hostile text
(author, message, channel, assignee, a search) comes out escaped, never as markup."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from django.utils.datastructures import MultiValueDict

from resonanz.engagement import views
from resonanz.engagement.forms import FilterForm

LEGACY_ROWS = Template((Path(__file__).parent / "legacy_rows.html").read_text())
LEGACY_FORM = Template(
    "{% for field in filter_form %}<div>{{ field.label_tag }}{{ field }}</div>{% endfor %}"
)
HOSTILE = "<script>alert('x')</script> & \"quoted\" <img src=x onerror=alert(1)>"


def _row(n: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "pk": 1000 + n,
        "url": f"/w/1/inbox/{1000 + n}/",
        "who": "Anna Beispiel",
        "text": "Wann kommt meine Bestellung?",
        "language": None,
        "sentiment": None,
        "sentiment_value": None,
        "channel": "brand",
        "kind": "Replies",
        "status": "Open",
        "priority": "",
        "priority_label": "Normal",
        "assignee": None,
        "answered": False,
        "overdue": False,
        "timer": "",
        "due": "",
    }
    if over.get("timer"):
        row["due"] = "2026-12-04T09:30:00Z"
    row.update(over)
    return row


def _variety() -> list[dict[str, Any]]:
    """Every combination that changes the markup: assigned or not (a name, an e-mail, an empty name),
    language and sentiment badges, priority, answered / overdue / running timer / none."""
    assignees = [None, "Berta Agentin", "agent@example.com", ""]
    badges = [(None, None, None), ("Deutsch", None, None), ("English", "Negativ", "negative")]
    badges += [(None, "Positive", "positive"), ("Andere", "Neutral", "neutral")]
    priorities = [("", "Normal"), ("urgent", "Dringend"), ("low", "Low")]
    timers = [
        (True, False, ""),
        (False, True, "overdue by 2 hours"),
        (False, False, "answer within 5 minutes"),
    ]
    timers += [(False, False, "")]
    rows = []
    for n, (assignee, (lang, sent, value), (prio, prio_label), (answered, overdue, timer)) in enumerate(
        itertools.product(assignees, badges, priorities, timers)
    ):
        rows.append(
            _row(
                n,
                assignee=assignee,
                language=lang,
                sentiment=sent,
                sentiment_value=value,
                priority=prio,
                priority_label=prio_label,
                answered=answered,
                overdue=overdue,
                timer=timer,
            )
        )
    return rows


def _hostile_rows() -> list[dict[str, Any]]:
    return [
        _row(
            1,
            who=HOSTILE,
            text=HOSTILE,
            channel=HOSTILE,
            assignee=HOSTILE,
            language=HOSTILE,
            sentiment=HOSTILE,
            sentiment_value='x" onmouseover="alert(1)',
            priority='x"><script>alert(1)</script>',
            priority_label=HOSTILE,
            kind=HOSTILE,
            status=HOSTILE,
            timer=HOSTILE,
            url='/w/1/inbox/1/"><script>alert(1)</script>',
        ),
        _row(2, who="Tom & Jerry's <b>Laden</b>", text="1 < 2 > 0 &amp; ' \"", overdue=True, timer="x"),
    ]


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("kind", ["variety", "hostile", "empty"])
def test_rows_html_is_the_templates_html(language: str, kind: str) -> None:
    rows = {"variety": _variety, "hostile": _hostile_rows, "empty": list}[kind]()
    with translation.override(language):
        legacy = LEGACY_ROWS.render(Context({"rows": rows}))
        new = views._rows_html(rows)
    assert new == legacy
    if kind == "variety":
        assert len(rows) == 240
        assert new.count('<tr class="inbox-row') == len(rows)


def test_hostile_text_is_never_markup() -> None:
    html = views._rows_html(_hostile_rows())
    assert "<script>" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert 'onmouseover="' not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Tom &amp; Jerry&#x27;s &lt;b&gt;Laden&lt;/b&gt;" in html
    assert "&amp;amp;" in html  # an entity in the text is shown as typed, not decoded


CHANNELS = [(1, "brand"), (2, HOSTILE), (3, "Café Ümlaut")]
KINDS = ["direct_messages", "mentions", "replies"]


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize(
    "query",
    [
        None,  # the page without a query: the default filters as initial values
        {},
        {"status": ["open"], "assignee": ["mine"], "sentiment": ["negative"]},
        {"channel": ["2"], "kind": ["mentions"], "language": ["de"], "q": [HOSTILE]},
        {"channel": ["999"], "status": ["nonsense"], "q": ["x" * 300]},  # invalid: the fields' errors
        {"status": ["open", "closed"], "unrelated": ["1"]},
    ],
)
def test_filter_html_is_the_templates_html(language: str, query: dict[str, list[str]] | None) -> None:
    with translation.override(language):
        if query is None:
            form = FilterForm(initial=views.DEFAULT_FILTERS, channels=CHANNELS, kinds=KINDS)
            data = None
        else:
            form = FilterForm(MultiValueDict(query), channels=CHANNELS, kinds=KINDS)
            data = tuple((k, tuple(v)) for k, v in query.items())
        legacy = LEGACY_FORM.render(Context({"filter_form": form}))
        new = views._filter_html(language, 1, tuple(CHANNELS), tuple(KINDS), data)
    assert new == legacy
    assert "<script>" not in new


def test_the_page_and_the_poll_show_the_same_rows(workspace, mastodon, owner_client) -> None:
    """Through the views: the page's tbody holds exactly what the polling returns; an unchanged list
    is answered 304 to the browser's revalidation, a changed one 200 with a new ETag."""
    from .inbox_support import conversation_with

    conv = conversation_with(workspace, mastodon, "<script>alert(1)</script> Hallo")
    page = owner_client.get(reverse("engagement:inbox", args=[workspace.pk])).content.decode()
    rows_url = reverse("engagement:rows", args=[workspace.pk]) + "?status=open&assignee=all"
    poll = owner_client.get(rows_url, HTTP_HX_REQUEST="true")
    assert poll.status_code == 200
    body = poll.content.decode()
    assert f'id="conversation-{conv.pk}"' in body
    assert body in page
    assert "<script>alert(1)" not in page
    assert "private" in poll["Cache-Control"]
    assert "no-cache" in poll["Cache-Control"]
    again = owner_client.get(rows_url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=poll["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    conv.status = "closed"
    conv.save(update_fields=["status"])
    changed = owner_client.get(rows_url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=poll["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != poll["ETag"]
    assert 'id="inbox-empty"' in changed.content.decode()


def test_the_poll_stays_304_while_only_the_clock_moves(
    workspace, mastodon, owner_client, monkeypatch
) -> None:
    """An overdue row's text changes every minute ("overdue by 30 minutes" → "… 37 minutes"): the ETag
    covers the due instant, not the text, so the browser's revalidation 7 minutes later is still 304
    (with the text in the ETag no poll of a list with running timers was ever 304). The row carries its
    due instant for inbox.js; the page carries the words. Once the row changes, a new ETag and 200."""
    from datetime import timedelta

    from django.utils import timezone

    from .inbox_support import conversation_with

    conv = conversation_with(workspace, mastodon, "Wo bleibt meine Bestellung?")
    rows_url = reverse("engagement:rows", args=[workspace.pk]) + "?status=open&assignee=all"
    first = owner_client.get(rows_url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="de")
    body = first.content.decode()
    assert "überfällig" in body
    assert 'data-due="' in body
    later = timezone.now() + timedelta(minutes=7)
    monkeypatch.setattr(timezone, "now", lambda: later)  # Django's clock, seven minutes on
    moved = owner_client.get(rows_url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="de")
    assert moved.content.decode() != body  # the text did change …
    assert moved["ETag"] == first["ETag"]  # … the validator did not
    again = owner_client.get(
        rows_url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="de", HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert "no-cache" in again["Cache-Control"]
    conv.priority = "urgent"
    conv.save(update_fields=["priority"])
    changed = owner_client.get(
        rows_url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="de", HTTP_IF_NONE_MATCH=first["ETag"]
    )
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    page = owner_client.get(reverse("engagement:inbox", args=[workspace.pk]), HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert 'data-overdue="seit %(since)s überfällig"' in html
    assert "engagement/inbox" in html
    assert ".js" in html
