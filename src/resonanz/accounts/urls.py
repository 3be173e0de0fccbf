"""URL patterns of the settings pages (workspace, members and invitations, API tokens), mounted by the
shell (``web/urls.py``) like the channel pages: the names stay in the ``web`` namespace."""

from django.urls import URLPattern, path

from . import views

# Under /w/<workspace_id>/settings/.
workspace_urlpatterns = [
    path("", views.workspace_settings, name="workspace_settings"),
    path("workspaces/new/", views.workspace_new, name="workspace_new"),
]

# Not under a workspace: the invitation link comes by e-mail, before the invitee is a member.
urlpatterns: list[URLPattern] = []
