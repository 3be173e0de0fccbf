"""Tasks of the forecast: they take ids, re-fetch, and call a service."""

from __future__ import annotations

from django.tasks import task


@task(queue_name="sync")
def fit_forecast(*, workspace_id: int) -> int:
    """Fit and store one workspace's forecast; returns the posts it was fit on (0: too little history)."""
    from resonanz.accounts.models import Workspace

    from .services import forecast_model_fit

    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    stored = forecast_model_fit(workspace=workspace)
    return stored.trained_on if stored is not None else 0


@task(queue_name="sync")
def refit_forecasts() -> list[int]:
    """Nightly (taskqueue/periodic.py): refit the workspaces with enough new history."""
    from .services import forecast_models_refit

    return forecast_models_refit()
