"""Start-up check: can the networks that fetch media from a URL reach the address Resonanz hands them?

Some networks download pictures and videos themselves (connectors/base/media.py). That
works when ``RESONANZ_PUBLIC_URL`` is an address of this Resonanz that the internet reaches, or when an
S3-compatible bucket serves the files (``RESONANZ_S3_BUCKET``, posts/s3_media.py) from a public endpoint.
``manage check`` (which ``resonanz up`` and ``migrate`` run) says which applies and how to fix it, before a
post fails at its publishing time. A warning, not an error: an installation that only posts to networks
taking uploads is fine without either.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.checks import CheckMessage, register

from resonanz.connectors.base.media import unreachable_reason

from .s3_media import S3MediaHost, s3_configured

SIGNED_HOST = "resonanz.posts.public_media.SignedMediaHost"
S3_HOST = "resonanz.posts.s3_media.S3MediaHost"

FIX = (
    "Set RESONANZ_PUBLIC_URL to the https address where the internet reaches this Resonanz (on a laptop: "
    "a tunnel such as `cloudflared tunnel --url http://127.0.0.1:8000`), or configure S3-compatible "
    'storage with RESONANZ_S3_BUCKET and its endpoint and keys (docs/operations.md, "Public media URL").'
)


@register()
def public_media_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    host = str(settings.RESONANZ_MEDIA_HOST)
    allow_private = bool(settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE)
    if host == S3_HOST:
        if not s3_configured():
            return [
                checks.Warning(
                    "RESONANZ_MEDIA_HOST is the S3 media host, but the default storage is not S3: networks "
                    "that fetch media from a URL get no address.",
                    hint='Set RESONANZ_S3_BUCKET (docs/operations.md, "S3 media storage").',
                    id="resonanz.W102",
                )
            ]
        endpoint = S3MediaHost().base_address()
        reason = unreachable_reason(endpoint)
        if reason and not (allow_private and reason in ("loopback", "private")):
            return [
                checks.Warning(
                    f"RESONANZ_S3_ENDPOINT_URL ({endpoint}) cannot be reached from the internet ({reason}): "
                    "networks that fetch media from a URL cannot download the "
                    "presigned addresses.",
                    hint=(
                        "Use the object storage's public endpoint (e.g. https://fsn1.your-objectstorage.com, "
                        "https://s3.eu-central-1.amazonaws.com) or a public RESONANZ_S3_CUSTOM_DOMAIN."
                    ),
                    id="resonanz.W103",
                )
            ]
        return []
    if host != SIGNED_HOST:
        return []  # an operator's own MediaHost: its addresses are its business
    url = str(settings.RESONANZ_PUBLIC_URL or "")
    reason = unreachable_reason(url)
    if reason and not (allow_private and reason in ("loopback", "private")):
        what = (
            "is not set" if reason == "unset" else f"({url}) cannot be reached from the internet ({reason})"
        )
        return [
            checks.Warning(
                f"RESONANZ_PUBLIC_URL {what}: networks that fetch media from a URL "
                "cannot download pictures and videos, so posts with media to them will fail.",
                hint=FIX,
                id="resonanz.W101",
            )
        ]
    return []
