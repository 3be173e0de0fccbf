"""Meta Webhooks for Pages and Instagram professional accounts (``connectors.base.webhooks``).

One Meta app, one callback address per object: ``/hooks/facebook/`` (object ``page``) and
``/hooks/instagram/`` (object ``instagram``), both configured by the operator in the App Dashboard with
the same verify token (``RESONANZ_META_WEBHOOK_VERIFY_TOKEN``). Vendor facts used here:

* Verification request (Getting Started, https://developers.facebook.com/docs/graph-api/webhooks/getting-started,
  "Verification Requests"): ``GET <callback>?hub.mode=subscribe&hub.challenge=<n>&hub.verify_token=<t>``;
  answer ``hub.challenge`` when the token is the one set in the dashboard.
* Event notifications (same page, "Validating Payloads"): a POST with a JSON body, signed in
  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw payload, key = the app secret>``. The body
  is ``{"object": ..., "entry": [{"id": <page id / IG user id>, "time": ..., "changes": [{"field",
  "value"}]}]}``. Meta retries a delivery that is not answered 200, so the same content can arrive
  more than once (the stores' dedup by ``remote_id`` makes that harmless).
* Page ``feed`` field (Webhooks reference, Page, https://developers.facebook.com/docs/graph-api/webhooks/reference/page):
  ``value`` has ``item`` (``comment``, ``post``, ``status``, ``reaction``, ...), ``verb`` (``add``,
  ``edited``, ``remove``, ...), ``post_id`` (``{page-id}_{post-id}``, the id the connector publishes
  under), ``comment_id``, ``parent_id``, ``from{id,name}``, ``message``, ``created_time``.
  The Page ``mention`` field says the Page was tagged in a post or comment.
* Instagram ``comments`` field (Webhooks reference, Instagram,
  https://developers.facebook.com/docs/graph-api/webhooks/reference/instagram, and
  https://developers.facebook.com/docs/instagram-platform/webhooks/examples): ``value`` has ``id``,
  ``text``, ``from{id,username}``, ``media{id,media_product_type}``, ``parent_id``. The ``mentions`` field
  carries ids only (``media_id``, ``comment_id``), https://developers.facebook.com/docs/instagram-platform/instagram-api-with-facebook-login/mentions.
  Comment and mention webhooks need ``instagram_manage_comments`` with Advanced Access
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-instagram).
* Deliveries only come for a Page that installed the app:
  ``POST /{page-id}/subscribed_apps?subscribed_fields=feed`` with the Page token, which needs
  ``pages_manage_metadata``
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started/webhooks-for-pages); for an
  Instagram account it is the Page it is linked to ("The Page connected to the app user's account must
  have Page subscriptions enabled", webhooks-for-instagram).

Only what the connectors already read is used: comments go to the reply sync of the post they are under
(which files them with their thread), a mention makes the inbox poll run (``resync``); messages
(``messaging``) are not read by these connectors and are skipped.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from resonanz.connectors.base import ConnectorError, PushedActivity
from resonanz.connectors.base.webhooks import WebhookMalformed, hmac_sha256_matches

from . import login
from .graph import GraphClient

logger = logging.getLogger(__name__)

VERIFY_TOKEN_ENV = "RESONANZ_META_WEBHOOK_VERIFY_TOKEN"  # noqa: S105 - the variable's name
SIGNATURE_HEADER = "x-hub-signature-256"
SIGNATURE_PREFIX = "sha256="
# What a Page subscribes our app to (``subscribed_apps``): its feed (comments, posts on it, mentions
# of the Page arrive as ``feed``/``mention`` changes).
PAGE_FIELDS = ("feed", "mention")
# ``subscribed_apps`` needs this Page permission (webhooks-for-pages, "Requirements"); asked for at login
# only when push is configured, so an operator without push needs no extra app review.
PUSH_SCOPES = ("pages_manage_metadata",)


def push_scopes() -> tuple[str, ...]:
    return PUSH_SCOPES if push_configured() else ()


# One change (``entry[].changes[]``) as a connector reads it: ``None`` = nothing for the inbox.
ChangeReader = Callable[[str, str, Mapping[str, Any]], PushedActivity | None]


def verify_token() -> str:
    """Read at call time, like ``login.app_config``: a changed environment applies without a restart."""
    return os.environ.get(VERIFY_TOKEN_ENV, "")


def push_configured() -> bool:
    return bool(verify_token() and login.app_config().app_secret)


class MetaWebhookReceiver:
    """The receiver for one webhook object (``page`` or ``instagram``); ``read_change`` is the
    connector's reading of one ``(account id, field, value)``."""

    def __init__(self, *, object_type: str, read_change: ChangeReader) -> None:
        self.object_type = object_type
        self.read_change = read_change

    def enabled(self) -> bool:
        return push_configured()

    def challenge(self, *, params: Mapping[str, str]) -> str | None:
        token = verify_token()
        given = params.get("hub.verify_token", "")
        if params.get("hub.mode") != "subscribe" or not token or not hmac.compare_digest(token, given):
            return None
        return params.get("hub.challenge", "")

    def verify(self, *, headers: Mapping[str, str], body: bytes) -> bool:
        signature = ""
        for name, value in headers.items():
            if name.lower() == SIGNATURE_HEADER:
                signature = value
        if not signature.startswith(SIGNATURE_PREFIX):
            return False
        return hmac_sha256_matches(
            secret=login.app_config().app_secret,
            body=body,
            signature_hex=signature.removeprefix(SIGNATURE_PREFIX),
        )

    def parse(self, *, body: bytes) -> list[PushedActivity]:
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise WebhookMalformed(f"not JSON: {exc}") from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
            raise WebhookMalformed("no entry list")
        if payload.get("object") != self.object_type:
            logger.info(
                "webhook for object %r at the %r address skipped", payload.get("object"), self.object_type
            )
            return []
        activities: list[PushedActivity] = []
        for entry in payload["entry"]:
            if not isinstance(entry, dict) or not entry.get("id"):
                raise WebhookMalformed("entry without id")
            account_id = str(entry["id"])
            changes = entry.get("changes")
            if changes is None and "field" in entry:  # Business Login for Instagram puts it in the entry
                changes = [entry]
            for change in changes or []:
                if not isinstance(change, dict):
                    raise WebhookMalformed("change is not an object")
                value = change.get("value")
                if not isinstance(value, dict):
                    continue  # a field we do not read, or one without a value
                activity = self.read_change(account_id, str(change.get("field") or ""), value)
                if activity is not None:
                    activities.append(activity)
        return merge(activities)


def merge(activities: list[PushedActivity]) -> list[PushedActivity]:
    """One activity per account: a delivery batches many changes, each needs one reply sync per post."""
    by_account: dict[str, PushedActivity] = {}
    for activity in activities:
        known = by_account.get(activity.account_remote_id)
        if known is None:
            by_account[activity.account_remote_id] = activity
            continue
        by_account[activity.account_remote_id] = PushedActivity(
            account_remote_id=activity.account_remote_id,
            mentions=known.mentions + activity.mentions,
            direct_messages=known.direct_messages + activity.direct_messages,
            replied_posts=tuple(dict.fromkeys(known.replied_posts + activity.replied_posts)),
            resync=known.resync or activity.resync,
        )
    return list(by_account.values())


def subscribe_page(
    *,
    api_url: str,
    page_id: str,
    page_token: str,
    timeout: float | None = None,
    transport: httpx.BaseTransport | None = None,
) -> bool:
    """Install our app on the Page so Meta delivers its webhooks (see the module's docstring). Only when
    push is configured; a failure is logged, not raised: the channel works by polling as before."""
    if not push_configured():
        return False
    try:
        with GraphClient(api_url, access_token=page_token, timeout=timeout, transport=transport) as client:
            body = client.post_json(
                f"/{page_id}/subscribed_apps", params={"subscribed_fields": ",".join(PAGE_FIELDS)}
            )
    except ConnectorError as exc:  # polling stays in place, see above
        logger.warning("webhook subscription of page %s failed: %s", page_id, exc)
        return False
    ok = bool(isinstance(body, dict) and str(body.get("success")).lower() == "true")
    if not ok:
        logger.warning("webhook subscription of page %s not confirmed: %r", page_id, body)
    return ok
