"""Self-test of the local Bluesky reference network (no Django, no database access).

Proves the pieces the Bluesky connector's end-to-end tests rely on: accounts with
``.test`` handles, lexicon-valid posts with UTF-8 byte-offset link facets, reads
through the PDS -> AppView proxy, and asynchronous indexing of likes and replies.

Needs ``devservers/bluesky/install.sh`` to have been run, Node 20 and PostgreSQL on
127.0.0.1:5432. Deselect with ``-m "not bluesky"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from testsupport.servers.bluesky import BlueskyTestNetwork, link_facet

pytestmark = pytest.mark.bluesky


@pytest.fixture(scope="module")
def network() -> Iterator[BlueskyTestNetwork]:
    with BlueskyTestNetwork() as net:
        yield net


def test_post_like_reply_roundtrip(network: BlueskyTestNetwork) -> None:
    alice = network.create_account("alice.test", "alice-pass-123", "alice@example.com")
    bob = network.create_account("bob.test", "bob-pass-123", "bob@example.com")
    assert alice.did.startswith("did:plc:")
    assert alice.handle == "alice.test"

    # Umlauts and an emoji before the link: byte offsets != character offsets.
    url = "https://example.com/größe?q=ü"
    text = f"Schöne Grüße 🎶 aus Köln: mehr unter {url} !"
    facet = link_facet(text, url, url)
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert start != text.index(url)  # the test would be pointless otherwise
    assert text.encode()[start:end].decode() == url

    post = network.post(alice, text, facets=[facet], langs=["de"])
    assert post.uri.startswith(f"at://{alice.did}/app.bsky.feed.post/")

    # Read back through the PDS (proxied to the AppView) as alice.
    thread = network.wait_for_thread(post.uri, account=alice)["thread"]
    record = thread["post"]["record"]
    assert thread["post"]["cid"] == post.cid
    assert record["text"] == text
    assert record["facets"][0]["index"] == {"byteStart": start, "byteEnd": end}
    assert record["facets"][0]["features"][0]["uri"] == url

    network.like(bob, post.uri, post.cid)
    reply_text = "Danke, Alice! 👍"
    reply = network.reply(bob, post.uri, post.cid, post.uri, post.cid, reply_text)

    def counted(resp: dict[str, Any]) -> bool:
        p = resp["thread"]["post"]
        return bool(p.get("likeCount") == 1 and p.get("replyCount") == 1 and resp["thread"].get("replies"))

    # Directly from the AppView, unauthenticated.
    thread = network.wait_for_thread(post.uri, predicate=counted)["thread"]
    assert thread["post"]["likeCount"] == 1
    assert thread["post"]["replyCount"] == 1
    assert thread["post"]["author"]["handle"] == "alice.test"  # .test handle resolved
    [reply_view] = thread["replies"]
    assert reply_view["post"]["uri"] == reply.uri
    assert reply_view["post"]["record"]["text"] == reply_text
    assert reply_view["post"]["author"]["did"] == bob.did

    # Bob sees his own like through the PDS proxy (viewer state needs auth).
    as_bob = network.wait_for_thread(
        post.uri, account=bob, predicate=lambda r: "like" in r["thread"]["post"].get("viewer", {})
    )
    assert as_bob["thread"]["post"]["likeCount"] == 1
