"""Instagram fetches the picture from S3-compatible storage: the Graph API emulator downloads the image
from the presigned URL of a real S3 on this machine (moto's server, testsupport/servers/s3.py), as Meta's
crawler does, and the strict check refuses an endpoint on this machine in the user's language."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.utils import translation

from resonanz.connectors.base import ChannelAccount, DraftMedia, DraftPart, DraftVariant, Rejected
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.facebook.graph import GRAPH_VERSION
from resonanz.connectors.instagram.provider import InstagramConnector
from resonanz.connectors.instagram.tests.test_contract import ig_account
from resonanz.connectors.instagram.tests.test_provider import _image
from testsupport.emulators.meta import MetaEmulator
from testsupport.servers.s3 import S3TestServer


@pytest.fixture
def s3(settings: Any) -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        values = server.settings()
        settings.STORAGES = {**settings.STORAGES, "default": values.pop("default_storage")}
        for name, value in values.items():
            setattr(settings, name, value)
        settings.RESONANZ_MEDIA_HOST = "resonanz.posts.s3_media.S3MediaHost"
        settings.RESONANZ_PUBLIC_URL = ""  # no Resonanz address: the bucket alone serves the picture
        yield server


@pytest.fixture
def emulator(s3: S3TestServer) -> Iterator[MetaEmulator]:
    with MetaEmulator() as server:
        yield server
        assert not server.validation_failures, [f.validation_errors for f in server.validation_failures]


def _key() -> PublishKey:
    return PublishKey(key=f"ig-{uuid.uuid4()}", created_at=datetime.now(UTC))


def _account(emulator: MetaEmulator, connector: InstagramConnector) -> ChannelAccount:
    account = ig_account(emulator, emulator.create_ig_user(emulator.default_page, "resonanz.s3"))
    connector.verify(account=account)
    return account


def test_instagram_fetches_the_picture_from_the_bucket(emulator: MetaEmulator, s3: S3TestServer) -> None:
    connector = InstagramConnector(poll_interval=0.01, allow_private_media_urls=True)
    account = _account(emulator, connector)
    picture: DraftMedia = _image(seed=5)
    ref = connector.publish_part(
        account=account,
        variant=DraftVariant(parts=[DraftPart(text="Aus dem Bucket", media=[picture])]),
        part_index=0,
        key=_key(),
    )
    assert emulator.ig_media[ref.remote_id].caption == "Aus dem Bucket"
    [fetched] = emulator.fetched_urls
    assert fetched.startswith(f"{s3.url}/{s3.bucket}/public/")
    assert "X-Amz-Signature=" in fetched
    # The emulator downloaded it from S3 (a JPEG: the PNG was converted), and S3 checked the signature.
    key = fetched.split("?")[0].removeprefix(f"{s3.url}/{s3.bucket}/")
    stored = s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    assert stored.startswith(b"\xff\xd8")
    assert not s3.auth.refused


def test_a_bucket_on_this_machine_is_refused_before_sending_in_german(
    emulator: MetaEmulator, s3: S3TestServer
) -> None:
    strict = InstagramConnector(poll_interval=0.01)
    account = _account(emulator, InstagramConnector(poll_interval=0.01, allow_private_media_urls=True))
    variant = DraftVariant(parts=[DraftPart(text="Lokal", media=[_image()])])
    with translation.override("de"), pytest.raises(Rejected) as refused:
        strict.publish_part(account=account, variant=variant, part_index=0, key=_key())
    assert refused.value.network_message.startswith(
        "Instagram muss das Bild von einer öffentlichen Adresse abrufen"
    )
    assert s3.url in refused.value.network_message
    assert not emulator.requests_to(f"/{GRAPH_VERSION}/{account.remote_id}/media", "POST")
    assert not emulator.fetched_urls
