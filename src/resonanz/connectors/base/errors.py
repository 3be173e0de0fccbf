"""Typed connector errors. The publishing engine decides what to do by type alone:

* ``TemporaryError`` (and subclasses): retry with backoff and jitter; ``RateLimited`` waits at least
  ``retry_after`` seconds. ``OutcomeUnknown`` additionally means the network may already have acted:
  the engine reconciles (asks the network) before any retry.
* ``AuthExpired``: refresh the credentials once; if that fails the channel needs reconnecting.
* ``Rejected``: permanent; the network's own message is shown to the user.
* ``NotSupported``: the network has no such operation (e.g. editing a Bluesky post).
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base class. ``network_message`` is the network's own words, shown to users verbatim."""

    code = "connector_error"

    def __init__(self, message: str, *, network_message: str = "", http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.network_message = network_message or message
        self.http_status = http_status


class TemporaryError(ConnectorError):
    code = "temporary"


class ConnectionFailed(TemporaryError):
    """The request never reached the network (DNS, refused, connect timeout): safe to retry."""

    code = "connection_failed"


class ServerError(TemporaryError):
    """5xx from the network."""

    code = "server_error"


class RateLimited(TemporaryError):
    code = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        network_message: str = "",
        http_status: int | None = 429,
    ) -> None:
        super().__init__(message, network_message=network_message, http_status=http_status)
        self.retry_after = retry_after


class OutcomeUnknown(TemporaryError):
    """The request was sent but no answer came back (read timeout, connection reset after send).

    The network may have created the post. Never retry blindly: reconcile first.
    """

    code = "outcome_unknown"


class AuthExpired(ConnectorError):
    code = "auth_expired"


class Rejected(ConnectorError):
    code = "rejected"


class NotSupported(ConnectorError):
    code = "not_supported"
