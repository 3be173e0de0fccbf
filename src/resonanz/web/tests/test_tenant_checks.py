"""A view that forgets to scope its lookup still cannot show or change another workspace's object: the
service or selector it calls checks the workspace and raises ``WorkspaceMismatch``, which Django answers
with 404 (the class is an ``Http404``). Before, that check was an ``assert``: a 500, and under
``python -O`` the other workspace's data. The views below forget on purpose (the project's views look
their objects up with the workspace, see test_security.py and test_pages.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path, reverse

from resonanz.accounts.models import Role, Workspace
from resonanz.accounts.permissions import Action
from resonanz.channels.models import Channel
from resonanz.channels.services import channel_disconnect
from resonanz.config.urls import urlpatterns as project_urlpatterns
from resonanz.posts.models import Post
from resonanz.posts.selectors import post_events
from resonanz.web.scope import Scope, workspace_view

pytestmark = pytest.mark.urls(__name__)


@workspace_view()
def _events_forgetting_the_workspace(request: HttpRequest, scope: Scope, post_id: int) -> HttpResponse:
    post = Post.objects.get(pk=post_id)  # should be post_get(workspace=scope.workspace, ...)
    events = post_events(workspace=scope.workspace, post=post)
    return HttpResponse(f"{post}: {', '.join(e.kind for e in events)}")


@workspace_view(Action.MANAGE_CHANNELS)
def _disconnect_forgetting_the_workspace(request: HttpRequest, scope: Scope, channel_id: int) -> HttpResponse:
    channel = Channel.objects.get(pk=channel_id)  # should be channel_get(workspace=scope.workspace, ...)
    channel_disconnect(workspace=scope.workspace, channel=channel, actor=scope.user)
    return HttpResponse("disconnected")


urlpatterns = [
    path(
        "w/<int:workspace_id>/forgetful/posts/<int:post_id>/events/",
        _events_forgetting_the_workspace,
        name="forgetful_events",
    ),
    path(
        "w/<int:workspace_id>/forgetful/channels/<int:channel_id>/disconnect/",
        _disconnect_forgetting_the_workspace,
        name="forgetful_disconnect",
    ),
    *project_urlpatterns,
]


def test_another_workspaces_post_is_404_even_if_the_view_forgets(
    owner_client: Client, workspace: Workspace, foreign_post: Post
) -> None:
    response = owner_client.get(reverse("forgetful_events", args=[workspace.pk, foreign_post.pk]))
    assert response.status_code == 404
    assert "geheim" not in response.content.decode()


def test_another_workspaces_channel_is_404_even_if_the_view_forgets(
    owner_client: Client, workspace: Workspace, foreign_channel: Channel
) -> None:
    response = owner_client.post(reverse("forgetful_disconnect", args=[workspace.pk, foreign_channel.pk]))
    assert response.status_code == 404
    assert Channel.objects.filter(pk=foreign_channel.pk).exists()


def test_the_forgetful_view_works_for_the_workspaces_own_post(
    login: Callable[..., Client], other_workspace: Workspace, foreign_post: Post
) -> None:
    # The same view for the post's own workspace: the 404 above comes from the tenant check, not the view.
    response = login(other_workspace.memberships.get(role=Role.OWNER).user).get(
        reverse("forgetful_events", args=[other_workspace.pk, foreign_post.pk])
    )
    assert response.status_code == 200
    assert response.content.decode() == "geheim: created"
