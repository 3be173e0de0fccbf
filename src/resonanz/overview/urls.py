"""URLs of the overview pages. The dashboard is mounted by the shell under ``/w/<workspace_id>/`` (its name
stays ``web:dashboard``); the agency overview is not under one workspace."""

from django.urls import URLPattern, path

from . import views

app_name = "overview"
urlpatterns: list[URLPattern] = [
    path("", views.agency_overview, name="agency"),
    path("calendar/", views.agency_calendar, name="calendar"),
]
