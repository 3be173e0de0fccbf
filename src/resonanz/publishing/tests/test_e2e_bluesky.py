"""End to end against the real Bluesky reference network (PLC + PDS + AppView from npm).

Connect a channel through the API, schedule a post with an image, a link, a mention and a hashtag,
let the worker publish it, read it back through ``app.bsky.feed.getPostThread``; a second account likes
and replies; the engagement sync shows the counts and the reply in the inbox.
"""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image

from resonanz.engagement.models import Conversation, Message, MetricSample
from resonanz.engagement.tasks import sync_engagement
from resonanz.posts.models import Variant, VariantStatus
from testsupport.servers.bluesky import BlueskyTestNetwork
from testsupport.tasks import run_ready_tasks

from .conftest import drive

pytestmark = [pytest.mark.bluesky, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


def _noisy_png(size: int = 1400) -> bytes:
    rng = random.Random(7)
    img = Image.frombytes("RGB", (size, size), bytes(rng.getrandbits(8) for _ in range(size * size * 3)))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def test_schedule_publish_read_back_and_sync_engagement(network, api, workspace) -> None:
    brand = network.create_account("brand.test", "brand-main-password", "brand@example.com")
    fan = network.create_account("fan.test", "fan-main-password", "fan@example.com")
    app_password = network.xrpc_post(
        "com.atproto.server.createAppPassword", {"name": "Resonanz"}, token=brand.access_jwt
    )["password"]
    base = f"/api/v1/workspaces/{workspace.pk}"

    response = api.post(
        f"{base}/channels/bluesky/",
        {"pds_url": network.pds_url, "identifier": "brand.test", "app_password": app_password},
        format="json",
    )
    assert response.status_code == 201, response.content
    channel = response.json()
    assert channel["remote_id"] == brand.did
    assert channel["status"] == "active"

    png = _noisy_png()
    assert len(png) > 1_000_000, "the image must need recompressing for Bluesky"
    response = api.post(
        f"{base}/media/", {"file": io.BytesIO(png), "alt_text": "Tulpen im Schaufenster"}, format="multipart"
    )
    assert response.status_code == 201, response.content
    asset_id = response.json()["id"]

    text = "Neu bei uns: die Frühlingskollektion 🌷 mit @fan.test #Frühling https://example.org/frühling"
    response = api.post(
        f"{base}/posts/",
        {
            "text": text,
            "channel_ids": [channel["id"]],
            "media": [{"asset_id": asset_id, "alt_text": "Tulpen im Schaufenster"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="e2e-create-1",
    )
    assert response.status_code == 201, response.content
    post_id = response.json()["id"]
    replay = api.post(
        f"{base}/posts/",
        {
            "text": text,
            "channel_ids": [channel["id"]],
            "media": [{"asset_id": asset_id, "alt_text": "Tulpen im Schaufenster"}],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="e2e-create-1",
    )
    assert replay.json()["id"] == post_id, "the same Idempotency-Key must not create a second post"

    due = timezone.now() + timedelta(seconds=2)
    response = api.post(f"{base}/posts/{post_id}/schedule/", {"at": due.isoformat()}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"

    run_ready_tasks()
    assert Variant.objects.get(post_id=post_id).status == VariantStatus.SCHEDULED, "not before its time"
    drive(lambda: Variant.objects.get(post_id=post_id).status == VariantStatus.PUBLISHED, timeout=30)
    variant = Variant.objects.get(post_id=post_id)
    assert variant.published_at is not None
    assert variant.published_at >= due
    assert variant.remote_id.startswith(f"at://{brand.did}/app.bsky.feed.post/")
    assert variant.remote_url.endswith("/post/" + variant.remote_id.rsplit("/", 1)[1])

    thread = network.wait_for_thread(variant.remote_id, account=fan)["thread"]
    record = thread["post"]["record"]
    assert record["text"] == text
    encoded = text.encode()
    features = {}
    for facet in record["facets"]:
        start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
        feature = facet["features"][0]
        features[feature["$type"]] = (encoded[start:end].decode(), feature)
    assert features["app.bsky.richtext.facet#link"][0] == "https://example.org/frühling"
    assert features["app.bsky.richtext.facet#link"][1]["uri"] == "https://example.org/frühling"
    assert features["app.bsky.richtext.facet#mention"][0] == "@fan.test"
    assert features["app.bsky.richtext.facet#mention"][1]["did"] == fan.did
    assert features["app.bsky.richtext.facet#tag"][0] == "#Frühling"
    assert features["app.bsky.richtext.facet#tag"][1]["tag"] == "Frühling"
    images = record["embed"]["images"]
    assert len(images) == 1
    assert images[0]["alt"] == "Tulpen im Schaufenster"
    assert images[0]["image"]["size"] <= 1_000_000
    assert thread["post"]["embed"]["images"][0]["alt"] == "Tulpen im Schaufenster"

    cid = thread["post"]["cid"]
    network.like(fan, variant.remote_id, cid)
    network.reply(fan, variant.remote_id, cid, variant.remote_id, cid, "Sieht toll aus! Ab wann im Laden?")
    network.wait_for_thread(
        variant.remote_id,
        account=fan,
        predicate=lambda r: (
            r["thread"]["post"].get("likeCount") == 1 and r["thread"]["post"].get("replyCount") == 1
        ),
    )

    for _ in range(2):  # a second run must not duplicate anything
        sync_engagement.enqueue()
        run_ready_tasks()
    sample = MetricSample.objects.filter(variant=variant).order_by("-taken_at").first()
    assert sample is not None
    assert (sample.likes, sample.replies, sample.reposts) == (1, 1, 0)
    conversation = Conversation.objects.get(variant=variant)
    assert conversation.workspace_id == workspace.pk
    messages = list(Message.objects.filter(conversation=conversation))
    assert [m.text for m in messages] == ["Sieht toll aus! Ab wann im Laden?"]
    assert messages[0].author_handle == "fan.test"

    metrics = api.get(f"{base}/variants/{variant.pk}/metrics/").json()
    assert metrics[-1]["likes"] == 1
    inbox = api.get(f"{base}/conversations/").json()
    assert inbox[0]["messages"][0]["text"] == "Sieht toll aus! Ab wann im Laden?"

    # Bluesky has no edit: the API says so; delete-and-repost is the explicit alternative.
    response = api.post(f"{base}/variants/{variant.pk}/edit/", {"text": "anders"}, format="json")
    assert response.status_code == 409
    response = api.post(f"{base}/variants/{variant.pk}/delete/", format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "deleted"
    listed = network.xrpc_get(
        "com.atproto.repo.listRecords", {"repo": brand.did, "collection": "app.bsky.feed.post"}
    )
    assert listed["records"] == []
