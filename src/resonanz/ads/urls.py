"""URLs of paid posts (mounted in resonanz/config/urls.py under /w/<workspace_id>/ads/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "ads"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.ads_list_view, name="list"),
    path("budgets/", views.budget_create_view, name="budget_new"),
    path("budgets/<int:budget_id>/delete/", views.budget_delete_view, name="budget_delete"),
    path("spend/", views.spend_create_view, name="spend_new"),
    path("import/", views.spend_import_view, name="import"),
    path("channels/<int:channel_id>/", views.channel_ads_view, name="channel"),
    path("channels/<int:channel_id>/account/", views.channel_account_view, name="account"),
    path("channels/<int:channel_id>/sync/", views.channel_sync_view, name="sync"),
]
