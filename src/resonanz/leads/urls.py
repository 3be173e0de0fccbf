"""Team pages of the leads app (mounted in resonanz/config/urls.py under /w/<workspace_id>/leads/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "leads"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.lead_list_view, name="list"),
    path("export.csv", views.lead_export_view, name="export"),
    path("forms/", views.form_list_view, name="forms"),
    path("forms/new/", views.form_edit_view, name="form_new"),
    path("forms/<int:form_id>/", views.form_edit_view, name="form_edit"),
    path("forms/<int:form_id>/delete/", views.form_delete_view, name="form_delete"),
    path("bio/", views.bio_list_view, name="bio_pages"),
    path("bio/new/", views.bio_edit_view, name="bio_new"),
    path("bio/<int:page_id>/", views.bio_edit_view, name="bio_edit"),
    path("bio/<int:page_id>/items/", views.bio_item_add_view, name="bio_item_add"),
    path("bio/items/<int:item_id>/", views.bio_item_change_view, name="bio_item_change"),
    path("webhooks/", views.webhook_list_view, name="webhooks"),
    path("webhooks/<int:webhook_id>/", views.webhook_detail_view, name="webhook"),
    path("person/", views.person_view, name="person"),
    path("person/export.json", views.person_export_view, name="person_export"),
    path("person/erase/", views.person_erase_view, name="person_erase"),
]
