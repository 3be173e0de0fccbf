"""Views of the calendar: month/week/list, moving a scheduled post, the queue-slot editor.

Thin like the rest of the web UI: parse the query, call selectors/services with the workspace, render.
HTMX requests aimed at ``#calendar-body`` (navigation, filters, drops) get only that part of the page;
everything also works as plain links and forms.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import dates, formats, timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.permissions import Action
from resonanz.campaigns.selectors import campaign_options
from resonanz.channels.models import Channel
from resonanz.channels.selectors import channel_get, channel_list
from resonanz.core.timezones import LocalTimeError, zone
from resonanz.posts.models import Post, VariantStatus
from resonanz.posts.selectors import post_get
from resonanz.posts.services import PostError, post_schedule_local, queue_next_free_slot, queue_slot_set
from resonanz.web.forms import to_local_value
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import MoveForm, SlotGridForm
from .grid import GridRenderer
from .periods import (
    MONTH_ENTRIES_PER_DAY,
    WEEK_ENTRIES_PER_HOUR,
    Period,
    View,
    list_days,
    month_weeks,
    parse_anchor,
    week_rows,
)
from .selectors import (
    calendar_authors,
    calendar_capped,
    calendar_channels,
    calendar_entries,
    calendar_statuses,
)
from .templatetags.calendar_tags import EntryRenderer

BODY_ID = "calendar-body"
NEXT_FREE_SLOTS = 5
# Domain errors whose message is meant for the user (already translated by the service).
SERVICE_ERRORS = (PostError, LocalTimeError, PermissionDenied)


# -- the calendar -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """``?channel=&author=&status=&campaign=`` (each repeatable); ``None`` = not filtered."""

    channel_ids: list[int] | None = None
    author_ids: list[int] | None = None
    statuses: list[str] | None = None
    campaign_ids: list[int] | None = None

    @classmethod
    def from_query(cls, query: QueryDict) -> Filters:
        def ids(name: str) -> list[int] | None:
            values = [int(v) for v in query.getlist(name) if v.isdigit()]
            return values or None

        known = {value for value, _label in calendar_statuses()}
        statuses = [s for s in query.getlist("status") if s in known]
        return cls(ids("channel"), ids("author"), statuses or None, ids("campaign"))

    def items(self) -> list[tuple[str, str]]:
        return [
            *[("channel", str(i)) for i in self.channel_ids or []],
            *[("author", str(i)) for i in self.author_ids or []],
            *[("status", s) for s in self.statuses or []],
            *[("campaign", str(i)) for i in self.campaign_ids or []],
        ]

    @property
    def active(self) -> bool:
        return bool(self.items())


def _is_partial(request: HttpRequest, target: str) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and htmx.target == target  # type: ignore[union-attr]


def _today(scope: Scope) -> date:
    return timezone.now().astimezone(zone(scope.workspace.time_zone)).date()


def _calendar_context(scope: Scope, query: QueryDict, *, full_page: bool) -> dict[str, Any]:
    ws = scope.workspace
    today = _today(scope)
    try:
        view = View(query.get("view", View.MONTH))
    except ValueError:
        view = View.MONTH
    period = Period.around(view, parse_anchor(query.get("date"), today))
    filters = Filters.from_query(query)
    start, end = period.instants(ws.time_zone)
    selection: dict[str, Any] = {
        "workspace": ws,
        "start": start,
        "end": end,
        "channel_ids": filters.channel_ids,
        "author_ids": filters.author_ids,
        "statuses": filters.statuses,
        "campaign_ids": filters.campaign_ids,
    }
    totals = None
    if view in {View.MONTH, View.WEEK}:
        # Only what the grid shows, picked by the database, plus each day's (hour's) count for "+N more".
        by_hour = view == View.WEEK
        cap = WEEK_ENTRIES_PER_HOUR if by_hour else MONTH_ENTRIES_PER_DAY
        capped = calendar_capped(cap=cap, by_hour=by_hour, **selection)
        entries, totals = capped.entries, capped.totals
    else:
        entries = calendar_entries(**selection)
    index = reverse("calendar:index", args=[ws.pk])
    move = reverse("calendar:move", args=[ws.pk])

    def url(v: View, day: date) -> str:
        return f"{index}?{urlencode([('view', v.value), ('date', day.isoformat()), *filters.items()])}"

    state = urlencode([("view", view.value), ("date", period.anchor.isoformat()), *filters.items()])
    here = f"{index}?{state}"
    post_detail = reverse("web:post_detail", args=[ws.pk, 1])
    # Entry links are built by string concatenation: reverse() for hundreds of entries is slow.
    post_prefix = post_detail[: post_detail.rindex("/1/") + 1]
    can_move = scope.can(Action.SCHEDULE_POST)
    no_text = _("(no text)")
    renderer = EntryRenderer(post_prefix=post_prefix, can_move=can_move, no_text=no_text)
    context: dict[str, Any] = {
        "view": view.value,
        "period": period,
        "period_last": period.end - timedelta(days=1),
        "today": today,
        "filters": filters,
        "state_query": state,
        "no_text": no_text,
        "entry_count": sum(totals.values()) if totals is not None else len(entries),
        "can_move": can_move,
        "post_prefix": post_prefix,
        "entry_renderer": renderer,
        "urls": {
            "here": here,
            "previous": url(view, period.previous),
            "next": url(view, period.next),
            "today": url(view, today),
            "month": url(View.MONTH, period.anchor),
            "week": url(View.WEEK, period.anchor),
            "list": url(View.LIST, period.anchor),
            # "+N more": every entry of that day (with the same filters).
            "day": f"{index}?{urlencode([('view', View.DAY.value), *filters.items()])}&date=",
            "move": move,
            "move_link": f"{move}?{urlencode({'next': here})}&post=",
        },
    }
    grid = GridRenderer(day_url=context["urls"]["day"], can_move=can_move)
    if view == View.MONTH:
        context["weeks"] = weeks = month_weeks(period, entries, today, totals=totals)
        for cell in (c for week in weeks for c in week if c.entries):
            cell.html = renderer.items(cell.entries)
        context["grid_body"] = grid.month_body(weeks)
    elif view == View.WEEK:
        context["rows"] = rows = week_rows(period, entries, today, totals=totals)
        busy = {e.when.date() for e in entries}
        # (day, is today, has posts): the phone's agenda says "No posts" under an empty day.
        context["week_days"] = [(day, day == today, day in busy) for day in period.days()]
        for cell in (c for row in rows for c in row.cells if c.entries):
            cell.html = renderer.items(cell.entries)
        context["grid_body"] = grid.week_body(rows)
    else:
        context["days"] = list_days(entries, today)
    if full_page:
        context["channels"] = list(calendar_channels(workspace=ws))
        # Dicts, not model instances: a workspace can have many members.
        context["authors"] = list(calendar_authors(workspace=ws).values("pk", "name", "email"))
        context["campaigns"] = list(campaign_options(workspace=ws))
        context["statuses"] = calendar_statuses()
    return context


def _calendar_response(
    request: HttpRequest, scope: Scope, query: QueryDict, extra: dict[str, Any] | None = None
) -> HttpResponse:
    partial = _is_partial(request, BODY_ID)
    context = {**_calendar_context(scope, query, full_page=not partial), **(extra or {})}
    template = "calendar/_response.html" if partial else "calendar/calendar.html"
    response = render_scoped(request, scope, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


@require_GET
@workspace_view()
def calendar_index(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _calendar_response(request, scope, request.GET)


# -- moving a post ------------------------------------------------------------------------------


def _move(scope: Scope, post: Post, form: MoveForm) -> Post:
    if not any(v.status == VariantStatus.SCHEDULED for v in post.variants.all()):
        raise PostError(_("Only scheduled posts can be moved."), code="not_scheduled")
    return post_schedule_local(
        workspace=scope.workspace,
        post=post,
        actor=scope.user,
        local=form.cleaned_data["local"],
        fold=form.cleaned_data["fold"],
    )


def _form_error(form: MoveForm) -> str:
    return " ".join(str(m) for errors in form.errors.values() for m in errors)


def _moved_message(scope: Scope, post: Post) -> str:
    if post.scheduled_at is None:  # a moved post has its new time
        raise ValueError("a moved post has no time")
    local = post.scheduled_at.astimezone(zone(scope.workspace.time_zone))
    when = formats.date_format(local, "SHORT_DATETIME_FORMAT")
    title = Truncator(str(post)).words(8, truncate="…")
    return _("Moved “%(post)s” to %(when)s") % {"post": title, "when": when}


def _next_url(request: HttpRequest, scope: Scope, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("calendar:index", args=[scope.workspace.pk])


def _move_page(
    request: HttpRequest, scope: Scope, post: Post, form: MoveForm, next_url: str, *, status: int = 200
) -> HttpResponse:
    return render_scoped(
        request,
        scope,
        "calendar/move.html",
        {"post": post, "form": form, "next_url": next_url},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Action.SCHEDULE_POST)
def calendar_move(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Reschedule a post to a local date/time: the drop target of drag and drop (HTMX, answers with the
    re-rendered calendar), and a plain form (GET shows it, POST redirects back to ``next``)."""
    ws = scope.workspace
    if request.method == "GET":
        raw = request.GET.get("post", "")
        shown = or_404(post_get, workspace=ws, post_id=int(raw) if raw.isdigit() else 0)
        initial: dict[str, Any] = {"post": shown.pk}
        if shown.scheduled_at is not None:
            initial["local"] = to_local_value(shown.scheduled_at, ws.time_zone)
        form = MoveForm(initial=initial, time_zone=ws.time_zone)
        return _move_page(request, scope, shown, form, _next_url(request, scope, request.GET.get("next")))

    form = MoveForm(request.POST, time_zone=ws.time_zone)
    next_url = _next_url(request, scope, request.POST.get("next"))
    partial = _is_partial(request, BODY_ID)
    post_id: int | None = form.cleaned_data["post"] if form.is_valid() else None
    if post_id is None and not partial:  # the form page needs the post to show the errors
        raw = request.POST.get("post", "")
        post_id = int(raw) if raw.isdigit() else 0
    post = or_404(post_get, workspace=ws, post_id=post_id) if post_id is not None else None
    error, error_field, moved = "", None, None  # type: str, str | None, Post | None
    if post is not None and form.is_valid():
        try:
            moved = _move(scope, post, form)
        except LocalTimeError as exc:
            error, error_field = exc.message, "local"
            if exc.code == "ambiguous_local_time":
                form.offer_fold(form.cleaned_data["local"])
        except SERVICE_ERRORS as exc:
            error = getattr(exc, "message", "") or str(exc) or _("Your role does not allow this action.")
            if getattr(exc, "code", "") == "past_time":
                error_field = "local"
    else:
        error = _form_error(form)
    if partial:
        # Always 200: htmx swaps only successful responses, and the error belongs next to the calendar.
        return _calendar_response(
            request,
            scope,
            request.GET,
            {
                "move_error": error,
                "move_done": _moved_message(scope, moved) if moved else "",
                "move_form": form if error and form.show_fold else None,
            },
        )
    if moved is not None:
        messages.success(request, _moved_message(scope, moved))
        return HttpResponseRedirect(next_url)
    if post is None:  # not partial: post_id was set above, so or_404 found the post or raised
        raise Http404
    if error and not form.errors:
        form.add_error(error_field, error)
    return _move_page(request, scope, post, form, next_url, status=400)


# -- queue slots --------------------------------------------------------------------------------


def _weekdays(*, short: bool = False) -> list[tuple[int, str]]:
    names = dates.WEEKDAYS_ABBR if short else dates.WEEKDAYS
    return [(i, str(names[i])) for i in range(7)]


def _slot_card(
    scope: Scope, channel: Channel, form: SlotGridForm | None = None, *, saved: bool = False
) -> dict[str, Any]:
    ws = scope.workspace
    slots = {(s.weekday, s.time.strftime("%H:%M")) for s in channel.queue_slots.all()}
    times = sorted({hhmm for _day, hhmm in slots})
    weekdays, abbr = _weekdays(), _weekdays(short=True)
    rows = [
        {
            "time": datetime.strptime(hhmm, "%H:%M").time(),  # noqa: DTZ007 - a wall-clock time of day
            "cells": [
                {"value": f"{day}-{hhmm}", "checked": (day, hhmm) in slots, "day": name}
                for day, name in weekdays
            ],
        }
        for hhmm in times
    ]
    free: list[datetime] = []
    taken: set[datetime] = set()
    for _i in range(NEXT_FREE_SLOTS):
        when = queue_next_free_slot(workspace=ws, channel=channel, taken=taken)
        if when is None:
            break
        taken.add(when)
        free.append(when)
    return {
        "channel": channel,
        "rows": rows,
        "day_headers": [(name, abbr[day][1]) for day, name in weekdays],
        "form": form or SlotGridForm(prefix=f"ch{channel.pk}", weekdays=weekdays),
        "next_free": free,
        "saved": saved,
    }


@require_GET
@workspace_view()
def queue_slots(request: HttpRequest, scope: Scope) -> HttpResponse:
    channels = channel_list(workspace=scope.workspace).prefetch_related("queue_slots")
    return render_scoped(
        request,
        scope,
        "calendar/slots.html",
        {"cards": [_slot_card(scope, c) for c in channels], "can_edit": scope.can(Action.MANAGE_CHANNELS)},
    )


@require_POST
@workspace_view(Action.MANAGE_CHANNELS)
def queue_slots_save(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    ws = scope.workspace
    channel = or_404(channel_get, workspace=ws, channel_id=channel_id)
    form = SlotGridForm(request.POST, prefix=f"ch{channel.pk}", weekdays=_weekdays())
    saved = False
    if form.is_valid():
        try:
            queue_slot_set(workspace=ws, channel=channel, slots=form.slots(), actor=scope.user)
        except DjangoValidationError as exc:
            form.add_error(None, exc)
        else:
            saved = True
    partial = _is_partial(request, f"slots-{channel.pk}")
    if saved and not partial:
        messages.success(request, _("Saved the posting times of %(handle)s.") % {"handle": channel.handle})
        return HttpResponseRedirect(reverse("calendar:slots", args=[ws.pk]))
    card = _slot_card(scope, channel, None if saved else form, saved=saved)
    if partial:
        # 200 also for errors: htmx swaps only successful responses.
        return render_scoped(request, scope, "calendar/_slot_card.html", {"card": card, "can_edit": True})
    channels = channel_list(workspace=ws).prefetch_related("queue_slots")
    cards = [card if c.pk == channel.pk else _slot_card(scope, c) for c in channels]
    return render_scoped(
        request, scope, "calendar/slots.html", {"cards": cards, "can_edit": True}, status=400
    )
