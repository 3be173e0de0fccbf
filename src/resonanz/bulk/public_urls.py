"""Public, token-protected URLs of the bulk app (no login; the secret token is the permission)."""

from django.urls import URLPattern, URLResolver, re_path

from . import views

app_name = "bulk_public"
urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^(?P<token>[A-Za-z0-9_-]{1,200})\.ics$", views.feed_ics, name="feed"),
]
