"""REST API of analytics: ``GET /api/v1/workspaces/<id>/analytics/?start=&end=`` (or ``?period=7|28|90``,
``?period=month&month=YYYY-MM``) returns the numbers of the analytics page. Needs ``VIEW_ANALYTICS``."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from resonanz.accounts.permissions import Action
from resonanz.api.base import WorkspaceAPIView

from .periods import PeriodInputError, period_from_params
from .selectors import Figures, Summary, analytics_summary, workspace_today


class FiguresSerializer(serializers.Serializer[None]):
    likes = serializers.IntegerField()
    reposts = serializers.IntegerField()
    replies = serializers.IntegerField()
    quotes = serializers.IntegerField(allow_null=True)
    impressions = serializers.IntegerField(allow_null=True)
    reach = serializers.IntegerField(allow_null=True)
    saves = serializers.IntegerField(allow_null=True)
    clicks = serializers.IntegerField(allow_null=True, help_text="Clicks the network counted")
    video_views = serializers.IntegerField(allow_null=True)
    link_clicks = serializers.IntegerField(help_text="Clicks on the workspace's short links")
    engagements = serializers.IntegerField(help_text="likes + reposts + replies + quotes + saves + clicks")


class PeriodSerializer(serializers.Serializer[None]):
    start = serializers.DateField()
    end = serializers.DateField()


class DaySerializer(serializers.Serializer[None]):
    day = serializers.DateField()
    impressions = serializers.IntegerField(allow_null=True)
    reach = serializers.IntegerField(allow_null=True)
    engagements = serializers.IntegerField()
    link_clicks = serializers.IntegerField()
    followers = serializers.IntegerField(allow_null=True)


class ChannelFiguresSerializer(serializers.Serializer[None]):
    channel = serializers.IntegerField()
    name = serializers.CharField()
    network = serializers.CharField()
    figures = FiguresSerializer()
    previous = FiguresSerializer()
    followers = serializers.IntegerField(allow_null=True)
    follower_growth = serializers.IntegerField(allow_null=True)
    engagement_rate = serializers.FloatField(allow_null=True, help_text="0.05 = 5 %")
    engagement_rate_definition = serializers.CharField()
    engagement_rate_counted = serializers.ListField(child=serializers.CharField())
    engagement_rate_base = serializers.CharField(help_text='"impressions", "reach" or "followers"; "" = none')
    reported = serializers.ListField(child=serializers.CharField(), help_text="Metrics the network reports")


class CampaignFiguresSerializer(serializers.Serializer[None]):
    campaign = serializers.IntegerField()
    name = serializers.CharField()
    goal = serializers.CharField()
    goal_metric = serializers.CharField(
        help_text='The figure the goal is measured by; "" = not measured here'
    )
    actual = serializers.IntegerField(allow_null=True)
    kpi_target = serializers.IntegerField(allow_null=True)
    progress = serializers.FloatField(allow_null=True)
    figures = FiguresSerializer()


class PostFiguresSerializer(serializers.Serializer[None]):
    post = serializers.IntegerField()
    variant = serializers.IntegerField()
    channel = serializers.IntegerField()
    figures = FiguresSerializer()
    engagement_rate = serializers.FloatField(allow_null=True)
    engagement_rate_definition = serializers.CharField()


class AnalyticsSerializer(serializers.Serializer[None]):
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    totals = FiguresSerializer()
    previous = FiguresSerializer()
    followers = serializers.IntegerField(allow_null=True)
    previous_followers = serializers.IntegerField(allow_null=True)
    changes = serializers.DictField(child=serializers.FloatField(allow_null=True), help_text="0.25 = +25 %")
    series = DaySerializer(many=True)
    previous_series = DaySerializer(many=True)
    channels = ChannelFiguresSerializer(many=True)
    campaigns = CampaignFiguresSerializer(many=True)
    best_posts = PostFiguresSerializer(many=True)
    worst_posts = PostFiguresSerializer(many=True)


def _figures(f: Figures) -> dict[str, Any]:
    return {**f.values(), "link_clicks": f.link_clicks, "engagements": f.engagements}


def summary_data(summary: Summary) -> dict[str, Any]:
    """The summary as plain data (the API's body; reports may use it too)."""

    def day(p: Any) -> dict[str, Any]:
        return {
            "day": p.day.isoformat(),
            "impressions": p.impressions,
            "reach": p.reach,
            "engagements": p.engagements,
            "link_clicks": p.link_clicks,
            "followers": p.followers,
        }

    def post(p: Any) -> dict[str, Any]:
        return {
            "post": p.post_id,
            "variant": p.variant_id,
            "channel": p.channel_id,
            "figures": _figures(p.figures),
            "engagement_rate": p.rate,
            "engagement_rate_definition": p.rate_definition,
        }

    return {
        "period": {"start": summary.period.start.isoformat(), "end": summary.period.end.isoformat()},
        "previous_period": {
            "start": summary.previous_period.start.isoformat(),
            "end": summary.previous_period.end.isoformat(),
        },
        "totals": _figures(summary.totals),
        "previous": _figures(summary.previous),
        "followers": summary.followers,
        "previous_followers": summary.previous_followers,
        "changes": summary.changes,
        "series": [day(p) for p in summary.series],
        "previous_series": [day(p) for p in summary.previous_series],
        "channels": [
            {
                "channel": row.channel.pk,
                "name": str(row.channel),
                "network": row.channel.network,
                "figures": _figures(row.figures),
                "previous": _figures(row.previous),
                "followers": row.followers,
                "follower_growth": row.follower_growth,
                "engagement_rate": row.rate,
                "engagement_rate_definition": row.rate_definition,
                "engagement_rate_counted": [m.value for m in row.rate_rule.counted] if row.rate_rule else [],
                "engagement_rate_base": row.rate_rule.base.value if row.rate_rule else "",
                "reported": sorted(row.reported),
            }
            for row in summary.channels
        ],
        "campaigns": [
            {
                "campaign": row.campaign.pk,
                "name": row.campaign.name,
                "goal": row.campaign.goal,
                "goal_metric": row.goal_metric,
                "actual": row.actual,
                "kpi_target": row.target,
                "progress": row.progress,
                "figures": _figures(row.figures),
            }
            for row in summary.campaigns
        ],
        "best_posts": [post(p) for p in summary.best],
        "worst_posts": [post(p) for p in summary.worst],
    }


class AnalyticsApi(WorkspaceAPIView):
    actions = {"GET": Action.VIEW_ANALYTICS}

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, description="First day (workspace time zone)"),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, included"),
            OpenApiParameter("period", OpenApiTypes.STR, enum=["7", "28", "90", "month", "custom"]),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM with period=month"),
        ],
        responses=AnalyticsSerializer,
    )
    def get(self, request: Request, workspace_id: int) -> Response:
        today = workspace_today(workspace=self.workspace, now=timezone.now())
        try:
            _kind, period = period_from_params(request.query_params, today=today)
        except PeriodInputError as exc:
            raise serializers.ValidationError({"period": exc.message}) from exc
        return Response(summary_data(analytics_summary(workspace=self.workspace, period=period)))
