"""The entries of the calendar across workspaces as HTML: the calendar's own entry (``EntryRenderer``),
but each links to its workspace's post page, is striped in its workspace's colour and says which
workspace it belongs to (its time is the workspace's own wall-clock time)."""

from __future__ import annotations

from html import escape

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from resonanz.calendar.selectors import Entry
from resonanz.calendar.templatetags.calendar_tags import EntryRenderer

from .selectors import CalendarWorkspace


class WorkspaceEntryRenderer(EntryRenderer):
    def __init__(self, *, workspaces: list[CalendarWorkspace], no_text: str) -> None:
        super().__init__(post_prefix="", can_move=False, no_text=no_text)
        self._labels: dict[int, tuple[str, str, str, str]] = {}
        for w in workspaces:
            ws = w.workspace
            # "/w/<id>/posts/" once per workspace (reverse() per entry is slow, as in the calendar).
            detail = reverse("web:post_detail", args=[ws.pk, 1])
            prefix = detail[: detail.rindex("/1/") + 1]
            self._labels[ws.pk] = (escape(prefix), escape(ws.name), escape(w.colour), escape(ws.time_zone))

    def entry(self, e: Entry) -> str:
        if e.workspace_id is None or e.workspace_id not in self._labels:
            return ""  # not one of the workspaces this page shows
        prefix, name, colour, zone = self._labels[e.workspace_id]
        esc = self._esc
        status = esc(e.status)
        title = escape(e.title) if e.title else self.no_text
        when = e.when
        return (
            f'<a class="cal-entry status-{status}" href="{prefix}{e.post_id}/" '
            f'id="entry-{e.variant_id}" data-post="{e.post_id}" data-workspace="{e.workspace_id}" '
            f'data-date="{when.date().isoformat()}" data-time="{when.hour:02d}:{when.minute:02d}">'
            '<svg class="cal-stripe" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true"'
            f' focusable="false"><rect width="1" height="1" fill="{colour}"/></svg>'
            f'<span class="cal-workspace">{name}</span>'
            f'<span class="cal-meta"><time datetime="{when.isoformat()}" title="{zone}">'
            f"{self.time_label(when)}</time>"
            f' <span class="badge status-{status}">{esc(e.status_label)}</span></span>'
            f'<span class="cal-title">{self.campaign(e)}{title}</span>'
            f'<span class="cal-channel">{self.network(e.network)}: {esc(e.handle)}</span></a>'
        )

    def items(self, entries: list[Entry]) -> SafeString:
        return mark_safe("".join(f"<li>{self.entry(e)}</li>" for e in entries))  # noqa: S308 - escaped above
