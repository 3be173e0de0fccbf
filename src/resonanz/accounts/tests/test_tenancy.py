"""Nothing can be read or changed across workspaces; roles are enforced on every API endpoint."""

import pytest
from rest_framework.test import APIClient

from resonanz.accounts.models import Role
from resonanz.accounts.services import api_token_create, api_token_revoke
from resonanz.posts.models import Post


def test_workspace_list_shows_only_memberships(api, workspace, other_workspace) -> None:
    response = api.get("/api/v1/workspaces/")
    assert response.status_code == 200
    assert [w["id"] for w in response.json()] == [workspace.pk]
    assert response.json()[0]["role"] == "owner"


def test_foreign_workspace_is_not_found(api, other_workspace, foreign_post) -> None:
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/posts/").status_code == 404
    assert api.get(f"/api/v1/workspaces/{other_workspace.pk}/posts/{foreign_post.pk}/").status_code == 404


def test_foreign_post_through_own_workspace_is_not_found(api, workspace, foreign_post) -> None:
    response = api.get(f"/api/v1/workspaces/{workspace.pk}/posts/{foreign_post.pk}/")
    assert response.status_code == 404
    response = api.post(f"/api/v1/workspaces/{workspace.pk}/posts/{foreign_post.pk}/cancel/")
    assert response.status_code == 404
    assert Post.objects.get(pk=foreign_post.pk).status == "draft"


def test_foreign_channel_cannot_be_used_in_a_post(api, workspace, other_workspace, make_channel) -> None:
    foreign = make_channel("mastodon", ws=other_workspace, handle="rival")
    response = api.post(
        f"/api/v1/workspaces/{workspace.pk}/posts/",
        {"text": "Hallo", "channel_ids": [foreign.pk]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_channel"
    assert not Post.objects.filter(workspace=workspace).exists()


def test_api_token_is_scoped_to_its_workspaces(owner, workspace, make_user) -> None:
    from resonanz.accounts.services import organisation_create, workspace_create

    second = workspace_create(
        organisation=organisation_create(name="Zweite", owner=owner), name="B", owner=owner
    )
    issued = api_token_create(user=owner, name="ci", workspaces=[workspace])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.secret}")
    assert [w["id"] for w in client.get("/api/v1/workspaces/").json()] == [workspace.pk]
    assert client.get(f"/api/v1/workspaces/{workspace.pk}/channels/").status_code == 200
    assert client.get(f"/api/v1/workspaces/{second.pk}/channels/").status_code == 404
    api_token_revoke(user=owner, token_id=issued.token.pk)
    assert client.get("/api/v1/workspaces/").status_code == 401


def test_bad_token_is_401(db) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer rz_nope_nope")
    assert client.get("/api/v1/workspaces/").status_code == 401


@pytest.mark.parametrize(
    ("role", "can_create", "can_schedule"),
    [
        (Role.EDITOR, True, True),
        (Role.CONTRIBUTOR, True, False),
        (Role.ANALYST, False, False),
        (Role.AGENT, False, False),
    ],
)
def test_roles(workspace, member, make_channel, role, can_create, can_schedule) -> None:
    user = member(role)
    channel = make_channel("mastodon")
    client = APIClient()
    client.force_authenticate(user)
    base = f"/api/v1/workspaces/{workspace.pk}"
    response = client.post(
        f"{base}/posts/", {"text": "Hallo Welt", "channel_ids": [channel.pk]}, format="json"
    )
    assert (response.status_code == 201) is can_create, response.content
    if can_create:
        post_id = response.json()["id"]
        response = client.post(
            f"{base}/posts/{post_id}/schedule/", {"at": "2099-01-01T09:00:00+01:00"}, format="json"
        )
        assert (response.status_code == 200) is can_schedule, response.content
        if not can_schedule:
            assert response.status_code == 403
    # Agents work in the inbox only (issue 8): they may not list the posts either.
    assert client.get(f"{base}/posts/").status_code == (403 if role == Role.AGENT else 200)
