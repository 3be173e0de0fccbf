"""The agency's analytics across workspaces and the chart script (not under one workspace)."""

from django.urls import URLPattern, path

from . import views

app_name = "analytics_agency"
urlpatterns: list[URLPattern] = [
    path("", views.analytics_agency, name="agency"),
    path("vega.js", views.vega_script, name="script"),
]
