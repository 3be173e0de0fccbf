"""The composer's forecast panel (htmx): best times of the selected channels and the draft's forecast.

It reads the composer's own form (the same fields as the live check), so it updates whenever the
channels, the date field, the text or the media change. Viewing it needs what the composer needs.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.views.decorators.http import require_POST

from resonanz.accounts.permissions import Action
from resonanz.channels.selectors import channel_list
from resonanz.connectors.registry import network_display_name
from resonanz.core.timezones import LocalTimeError, local_to_utc
from resonanz.posts.forms import ComposerForm
from resonanz.posts.media import media_asset_list
from resonanz.posts.services import PostInput, queue_next_free_slot
from resonanz.web.scope import Scope, workspace_view

from . import model
from .selectors import Draft, best_times, forecast_draft, forecast_model_get


def draft_time(form: ComposerForm, time_zone: str) -> tuple[datetime, bool]:
    """When the draft would go out: the composer's date field, else the next full hour (and whether it
    was given)."""
    local = form.cleaned_data.get("schedule_at") if hasattr(form, "cleaned_data") else None
    if local is not None:
        try:
            return local_to_utc(local, time_zone, fold=form.cleaned_data.get("fold") or 0), True
        except (LocalTimeError, ValueError):
            pass
    now = timezone.now()
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1), False


def slot_view(slot: model.Slot) -> dict[str, Any]:
    return {
        "day": WEEKDAYS[slot.weekday],
        "hour": f"{slot.hour:02d}:00",
        "lift": f"{round((slot.lift - 1) * 100):+d}",
        "posts": slot.posts,
        "mean_reach": slot.mean_reach,
    }


def channel_text(data: PostInput, channel_id: int) -> str:
    for override in data.overrides:
        if override.channel_id == channel_id and override.parts:
            return "\n\n".join(override.parts)
    return "\n\n".join([data.text, *data.thread])


@require_POST
@workspace_view(Action.CREATE_POST)
def composer_forecast(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    form = ComposerForm(request.POST, channels=channel_list(workspace=ws), time_zone=ws.time_zone)
    form.is_valid()  # content errors are the live check's business; what parses is forecast
    data = form.to_post_input()
    at, at_given = draft_time(form, ws.time_zone)
    mimes = tuple(
        a.mime_type for a in media_asset_list(workspace=ws, asset_ids=[m.asset_id for m in data.media])
    )
    campaign = data.campaign_id if isinstance(data.campaign_id, int) else None
    selected = [c for c in form.channel_list if c.pk in set(data.channel_ids)]
    rows: list[dict[str, Any]] = []
    use_best = bool(getattr(form, "cleaned_data", {}).get("use_best_time"))
    for channel in selected:
        best = best_times(workspace=ws, channel=channel)
        when = at
        if use_best and best.slots:
            # "Add to queue" with "use the best time" would take the next free best slot: forecast that.
            slots = [(s.weekday, time(s.hour, 0)) for s in best.slots]
            when = queue_next_free_slot(workspace=ws, channel=channel, slots=slots) or at
        draft = Draft(
            channel=channel,
            at=when,
            text=channel_text(data, channel.pk),
            media_mime_types=mimes,
            campaign_id=campaign,
        )
        rows.append(
            {
                "channel": channel,
                "network_name": network_display_name(channel.network),
                "best": best,
                "slots": [slot_view(s) for s in best.slots],
                "forecast": forecast_draft(workspace=ws, draft=draft),
                "at": when,
                "at_best": when != at,
            }
        )
    stored = forecast_model_get(workspace=ws)
    return render(
        request,
        "forecasting/_composer.html",
        {
            "rows": rows,
            "at": at,
            "at_given": at_given,
            "evaluation": model.Evaluation(**stored.evaluation) if stored else None,
            "min_fit_posts": model.MIN_FIT_POSTS,
            "time_zone": ws.time_zone,
        },
    )
