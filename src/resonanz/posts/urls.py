"""URL patterns of the post pages, mounted by the shell under ``/w/<workspace_id>/posts/``.

No ``app_name``: the names stay in the shell's ``web`` namespace (``web:post_detail``, ...), which other
apps' templates use.
"""

from django.urls import path

from . import views

workspace_urlpatterns = [
    path("", views.posts, name="posts"),
    path("new/", views.post_compose, name="post_new"),
    path("check/", views.post_check, name="post_check"),
    path("parts/new/", views.post_thread_part, name="post_thread_part"),
    path("parts/", views.post_parts, name="post_parts"),
    path("autosave/", views.post_autosave, name="post_autosave"),
    path("media/", views.post_media_upload, name="post_media"),
    path("media/<int:asset_id>/", views.post_media_file, name="post_media_file"),
    path("<int:post_id>/", views.post_detail, name="post_detail"),
    path("<int:post_id>/edit/", views.post_compose, name="post_edit"),
    path("<int:post_id>/actions/<slug:action>/", views.post_transition, name="post_action"),
    path("<int:post_id>/engagement/", views.post_engagement, name="post_engagement"),
    path("<int:post_id>/engagement/refresh/", views.post_engagement_refresh, name="post_engagement_refresh"),
    path(
        "<int:post_id>/variants/<int:variant_id>/<slug:action>/",
        views.variant_remote,
        name="variant_action",
    ),
]
