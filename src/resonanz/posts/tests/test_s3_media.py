"""Media in S3-compatible storage (posts/s3_media.py) against a real S3 on this machine (moto's server,
testsupport/servers/s3.py): uploads land in the bucket, presigned addresses serve the bytes, expire and
refuse a changed signature; the public-media check says whether the networks can fetch."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from django.core.checks import Warning as CheckWarning

from resonanz.accounts.models import User, Workspace
from resonanz.connectors.base.media import media_host, unreachable_reason
from resonanz.posts.checks import public_media_check
from resonanz.posts.s3_media import S3MediaHost
from resonanz.posts.services import media_asset_create
from resonanz.posts.tests.test_composer_media import png_bytes
from testsupport.servers.s3 import S3TestServer

SRC = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3TestServer]:
    with S3TestServer() as server:
        yield server


@pytest.fixture
def s3(s3_server: S3TestServer, settings: Any) -> S3TestServer:
    values = s3_server.settings()
    settings.STORAGES = {**settings.STORAGES, "default": values.pop("default_storage")}
    for name, value in values.items():
        setattr(settings, name, value)
    settings.RESONANZ_MEDIA_HOST = "resonanz.posts.s3_media.S3MediaHost"
    settings.RESONANZ_S3_MEDIA_MAX_AGE = 3600
    return s3_server


def _keys(server: S3TestServer) -> list[str]:
    answer = server.client().list_objects_v2(Bucket=server.bucket)
    return [str(item["Key"]) for item in answer.get("Contents", [])]


def test_an_upload_goes_to_the_bucket(s3: S3TestServer, workspace: Workspace, owner: User) -> None:
    data = png_bytes("red")
    asset = media_asset_create(workspace=workspace, data=data, filename="a.png", actor=owner)
    assert asset.file.name in _keys(s3)
    stored = s3.client().get_object(Bucket=s3.bucket, Key=asset.file.name)["Body"].read()
    assert stored == data


def test_the_presigned_address_serves_the_bytes_and_refuses_a_changed_signature(s3: S3TestServer) -> None:
    data = b"\xff\xd8\xff-s3-jpeg-bytes"
    url = media_host().public_url(data=data, mime_type="image/jpeg", filename="a.jpg")
    assert url.startswith(f"{s3.url}/{s3.bucket}/public/")
    assert "X-Amz-Signature=" in url
    assert "X-Amz-Expires=3600" in url
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.content == data
    # Content-addressed: the same bytes are one object.
    again = S3MediaHost().public_url(data=data, mime_type="image/jpeg")
    assert again.split("?")[0] == url.split("?")[0]
    assert sum(1 for key in _keys(s3) if key == url.split("?")[0].rsplit(f"/{s3.bucket}/", 1)[1]) == 1
    # A changed signature, a changed key under the same signature, no signature: refused by S3.
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    forged = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    refused = httpx.get(forged)
    assert refused.status_code == 403
    assert b"SignatureDoesNotMatch" in refused.content
    other = url.replace("/public/", "/public/x")
    assert httpx.get(other).status_code == 403
    assert httpx.get(url.split("?")[0]).status_code == 403  # the bucket is private


def test_the_presigned_address_expires(s3: S3TestServer, settings: Any) -> None:
    settings.RESONANZ_S3_MEDIA_MAX_AGE = 3
    url = S3MediaHost().public_url(data=b"\xff\xd8\xff-short-lived", mime_type="image/jpeg")
    assert "X-Amz-Expires=3&" in url
    assert httpx.get(url).status_code == 200
    # X-Amz-Date has whole seconds: wait until one second past its end.
    signed = dict(parse_qsl(url.split("?", 1)[1]))["X-Amz-Date"]
    signed_at = datetime.strptime(signed, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    time.sleep(max(0.0, signed_at + 3 + 1 - time.time()))
    expired = httpx.get(url)
    assert expired.status_code == 403
    assert b"Request has expired" in expired.content


def test_an_endpoint_on_this_machine_is_not_reachable_for_a_network(s3: S3TestServer) -> None:
    url = S3MediaHost().public_url(data=b"\xff\xd8\xff-x", mime_type="image/jpeg")
    assert unreachable_reason(url) == "loopback"


def test_without_a_bucket_the_s3_host_has_no_address(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    assert S3MediaHost().public_url(data=b"x", mime_type="image/jpeg") == ""


def test_the_check_says_whether_public_media_will_work(settings: Any, s3_server: S3TestServer) -> None:
    settings.RESONANZ_PUBLIC_URL = ""
    [missing] = public_media_check(None)
    assert isinstance(missing, CheckWarning)
    assert "RESONANZ_PUBLIC_URL" in missing.msg
    assert missing.hint is not None
    assert "RESONANZ_S3_BUCKET" in missing.hint
    assert "tunnel" in missing.hint
    settings.RESONANZ_PUBLIC_URL = "http://192.168.1.20:8000"
    [private] = public_media_check(None)
    assert "192.168.1.20" in private.msg
    settings.RESONANZ_PUBLIC_URL = "https://social.example.de"
    assert public_media_check(None) == []
    # S3: the endpoint decides; one on this machine is an error the networks would hit.
    values = s3_server.settings()
    settings.STORAGES = {**settings.STORAGES, "default": values.pop("default_storage")}
    settings.RESONANZ_MEDIA_HOST = "resonanz.posts.s3_media.S3MediaHost"
    settings.RESONANZ_S3_ENDPOINT_URL = values["RESONANZ_S3_ENDPOINT_URL"]
    [local] = public_media_check(None)
    assert isinstance(local, CheckWarning)
    assert local.id == "resonanz.W103"
    assert "RESONANZ_S3_ENDPOINT_URL" in local.msg
    settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE = True
    assert public_media_check(None) == []
    settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE = False
    settings.RESONANZ_S3_ENDPOINT_URL = "https://fsn1.your-objectstorage.com"
    assert public_media_check(None) == []


def _settings_of(env: dict[str, str], tmp_path: Any) -> list[str]:
    code = (
        "from django.conf import settings as s;"
        "d = s.STORAGES['default']; o = d.get('OPTIONS', {});"
        "print(d['BACKEND']); print(s.RESONANZ_MEDIA_HOST);"
        "print(o.get('endpoint_url')); print(o.get('querystring_expire'))"
    )
    clean = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(SRC),
        "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
        "RESONANZ_DATA_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-m", "django", "shell", "--no-imports", "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_environment_selects_s3_and_the_embedded_default_stays(tmp_path: Any) -> None:
    assert _settings_of({}, tmp_path) == [
        "django.core.files.storage.FileSystemStorage",
        "resonanz.posts.public_media.SignedMediaHost",
        "None",
        "None",
    ]
    s3 = {
        "RESONANZ_S3_BUCKET": "resonanz-media",
        "RESONANZ_S3_ENDPOINT_URL": "https://fsn1.your-objectstorage.com",
        "RESONANZ_S3_MEDIA_MAX_AGE": "7200",
    }
    assert _settings_of(s3, tmp_path) == [
        "storages.backends.s3.S3Storage",
        "resonanz.posts.s3_media.S3MediaHost",
        "https://fsn1.your-objectstorage.com",
        "7200",
    ]
    own = {**s3, "RESONANZ_MEDIA_HOST": "resonanz.posts.public_media.SignedMediaHost"}
    assert _settings_of(own, tmp_path)[1] == "resonanz.posts.public_media.SignedMediaHost"
