"""Pure unit tests: rich-text facets, TIDs, records, response parsing, image fitting. No network, no DB."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from resonanz.connectors.base.errors import Rejected
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.bluesky.mapping import (
    AtUri,
    ImageEmbed,
    StrongRef,
    atproto_datetime,
    build_facets,
    decode_tid,
    engagement_from_thread,
    find_tags,
    is_valid_tid,
    post_record,
    published_ref,
    tid_from_key,
)
from resonanz.connectors.bluesky.media import fit_image, probe_image

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
DIDS = {"bob.test": "did:plc:bobbobbobbobbobbobbobbob"}


def _fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def _slice(text: str, facet: dict[str, Any]) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"] : index["byteEnd"]].decode("utf-8")


def _feature(facet: dict[str, Any]) -> dict[str, Any]:
    [feature] = facet["features"]
    return dict(feature)


# -- facets ---------------------------------------------------------------------------------------


def test_facets_have_utf8_byte_offsets_with_umlauts_and_emoji() -> None:
    text = "Schöne Grüße 👋 @bob.test #Frühling https://example.org/ä"
    facets = build_facets(text, DIDS.get)
    assert [_slice(text, f) for f in facets] == ["@bob.test", "#Frühling", "https://example.org/ä"]
    mention, tag, link = facets
    # "Schöne Grüße 👋 " is 15 characters but 21 bytes (ö, ü, ß: 2 bytes each; 👋: 4 bytes).
    assert mention["index"] == {"byteStart": 21, "byteEnd": 30}
    assert _feature(mention) == {"$type": "app.bsky.richtext.facet#mention", "did": DIDS["bob.test"]}
    assert tag["index"] == {"byteStart": 31, "byteEnd": 41}
    assert _feature(tag) == {"$type": "app.bsky.richtext.facet#tag", "tag": "Frühling"}
    assert link["index"] == {"byteStart": 42, "byteEnd": 64}
    assert _feature(link) == {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.org/ä"}
    assert all(f["$type"] == "app.bsky.richtext.facet" for f in facets)


def test_unresolvable_mention_stays_plain_text() -> None:
    asked: list[str] = []

    def resolve(handle: str) -> str | None:
        asked.append(handle)
        return None

    assert build_facets("Hallo @nobody.test!", resolve) == []
    assert asked == ["nobody.test"]


@pytest.mark.parametrize(
    "text",
    ["mail me: bob@bob.test", "@localhost only", "price @ 5.test", "@-bad-.test", "@bob.test_x"],
)
def test_things_that_are_not_mentions(text: str) -> None:
    assert [f for f in build_facets(text, DIDS.get) if "did" in _feature(f)] == []


def test_mention_in_parentheses_and_before_punctuation() -> None:
    text = "Danke (@Bob.Test), und @bob.test."
    facets = build_facets(text, DIDS.get)
    assert [_slice(text, f) for f in facets] == ["@Bob.Test", "@bob.test"]


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("#Frühling ist da", ["Frühling"]),
        ("Ende #tag!!", ["tag"]),
        ("#123 is a number, #1a is not", ["1a"]),
        ("no#tag inside words", []),
        ("#️⃣ keycap", []),
        ("full width \uff03タグ here", ["タグ"]),
        ("#" + "a" * 64, ["a" * 64]),
        ("#" + "a" * 65, []),
        ("#", []),
    ],
)
def test_hashtag_rules(text: str, tags: list[str]) -> None:
    assert [m.feature["tag"] for m in find_tags(text)] == tags


def test_hashtag_offsets_exclude_stripped_punctuation() -> None:
    text = "Grüße #München."
    [facet] = build_facets(text, DIDS.get)
    assert _slice(text, facet) == "#München"


@pytest.mark.parametrize(
    ("text", "uri"),
    [
        ("see https://example.org/a.", "https://example.org/a"),
        ("(see https://example.org/a)", "https://example.org/a"),
        (
            "wiki https://de.wikipedia.org/wiki/Köln_(Begriffsklärung)",
            "https://de.wikipedia.org/wiki/Köln_(Begriffsklärung)",
        ),
        ("HTTPS://EXAMPLE.ORG/X", "HTTPS://EXAMPLE.ORG/X"),
    ],
)
def test_link_detection(text: str, uri: str) -> None:
    [facet] = build_facets(text, DIDS.get)
    assert _feature(facet)["uri"] == uri
    assert _slice(text, facet) == uri


def test_link_with_fragment_is_not_a_hashtag() -> None:
    text = "https://example.org/#anker"
    assert [_feature(f)["$type"] for f in build_facets(text, DIDS.get)] == ["app.bsky.richtext.facet#link"]


# -- TIDs -----------------------------------------------------------------------------------------

WHEN = datetime(2026, 11, 21, 23, 59, 58, 123456, tzinfo=UTC)


def test_tid_is_valid_and_deterministic() -> None:
    key = PublishKey(key="post-42-part-0", created_at=WHEN)
    tid = tid_from_key(key)
    assert len(tid) == 13
    assert is_valid_tid(tid)
    assert set(tid) <= set("234567abcdefghijklmnopqrstuvwxyz")
    assert tid == tid_from_key(PublishKey(key="post-42-part-0", created_at=WHEN))
    micros, clock_id = decode_tid(tid)
    assert micros == (WHEN - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    assert 0 <= clock_id < 1024


def test_tid_differs_per_key_and_sorts_by_time() -> None:
    a = tid_from_key(PublishKey(key="a", created_at=WHEN))
    b = tid_from_key(PublishKey(key="b", created_at=WHEN))
    assert a != b  # different clock ids from the hash
    later = tid_from_key(PublishKey(key="a", created_at=WHEN + timedelta(microseconds=1)))
    assert later > a


def test_tid_needs_aware_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        tid_from_key(PublishKey(key="x", created_at=datetime(2026, 1, 1)))


# -- records --------------------------------------------------------------------------------------


def test_post_record_shape() -> None:
    blob = {"$type": "blob", "ref": {"$link": "bafkrei"}, "mimeType": "image/jpeg", "size": 10}
    root = StrongRef("at://did:plc:a/app.bsky.feed.post/3aaaaaaaaaaaa", "bafyroot")
    parent = StrongRef("at://did:plc:a/app.bsky.feed.post/3bbbbbbbbbbbb", "bafyparent")
    record = post_record(
        text="Hallo",
        created_at=WHEN,
        facets=[{"index": {"byteStart": 0, "byteEnd": 1}, "features": []}],
        langs=["de"],
        images=[ImageEmbed(blob=blob, alt="Ein Bild", width=800, height=600)],
        reply_root=root,
        reply_parent=parent,
    )
    assert record["$type"] == "app.bsky.feed.post"
    assert record["createdAt"] == "2026-11-21T23:59:58.123Z"
    assert record["langs"] == ["de"]
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [{"image": blob, "alt": "Ein Bild", "aspectRatio": {"width": 800, "height": 600}}],
    }
    assert record["reply"] == {"root": root.as_dict(), "parent": parent.as_dict()}


def test_post_record_minimal_and_reply_root_defaults_to_parent() -> None:
    parent = StrongRef("at://did:plc:a/app.bsky.feed.post/3bbbbbbbbbbbb", "bafyparent")
    record = post_record(text="x", created_at=WHEN, reply_parent=parent)
    assert set(record) == {"$type", "text", "createdAt", "reply"}
    assert record["reply"]["root"] == parent.as_dict()


def test_atproto_datetime_converts_to_utc() -> None:
    berlin = datetime(2026, 6, 1, 12, 0, tzinfo=UTC) + timedelta(hours=0)
    assert atproto_datetime(berlin.astimezone(UTC)) == "2026-06-01T12:00:00.000Z"


def test_at_uri_parse() -> None:
    uri = AtUri.parse("at://did:plc:abc/app.bsky.feed.post/3kabc")
    assert (uri.repo, uri.collection, uri.rkey) == ("did:plc:abc", "app.bsky.feed.post", "3kabc")
    assert str(uri) == "at://did:plc:abc/app.bsky.feed.post/3kabc"
    with pytest.raises(ValueError, match="AT URI"):
        AtUri.parse("https://bsky.app/profile/x")


# -- responses captured from the local PDS --------------------------------------------------------


def test_published_ref_from_create_record_response() -> None:
    created = _fixture("createRecord.json")
    ref = published_ref(
        uri=created["uri"], cid=created["cid"], author="alice.test", web_url="https://bsky.app"
    )
    rkey = AtUri.parse(created["uri"]).rkey
    assert ref.remote_id == created["uri"]
    assert ref.cid == created["cid"]
    assert ref.url == f"https://bsky.app/profile/alice.test/post/{rkey}"


def test_engagement_from_get_post_thread_response() -> None:
    thread = _fixture("getPostThread.json")
    engagement = engagement_from_thread(thread, web_url="https://bsky.app")
    post = thread["thread"]["post"]
    assert (engagement.likes, engagement.reposts, engagement.replies) == (
        post["likeCount"],
        post["repostCount"],
        post["replyCount"],
    )
    assert engagement.quotes == post.get("quoteCount")
    assert engagement.impressions is None
    assert len(engagement.reply_items) == len(thread["thread"]["replies"]) >= 1
    reply = engagement.reply_items[0]
    assert reply.in_reply_to_remote_id == post["uri"]
    assert reply.author_handle
    assert reply.text
    assert reply.created_at.tzinfo is not None
    assert reply.url.startswith(f"https://bsky.app/profile/{reply.author_handle}/post/")


def test_build_facets_reproduces_the_record_the_pds_stored() -> None:
    record = _fixture("getPostThread.json")["thread"]["post"]["record"]
    [mention_did] = [f["features"][0]["did"] for f in record["facets"] if "did" in f["features"][0]]
    assert build_facets(record["text"], {"bob.test": mention_did}.get) == record["facets"]


def test_engagement_skips_not_found_replies() -> None:
    thread = _fixture("getPostThread.json")
    thread["thread"]["replies"].append(
        {
            "$type": "app.bsky.feed.defs#notFoundPost",
            "uri": "at://did:plc:x/app.bsky.feed.post/3k",
            "notFound": True,
        }
    )
    engagement = engagement_from_thread(thread, web_url="https://bsky.app")
    assert len(engagement.reply_items) == len(thread["thread"]["replies"]) - 1


# -- images ---------------------------------------------------------------------------------------


def _png(width: int, height: int, *, mode: str = "RGB", noisy: bool = True) -> bytes:
    if noisy:
        rnd = random.Random(1234)
        channels = len(mode)
        raw = rnd.randbytes(width * height * channels)
        image = Image.frombytes(mode, (width, height), raw)
    else:
        image = Image.new(mode, (width, height), (200, 30, 30, 128)[: len(mode)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_noisy_3000px_png_is_brought_under_one_megabyte() -> None:
    data = _png(3000, 3000)
    assert len(data) > 1_000_000
    fitted, mime, (width, height) = fit_image(data, "image/png")
    assert len(fitted) <= 1_000_000
    assert mime == "image/jpeg"
    with Image.open(io.BytesIO(fitted)) as image:
        assert image.format == "JPEG"
        assert image.size == (width, height)
    assert width == height  # aspect ratio kept
    assert width <= 2000


def test_small_image_is_kept_byte_for_byte() -> None:
    data = _png(300, 200, noisy=False)
    assert fit_image(data, "image/png") == (data, "image/png", (300, 200))


def test_transparent_png_stays_png_when_it_fits() -> None:
    data = _png(2500, 1000, mode="RGBA", noisy=False)
    fitted, mime, size = fit_image(data, "image/png", max_bytes=len(data) - 1)
    assert mime == "image/png"
    assert size == (2000, 800)  # capped at 2000 px like Bluesky's app
    with Image.open(io.BytesIO(fitted)) as image:
        assert image.mode in {"RGBA", "P"}


def test_transparent_noisy_png_becomes_jpeg_on_white() -> None:
    data = _png(1200, 1200, mode="RGBA")
    fitted, mime, _size = fit_image(data, "image/png", max_bytes=300_000)
    assert mime == "image/jpeg"
    assert len(fitted) <= 300_000


def test_gps_metadata_is_removed_even_when_small() -> None:
    image = Image.new("RGB", (64, 48), (10, 20, 30))
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    data = buffer.getvalue()
    fitted, mime, size = fit_image(data, "image/jpeg")
    assert fitted != data
    assert (mime, size) == ("image/jpeg", (64, 48))
    with Image.open(io.BytesIO(fitted)) as cleaned:
        assert not cleaned.getexif().get_ifd(0x8825)


def test_exif_rotation_swaps_the_aspect_ratio() -> None:
    image = Image.new("RGB", (80, 40), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when shown
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert probe_image(buffer.getvalue()) == (40, 80)


def test_non_image_is_rejected() -> None:
    with pytest.raises(Rejected) as info:
        fit_image(b"%PDF-1.7 definitely not an image", "image/png")
    assert "not an image" in info.value.network_message


def test_impossible_budget_is_rejected() -> None:
    with pytest.raises(Rejected, match="smaller than"):
        fit_image(_png(400, 400), "image/png", max_bytes=200)


def test_link_card_only_without_images() -> None:
    from datetime import UTC, datetime

    from resonanz.connectors.bluesky.mapping import link_card, post_record

    text = "Neu: https://example.org/frühling/kollektion und mehr"
    card = link_card(text)
    assert card == {
        "$type": "app.bsky.embed.external",
        "external": {
            "uri": "https://example.org/frühling/kollektion",
            "title": "example.org/frühling/kollektion",
            "description": "",
        },
    }
    record = post_record(text=text, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert record["embed"] == card
    assert link_card("no link here") is None


# Bare domains and URLs, after the detection cases of the atproto client's own tests
# (packages/api/tests/rich-text-detection.test.ts), as (text, [(byteStart, byteEnd, uri)]).
LINK_CASES: list[tuple[str, list[tuple[int, int, str]]]] = [
    ("start middle end", []),
    ("start https://middle.com end", [(6, 24, "https://middle.com")]),
    ("start https://middle.com/foo/bar end", [(6, 32, "https://middle.com/foo/bar")]),
    ("start middle.com end", [(6, 16, "https://middle.com")]),
    ("start middle.com/foo/bar end", [(6, 24, "https://middle.com/foo/bar")]),
    ("start middle.com/foo/bar?baz=bux end", [(6, 32, "https://middle.com/foo/bar?baz=bux")]),
    ("start middle.com/foo/bar?baz=bux#hash end", [(6, 37, "https://middle.com/foo/bar?baz=bux#hash")]),
    ("Mehr auf example.com/path heute", [(9, 25, "https://example.com/path")]),
    ("newline1.com\nnewline2.com", [(0, 12, "https://newline1.com"), (13, 25, "https://newline2.com")]),
    ("a example.com/index.php php link", [(2, 23, "https://example.com/index.php")]),
    ("a trailing bsky.app: colon", [(11, 19, "https://bsky.app")]),
    ("Siehe example.de. Danke!", [(6, 16, "https://example.de")]),
    (
        "(example.org/a) und example.org/b_(c) dort",
        [(1, 14, "https://example.org/a"), (20, 37, "https://example.org/b_(c)")],
    ),
    (
        "punctuation https://foo.com, https://bar.com/whatever; https://baz.com.",
        [
            (12, 27, "https://foo.com"),
            (29, 53, "https://bar.com/whatever"),
            (55, 70, "https://baz.com"),
        ],
    ),
    # Not links: an unknown top-level domain, abbreviations, file names, versions, e-mail and handles.
    ("example.notatld/path", []),
    ("sub.example.notatld und example.com.jpg", []),
    ("not.. a..url ..here", []),
    ("e.g. z.B. u.a. v1.2", []),
    ("e.g./foo website.com.jpg/foo something-cool.jpg", []),
    ("Post an info@example.com", []),
    ("x.example.com", [(0, 13, "https://x.example.com")]),
    # Byte offsets behind umlauts (2 bytes) and emoji (4 bytes; the family is 25 bytes, one grapheme).
    ("Grüße: example.com/ä.", [(9, 23, "https://example.com/ä")]),
    ("👋 example.com 👨‍👩‍👧‍👦 example.de", [(5, 16, "https://example.com"), (43, 53, "https://example.de")]),
    ("Köln (köln.de) münchen.de", []),
]


@pytest.mark.parametrize(("text", "expected"), LINK_CASES)
def test_bare_domains_with_a_known_tld_become_links(text: str, expected: list[tuple[int, int, str]]) -> None:
    facets = [f for f in build_facets(text, DIDS.get) if _feature(f)["$type"].endswith("#link")]
    assert [(f["index"]["byteStart"], f["index"]["byteEnd"], _feature(f)["uri"]) for f in facets] == expected
    for facet in facets:  # the range covers what the reader sees, without the added scheme
        assert _feature(facet)["uri"].endswith(_slice(text, facet).split("://")[-1])
