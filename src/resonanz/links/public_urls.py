"""The public short-link redirect, mounted at ``/l/`` (resonanz/config/urls.py)."""

from django.urls import path

from . import public_views

app_name = "links_public"
urlpatterns = [
    path("<str:code>", public_views.link_redirect, name="redirect"),
]
