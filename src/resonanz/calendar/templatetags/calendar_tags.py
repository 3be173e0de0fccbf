"""The calendar entry as HTML, built in Python: a busy week can show hundreds of entries.

``EntryRenderer`` is made once per page (URL prefix, permission, the localised time format) and turns an
entry into its ``<a>`` with one f-string; every value that comes from users or networks goes through
``html.escape`` (what Django's ``escape`` does), the colour is a checked hex colour (``safe_color``) and
the rest are numbers and ISO dates. No ``format_html``, ``reverse()`` or template per entry.
"""

from __future__ import annotations

import functools
from datetime import datetime, time
from html import escape
from typing import Any

from django import template
from django.utils import dateformat, formats, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from resonanz.calendar.selectors import Entry, safe_color
from resonanz.connectors.registry import find_spec, network_display_name

register = template.Library()

_ZONE_FORMATS = "eIOTZcrU"  # format characters whose output depends on the time zone or the date


@functools.lru_cache(maxsize=4096)
def _time_label(language: str | None, time_format: str, hour: int, minute: int, second: int) -> str:
    with translation.override(language):
        return escape(dateformat.time_format(time(hour, minute, second), time_format))


class EntryRenderer:
    """Renders entries for one page (one language, one user)."""

    def __init__(self, *, post_prefix: str, can_move: bool, no_text: str) -> None:
        self.post_prefix = escape(post_prefix)
        self.can_move = can_move
        self.no_text = escape(str(no_text))
        self._times: dict[tuple[int, int, int, Any], str] = {}
        # The few distinct statuses, labels, colours, networks and handles of a page: escaped once each.
        self._escaped: dict[str, str] = {}
        self._networks: dict[str, str] = {}
        self._campaign_label = gettext("Campaign: %(name)s")
        self._campaigns: dict[int, str] = {}
        time_format = str(formats.get_format("TIME_FORMAT"))
        # Without a time zone in the format, a label depends only on the wall-clock time and the language.
        self._time_key = (
            None if any(c in time_format for c in _ZONE_FORMATS) else (get_language(), time_format)
        )

    def _esc(self, value: str) -> str:
        escaped = self._escaped.get(value)
        if escaped is None:
            escaped = self._escaped[value] = escape(value)
        return escaped

    def network(self, network: str) -> str:
        """The network's icon in its colour and its display name, escaped; once per network and page.
        Both come from the connector's declared brand (``spec.brand``)."""
        name = self._networks.get(network)
        if name is None:
            spec = find_spec(network)
            icon = ""
            if spec is not None and spec.brand.icon_path:
                icon = (
                    '<svg class="cal-net" viewBox="0 0 24 24" aria-hidden="true" focusable="false">'
                    f'<path fill="{safe_color(spec.brand.colour)}" d="{escape(spec.brand.icon_path)}"/></svg>'
                )
            name = self._networks[network] = icon + escape(network_display_name(network))
        return name

    def campaign(self, e: Entry) -> str:
        """The campaign marker: a dot in the campaign's colour, the name as tooltip and for screen
        readers; once per campaign and page (empty without a campaign)."""
        if e.campaign_id is None:
            return ""
        marker = self._campaigns.get(e.campaign_id)
        if marker is None:
            label = escape(self._campaign_label % {"name": e.campaign})
            marker = self._campaigns[e.campaign_id] = (
                f'<span class="cal-campaign" data-campaign="{e.campaign_id}" title="{label}">'
                '<svg class="cal-dot" viewBox="0 0 2 2" aria-hidden="true" focusable="false">'
                f'<circle cx="1" cy="1" r="1" fill="{escape(e.campaign_color)}"/></svg>'
                f'<span class="visually-hidden">({label}) </span></span>'
            )
        return marker

    def time_label(self, when: datetime) -> str:
        """The time of day as TIME_FORMAT (localised); the same few hundred times recur on every page."""
        if self._time_key is not None:
            return _time_label(*self._time_key, when.hour, when.minute, when.second)
        key = (when.hour, when.minute, when.second, when.utcoffset())
        label = self._times.get(key)
        if label is None:
            label = self._times[key] = escape(formats.time_format(when, "TIME_FORMAT"))
        return label

    def entry(self, e: Entry) -> str:
        """A link to the post, coloured by channel (a stripe), with time, status and channel as text and
        the campaign's marker. Scheduled entries are draggable for users who may schedule."""
        esc = self._esc
        status = esc(e.status)
        draggable = ' draggable="true"' if self.can_move and e.is_scheduled else ""
        title = escape(e.title) if e.title else self.no_text
        when = e.when
        return (
            f'<a class="cal-entry status-{status}" href="{self.post_prefix}{e.post_id}/" '
            f'id="entry-{e.variant_id}" data-post="{e.post_id}" data-date="{when.date().isoformat()}" '
            f'data-time="{when.hour:02d}:{when.minute:02d}"{draggable}>'
            '<svg class="cal-stripe" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true"'
            f' focusable="false"><rect width="1" height="1" fill="{esc(e.color)}"/></svg>'
            f'<span class="cal-meta"><time datetime="{when.isoformat()}">{self.time_label(when)}</time>'
            f' <span class="badge status-{status}">{esc(e.status_label)}</span></span>'
            f'<span class="cal-title">{self.campaign(e)}{title}</span>'
            f'<span class="cal-channel">{self.network(e.network)}: {esc(e.handle)}</span></a>'
        )

    def items(self, entries: list[Entry]) -> SafeString:
        """The entries as ``<li>`` items (month and week cells)."""
        return mark_safe("".join(f"<li>{self.entry(e)}</li>" for e in entries))  # noqa: S308 - escaped above


def renderer_for(context: Any) -> EntryRenderer:
    renderer = context.get("entry_renderer")
    if isinstance(renderer, EntryRenderer):
        return renderer
    return EntryRenderer(
        post_prefix=context.get("post_prefix", ""),
        can_move=bool(context.get("can_move")),
        no_text=context.get("no_text", ""),
    )


@register.simple_tag(takes_context=True)
def calendar_entry(context: Any, entry: Entry) -> SafeString:
    """One entry (the list view); see ``EntryRenderer.entry``."""
    return mark_safe(renderer_for(context).entry(entry))  # noqa: S308 - escaped in EntryRenderer
