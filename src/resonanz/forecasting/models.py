"""The fitted forecast of a workspace: parameters and their held-out evaluation (one row per workspace)."""

from __future__ import annotations

from django.db import models


class ForecastModel(models.Model):
    workspace = models.OneToOneField(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="forecast_model"
    )
    fitted_at = models.DateTimeField()
    # Posts the final fit used, and the newest publish time among them (a refit is due when newer exist).
    trained_on = models.PositiveIntegerField()
    history_until = models.DateTimeField()
    # ``model.FittedModel.to_json()``: columns, coefficients, scaling, residual quantiles, lambda.
    params = models.JSONField()
    # ``model.Evaluation`` of the time-ordered split: MAE of the model and of the last-five baseline.
    evaluation = models.JSONField()

    def __str__(self) -> str:
        return f"forecast of workspace {self.workspace_id} ({self.trained_on} posts)"
