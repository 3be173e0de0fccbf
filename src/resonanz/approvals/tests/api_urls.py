"""Test URL map: the project's URLs plus the approvals API at the paths proposed for api/urls.py
(resonanz/api/urls.py belongs to another part of the project; see the approvals report)."""

from django.urls import include, path

from resonanz.approvals import api as approvals
from resonanz.config.urls import urlpatterns as project_urlpatterns

ws = "workspaces/<int:workspace_id>/"
api_patterns = [
    path(ws + "approval-settings/", approvals.ApprovalSettingsApi.as_view(), name="approval-settings"),
    path(ws + "posts/<int:post_id>/approval/", approvals.ApprovalApi.as_view(), name="post-approval"),
    path(ws + "posts/<int:post_id>/decisions/", approvals.DecisionApi.as_view(), name="post-decisions"),
    path(
        ws + "posts/<int:post_id>/review-links/", approvals.ReviewLinkListApi.as_view(), name="review-links"
    ),
    path(
        ws + "posts/<int:post_id>/review-links/<int:link_id>/revoke/",
        approvals.ReviewLinkRevokeApi.as_view(),
        name="review-link-revoke",
    ),
]
urlpatterns = [path("api/v1/", include((api_patterns, "approvals_api"))), *project_urlpatterns]
