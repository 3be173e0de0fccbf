"""URLs of the forecast (mounted in resonanz/config/urls.py under /w/<workspace_id>/forecasting/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "forecasting"
urlpatterns: list[URLPattern | URLResolver] = [
    path("composer/", views.composer_forecast, name="composer"),
]
