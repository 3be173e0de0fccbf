"""A CRM's webhook receiver on the emulator base (127.0.0.1), checking signatures the way Stripe documents
for its own webhooks (https://docs.stripe.com/webhooks#verify-manually), which is the scheme Resonanz's lead
webhooks use: header ``Resonanz-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, compared
in constant time, the timestamp no older than the tolerance (5 minutes, Stripe's default).

``POST /hook`` answers 200 ``{"received": true}`` for a valid signature and 400 otherwise; the base's
``faults`` make it answer 5xx, 429 or hang (``faults.fail``, ``faults.rate_limit``, ``faults.delay``).
Tests read ``request_log`` and :attr:`CrmWebhookReceiver.accepted`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from typing import Any

from .base import EmulatorServer, Request, Response, json_response

TOLERANCE_SECONDS = 300


def signature_valid(*, secret: str, header: str, body: bytes, now: float | None = None) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    timestamp, signature = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isdigit() or not signature:
        return False
    if abs((now if now is not None else time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class CrmWebhookReceiver(EmulatorServer):
    server_header = "crm-webhooks"

    def __init__(self, *, secret: str = "") -> None:
        super().__init__()
        self.secret = secret
        self.accepted: list[Any] = []
        self.route("POST", r"/hook", self._hook)
        self.route("POST", r"/reject", lambda request, match: json_response(422, {"error": "invalid lead"}))

    def _hook(self, request: Request, match: re.Match[str]) -> Response:
        header = request.headers.get("resonanz-signature", "")  # the base lower-cases names
        if not signature_valid(secret=self.secret, header=header, body=request.body):
            return json_response(400, {"error": "bad signature"})
        with self.lock:
            self.accepted.append(json.loads(request.body))
        return json_response(200, {"received": True})
