"""URLs of the calendar app (mounted in resonanz/config/urls.py)."""

from django.urls import URLPattern, URLResolver

app_name = "calendar"
urlpatterns: list[URLPattern | URLResolver] = []
