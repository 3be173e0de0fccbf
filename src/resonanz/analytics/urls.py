"""URLs of analytics: one workspace's page (mounted under /w/<workspace_id>/analytics/) and the agency view
across workspaces (``agency_urlpatterns``, mounted under /overview/analytics/); the chart script is served
from the vl-convert wheel (``script``)."""

from django.urls import URLPattern, path

from . import views

app_name = "analytics"
urlpatterns: list[URLPattern] = [
    path("", views.analytics_overview, name="overview"),
    path("chart.svg", views.analytics_chart_svg, name="chart_svg"),
]
