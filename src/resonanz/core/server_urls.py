"""Addresses of network servers that users type in (their own instance of a federated network, a blog).

Resonanz calls whatever server a user names, from inside the operator's network, so an unchecked address
is a server-side request forgery: ``http://127.0.0.1:6379/``, ``http://169.254.169.254/`` (cloud metadata)
or an intranet host would be reached with Resonanz's privileges. Checked here, before any connector sees
the address (OWASP SSRF prevention: https://cheatsheetseries.owasp.org/cheatsheets/Server_Side_Request_Forgery_Prevention_Cheat_Sheet.html):

* parsed by httpx, the same parser the connectors' requests use, so what passes here is what is called
  (control characters and invalid international host names are refused, not turned into a 500);
* https only, no user name or password in the address, no query or fragment;
* every address the name resolves to must be public: no private, loopback, link-local, multicast,
  reserved or unspecified address (IPv4 and IPv6), unless the operator allows it with
  ``RESONANZ_ALLOW_PRIVATE_SERVERS`` (a server inside the company network; the test servers); then plain
  http is allowed too.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata

import httpx
from django.utils.translation import gettext as _

# RFC 1123 host names in their IDNA form: labels of letters, digits and inner hyphens, at most 63 each.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _host_name_valid(raw_host: str) -> bool:
    try:
        ipaddress.ip_address(raw_host.strip("[]"))
    except ValueError:
        labels = raw_host.lower().rstrip(".").split(".")
        return len(raw_host) <= 253 and all(_LABEL.match(label) for label in labels)
    return True


class ServerUrlError(ValueError):
    """The address cannot be used; ``message`` says why, in the active language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone id is not part of the address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def server_url_check(*, value: str, allow_private: bool) -> str:
    """The address, normalised (``https://host[:port][/path]`` without a trailing slash), or
    :class:`ServerUrlError`."""
    text = value.strip()
    if not text:
        raise ServerUrlError(_("Enter the address of the server."))
    if any(unicodedata.category(ch).startswith(("C", "Z")) for ch in text):
        raise ServerUrlError(_("The server address contains spaces or invisible characters. Type it again."))
    if "://" not in text:
        text = f"https://{text}"
    try:
        url = httpx.URL(text)
        host = url.host  # decoded; ``raw_host`` is the IDNA form that goes on the wire
        raw_host = url.raw_host.decode("ascii")
        if host and not _host_name_valid(raw_host):
            raise ValueError(raw_host)
    except (httpx.InvalidURL, UnicodeError, ValueError):
        raise ServerUrlError(
            _("“%(value)s” is not a valid server address.") % {"value": value.strip()}
        ) from None
    schemes = {"https", "http"} if allow_private else {"https"}
    if url.scheme not in schemes:
        raise ServerUrlError(_("The server address must start with https://."))
    if not host:
        raise ServerUrlError(_("The server address lacks the server's name."))
    if url.userinfo:
        raise ServerUrlError(_("Leave the user name and password out of the server address."))
    if url.query or url.fragment:
        raise ServerUrlError(_("The server address must not contain “?” or “#”."))
    if not allow_private:
        port = url.port or 443
        try:
            found = {info[4][0] for info in socket.getaddrinfo(raw_host, port, type=socket.SOCK_STREAM)}
        except (OSError, UnicodeError):
            raise ServerUrlError(
                _("The server name %(host)s could not be found. Check the address for typos.")
                % {"host": host}
            ) from None
        if not found or not all(_public(str(a)) for a in found):
            raise ServerUrlError(
                _(
                    "%(host)s is an address inside a private network. Resonanz only connects to public "
                    "servers unless its operator allows private ones."
                )
                % {"host": host}
            )
    return str(url.copy_with(path=url.path.rstrip("/") or "/")).rstrip("/")
