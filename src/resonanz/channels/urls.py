"""URL patterns of the channel pages, mounted by the shell (``web/urls.py``).

No ``app_name``: the names stay in the shell's ``web`` namespace (``web:channels``, ...), which other apps'
templates use.
"""

from django.urls import path

from . import views

# Under /w/<workspace_id>/channels/.
workspace_urlpatterns = [
    path("", views.channels, name="channels"),
    # One connect form per registered network (the connector declares its fields and flow).
    path("connect/<slug:network>/", views.channel_connect, name="channel_connect"),
    path("<int:channel_id>/verify/", views.channel_verify_view, name="channel_verify"),
    path("<int:channel_id>/disconnect/", views.channel_disconnect_view, name="channel_disconnect"),
    path("<int:channel_id>/queue/", views.channel_queue_view, name="channel_queue"),
]

# Not under /w/<id>/: the OAuth state names the workspace, and a network needs one fixed redirect URI.
urlpatterns = [
    path("channels/<slug:network>/callback/", views.channel_callback, name="channel_callback"),
]
