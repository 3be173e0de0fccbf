"""Signed, expiring public media addresses (posts/public_media.py)."""

from __future__ import annotations

import time
from typing import Any
from unittest import mock

import pytest
from django.core import signing
from django.test import Client

from resonanz.connectors.base.media import media_host
from resonanz.posts.public_media import SALT, SignedMediaHost


@pytest.fixture
def public(settings: Any, tmp_path: Any) -> str:
    settings.MEDIA_ROOT = tmp_path
    settings.RESONANZ_PUBLIC_URL = "https://resonanz.example"
    return "https://resonanz.example"


def test_the_signed_address_serves_the_bytes_until_it_expires(
    public: str, client: Client, settings: Any
) -> None:
    url = media_host().public_url(data=b"\xff\xd8\xff-jpeg-bytes", mime_type="image/jpeg", filename="a.jpg")
    assert url.startswith(public + "/public-media/")
    path = url.removeprefix(public)
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/jpeg"
    assert b"".join(answer.streaming_content) == b"\xff\xd8\xff-jpeg-bytes"  # type: ignore[attr-defined]
    # The same bytes are stored once (content-addressed): the same name behind both tokens.
    again = SignedMediaHost().public_url(data=b"\xff\xd8\xff-jpeg-bytes", mime_type="image/jpeg")
    name = signing.TimestampSigner(salt=SALT).unsign_object(
        again.removeprefix(public + "/public-media/")[:-1]
    )
    assert name == signing.TimestampSigner(salt=SALT).unsign_object(path.removeprefix("/public-media/")[:-1])
    # Expired: 404.
    later = time.time() + settings.RESONANZ_PUBLIC_MEDIA_MAX_AGE + 60
    with mock.patch("django.core.signing.time.time", return_value=later):
        assert client.get(path).status_code == 404


def test_a_forged_or_foreign_token_is_404(public: str, client: Client) -> None:
    assert client.get("/public-media/not-a-token/").status_code == 404
    forged = signing.TimestampSigner(salt=SALT).sign_object({"n": "../secrets.txt"})
    assert client.get(f"/public-media/{forged}/").status_code == 404
    other_salt = signing.TimestampSigner(salt="other").sign_object({"n": "public/x.jpg"})
    assert client.get(f"/public-media/{other_salt}/").status_code == 404


def test_no_public_url_configured_means_no_address(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    settings.RESONANZ_PUBLIC_URL = ""
    assert SignedMediaHost().public_url(data=b"x", mime_type="image/jpeg") == ""
