"""The advocacy REST API: offers (editors create, advocates list the open ones), an idempotent share
(201 first, 200 with the same share after), own shares and channels, permissions and tenancy."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from resonanz.accounts.models import Role
from resonanz.advocacy.models import AdvocacyShare
from resonanz.posts.models import Variant

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _base(workspace) -> str:
    return f"/api/v1/workspaces/{workspace.pk}/advocacy/"


def test_share_is_idempotent_a_second_post_returns_the_existing_share(
    workspace, offer, advocate, personal_channel
) -> None:
    channel = personal_channel(advocate)
    client = _api(advocate)
    url = f"{_base(workspace)}offers/{offer.pk}/shares/"
    first = client.post(url, {"channel_id": channel.pk, "text": "Mein Text"}, format="json")
    assert first.status_code == 201, first.content
    again = client.post(url, {"channel_id": channel.pk, "text": "Mein Text"}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["text"] == "Mein Text"
    assert again.json()["status"] == "scheduled"
    assert AdvocacyShare.objects.count() == 1
    assert Variant.objects.filter(channel=channel).count() == 1
    mine = client.get(f"{_base(workspace)}shares/").json()
    assert [s["id"] for s in mine] == [first.json()["id"]]


def test_refused_text_answers_422_with_the_networks_limit(
    workspace, offer, advocate, personal_channel
) -> None:
    channel = personal_channel(advocate)
    answer = _api(advocate).post(
        f"{_base(workspace)}offers/{offer.pk}/shares/",
        {"channel_id": channel.pk, "text": "x" * 501},
        format="json",
    )
    assert answer.status_code == 422  # the API's answer to a post the network would refuse
    assert answer.json()["code"] == "validation_failed"
    assert not AdvocacyShare.objects.exists()


def test_editor_creates_an_offer_and_sees_share_counts(workspace, owner, brand_post, campaign) -> None:
    client = _api(owner)
    created = client.post(
        f"{_base(workspace)}offers/",
        {"post_id": brand_post.pk, "suggested_texts": {"mastodon": "Teilt das"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["campaign_id"] == campaign.pk
    listed = client.get(f"{_base(workspace)}offers/").json()
    assert listed[0]["share_count"] == 0
    withdrawn = client.delete(f"{_base(workspace)}offers/{created.json()['id']}/")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["is_open"] is False


def test_advocate_lists_open_offers_but_cannot_offer_or_see_brand_data(
    workspace, offer, advocate, brand_post, mastodon, personal_channel
) -> None:
    mine = personal_channel(advocate)
    client = _api(advocate)
    offers = client.get(f"{_base(workspace)}offers/").json()
    assert [o["id"] for o in offers] == [offer.pk]
    assert offers[0]["share_count"] is None  # the others' shares are not theirs to see
    assert (
        client.post(f"{_base(workspace)}offers/", {"post_id": brand_post.pk}, format="json").status_code
        == 403
    )
    assert [c["id"] for c in client.get(f"{_base(workspace)}channels/").json()] == [mine.pk]
    ws = f"/api/v1/workspaces/{workspace.pk}/"
    for path in ("posts/", "channels/", "campaigns/"):
        assert client.get(ws + path).status_code == 403, path


def test_personal_channels_are_not_in_the_brands_channel_list(
    workspace, owner, advocate, personal_channel, mastodon
) -> None:
    mine = personal_channel(advocate)
    ids = [c["id"] for c in _api(owner).get(f"/api/v1/workspaces/{workspace.pk}/channels/").json()]
    assert mastodon.pk in ids
    assert mine.pk not in ids
    # Nor usable by the brand's post API.
    answer = _api(owner).post(
        f"/api/v1/workspaces/{workspace.pk}/posts/",
        {"text": "Hallo", "channel_ids": [mine.pk]},
        format="json",
    )
    assert answer.status_code == 400


def test_someone_elses_channel_is_404(workspace, offer, advocate, member, personal_channel) -> None:
    theirs = personal_channel(member(Role.EDITOR), handle="ben@social.example")
    answer = _api(advocate).post(
        f"{_base(workspace)}offers/{offer.pk}/shares/", {"channel_id": theirs.pk}, format="json"
    )
    assert answer.status_code == 404
    assert not AdvocacyShare.objects.exists()


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.ANALYST, Role.AGENT])
def test_roles_without_advocacy_get_403(workspace, offer, member, role) -> None:
    client = _api(member(role))
    assert client.get(f"{_base(workspace)}offers/").status_code == 403
    assert client.get(f"{_base(workspace)}shares/").status_code == 403


def test_another_workspace_is_404(workspace, offer, other_workspace) -> None:
    stranger = other_workspace.memberships.get().user
    client = _api(stranger)
    assert client.get(f"{_base(workspace)}offers/").status_code == 404
    assert client.get(f"{_base(other_workspace)}offers/{offer.pk}/").status_code == 404
    assert client.delete(f"{_base(other_workspace)}offers/{offer.pk}/").status_code == 404


def test_the_schema_has_the_advocacy_endpoints(tmp_path) -> None:
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/workspaces/{workspace_id}/advocacy/offers/{offer_id}/shares/" in text
    assert "/api/v1/workspaces/{workspace_id}/advocacy/channels/" in text


def test_a_withdrawn_offer_answers_400_offer_closed(
    workspace, owner, offer, advocate, personal_channel
) -> None:
    channel = personal_channel(advocate)
    assert _api(owner).delete(f"{_base(workspace)}offers/{offer.pk}/").status_code == 200
    answer = _api(advocate).post(
        f"{_base(workspace)}offers/{offer.pk}/shares/", {"channel_id": channel.pk}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json()["code"] == "offer_closed"
    assert not AdvocacyShare.objects.exists()
