from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import Http404
from django.utils import timezone

from resonanz.channels.models import Channel
from resonanz.engagement.models import MetricSample
from resonanz.forecasting.models import ForecastModel
from resonanz.forecasting.reach import sample_engagement, sample_reach
from resonanz.forecasting.selectors import Draft, best_times, forecast_draft, forecast_history
from resonanz.forecasting.services import forecast_model_fit, forecast_refit_due
from resonanz.forecasting.tasks import fit_forecast
from resonanz.posts.models import Variant, VariantStatus
from testsupport.forecasting import DEFAULT_SHAPES

pytestmark = pytest.mark.django_db


def test_reach_is_impressions_where_reported_else_interactions():
    assert sample_reach(MetricSample(likes=3, reposts=2, replies=1, quotes=None, impressions=500)) == 500
    sample = MetricSample(likes=3, reposts=2, replies=1, quotes=4, impressions=None)
    assert sample_reach(sample) == sample_engagement(sample) == 10


def test_history_uses_the_latest_sample_and_only_published_variants(berlin, channels, history):
    facts = forecast_history(workspace=berlin)
    assert len(facts) == history
    first = Variant.objects.get(pk=facts[0].variant_id)
    MetricSample.objects.create(
        variant=first, taken_at=timezone.now(), likes=1, reposts=0, replies=0, impressions=7
    )
    Variant.objects.filter(pk=facts[1].variant_id).update(status=VariantStatus.DELETED)
    again = {f.variant_id: f for f in forecast_history(workspace=berlin)}
    assert again[first.pk].reach == 7
    assert facts[1].variant_id not in again
    media = [f for f in facts if f.media_kind]
    assert media
    assert all(f.media_count >= 1 for f in media)
    assert any(f.has_link for f in facts)
    assert any(f.hashtags for f in facts)


def test_history_leaves_out_employees_personal_channels(berlin, channels, history, owner):
    facts = forecast_history(workspace=berlin)
    shared = Variant.objects.get(pk=facts[0].variant_id)
    Channel.objects.filter(pk=shared.channel_id).update(owner=owner)
    again = forecast_history(workspace=berlin)
    assert again
    assert {f.channel_id for f in again} == {c.pk for c in channels} - {shared.channel_id}
    assert len(again) == len(facts) - sum(1 for f in facts if f.channel_id == shared.channel_id)


def test_best_times_from_the_database_find_each_channels_peak(berlin, channels, history):
    for channel, shape in zip(channels, DEFAULT_SHAPES, strict=True):
        result = best_times(workspace=berlin, channel=channel, weeks=26)
        assert result.enough
        top = result.slots[0]
        # The planted peak hour (local) leads, on the planted weekday or the daily curve's hour.
        assert top.hour == shape.peak_hour, (channel, result.slots)
        assert top.posts == len(top.variant_ids) >= 1


def test_not_enough_history_yet(berlin, channels):
    result = best_times(workspace=berlin, channel=channels[0])
    assert not result.enough
    assert result.slots == []
    assert result.posts == 0


def test_other_workspaces_channel_is_a_404(berlin, foreign_channel):
    with pytest.raises(Http404):
        best_times(workspace=berlin, channel=foreign_channel)
    with pytest.raises(Http404):
        forecast_draft(workspace=berlin, draft=Draft(channel=foreign_channel, at=timezone.now()))


def test_fit_task_stores_model_and_evaluation_and_forecasts_next_weeks_draft(berlin, channels, history):
    assert forecast_draft(workspace=berlin, draft=Draft(channel=channels[0], at=timezone.now())) is None
    assert forecast_refit_due(workspace=berlin)
    assert fit_forecast.call(workspace_id=berlin.pk) == history
    stored = ForecastModel.objects.get(workspace=berlin)
    assert stored.evaluation["ratio"] < 1
    assert stored.evaluation["test_posts"] > 50
    assert not forecast_refit_due(workspace=berlin)
    next_week = timezone.now() + timedelta(days=7)
    plain = forecast_draft(
        workspace=berlin, draft=Draft(channel=channels[0], at=next_week, text="Hallo " * 10)
    )
    video = forecast_draft(
        workspace=berlin,
        draft=Draft(channel=channels[0], at=next_week, text="Hallo " * 10, media_mime_types=("video/mp4",)),
    )
    assert plain is not None
    assert video is not None
    p = plain.prediction
    assert p.reach_low < p.reach < p.reach_high
    assert video.prediction.reach > p.reach  # the history's video effect was learned
    # The big channel (impressions) is forecast far above the small one (interactions only).
    small = forecast_draft(workspace=berlin, draft=Draft(channel=channels[1], at=next_week))
    assert small is not None
    assert small.prediction.reach < p.reach / 5


def test_too_little_history_removes_the_model(berlin, channels, history):
    forecast_model_fit(workspace=berlin)
    Variant.objects.filter(pk__in=[f.variant_id for f in forecast_history(workspace=berlin)][10:]).delete()
    assert forecast_model_fit(workspace=berlin) is None
    assert not ForecastModel.objects.filter(workspace=berlin).exists()


def test_refit_job_enqueues_only_workspaces_with_enough_new_history(
    berlin, channels, history, other_workspace
):
    from django_tasks_db.models import DBTaskResult

    from resonanz.forecasting.services import forecast_models_refit
    from resonanz.taskqueue.periodic import default_jobs

    assert "forecasting.refit" in {job.name for job in default_jobs()}
    assert forecast_models_refit() == [berlin.pk]  # the other workspace has no history
    assert DBTaskResult.objects.filter(task_path__endswith="fit_forecast").count() == 1
    forecast_model_fit(workspace=berlin)
    assert forecast_models_refit() == []


def test_a_drafts_features_are_those_of_training(berlin, channels, history):
    from resonanz.forecasting import model
    from resonanz.forecasting.selectors import draft_facts

    stored = forecast_model_fit(workspace=berlin)
    assert stored is not None
    fitted = model.FittedModel.from_json(stored.params)
    draft = Draft(
        channel=channels[2], at=timezone.now() + timedelta(days=7), text="Hallo https://a.example #x"
    )
    forecast = forecast_draft(workspace=berlin, draft=draft)
    assert forecast is not None
    # The same prediction as with the whole history at hand: trend (last 5) and level (last 20) alike.
    expected = fitted.predict(draft_facts(draft), model.History(forecast_history(workspace=berlin)))
    assert forecast.prediction.reach == pytest.approx(expected.reach)
    assert forecast.prediction.engagement == pytest.approx(expected.engagement)
