"""The channels page says when a network that downloads media from our address cannot reach it."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import translation


def _page(client: Any, workspace: Any) -> str:
    return str(client.get(reverse("web:channels", args=[workspace.pk])).content.decode())


def test_a_fetching_network_without_a_public_address_is_warned_about_in_german(
    owner_client: Any, workspace: Any, make_channel: Any, settings: Any
) -> None:
    settings.RESONANZ_PUBLIC_URL = ""
    make_channel("mastodon")
    assert 'id="public-media-warning"' not in _page(owner_client, workspace)  # takes uploads
    make_channel("instagram", base_url="https://graph.facebook.com", handle="shop")
    html = _page(owner_client, workspace)
    assert 'id="public-media-warning"' in html
    assert "Posts with pictures or videos to Instagram will fail" in html
    assert "set RESONANZ_PUBLIC_URL to an address the internet reaches" in html
    with translation.override("de"):
        german = str(
            owner_client.get(
                reverse("web:channels", args=[workspace.pk]), headers={"accept-language": "de"}
            ).content.decode()
        )
    assert "Beiträge mit Bildern oder Videos an Instagram werden scheitern" in german
    settings.RESONANZ_PUBLIC_URL = "http://127.0.0.1:8000"
    assert 'id="public-media-warning"' in _page(owner_client, workspace)
    settings.RESONANZ_PUBLIC_URL = "https://social.example.de"
    assert 'id="public-media-warning"' not in _page(owner_client, workspace)


def test_an_s3_endpoint_on_this_machine_names_the_s3_setting(
    owner_client: Any, workspace: Any, make_channel: Any, settings: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "b-test"}},
    }
    settings.RESONANZ_MEDIA_HOST = "resonanz.posts.s3_media.S3MediaHost"
    settings.RESONANZ_S3_ENDPOINT_URL = "http://localhost:9000"
    make_channel("instagram", base_url="https://graph.facebook.com", handle="shop")
    html = _page(owner_client, workspace)
    assert "set RESONANZ_S3_ENDPOINT_URL to an address" in html
    settings.RESONANZ_S3_ENDPOINT_URL = "https://fsn1.your-objectstorage.com"
    assert 'id="public-media-warning"' not in _page(owner_client, workspace)
