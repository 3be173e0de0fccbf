"""URL map of the web UI. Everything about one workspace lives under ``/w/<workspace_id>/``."""

from django.urls import include, path

from . import views, views_channels, views_language, views_posts, views_switch

app_name = "web"

workspace_urls = [
    path("", views.dashboard, name="dashboard"),
    path("switch/", views_switch.workspace_switch, name="workspace_switch"),
    path("channels/", views_channels.channels, name="channels"),
    # One connect form per registered network (the connector declares its fields and flow).
    path("channels/connect/<slug:network>/", views_channels.channel_connect, name="channel_connect"),
    path("channels/<int:channel_id>/verify/", views_channels.channel_verify_view, name="channel_verify"),
    path(
        "channels/<int:channel_id>/disconnect/",
        views_channels.channel_disconnect_view,
        name="channel_disconnect",
    ),
    path("channels/<int:channel_id>/queue/", views_channels.channel_queue_view, name="channel_queue"),
    path("posts/", views_posts.posts, name="posts"),
    path("posts/new/", views_posts.post_compose, name="post_new"),
    path("posts/check/", views_posts.post_check, name="post_check"),
    path("posts/parts/new/", views_posts.post_thread_part, name="post_thread_part"),
    path("posts/parts/", views_posts.post_parts, name="post_parts"),
    path("posts/autosave/", views_posts.post_autosave, name="post_autosave"),
    path("posts/media/", views_posts.post_media_upload, name="post_media"),
    path("posts/media/<int:asset_id>/", views_posts.post_media_file, name="post_media_file"),
    path("posts/<int:post_id>/", views_posts.post_detail, name="post_detail"),
    path("posts/<int:post_id>/edit/", views_posts.post_compose, name="post_edit"),
    path("posts/<int:post_id>/actions/<slug:action>/", views_posts.post_transition, name="post_action"),
    path(
        "posts/<int:post_id>/variants/<int:variant_id>/<slug:action>/",
        views_posts.variant_remote,
        name="variant_action",
    ),
]

urlpatterns = [
    path("", views.home, name="home"),
    # Django's set_language (POST language + next), returning to the browser's current page.
    path("i18n/setlang/", views_language.set_language, name="set_language"),
    # Not under /w/<id>/: the OAuth state names the workspace, and a network needs one fixed redirect URI.
    path("channels/<slug:network>/callback/", views_channels.channel_callback, name="channel_callback"),
    path("w/<int:workspace_id>/", include(workspace_urls)),
]
