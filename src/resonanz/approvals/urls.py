"""URLs of the approvals app (mounted in resonanz/config/urls.py)."""

from django.urls import URLPattern, URLResolver

app_name = "approvals"
urlpatterns: list[URLPattern | URLResolver] = []
