"""URLs of the approvals app (mounted in resonanz/config/urls.py under /w/<workspace_id>/approvals/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "approvals"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.approval_list, name="list"),
    path("settings/", views.approval_settings_view, name="settings"),
    path("posts/<int:post_id>/decide/", views.approval_decide_view, name="decide"),
    path("posts/<int:post_id>/comment/", views.approval_comment_view, name="comment"),
    path("posts/<int:post_id>/review-links/", views.review_link_create_view, name="review_link_create"),
    path(
        "posts/<int:post_id>/review-links/<int:link_id>/revoke/",
        views.review_link_revoke_view,
        name="review_link_revoke",
    ),
]
