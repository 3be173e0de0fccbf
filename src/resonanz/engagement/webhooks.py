"""The public webhook endpoint ``/hooks/<network>/`` (issue 10): networks that push deliveries reach the
inbox within seconds instead of at the next poll.

No login, no CSRF cookie (the network is the client): the connector's ``WebhookReceiver``
(``connectors/base/webhooks.py``) answers the subscription check (GET) and verifies every delivery's
signature (POST) before anything is read. A verified delivery is parsed into ``PushedActivity`` and filed
by ``services.engagement_receive_pushed`` (the poll's stores: dedup, routing; reply syncs and inbox polls
are queued after the commit), then answered 200 at once. Refused: 404 for a network without webhooks (or
push not configured), 403 for a wrong token or signature (logged), 400 for a body that is not what the
network sends (nothing stored), 413 above ``RESONANZ_WEBHOOK_MAX_BYTES``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from resonanz.connectors.base.webhooks import WebhookMalformed, WebhookReceiver
from resonanz.connectors.registry import UnknownNetwork, get_connector

from .services import engagement_receive_pushed

logger = logging.getLogger(__name__)


def _receiver(network: str) -> WebhookReceiver:
    try:
        receiver = get_connector(network).webhook_receiver()
    except (UnknownNetwork, ImportError) as exc:
        raise Http404("no such network") from exc
    if receiver is None or not receiver.enabled():
        raise Http404("no webhooks for this network")
    return receiver


def _text(status: int, text: str = "") -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt  # the network signs its deliveries; the signature replaces the CSRF cookie
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, network: str) -> HttpResponse:
    receiver = _receiver(network)
    if request.method == "GET":
        answer = receiver.challenge(params=request.GET.dict())
        if answer is None:
            logger.warning("webhook subscription check for %s refused (wrong token)", network)
            return _text(403)
        return _text(200, answer)
    limit = int(settings.RESONANZ_WEBHOOK_MAX_BYTES)
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return _text(413)
    body = request.read(limit + 1)
    if len(body) > limit:
        return _text(413)
    if not receiver.verify(headers=request.headers, body=body):
        logger.warning(
            "webhook delivery for %s refused: missing or wrong signature (from %s)",
            network,
            request.META.get("REMOTE_ADDR", "?"),
        )
        return _text(403)
    try:
        activities = receiver.parse(body=body)
    except WebhookMalformed as exc:
        logger.warning("webhook delivery for %s refused: %s", network, exc)
        return _text(400)
    created = engagement_receive_pushed(network=network, activities=activities)
    logger.info("webhook delivery for %s: %d activities, %d new messages", network, len(activities), created)
    return _text(200, "ok")
