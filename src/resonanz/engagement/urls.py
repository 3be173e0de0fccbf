"""URLs of the inbox (mounted in resonanz/config/urls.py under /w/<workspace_id>/inbox/)."""

from django.urls import URLPattern, URLResolver, path

from . import views

app_name = "engagement"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.inbox_view, name="inbox"),
    path("rows/", views.inbox_rows_view, name="rows"),
    path("bulk/", views.bulk_view, name="bulk"),
    path("settings/", views.settings_view, name="settings"),
    path("report/", views.report_view, name="report"),
    path("saved-replies/", views.saved_replies_view, name="saved_replies"),
    path(
        "saved-replies/<int:saved_reply_id>/delete/", views.saved_reply_delete_view, name="saved_reply_delete"
    ),
    path("privacy/", views.privacy_view, name="privacy"),
    path("privacy/retention/", views.retention_view, name="retention"),
    path("privacy/erase/", views.erase_view, name="erase"),
    path("privacy/export/", views.export_view, name="export"),
    path("rules/", views.rules_view, name="rules"),
    path("rules/preview/", views.rule_preview_view, name="rule_preview"),
    path("rules/<int:rule_id>/", views.rule_edit_view, name="rule_edit"),
    path("rules/<int:rule_id>/delete/", views.rule_delete_view, name="rule_delete"),
    path("rules/<int:rule_id>/move/", views.rule_move_view, name="rule_move"),
    path("<int:conversation_id>/", views.thread_view, name="thread"),
    path("<int:conversation_id>/assign/", views.assign_view, name="assign"),
    path("<int:conversation_id>/status/", views.status_view, name="status"),
    path("<int:conversation_id>/notes/", views.note_view, name="note"),
    path("<int:conversation_id>/reply/", views.reply_view, name="reply"),
    path("<int:conversation_id>/presence/", views.presence_view, name="presence"),
    path(
        "<int:conversation_id>/messages/<int:message_id>/<slug:action>/",
        views.message_action_view,
        name="message_action",
    ),
    path("<int:conversation_id>/saved-reply/", views.saved_reply_insert_view, name="saved_reply_insert"),
]
