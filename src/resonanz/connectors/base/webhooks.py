"""The webhook contract: what a connector offers when its network can push deliveries to Resonanz.

Optional. A connector whose network has webhooks returns a :class:`WebhookReceiver` from
``Connector.webhook_receiver()``; the public endpoint ``/hooks/<network>/`` (engagement app) asks it to

* answer a subscription check (``challenge``: the network's GET when the operator saves the callback
  address; ``None`` = refused, answered 403),
* verify a delivery (``verify``: the signature over the raw body; ``False`` = refused, answered 403 and
  logged), and
* read a verified delivery (``parse``) into :class:`~resonanz.connectors.base.provider.PushedActivity`,
  which the engagement app files through the same stores as the poll. A body that is not what the
  network sends raises :class:`WebhookMalformed` (answered 400, nothing stored); parts the connector does
  not know (fields it did not subscribe to, new kinds of events) are skipped, never errors.

Polling with cursors stays the safety net: whatever a delivery misses, the next poll brings.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from .provider import PushedActivity


class WebhookMalformed(ValueError):
    """The body of a (verified) delivery is not what the network sends."""


@runtime_checkable
class WebhookReceiver(Protocol):
    def enabled(self) -> bool:
        """Whether the operator configured push for this network (a verify token / secret is set)."""
        ...

    def challenge(self, *, params: Mapping[str, str]) -> str | None:
        """The text to answer a subscription check with, or ``None`` to refuse it."""
        ...

    def verify(self, *, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether ``body`` was signed by the network (headers as sent, names case-insensitive)."""
        ...

    def parse(self, *, body: bytes) -> list[PushedActivity]:
        """What the verified delivery says, per connected account. Raises ``WebhookMalformed``."""
        ...


def hmac_sha256_matches(*, secret: str, body: bytes, signature_hex: str) -> bool:
    """Constant-time check of a hex HMAC-SHA256 of ``body`` (the usual webhook signature); an empty
    secret never matches."""
    if not secret or not signature_hex:
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature_hex.strip().lower())
