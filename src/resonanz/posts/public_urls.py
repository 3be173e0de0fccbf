"""Public, signed media addresses (no login): networks that fetch media from a URL read them here."""

from django.urls import path

from . import public_media

urlpatterns = [
    path("<str:token>/", public_media.public_media_file, name="public_media"),
]
