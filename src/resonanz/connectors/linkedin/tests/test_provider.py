"""The LinkedIn connector against its emulator: connect (member and page), tokens, versions, errors,
media, read-back and engagement."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from resonanz.connectors.base import (
    AuthExpired,
    DraftMedia,
    DraftPart,
    DraftVariant,
    PublishedRef,
    RateLimited,
    Rejected,
    TemporaryError,
)
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.linkedin import client as linkedin_client
from resonanz.connectors.linkedin import oauth
from resonanz.connectors.linkedin.client import VersionSunset
from resonanz.connectors.linkedin.provider import LinkedInConnector
from resonanz.connectors.tests.contract import _png
from testsupport.emulators.linkedin import ACCESS_TOKEN_TTL, VIDEO_PART_SIZE, LinkedInEmulator

from .test_contract import emulator_account

REDIRECT = "http://resonanz.test/channels/oauth/callback/"


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[LinkedInEmulator]:
    with LinkedInEmulator() as server:
        monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_ID", server.client_id)
        monkeypatch.setenv("RESONANZ_LINKEDIN_CLIENT_SECRET", server.client_secret)
        monkeypatch.setenv("RESONANZ_LINKEDIN_API_URL", server.base_url)
        monkeypatch.delenv("RESONANZ_LINKEDIN_OAUTH_URL", raising=False)
        monkeypatch.delenv("RESONANZ_LINKEDIN_AUTHORIZE_URL", raising=False)
        monkeypatch.delenv("RESONANZ_LINKEDIN_API_VERSION", raising=False)
        yield server
        assert not server.errors, server.errors


@pytest.fixture
def connector() -> LinkedInConnector:
    return LinkedInConnector(readback_delays=(0.0, 0.0))


def _key() -> PublishKey:
    return PublishKey(key=f"t-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _one(text: str, media: list[DraftMedia] | None = None) -> DraftVariant:
    return DraftVariant(parts=[DraftPart(text=text, media=media or [])])


def _connect(connector: LinkedInConnector, organization: str = "") -> object:
    start = connector.connect_begin(
        values={"organization": organization},
        redirect_uri=REDIRECT,
        state="s1",
        clients=None,  # type: ignore[arg-type]
    )
    answer = httpx.get(start.authorize_url, follow_redirects=False)
    assert answer.status_code == 302
    query = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    assert query["state"] == "s1"
    return connector.connect_complete(
        base_url=start.base_url,
        state_data=start.state_data,
        params=query,
        clients=None,  # type: ignore[arg-type]
    )


# -- connecting ------------------------------------------------------------------------------------
def test_connect_as_member(emulator: LinkedInEmulator, connector: LinkedInConnector) -> None:
    connected = _connect(connector)
    assert connected.info.remote_id == emulator.default_member.id  # type: ignore[attr-defined]
    credentials = connected.credentials  # type: ignore[attr-defined]
    assert credentials["refresh_token"]
    assert credentials["refresh_expires_at"] > time.time() + 364 * 86400
    authorize = emulator.requests_to("/oauth/v2/authorization")[0]
    assert authorize.query["scope"][0].split() == list(oauth.MEMBER_SCOPES)


def test_connect_as_page_lists_administered_pages(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    connected = _connect(connector, "page")
    organization = emulator.default_organization
    assert connected.info.remote_id == organization.urn  # type: ignore[attr-defined]
    assert connected.settings["organization_urn"] == organization.urn  # type: ignore[attr-defined]
    acl = emulator.requests_to("/rest/organizationAcls")[0]
    assert acl.query["q"] == ["roleAssignee"]
    # A page the member does not administer is refused with the pages they do.
    with pytest.raises(Rejected) as caught:
        _connect(connector, "999")
    assert organization.urn in caught.value.network_message


def test_connect_without_app_credentials_says_what_to_set(
    emulator: LinkedInEmulator, connector: LinkedInConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RESONANZ_LINKEDIN_CLIENT_SECRET")
    with pytest.raises(Rejected) as caught:
        connector.connect_begin(values={}, redirect_uri=REDIRECT, state="s", clients=None)  # type: ignore[arg-type]
    assert "RESONANZ_LINKEDIN_CLIENT_SECRET" in caught.value.network_message


# -- tokens ----------------------------------------------------------------------------------------
def test_an_empty_refresh_token_is_never_stored(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    emulator.empty_refresh_token = True  # the token answer says "refresh_token": ""
    connected = _connect(connector)
    assert "refresh_token" not in connected.credentials  # type: ignore[attr-defined]
    # A refresh answered with an empty refresh token keeps the one the channel has, and its expiry.
    account = emulator_account(emulator)
    kept, expiry = account.credentials["refresh_token"], account.credentials["refresh_expires_at"]
    emulator.empty_refresh_token = True
    connector.refresh_credentials(account=account)
    assert account.credentials["refresh_token"] == kept
    assert account.credentials["refresh_expires_at"] == expiry


def test_refresh_keeps_the_refresh_tokens_fixed_expiry(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    old_access = account.credentials["access_token"]
    emulator.advance_clock(30 * 86400)
    connector.refresh_credentials(account=account)
    assert account.credentials["access_token"] != old_access
    # LinkedIn's refresh token keeps its original 365 days: 30 of them are gone.
    left = account.credentials["refresh_expires_at"] - time.time()
    assert 334 * 86400 < left < 336 * 86400 + 60
    info = connector.verify(account=account)
    assert info.remote_id == emulator.default_member.id


def test_login_expiry_is_the_refresh_tokens_or_else_the_access_tokens(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    emulator.omit_refresh_token = True
    connected = _connect(connector)
    credentials = connected.credentials  # type: ignore[attr-defined]
    assert "refresh_token" not in credentials
    account = emulator_account(emulator)
    account.credentials = dict(credentials)
    expires = connector.login_expires_at(account=account)
    assert expires is not None
    assert abs((expires - datetime.now(UTC)) - timedelta(seconds=ACCESS_TOKEN_TTL)) < timedelta(minutes=1)
    # Without a refresh token an expired login cannot be renewed: reconnect.
    with pytest.raises(AuthExpired):
        connector.refresh_credentials(account=account)
    with_refresh = emulator_account(emulator)
    assert connector.login_expires_at(account=with_refresh) == datetime.fromtimestamp(
        with_refresh.credentials["refresh_expires_at"], tz=UTC
    )


# -- versions and errors ---------------------------------------------------------------------------
def test_every_call_carries_the_pinned_version_and_protocol(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    connector.publish_part(account=account, variant=_one("Versioniert"), part_index=0, key=_key())
    rest = emulator.requests_to("/rest/")
    assert rest
    assert {r.headers["linkedin-version"] for r in rest} == {linkedin_client.API_VERSION}
    assert {r.headers["x-restli-protocol-version"] for r in rest} == {"2.0.0"}


def test_a_sunset_version_says_what_to_do(
    emulator: LinkedInEmulator, connector: LinkedInConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(linkedin_client, "API_VERSION", "202401")
    account = emulator_account(emulator)
    with pytest.raises(VersionSunset) as caught:
        connector.publish_part(account=account, variant=_one("Alt"), part_index=0, key=_key())
    assert caught.value.http_status == 426
    assert "202401" in caught.value.network_message
    assert "Requested version 202401 is not active" in caught.value.network_message
    assert "RESONANZ_LINKEDIN_API_VERSION" in caught.value.network_message
    assert not emulator.live_posts()


def test_an_empty_error_body_becomes_a_message_with_status_and_request_id(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    emulator.empty_error_next = True
    with pytest.raises(Rejected) as caught:
        connector.publish_part(account=account, variant=_one("Leer"), part_index=0, key=_key())
    rid = emulator.last_request_id
    assert rid
    message = caught.value.network_message
    assert "400" in message
    assert "request id" in message
    assert rid in message
    assert message.strip() != ""


def test_a_post_reported_created_that_never_appears_is_not_published(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    text = f"Geist {uuid.uuid4().hex[:6]}"
    key = _key()
    emulator.ghost_next = True
    with pytest.raises(TemporaryError) as caught:
        connector.publish_part(account=account, variant=_one(text), part_index=0, key=key)
    assert "does not appear" in caught.value.network_message
    assert not [p for p in emulator.live_posts() if p.text == text]
    # The engine's retry with the same key publishes it (nothing was recorded for the ghost).
    ref = connector.publish_part(account=account, variant=_one(text), part_index=0, key=key)
    assert [p.urn for p in emulator.live_posts() if p.text == text] == [ref.remote_id]


def test_reserved_characters_survive_and_mentions_are_elements(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    org = emulator.default_organization
    text = f"Angebot (nur heute) für *alle* - danke @[{org.name}]({org.urn}) #Rabatt_2026"
    ref = connector.publish_part(account=account, variant=_one(text), part_index=0, key=_key())
    post = emulator.posts[ref.remote_id]
    assert not post.truncated
    assert post.text == text
    assert f"@[{org.name}]({org.urn})" in post.commentary
    edited = text + " (verlängert)"
    connector.edit(account=account, ref=ref, variant=_one(edited), part_index=0)
    assert emulator.posts[ref.remote_id].text == edited
    assert not emulator.posts[ref.remote_id].truncated


# -- media -----------------------------------------------------------------------------------------
def test_one_image_with_alt_text(emulator: LinkedInEmulator, connector: LinkedInConnector) -> None:
    account = emulator_account(emulator)
    ref = connector.publish_part(
        account=account, variant=_one("Bild", [_png(1, alt="Ein Balken")]), part_index=0, key=_key()
    )
    content = emulator.posts[ref.remote_id].content
    assert content["media"]["altText"] == "Ein Balken"
    assert content["media"]["id"].startswith("urn:li:image:")
    assert len(emulator.requests_to("/dms-uploads/", "PUT")) == 1


def test_several_images_are_a_multi_image_post(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    account.settings["organization_urn"] = emulator.default_organization.urn
    images = [_png(n, alt=f"Bild {n}") for n in range(3)]
    ref = connector.publish_part(account=account, variant=_one("Drei", images), part_index=0, key=_key())
    shown = emulator.posts[ref.remote_id].content["multiImage"]["images"]
    assert [i["altText"] for i in shown] == ["Bild 0", "Bild 1", "Bild 2"]
    assert {emulator.assets[i["id"]].owner for i in shown} == {emulator.default_organization.urn}


def test_a_pdf_is_a_document_post(emulator: LinkedInEmulator, connector: LinkedInConnector) -> None:
    account = emulator_account(emulator)
    pdf = DraftMedia(data=b"%PDF-1.4\n" + b"x" * 2000, mime_type="application/pdf", filename="Deck.pdf")
    variant = _one("Unser Deck", [pdf])
    assert connector.validate(account=account, variant=variant) == []
    ref = connector.publish_part(account=account, variant=variant, part_index=0, key=_key())
    media = emulator.posts[ref.remote_id].content["media"]
    assert media["id"].startswith("urn:li:document:")
    assert media["title"] == "Deck.pdf"
    assert emulator.assets[media["id"]].data[0] == pdf.data
    # A document cannot share a post with images.
    issues = connector.validate(account=account, variant=_one("x", [pdf, _png(1)]))
    assert [i.code for i in issues] == ["mixed_media"]


def test_a_video_is_uploaded_in_parts_and_finalized(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    data = bytes(range(256)) * (VIDEO_PART_SIZE // 256) + b"tail"
    video = DraftMedia(data=data, mime_type="video/mp4", filename="Clip.mp4")
    ref = connector.publish_part(account=account, variant=_one("Film", [video]), part_index=0, key=_key())
    asset = emulator.assets[emulator.posts[ref.remote_id].content["media"]["id"]]
    assert asset.parts == 2
    assert asset.finalized
    assert b"".join(asset.data[n] for n in range(2)) == data


# -- engagement ------------------------------------------------------------------------------------
def test_page_engagement_has_impressions(emulator: LinkedInEmulator, connector: LinkedInConnector) -> None:
    account = emulator_account(emulator)
    account.settings["organization_urn"] = emulator.default_organization.urn
    ref = connector.publish_part(account=account, variant=_one("Zahlen"), part_index=0, key=_key())
    emulator.posts[ref.remote_id].impressions = 321
    fan = emulator.create_member("Fan")
    emulator.like_as(fan, ref.remote_id)
    emulator.comment_as(fan, ref.remote_id, "Toll")
    engagement = connector.fetch_engagement(account=account, ref=ref)
    assert (engagement.likes, engagement.replies, engagement.impressions) == (1, 1, 321)
    assert engagement.reply_items[0].text == "Toll"
    assert engagement.reply_items[0].author_id == fan.urn


def test_page_engagement_has_reach_and_clicks(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    account.settings["organization_urn"] = emulator.default_organization.urn
    ref = connector.publish_part(account=account, variant=_one("Reichweite"), part_index=0, key=_key())
    post = emulator.posts[ref.remote_id]
    post.impressions, post.unique_impressions, post.clicks = 500, 320, 17
    engagement = connector.fetch_engagement(account=account, ref=ref)
    assert (engagement.impressions, engagement.reach, engagement.clicks) == (500, 320, 17)
    assert engagement.saves is None  # LinkedIn reports no saves


def test_a_429_without_retry_after_waits_until_midnight_utc(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    emulator.faults.fail(
        "/rest/posts",
        429,
        body=b'{"status":429,"serviceErrorCode":101,"code":"TOO_MANY_REQUESTS","message":"Resource level '
        b'throttle APPLICATION DAY limit for calls to this resource is reached."}',
        method="POST",
    )
    with pytest.raises(RateLimited) as caught:
        connector.publish_part(account=account, variant=_one("Zu viel"), part_index=0, key=_key())
    assert caught.value.retry_after == pytest.approx(linkedin_client.seconds_until_midnight_utc(), abs=5)
    assert "APPLICATION DAY limit" in caught.value.network_message
    noon = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert linkedin_client.seconds_until_midnight_utc(noon) == 12 * 3600


def test_an_answer_to_a_comment_is_a_nested_comment_in_plain_text(
    emulator: LinkedInEmulator, connector: LinkedInConnector
) -> None:
    account = emulator_account(emulator)
    account.settings["organization_urn"] = emulator.default_organization.urn
    post = connector.publish_part(account=account, variant=_one("Frage?"), part_index=0, key=_key())
    fan = emulator.create_member("Fan")
    question = emulator.comment_as(fan, post.remote_id, "Wann (genau)?")
    asked = PublishedRef(remote_id=question["commentUrn"], url=post.url)
    key = _key()
    answer = connector.reply(account=account, text="Morgen (10 Uhr)!", key=key, reply_to=asked, root=post)
    comment = next(c for c in emulator.posts[post.remote_id].comments if c["commentUrn"] == answer.remote_id)
    assert comment["parentComment"] == question["commentUrn"]
    assert comment["actor"] == emulator.default_organization.urn
    assert comment["message"]["text"] == "Morgen (10 Uhr)!"  # comments are not little text
    assert connector.find_reply(account=account, text="Morgen (10 Uhr)!", key=key, reply_to=asked) == answer
    # Our own comment is not counted as an incoming reply.
    engagement = connector.fetch_engagement(account=account, ref=post)
    assert [r.text for r in engagement.reply_items] == ["Wann (genau)?"]
