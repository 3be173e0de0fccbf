"""The CRM webhook against a real local HTTP server (testsupport.emulators.crm): the signature the receiver
checks, retries on timeouts, 5xx and 429 with backoff, a 4xx failing for good, the task's re-enqueue."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from resonanz.leads import services
from resonanz.leads.models import DeliveryStatus, LeadWebhook, WebhookDelivery
from resonanz.leads.tasks import deliver_webhook
from testsupport.emulators.crm import CrmWebhookReceiver, signature_valid

from .conftest import submit_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm() -> Iterator[CrmWebhookReceiver]:
    with CrmWebhookReceiver() as server:
        yield server


@pytest.fixture
def hook(workspace, owner, crm: CrmWebhookReceiver) -> LeadWebhook:
    webhook = services.webhook_create(workspace=workspace, actor=owner, url=crm.base_url + "/hook?token=abc")
    crm.secret = webhook.secret
    return webhook


@pytest.fixture
def delivery(workspace, make_form, hook, visitor, public_id) -> WebhookDelivery:
    form = make_form(name="Sofort", double_opt_in=False)
    response = visitor.post(f"/f/{public_id}/{form.slug}/", submit_data(form, rzl="", utm_source="mastodon"))
    assert response.status_code == 303
    return WebhookDelivery.objects.get()


def test_signed_delivery_is_accepted_by_the_crm(workspace, delivery, crm):
    assert services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk) == "sent"
    (request,) = crm.requests_to("/hook", "POST")
    assert request.headers["resonanz-event"] == "lead.confirmed"
    body = json.loads(request.body)
    assert body["lead"]["email"] == "erika@example.de"
    assert body["lead"]["consent"]["double_opt_in"] is False
    assert body["lead"]["attribution"]["utm"] == {"utm_source": "mastodon"}
    assert crm.accepted == [body]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.SENT, 1, 200)
    assert services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk) == "skipped"


def test_a_wrong_secret_is_refused_by_the_receiver_and_fails_for_good(workspace, delivery, crm):
    crm.secret = "not-the-secret"
    assert services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status, delivery.attempts) == (DeliveryStatus.FAILED, 400, 1)
    assert crm.accepted == []


def test_signature_scheme_matches_stripes():
    body = b'{"a":1}'
    sig = services.webhook_signature(secret="s3cret", timestamp=1700000000, body=body)
    header = f"t=1700000000,v1={sig}"
    assert signature_valid(secret="s3cret", header=header, body=body, now=1700000100)
    assert not signature_valid(secret="s3cret", header=header, body=b'{"a":2}', now=1700000100)
    assert not signature_valid(secret="s3cret", header=header, body=body, now=1700001000)  # replayed late


@override_settings(RESONANZ_LEADS_WEBHOOK_BACKOFF_SECONDS=30)
def test_5xx_is_retried_with_backoff_then_sent(workspace, delivery, crm):
    crm.faults.fail("/hook", 503, times=2)
    with pytest.raises(services.WebhookTemporaryError) as first:
        services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk)
    assert first.value.retry_in == 30
    with pytest.raises(services.WebhookTemporaryError) as second:
        services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk)
    assert second.value.retry_in == 60
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.PENDING, 503)
    assert services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk) == "sent"
    assert len(crm.requests_to("/hook", "POST")) == 3


def test_429_waits_at_least_retry_after(workspace, delivery, crm):
    crm.faults.fail("/hook", 429, body={"error": "slow down"}, headers={"Retry-After": "120"})
    with pytest.raises(services.WebhookTemporaryError) as error:
        services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk)
    assert error.value.retry_in == 120


@override_settings(RESONANZ_LEADS_WEBHOOK_TIMEOUT_SECONDS=0.3)
def test_timeout_is_retried(workspace, delivery, crm):
    crm.faults.delay("/hook", 1.0)
    with pytest.raises(services.WebhookTemporaryError):
        services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.error.startswith("timeout")
    assert delivery.status == DeliveryStatus.PENDING


def test_4xx_fails_without_retry(workspace, owner, crm, delivery):
    LeadWebhook.objects.filter(pk=delivery.webhook_id).update(url=crm.base_url + "/reject")
    assert services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status, delivery.attempts) == (DeliveryStatus.FAILED, 422, 1)
    assert "invalid lead" in delivery.error


@override_settings(RESONANZ_LEADS_WEBHOOK_MAX_ATTEMPTS=2)
def test_gives_up_after_the_last_attempt(workspace, delivery, crm):
    crm.faults.fail("/hook", 500, times=5)
    with pytest.raises(services.WebhookTemporaryError):
        services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk)
    assert services.webhook_delivery_send(workspace=workspace, delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_the_task_enqueues_its_retry_with_run_after(workspace, delivery, crm):
    crm.faults.fail("/hook", 502)
    before = DBTaskResult.objects.count()
    outcome = deliver_webhook.call(delivery_id=delivery.pk)
    assert outcome.startswith("retry in")
    retry = DBTaskResult.objects.order_by("-enqueued_at").first()
    assert DBTaskResult.objects.count() == before + 1
    assert retry is not None
    assert retry.args_kwargs["kwargs"] == {"delivery_id": delivery.pk}
    assert retry.run_after is not None
    assert deliver_webhook.call(delivery_id=delivery.pk) == "sent"


def test_test_event_and_after_commit_enqueue(workspace, owner, hook, crm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        test = services.webhook_test(workspace=workspace, actor=owner, webhook=hook)
    queued = DBTaskResult.objects.filter(task_path__endswith="deliver_webhook")
    assert [r.args_kwargs["kwargs"]["delivery_id"] for r in queued] == [test.pk]
    assert services.webhook_delivery_send(workspace=workspace, delivery_id=test.pk) == "sent"
    assert crm.accepted[0]["event"] == "test"


def test_private_addresses_are_refused_unless_allowed(workspace, owner):
    with override_settings(RESONANZ_ALLOW_PRIVATE_SERVERS=False), pytest.raises(ValidationError) as error:
        services.webhook_create(workspace=workspace, actor=owner, url="http://127.0.0.1:6379/")
    assert "url" in error.value.message_dict
    assert not LeadWebhook.objects.exists()
