"""URL patterns of the settings pages (workspace, members and invitations, API tokens), mounted by the
shell (``web/urls.py``) like the channel pages: the names stay in the ``web`` namespace."""

from django.urls import URLPattern, path

from . import views

# Under /w/<workspace_id>/settings/.
workspace_urlpatterns = [
    path("", views.workspace_settings, name="workspace_settings"),
    path("workspaces/new/", views.workspace_new, name="workspace_new"),
    path("archive/", views.workspace_archive_view, name="workspace_archive"),
    path("restore/", views.workspace_restore_view, name="workspace_restore"),
    path("two-factor/", views.organisation_two_factor, name="organisation_two_factor"),
    path("members/", views.members, name="members"),
    path("members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invitations/", views.invitation_new, name="invitation_new"),
    path("invitations/<int:invitation_id>/resend/", views.invitation_resend_view, name="invitation_resend"),
    path("invitations/<int:invitation_id>/revoke/", views.invitation_revoke_view, name="invitation_revoke"),
    path("permissions/", views.permissions, name="permissions"),
]

# Not under a workspace: the invitation link comes by e-mail, before the invitee is a member.
urlpatterns: list[URLPattern] = [
    path("invitations/<str:secret>/", views.invitation_accept_view, name="invitation_accept"),
    path("settings/profile/", views.profile, name="profile"),
    path("settings/tokens/", views.api_tokens, name="api_tokens"),
    path("settings/tokens/<int:token_id>/revoke/", views.api_token_revoke_view, name="api_token_revoke"),
]
