"""Public, signed media addresses (no login): networks that fetch media from a URL read them here."""

from django.urls import path

from . import public_media

app_name = "media_public"
urlpatterns = [
    path("<str:token>/", public_media.public_media_file, name="file"),
]
