"""Writes of the forecast: fit and store a workspace's model (its evaluation kept with it)."""

from __future__ import annotations

from dataclasses import asdict

from django.db.models import Max
from django.utils import timezone

from resonanz.accounts.models import Workspace
from resonanz.posts.models import Variant, VariantStatus

from . import model
from .models import ForecastModel
from .selectors import forecast_history

# A stored model is refit when this many posts were published after the newest one it was fit on.
REFIT_NEW_POSTS = 5


def forecast_model_fit(*, workspace: Workspace) -> ForecastModel | None:
    """Evaluate on the time-ordered split, refit on all history and store it; None (and any old model
    removed) when the workspace has too little history for a forecast."""
    outcome = model.evaluate_and_fit(forecast_history(workspace=workspace), time_zone=workspace.time_zone)
    if outcome is None:
        ForecastModel.objects.filter(workspace=workspace).delete()
        return None
    stored, _ = ForecastModel.objects.update_or_create(
        workspace=workspace,
        defaults={
            "fitted_at": timezone.now(),
            "trained_on": outcome.trained_on,
            "history_until": outcome.history_until,
            "params": outcome.model.to_json(),
            "evaluation": asdict(outcome.evaluation),
        },
    )
    return stored


def forecast_refit_due(*, workspace: Workspace) -> bool:
    """Whether the workspace has enough new history for a (re)fit."""
    published = Variant.objects.filter(
        post__workspace=workspace, status=VariantStatus.PUBLISHED, published_at__isnull=False
    )
    stored = ForecastModel.objects.filter(workspace=workspace).first()
    if stored is None:
        return published.count() >= model.MIN_FIT_POSTS
    return published.filter(published_at__gt=stored.history_until).count() >= REFIT_NEW_POSTS


def forecast_models_refit() -> list[int]:
    """The nightly job: the ids of the workspaces whose model is due, each refit in its own task."""
    from .tasks import fit_forecast

    due = []
    workspaces = Workspace.objects.filter(archived_at__isnull=True).annotate(
        newest=Max("posts__variants__published_at")
    )
    for workspace in workspaces.filter(newest__isnull=False):
        if forecast_refit_due(workspace=workspace):
            fit_forecast.enqueue(workspace_id=workspace.pk)
            due.append(workspace.pk)
    return due
