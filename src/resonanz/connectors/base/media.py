"""Media the network fetches itself (pull from a public URL instead of an upload).

Some networks take an attachment only as an address they download from. The connector asks the product
for such an address through :func:`media_host` (``settings.RESONANZ_MEDIA_HOST``, a dotted path to a
:class:`MediaHost`; the default serves a signed, expiring Resonanz URL, see ``posts/public_media.py``), and
checks with :func:`unreachable_reason` that the address can plausibly be reached from outside before it
hands it over: a network cannot fetch from ``localhost`` or a private network. The other host is
``posts/s3_media.py`` (presigned URLs of an S3-compatible bucket, chosen when ``RESONANZ_S3_BUCKET`` is set);
its addresses are checked the same way (an endpoint on this machine is as unreachable as a laptop).
"""

from __future__ import annotations

import ipaddress
from functools import cache
from typing import Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.module_loading import import_string


class MediaHost(Protocol):
    def public_url(self, *, data: bytes, mime_type: str, filename: str = "") -> str:
        """An address where ``data`` can be fetched for a while (at least a day); "" when none is
        configured (no public base URL)."""
        ...


# Optional on a MediaHost (read with getattr, so an operator's own host needs neither):
# ``address_setting`` (str) names the setting that decides its addresses, for the messages;
# ``base_address()`` (-> str) is where its addresses start, for checks before anything is uploaded.


@cache
def _load(path: str) -> MediaHost:
    host: MediaHost = import_string(path)()
    return host


def media_host() -> MediaHost:
    return _load(settings.RESONANZ_MEDIA_HOST)


def media_address_setting() -> str:
    """The setting an operator changes when the media address cannot be reached from outside (named in
    the connectors' messages): a host's ``address_setting``, else ``RESONANZ_PUBLIC_URL``."""
    return str(getattr(media_host(), "address_setting", "") or "RESONANZ_PUBLIC_URL")


def media_address_problem() -> str:
    """Why the networks will not reach the configured host's addresses ("" = plausible, or a host that
    does not tell its ``base_address``); what the start-up check and the channels page say."""
    base_address = getattr(media_host(), "base_address", None)
    if base_address is None:
        return ""
    reason = unreachable_reason(str(base_address()))
    if reason in ("loopback", "private") and settings.RESONANZ_PUBLIC_MEDIA_ALLOW_PRIVATE:
        return ""
    return reason


def unreachable_reason(url: str) -> str:
    """Why a server on the internet cannot fetch ``url`` ("" = plausible). Only a plausibility check
    (no DNS lookup of names: a name may resolve differently outside)."""
    if not url:
        return "unset"
    split = urlsplit(url)
    if split.scheme not in ("http", "https") or not split.hostname:
        return "not_http"
    host = split.hostname.lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith((".localhost", ".local", ".internal")):
        return "loopback"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "" if "." in host else "no_domain"
    if address.is_loopback:
        return "loopback"
    if address.is_private or address.is_link_local or address.is_unspecified or address.is_reserved:
        return "private"
    return ""


__all__ = ["MediaHost", "media_address_problem", "media_address_setting", "media_host", "unreachable_reason"]
