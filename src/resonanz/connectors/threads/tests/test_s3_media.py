"""Threads fetches a picture from S3-compatible storage: the emulator downloads it from the presigned URL
of a real S3 on this machine (moto's server, testsupport/servers/s3.py), as Threads' crawler would."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from resonanz.connectors.base import DraftPart, DraftVariant
from resonanz.connectors.base.provider import PublishKey
from resonanz.connectors.threads.provider import ThreadsConnector
from resonanz.connectors.threads.tests.test_contract import emulator_account
from resonanz.connectors.threads.tests.test_media import _jpeg
from testsupport.emulators.threads import ThreadsEmulator
from testsupport.servers.s3 import S3TestServer


@pytest.fixture
def s3(settings: Any) -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        values = server.settings()
        settings.STORAGES = {**settings.STORAGES, "default": values.pop("default_storage")}
        for name, value in values.items():
            setattr(settings, name, value)
        settings.RESONANZ_MEDIA_HOST = "resonanz.posts.s3_media.S3MediaHost"
        settings.RESONANZ_PUBLIC_URL = ""
        yield server


def test_threads_fetches_the_picture_from_the_bucket(s3: S3TestServer) -> None:
    connector = ThreadsConnector(poll_interval=0.01, container_timeout=5.0, allow_private_media_urls=True)
    with ThreadsEmulator() as emulator:
        account = emulator_account(emulator)
        connector.verify(account=account)
        picture = _jpeg(seed=7)
        ref = connector.publish_part(
            account=account,
            variant=DraftVariant(parts=[DraftPart(text="Aus dem Bucket", media=[picture])]),
            part_index=0,
            key=PublishKey(key=f"ts3-{uuid.uuid4()}", created_at=datetime.now(UTC)),
        )
        assert not emulator.errors, emulator.errors
        [fetched] = emulator.fetched_urls
        assert emulator.posts[ref.remote_id].media_type == "IMAGE"
    assert fetched.startswith(f"{s3.url}/{s3.bucket}/public/")
    assert "X-Amz-Signature=" in fetched
    key = fetched.split("?")[0].removeprefix(f"{s3.url}/{s3.bucket}/")
    assert s3.client().get_object(Bucket=s3.bucket, Key=key)["Body"].read() == picture.data
    assert not s3.auth.refused
