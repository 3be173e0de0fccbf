"""server_url_check: what a typed server address becomes, and what is refused."""

from __future__ import annotations

import pytest

from resonanz.core.server_urls import ServerUrlError, server_url_check


@pytest.mark.parametrize(
    ("typed", "checked"),
    [
        ("social.example", "https://social.example"),
        ("  https://Social.Example/  ", "https://social.example"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),  # IDNA, as it goes on the wire
        ("https://social.example:8443/base/", "https://social.example:8443/base"),
        ("http://127.0.0.1:2583", "http://127.0.0.1:2583"),
    ],
)
def test_addresses_are_normalised(typed: str, checked: str) -> None:
    assert server_url_check(value=typed, allow_private=True) == checked


def test_a_public_address_passes_without_the_allowance() -> None:
    # An address literal needs no DNS (no internet here); 192.0.2.0/24 would be reserved, 1.1.1.1 is not.
    assert server_url_check(value="https://1.1.1.1", allow_private=False) == "https://1.1.1.1"


@pytest.mark.parametrize("typed", ["", "   ", "https://", "https://?x", "https://social.example/#top"])
def test_empty_or_partial_addresses_are_refused(typed: str) -> None:
    with pytest.raises(ServerUrlError):
        server_url_check(value=typed, allow_private=True)


def test_plain_http_needs_the_allowance() -> None:
    with pytest.raises(ServerUrlError, match="https://"):
        server_url_check(value="http://1.1.1.1", allow_private=False)
