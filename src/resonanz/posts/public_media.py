"""Signed, expiring public addresses of media files, for networks that fetch media themselves.

``SignedMediaHost`` (the default ``settings.RESONANZ_MEDIA_HOST``) keeps the bytes a connector hands it
(after its own conversion, e.g. to JPEG) under a content-addressed name in the default storage and signs
that name with ``django.core.signing`` (salted, timestamped). The address is
``RESONANZ_PUBLIC_URL`` + ``/public-media/<token>/``; the view refuses a token older than
``RESONANZ_PUBLIC_MEDIA_MAX_AGE`` seconds (default: two days) or with a wrong signature (404, so a
guessed address says nothing). No workspace or file name is in the address.
"""

from __future__ import annotations

import hashlib
import mimetypes
from typing import cast

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.urls import reverse

SALT = "resonanz.public-media"
FOLDER = "public"


def public_media_name(*, data: bytes, mime_type: str) -> str:
    """Store ``data`` once (content-addressed) and return its storage name."""
    extension = mimetypes.guess_extension(mime_type) or ".bin"
    name = f"{FOLDER}/{hashlib.sha256(data).hexdigest()}{extension}"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(data))
    return name


def public_media_url(*, name: str) -> str:
    """The signed address of a stored name; "" when ``RESONANZ_PUBLIC_URL`` is not set."""
    base = str(getattr(settings, "RESONANZ_PUBLIC_URL", "") or "").rstrip("/")
    if not base:
        return ""
    token = signing.TimestampSigner(salt=SALT).sign_object({"n": name})
    return base + reverse("media_public:file", kwargs={"token": token})


class SignedMediaHost:
    """``connectors.base.media.MediaHost`` on Resonanz's own public address."""

    address_setting = "RESONANZ_PUBLIC_URL"  # named when the address cannot be reached from outside

    def base_address(self) -> str:
        return str(getattr(settings, "RESONANZ_PUBLIC_URL", "") or "")

    def public_url(self, *, data: bytes, mime_type: str, filename: str = "") -> str:
        if not str(getattr(settings, "RESONANZ_PUBLIC_URL", "") or ""):
            return ""
        return public_media_url(name=public_media_name(data=data, mime_type=mime_type))


def public_media_file(request: HttpRequest, token: str) -> HttpResponse:
    """The file behind a signed token (no login: the network fetches it)."""
    try:
        value = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=settings.RESONANZ_PUBLIC_MEDIA_MAX_AGE
        )
    except signing.BadSignature as exc:  # also SignatureExpired
        raise Http404 from exc
    name = str(value.get("n") or "") if isinstance(value, dict) else ""
    if not name.startswith(f"{FOLDER}/") or ".." in name:
        raise Http404
    try:
        handle = default_storage.open(name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = "public, max-age=3600"
    response["X-Robots-Tag"] = "noindex"
    # Streamed, not read into memory.
    return cast(HttpResponse, response)
