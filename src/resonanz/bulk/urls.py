"""URLs of the bulk app (mounted in resonanz/config/urls.py)."""

from django.urls import URLPattern, URLResolver

app_name = "bulk"
urlpatterns: list[URLPattern | URLResolver] = []
