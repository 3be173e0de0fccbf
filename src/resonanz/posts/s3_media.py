"""Presigned, expiring S3 addresses of media files, for networks that fetch media themselves.

``S3MediaHost`` is the ``settings.RESONANZ_MEDIA_HOST`` when ``RESONANZ_S3_BUCKET`` is set (the default
storage is then django-storages' ``S3Storage``, config/settings/base.py). It keeps the bytes a connector
hands it under the same content-addressed name as :class:`~resonanz.posts.public_media.SignedMediaHost`
(``public/<sha256>.<ext>``, in the bucket) and answers a presigned GET URL (SigV4 query-string
authentication, https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html) valid for
``RESONANZ_S3_MEDIA_MAX_AGE`` seconds. The bucket stays private: the signature is the permission, S3 refuses
a changed or expired one (403). The network fetches from the bucket, so this Resonanz needs no public
address; the connectors still check the URL's host with ``connectors.base.media.unreachable_reason`` (an
endpoint on ``localhost`` or a private network cannot be reached by a network either).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from .public_media import public_media_name

AWS_ENDPOINT = "https://s3.amazonaws.com"  # boto3's default when no endpoint is set


def s3_configured() -> bool:
    """Whether the default storage is an S3 bucket (``RESONANZ_S3_BUCKET``)."""
    backend = str(settings.STORAGES.get("default", {}).get("BACKEND", ""))
    return backend == "storages.backends.s3.S3Storage"


class S3MediaHost:
    """``connectors.base.media.MediaHost`` on a presigned URL of the S3 bucket."""

    address_setting = "RESONANZ_S3_ENDPOINT_URL"  # named when the address cannot be reached from outside

    def base_address(self) -> str:
        """Where the presigned addresses point: the custom domain, the endpoint, or AWS."""
        if not s3_configured():
            return ""
        domain = str(settings.RESONANZ_S3_CUSTOM_DOMAIN or "")
        return f"https://{domain}" if domain else str(settings.RESONANZ_S3_ENDPOINT_URL or AWS_ENDPOINT)

    def public_url(self, *, data: bytes, mime_type: str, filename: str = "") -> str:
        if not s3_configured():
            return ""  # no bucket: "no address" (the connector says how to configure one)
        name = public_media_name(data=data, mime_type=mime_type)
        storage: Any = default_storage  # S3Storage.url takes the expiry (django-storages, untyped)
        url: str = storage.url(name, expire=int(settings.RESONANZ_S3_MEDIA_MAX_AGE))
        return url
