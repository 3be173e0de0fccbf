"""URLs of employee advocacy (mounted in resonanz/config/urls.py under /w/<workspace_id>/advocacy/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "advocacy"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.advocacy_page, name="page"),
    path("offers/<int:offer_id>/share/<int:channel_id>/", views.share_view, name="share"),
    path("connect/<slug:network>/", views.connect_view, name="connect"),
    path("channels/<int:channel_id>/disconnect/", views.disconnect_view, name="disconnect"),
    path("leaderboard/", views.leaderboard_view, name="leaderboard"),
    path("manage/", views.manage_view, name="manage"),
    path("offers/new/", views.offer_create_view, name="offer_new"),
    path("offers/<int:offer_id>/withdraw/", views.offer_withdraw_view, name="offer_withdraw"),
]
