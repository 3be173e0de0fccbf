"""An API view that forgets to scope its lookup still cannot read or change another workspace's object:
the service or selector raises ``WorkspaceMismatch`` and the exception handler (resonanz/api/errors.py)
answers with the API's usual 404 body, the same as for an id that does not exist. Before, the check was
an ``assert``: a 500, and under ``python -O`` the other workspace's data. The views below forget on
purpose (the project's API views look their objects up with the workspace, see
accounts/tests/test_tenancy.py)."""

from __future__ import annotations

import pytest
from django.urls import include, path, reverse
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIClient

from resonanz.accounts.models import Workspace
from resonanz.api.base import WorkspaceAPIView
from resonanz.config.urls import urlpatterns as project_urlpatterns
from resonanz.engagement.selectors import metric_series
from resonanz.posts.models import PostEvent, Variant, VariantStatus
from resonanz.publishing.services import variant_retry

pytestmark = pytest.mark.urls(__name__)


class _MetricsForgettingTheWorkspace(WorkspaceAPIView):
    def get(self, request: Request, workspace_id: int, variant_id: int) -> Response:
        variant = Variant.objects.select_related("post").get(pk=variant_id)  # should be variant_get(...)
        return Response([s.likes for s in metric_series(workspace=self.workspace, variant=variant)])


class _RetryForgettingTheWorkspace(WorkspaceAPIView):
    def post(self, request: Request, workspace_id: int, variant_id: int) -> Response:
        variant = Variant.objects.get(pk=variant_id)  # should be variant_get(workspace=self.workspace, ...)
        variant = variant_retry(workspace=self.workspace, variant=variant, actor=self.user)
        return Response({"status": variant.status})


ws = "workspaces/<int:workspace_id>/forgetful/variants/<int:variant_id>/"
urlpatterns = [
    path(
        "api/v1/",
        include(
            (
                [
                    path(ws + "metrics/", _MetricsForgettingTheWorkspace.as_view(), name="metrics"),
                    path(ws + "retry/", _RetryForgettingTheWorkspace.as_view(), name="retry"),
                ],
                "forgetful",
            )
        ),
    ),
    *project_urlpatterns,
]


@pytest.fixture
def foreign_variant(foreign_variant: Variant) -> Variant:
    # Failed: the state in which retry would act on it.
    Variant.objects.filter(pk=foreign_variant.pk).update(status=VariantStatus.FAILED)
    return foreign_variant


def _missing_post_body(api: APIClient, workspace: Workspace) -> object:
    response = api.get(f"/api/v1/workspaces/{workspace.pk}/posts/999999/")
    assert response.status_code == 404
    return response.json()


def test_another_workspaces_metrics_are_404_even_if_the_view_forgets(
    api: APIClient, workspace: Workspace, foreign_variant: Variant
) -> None:
    response = api.get(reverse("forgetful:metrics", args=[workspace.pk, foreign_variant.pk]))
    assert response.status_code == 404
    assert (
        response.json() == _missing_post_body(api, workspace) == {"code": "not_found", "detail": "Not found."}
    )


def test_another_workspaces_variant_is_not_retried_even_if_the_view_forgets(
    api: APIClient, workspace: Workspace, foreign_variant: Variant
) -> None:
    response = api.post(reverse("forgetful:retry", args=[workspace.pk, foreign_variant.pk]))
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}
    foreign_variant.refresh_from_db()
    assert foreign_variant.status == VariantStatus.FAILED
    assert not PostEvent.objects.filter(kind="retry_requested").exists()


def test_the_forgetful_view_works_for_the_variants_own_workspace(
    other_workspace: Workspace, foreign_variant: Variant
) -> None:
    # The same view for the variant's own workspace: the 404 above comes from the tenant check.
    client = APIClient()
    client.force_authenticate(other_workspace.memberships.get().user)
    response = client.get(reverse("forgetful:metrics", args=[other_workspace.pk, foreign_variant.pk]))
    assert (response.status_code, response.json()) == (200, [])
