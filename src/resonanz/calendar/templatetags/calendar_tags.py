"""The calendar entry as one tag: rendered in Python because a busy week has more than a thousand."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from resonanz.calendar.selectors import Entry

register = template.Library()

_DRAGGABLE = mark_safe(' draggable="true"')


@register.simple_tag(takes_context=True)
def calendar_entry(context: Any, entry: Entry) -> SafeString:
    """A link to the post, coloured by channel (a stripe), with time, status and channel as text.

    Every value is escaped by ``format_html``; ``entry.color`` is a checked hex colour (``safe_color``).
    Scheduled entries are draggable for users who may schedule (``can_move``).
    """
    return format_html(
        '<a class="cal-entry status-{status}" href="{prefix}{post}/" id="entry-{variant}" data-post="{post}"'
        ' data-date="{date}" data-time="{hhmm}"{draggable}>'
        '<svg class="cal-stripe" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true"'
        ' focusable="false"><rect width="1" height="1" fill="{color}"/></svg>'
        '<span class="cal-meta"><time datetime="{iso}">{time}</time>'
        ' <span class="badge status-{status}">{label}</span></span>'
        '<span class="cal-title">{title}</span><span class="cal-channel">{network}: {handle}</span></a>',
        status=entry.status,
        prefix=context.get("post_prefix", ""),
        post=entry.post_id,
        variant=entry.variant_id,
        date=entry.local_date,
        hhmm=entry.local_time,
        draggable=_DRAGGABLE if context.get("can_move") and entry.is_scheduled else "",
        color=entry.color,
        iso=entry.when.isoformat(),
        time=formats.time_format(entry.when, "TIME_FORMAT"),
        label=entry.status_label,
        title=entry.title or context.get("no_text", ""),
        network=entry.network,
        handle=entry.handle,
    )
