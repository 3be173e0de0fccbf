"""Writes of the leads app: forms, bio pages and webhooks (by the team, with their role checked and an audit
entry each), the public submission and its double opt-in, the CRM webhook deliveries, and the per-person
erasure (GDPR Art. 17).

Every function takes the workspace. The public side (submit, confirm) has no user: the workspace comes from
the form's public address, the lead from the signed confirmation token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.core.errors import ensure_same_workspace
from resonanz.core.links import absolute_url
from resonanz.core.server_urls import ServerUrlError, server_url_check
from resonanz.core.services import audit_log_record
from resonanz.links.models import ShortLink
from resonanz.links.services import attribution_unsign, link_target_validate, visitor_hash
from resonanz.posts.models import Post, Variant

from .models import (
    OPTIONAL_FIELDS,
    UTM_FIELDS,
    BioItem,
    BioPage,
    DeliveryStatus,
    Lead,
    LeadForm,
    LeadSpace,
    LeadStatus,
    LeadTally,
    LeadWebhook,
    WebhookDelivery,
)
from .selectors import lead_payload

logger = logging.getLogger(__name__)

#: Who does what (accounts/permissions.py). Leads are personal data: reading them, exporting them and running
#: the forms that collect them is for editors and above (MANAGE_CAMPAIGNS: not contributors, analysts or
#: agents); erasing a person and sending leads to a third party (webhooks) is for owners and admins
#: (MANAGE_WORKSPACE). The anonymous counts (``leads_count_by``) are analytics (VIEW_ANALYTICS).
LEADS_ACTION = Action.MANAGE_CAMPAIGNS
ERASE_ACTION = Action.MANAGE_WORKSPACE
WEBHOOK_ACTION = Action.MANAGE_WORKSPACE

FORM_TOKEN_SALT = "resonanz.leads.form"  # noqa: S105 - a signing salt, not a secret
STATIC_TOKEN_SALT = "resonanz.leads.form-static"  # noqa: S105 - a signing salt
CONFIRM_SALT = "resonanz.leads.confirm"
HONEYPOT = "website"  # the field people never see; bots fill it in
FIELD_MAX = {"name": 200, "company": 200, "phone": 40, "message": 5000}
_PHONE = re.compile(r"^[0-9+()/.\- ]{3,40}$")
SIGNATURE_HEADER = "Resonanz-Signature"


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def _require(workspace: Workspace, actor: User | None, action: Action) -> None:
    if actor is None:
        return
    ensure_allowed(membership_role(workspace=workspace, user=actor), action)


def _owned(workspace: Workspace, obj: Any) -> None:
    if obj is not None:
        ensure_same_workspace(workspace=workspace, obj_workspace_id=obj.workspace_id)


def lead_space_get(*, workspace: Workspace) -> LeadSpace:
    """The workspace's public id for form addresses (made on first use)."""
    space, _created = LeadSpace.objects.get_or_create(workspace=workspace)
    return space


# -- forms ----------------------------------------------------------------------------------------------


@dataclass
class FormInput:
    name: str
    slug: str = ""
    fields: list[str] = field(default_factory=list)
    title_de: str = ""
    title_en: str = ""
    consent_de: str = ""
    consent_en: str = ""
    double_opt_in: bool = True
    thank_you_de: str = ""
    thank_you_en: str = ""
    redirect_url: str = ""
    active: bool = True


def _form_clean(workspace: Workspace, data: FormInput, instance: LeadForm | None) -> FormInput:
    errors: dict[str, list[str]] = {}
    data.name = data.name.strip()
    if not data.name:
        errors["name"] = [_("Give the form a name.")]
    data.slug = slugify(data.slug or data.name)[:80]
    if not data.slug:
        errors.setdefault("slug", []).append(_("Give the form an address of letters, digits and hyphens."))
    elif (
        LeadForm.objects.filter(workspace=workspace, slug=data.slug)
        .exclude(pk=instance.pk if instance is not None else 0)
        .exists()
    ):
        errors["slug"] = [_("Another form of this workspace already has this address.")]
    unknown = [f for f in data.fields if f not in OPTIONAL_FIELDS]
    if unknown:
        errors["fields"] = [_("Unknown field: %(name)s") % {"name": ", ".join(unknown)}]
    data.fields = [f for f in OPTIONAL_FIELDS if f in data.fields]
    data.consent_de, data.consent_en = data.consent_de.strip(), data.consent_en.strip()
    if not data.consent_de:
        errors["consent_de"] = [_("Enter the consent text people agree to.")]
    if not data.consent_en:
        errors["consent_en"] = [_("Enter the consent text people agree to.")]
    data.redirect_url = data.redirect_url.strip()
    if data.redirect_url:
        try:
            link_target_validate(url=data.redirect_url)
        except ValidationError as exc:
            errors["redirect_url"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return data


def _form_values(data: FormInput) -> dict[str, Any]:
    return {
        "name": data.name,
        "slug": data.slug,
        "fields": data.fields,
        "title_de": data.title_de.strip(),
        "title_en": data.title_en.strip(),
        "consent_de": data.consent_de,
        "consent_en": data.consent_en,
        "double_opt_in": data.double_opt_in,
        "thank_you_de": data.thank_you_de.strip(),
        "thank_you_en": data.thank_you_en.strip(),
        "redirect_url": data.redirect_url,
        "active": data.active,
    }


def form_create(*, workspace: Workspace, actor: User | None, data: FormInput) -> LeadForm:
    _require(workspace, actor, LEADS_ACTION)
    data = _form_clean(workspace, data, None)
    form = LeadForm.objects.create(workspace=workspace, **_form_values(data))
    audit_log_record(workspace=workspace, actor=actor, action="lead_form.create", target=form)
    return form


def form_update(*, workspace: Workspace, actor: User | None, form: LeadForm, data: FormInput) -> LeadForm:
    """Saves the form; a changed consent text raises the consent version (leads keep the one they saw)."""
    _require(workspace, actor, LEADS_ACTION)
    _owned(workspace, form)
    data = _form_clean(workspace, data, form)
    values = _form_values(data)
    consent_changed = (form.consent_de, form.consent_en) != (data.consent_de, data.consent_en)
    for key, value in values.items():
        setattr(form, key, value)
    if consent_changed:
        form.consent_version += 1
    form.save()
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="lead_form.update",
        target=form,
        data={"consent_version": form.consent_version} if consent_changed else {},
    )
    return form


def form_delete(*, workspace: Workspace, actor: User | None, form: LeadForm) -> None:
    """Deletes a form without leads; a form with leads can only be deactivated (its leads refer to it)."""
    _require(workspace, actor, LEADS_ACTION)
    _owned(workspace, form)
    if Lead.objects.filter(form=form).exists():
        raise ValidationError(_("This form has leads; deactivate it instead."), code="has_leads")
    audit_log_record(
        workspace=workspace, actor=actor, action="lead_form.delete", target=form, data={"name": form.name}
    )
    form.delete()


def form_token(*, form: LeadForm) -> str:
    """A signed, timestamped token that the form was rendered by us (hosted page and iframe)."""
    return signing.dumps(form.pk, salt=FORM_TOKEN_SALT)


def form_static_token(*, form: LeadForm) -> str:
    """The token of the plain HTML snippet pasted into another site: it cannot be renewed there, so it does
    not expire (the honeypot and the rate limit still apply)."""
    return signing.Signer(salt=STATIC_TOKEN_SALT).sign(str(form.pk))


def form_token_valid(*, form: LeadForm, token: str) -> bool:
    max_age = int(_setting("RESONANZ_LEADS_FORM_TOKEN_HOURS", 48) * 3600)
    try:
        return bool(signing.loads(token, salt=FORM_TOKEN_SALT, max_age=max_age) == form.pk)
    except signing.BadSignature:
        pass
    try:
        return signing.Signer(salt=STATIC_TOKEN_SALT).unsign(token) == str(form.pk)
    except signing.BadSignature:
        return False


# -- submission -----------------------------------------------------------------------------------------


def submission_allowed(*, ip: str, now: datetime | None = None) -> bool:
    """At most RESONANZ_LEADS_RATE_LIMIT submissions per address within RESONANZ_LEADS_RATE_WINDOW seconds.
    The cache key is the day's salted hash of the address (links' visitor hash), never the address."""
    if not ip:
        return True
    now = now or timezone.now()
    limit = int(_setting("RESONANZ_LEADS_RATE_LIMIT", 10))
    window = int(_setting("RESONANZ_LEADS_RATE_WINDOW", 600))
    key = "leads:rate:" + visitor_hash(day=now.date(), ip=ip, user_agent="")
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit


@dataclass(frozen=True)
class AttributionInput:
    rzl: str = ""
    utm: dict[str, str] = field(default_factory=dict)


def attribution_resolve(*, workspace: Workspace, attribution: AttributionInput) -> dict[str, Any]:
    """The lead's attribution: the signed short link (``rzl``) names link, post, variant, channel, campaign;
    without it ``utm_content=post-<id>`` of a post of this workspace names the post and its campaign. Values
    of another workspace, or forged, are ignored (a visitor cannot attribute to someone else's link)."""
    utm = {k: " ".join(str(v).split())[:100] for k, v in attribution.utm.items() if k in UTM_FIELDS and v}
    result: dict[str, Any] = {
        "utm": utm,
        "link": None,
        "post": None,
        "variant": None,
        "channel": None,
        "campaign": None,
    }
    link_id = attribution_unsign(value=attribution.rzl)
    link = ShortLink.objects.filter(pk=link_id, workspace=workspace).first() if link_id else None
    if link is not None:
        result.update(link=link, post=link.post, channel=link.channel, campaign=link.campaign)
    else:
        match = re.fullmatch(r"post-(\d+)", utm.get("utm_content", ""))
        if match:
            result["post"] = Post.objects.filter(pk=int(match.group(1)), workspace=workspace).first()
    post = result["post"]
    if post is not None:
        if result["campaign"] is None and post.campaign_id is not None:
            result["campaign"] = post.campaign
        if result["channel"] is not None:
            result["variant"] = Variant.objects.filter(post=post, channel=result["channel"]).first()
    return result


@dataclass(frozen=True)
class SubmitResult:
    lead: Lead | None
    spam: bool = False


def _submission_clean(
    form: LeadForm, data: dict[str, str], consent_version: str
) -> tuple[str, dict[str, str]]:
    errors: dict[str, list[str]] = {}
    email = (data.get("email") or "").strip()
    if not email:
        errors["email"] = [_("Please enter your e-mail address.")]
    else:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Please enter a valid e-mail address, e.g. name@example.com.")]
    values: dict[str, str] = {}
    for name in form.fields:
        value = (data.get(name) or "").strip()
        if name != "message":
            value = " ".join(value.split())
        if len(value) > FIELD_MAX[name]:
            errors[name] = [_("At most %(limit)s characters.") % {"limit": FIELD_MAX[name]}]
        elif name == "phone" and value and not _PHONE.match(value):
            errors[name] = [_("Please enter a phone number of digits, spaces and + ( ) / - only.")]
        if value:
            values[name] = value
    if not data.get("consent"):
        errors["consent"] = [_("Please agree to the consent text to continue.")]
    elif consent_version != str(form.consent_version):
        errors["consent"] = [
            _("The consent text has changed in the meantime. Please read it and agree again.")
        ]
    if errors:
        raise ValidationError(errors)
    return email, values


def lead_submit(
    *,
    workspace: Workspace,
    form: LeadForm,
    data: dict[str, str],
    language: str,
    attribution: AttributionInput,
    now: datetime | None = None,
) -> SubmitResult:
    """A visitor's submission. Errors (``ValidationError`` per field) are in the active language. A filled
    honeypot stores nothing and looks like success to the bot. With double opt-in the lead waits for the
    confirmation link (sent after commit); without, it is confirmed now and goes to the webhooks."""
    _owned(workspace, form)
    if not form.active:
        raise ValidationError(_("This form no longer accepts entries."), code="inactive")
    if (data.get(HONEYPOT) or "").strip():
        return SubmitResult(lead=None, spam=True)
    email, values = _submission_clean(form, data, data.get("consent_version", ""))
    language = "en" if language == "en" else "de"
    now = now or timezone.now()
    attrs = attribution_resolve(workspace=workspace, attribution=attribution)
    with transaction.atomic():
        lead = Lead.objects.create(
            workspace=workspace,
            form=form,
            email=email,
            data=values,
            language=language,
            status=LeadStatus.PENDING if form.double_opt_in else LeadStatus.CONFIRMED,
            double_opt_in=form.double_opt_in,
            consent_text=form.text("consent", language),
            consent_version=form.consent_version,
            consented_at=now,
            **attrs,
        )
        audit_log_record(
            workspace=workspace, actor=None, action="lead.create", target=lead, data={"form": form.pk}
        )
        if form.double_opt_in:
            from .tasks import send_confirmation

            lead_id = lead.pk
            transaction.on_commit(lambda: send_confirmation.enqueue(lead_id=lead_id))
        else:
            webhooks_notify(workspace=workspace, lead=lead, event="lead.confirmed")
    return SubmitResult(lead=lead)


def confirmation_token(*, lead: Lead) -> str:
    return signing.dumps(lead.pk, salt=CONFIRM_SALT)


def confirmation_url(*, lead: Lead) -> str:
    return absolute_url(reverse("leads_public:confirm", args=[confirmation_token(lead=lead)]))


def lead_confirmation_send(*, workspace: Workspace, lead_id: int) -> str:
    """The double opt-in e-mail, in the language the visitor used (task ``send_confirmation``)."""
    lead = Lead.objects.select_related("form").filter(pk=lead_id, workspace=workspace).first()
    if lead is None or lead.status != LeadStatus.PENDING:
        return "skipped"
    days = int(_setting("RESONANZ_LEADS_CONFIRM_DAYS", 7))
    with translation.override(lead.language):
        title = lead.form.text("title", lead.language) or workspace.name
        subject = _("Please confirm your e-mail address: %(title)s") % {"title": title}
        body = _(
            "Hello,\n\nyou (or someone using your address) signed up at %(workspace)s: %(title)s.\n\n"
            "Please confirm your e-mail address within %(days)s days with this link:\n%(url)s\n\n"
            "You agreed to:\n%(consent)s\n\n"
            "If it was not you, ignore this e-mail; nothing will be sent to you."
        ) % {
            "workspace": workspace.name,
            "title": title,
            "days": days,
            "url": confirmation_url(lead=lead),
            "consent": lead.consent_text,
        }
    send_mail(subject, body, None, [lead.email])
    return "sent"


class ConfirmationError(Exception):
    def __init__(self, *, expired: bool) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def lead_confirm_check(*, token: str) -> Lead:
    """The lead a confirmation link names; ``ConfirmationError`` for a forged token, an erased lead or an
    expired link (RESONANZ_LEADS_CONFIRM_DAYS, 7 by default)."""
    days = _setting("RESONANZ_LEADS_CONFIRM_DAYS", 7)
    try:
        lead_id = signing.loads(token, salt=CONFIRM_SALT, max_age=int(days * 86400))
    except signing.SignatureExpired:
        raise ConfirmationError(expired=True) from None
    except signing.BadSignature:
        raise ConfirmationError(expired=False) from None
    lead = Lead.objects.select_related("workspace", "form").filter(pk=lead_id).first()
    if lead is None:
        raise ConfirmationError(expired=False)
    return lead


def lead_confirm_token(*, token: str, now: datetime | None = None) -> tuple[Lead, bool]:
    """Confirms the lead a link names: (lead, whether this call confirmed it)."""
    lead = lead_confirm_check(token=token)
    return lead, lead_confirm(workspace=lead.workspace, lead=lead, now=now)


def lead_confirm(*, workspace: Workspace, lead: Lead, now: datetime | None = None) -> bool:
    _owned(workspace, lead)
    with transaction.atomic():
        updated = Lead.objects.filter(pk=lead.pk, status=LeadStatus.PENDING).update(
            status=LeadStatus.CONFIRMED, confirmed_at=now or timezone.now()
        )
        if not updated:
            return False
        lead.refresh_from_db()
        audit_log_record(workspace=workspace, actor=None, action="lead.confirm", target=lead)
        webhooks_notify(workspace=workspace, lead=lead, event="lead.confirmed")
    return True


# -- bio pages --------------------------------------------------------------------------------------------


def _bio_clean(slug: str, title: str, page: BioPage | None) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    slug = slugify(slug or title)[:80]
    if not slug:
        errors["slug"] = [_("Give the page an address of letters, digits and hyphens.")]
    elif BioPage.objects.filter(slug=slug).exclude(pk=page.pk if page is not None else 0).exists():
        errors["slug"] = [_("This address is taken; choose another.")]
    if not title.strip():
        errors["title"] = [_("Give the page a title.")]
    if errors:
        raise ValidationError(errors)
    return slug, title.strip()


def bio_page_create(
    *, workspace: Workspace, actor: User | None, slug: str, title: str, intro: str = ""
) -> BioPage:
    _require(workspace, actor, LEADS_ACTION)
    slug, title = _bio_clean(slug, title, None)
    page = BioPage.objects.create(workspace=workspace, slug=slug, title=title, intro=intro.strip())
    audit_log_record(workspace=workspace, actor=actor, action="bio_page.create", target=page)
    return page


def bio_page_update(
    *, workspace: Workspace, actor: User | None, page: BioPage, slug: str, title: str, intro: str
) -> BioPage:
    _require(workspace, actor, LEADS_ACTION)
    _owned(workspace, page)
    page.slug, page.title = _bio_clean(slug, title, page)
    page.intro = intro.strip()
    page.save()
    audit_log_record(workspace=workspace, actor=actor, action="bio_page.update", target=page)
    return page


def bio_item_add(
    *,
    workspace: Workspace,
    actor: User | None,
    page: BioPage,
    label: str,
    link: ShortLink | None = None,
    form: LeadForm | None = None,
) -> BioItem:
    _require(workspace, actor, LEADS_ACTION)
    for obj in (page, link, form):
        _owned(workspace, obj)
    if (link is None) == (form is None):
        raise ValidationError({"target": [_("Choose a short link or a form.")]})
    label = label.strip() or (
        form.text("title", translation.get_language() or "de") or form.name if form else ""
    )
    if not label:
        raise ValidationError({"label": [_("Give the entry a label.")]})
    last = page.items.order_by("-position").values_list("position", flat=True).first()
    item = BioItem.objects.create(
        page=page, label=label[:200], link=link, form=form, position=(last or 0) + 1
    )
    audit_log_record(
        workspace=workspace, actor=actor, action="bio_page.item_add", target=page, data={"item": item.pk}
    )
    return item


def bio_item_move(*, workspace: Workspace, actor: User | None, item: BioItem, up: bool) -> None:
    """Swaps the item with its neighbour above (or below)."""
    _require(workspace, actor, LEADS_ACTION)
    _owned(workspace, item.page)
    items = list(item.page.items.all())
    index = next(i for i, it in enumerate(items) if it.pk == item.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(items):
        items[index], items[other] = items[other], items[index]
        for position, it in enumerate(items, start=1):
            if it.position != position:
                BioItem.objects.filter(pk=it.pk).update(position=position)
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="bio_page.item_move",
        target=item.page,
        data={"item": item.pk},
    )


def bio_item_remove(*, workspace: Workspace, actor: User | None, item: BioItem) -> None:
    _require(workspace, actor, LEADS_ACTION)
    _owned(workspace, item.page)
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="bio_page.item_remove",
        target=item.page,
        data={"item": item.pk},
    )
    item.delete()


# -- webhooks ---------------------------------------------------------------------------------------------


def webhook_url_check(*, url: str) -> str:
    """An absolute http(s) address whose host is public (``core.server_urls``: no request forgery into the
    operator's network); its path and query are kept (CRMs put tokens there)."""
    url = url.strip()
    try:
        link_target_validate(url=url)
        parts = urlsplit(url)
        server_url_check(
            value=f"{parts.scheme}://{parts.netloc}",
            allow_private=bool(getattr(settings, "RESONANZ_ALLOW_PRIVATE_SERVERS", False)),
        )
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from exc
    except ServerUrlError as exc:
        raise ValidationError({"url": [exc.message]}) from exc
    return url


def webhook_create(*, workspace: Workspace, actor: User | None, url: str) -> LeadWebhook:
    _require(workspace, actor, WEBHOOK_ACTION)
    hook = LeadWebhook.objects.create(workspace=workspace, url=webhook_url_check(url=url))
    audit_log_record(
        workspace=workspace, actor=actor, action="lead_webhook.create", target=hook, data={"url": hook.url}
    )
    return hook


def webhook_set_active(
    *, workspace: Workspace, actor: User | None, webhook: LeadWebhook, active: bool
) -> None:
    _require(workspace, actor, WEBHOOK_ACTION)
    _owned(workspace, webhook)
    LeadWebhook.objects.filter(pk=webhook.pk).update(active=active)
    webhook.active = active
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="lead_webhook.activate" if active else "lead_webhook.deactivate",
        target=webhook,
    )


def webhook_delete(*, workspace: Workspace, actor: User | None, webhook: LeadWebhook) -> None:
    _require(workspace, actor, WEBHOOK_ACTION)
    _owned(workspace, webhook)
    audit_log_record(
        workspace=workspace,
        actor=actor,
        action="lead_webhook.delete",
        target=webhook,
        data={"url": webhook.url},
    )
    webhook.delete()


def _deliveries_enqueue(ids: list[int]) -> None:
    from .tasks import deliver_webhook

    for delivery_id in ids:
        deliver_webhook.enqueue(delivery_id=delivery_id)


def webhooks_notify(*, workspace: Workspace, lead: Lead, event: str) -> list[WebhookDelivery]:
    """One delivery per active webhook, sent by a task after commit."""
    _owned(workspace, lead)
    hooks = list(LeadWebhook.objects.filter(workspace=workspace, active=True))
    if not hooks:
        return []
    payload = {"event": event, "lead": lead_payload(lead=lead)}
    made = WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=hook, lead=lead, event=event, payload=payload) for hook in hooks]
    )
    ids = [d.pk for d in made]
    transaction.on_commit(lambda: _deliveries_enqueue(ids))
    return made


def webhook_test(*, workspace: Workspace, actor: User | None, webhook: LeadWebhook) -> WebhookDelivery:
    """A ``test`` event with a made-up lead, so the team can check the CRM's side (and the signature)."""
    _require(workspace, actor, WEBHOOK_ACTION)
    _owned(workspace, webhook)
    payload = {
        "event": "test",
        "lead": {
            "id": 0,
            "email": "test@example.com",
            "fields": {"name": "Erika Mustermann"},
            "language": "de",
        },
    }
    delivery = WebhookDelivery.objects.create(webhook=webhook, event="test", payload=payload)
    audit_log_record(workspace=workspace, actor=actor, action="lead_webhook.test", target=webhook)
    delivery_id = delivery.pk
    transaction.on_commit(lambda: _deliveries_enqueue([delivery_id]))
    return delivery


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """HMAC-SHA256 over ``<timestamp>.<body>``, like Stripe's scheme
    (https://docs.stripe.com/webhooks#verify-manually): the timestamp inside the MAC stops replays of old
    deliveries; the receiver compares in constant time and rejects old timestamps."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


class WebhookTemporaryError(Exception):
    """The CRM did not take the delivery for a reason that may pass (timeout, 5xx, 429): try again later."""

    def __init__(self, *, retry_in: float, reason: str) -> None:
        super().__init__(reason)
        self.retry_in = retry_in


def _backoff(attempt: int) -> float:
    base = _setting("RESONANZ_LEADS_WEBHOOK_BACKOFF_SECONDS", 30)
    return float(min(base * 2 ** (attempt - 1), 3600))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


def webhook_delivery_send(*, workspace: Workspace, delivery_id: int) -> str:
    """One attempt. 2xx: sent. 4xx but 429: failed for good (the CRM refuses this payload; sending it again
    would not change that). Timeout, connection error, 5xx, 429: ``WebhookTemporaryError`` with the wait
    (Retry-After when the CRM sends one) while attempts remain, else failed."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status != DeliveryStatus.PENDING:
        return "skipped"
    _owned(workspace, delivery.webhook)
    hook = delivery.webhook
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = int(time.time())
    signature = webhook_signature(secret=hook.secret, timestamp=timestamp, body=body)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Resonanz-Webhooks/1",
        SIGNATURE_HEADER: f"t={timestamp},v1={signature}",
        "Resonanz-Event": delivery.event,
        "Resonanz-Delivery": str(delivery.pk),
    }
    attempt = delivery.attempts + 1
    max_attempts = int(_setting("RESONANZ_LEADS_WEBHOOK_MAX_ATTEMPTS", 6))
    timeout = _setting("RESONANZ_LEADS_WEBHOOK_TIMEOUT_SECONDS", 10)
    retry_in: float | None = None
    status: int | None = None
    try:
        response = httpx.post(
            hook.url, content=body, headers=headers, timeout=timeout, follow_redirects=False
        )
    except httpx.TimeoutException as exc:
        error, retry_in = f"timeout: {exc}", _backoff(attempt)
    except httpx.HTTPError as exc:
        error, retry_in = f"{type(exc).__name__}: {exc}", _backoff(attempt)
    else:
        status = response.status_code
        error = "" if 200 <= status < 300 else f"HTTP {status}: {response.text[:500]}"
        if status == 429 or status >= 500:
            retry_in = max(_retry_after(response) or 0.0, _backoff(attempt))
    done = retry_in is None or attempt >= max_attempts
    outcome = DeliveryStatus.SENT if not error else DeliveryStatus.FAILED if done else DeliveryStatus.PENDING
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempt,
        response_status=status,
        error=error[:2000],
        status=outcome,
        finished_at=timezone.now() if outcome != DeliveryStatus.PENDING else None,
    )
    if outcome == DeliveryStatus.PENDING and retry_in is not None:
        raise WebhookTemporaryError(retry_in=retry_in, reason=error)
    return str(outcome)


# -- per person (GDPR) ------------------------------------------------------------------------------------


def person_erase(*, workspace: Workspace, actor: User | None, email: str) -> int:
    """Erases everything about the person with this e-mail address in the workspace (GDPR Art. 17): the lead
    rows and the copies of them in webhook deliveries. What remains is a count per day and attribution
    (``LeadTally``), so that the statistics per post, channel and campaign do not change. Returns how many
    leads were erased; the audit entry names the count, not the address."""
    _require(workspace, actor, ERASE_ACTION)
    email = email.strip()
    if not email:
        raise ValidationError({"email": [_("Enter the e-mail address of the person.")]})
    with transaction.atomic():
        leads = list(Lead.objects.select_for_update().filter(workspace=workspace, email__iexact=email))
        deliveries = _leads_erase(workspace, leads)
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="lead.person_erase",
            data={"leads": len(leads), "deliveries": deliveries},
        )
    return len(leads)


def _leads_erase(workspace: Workspace, leads: list[Lead]) -> int:
    """Deletes the leads and their webhook payload copies, leaving one anonymous tally each; returns the
    number of deliveries deleted. Runs inside the caller's transaction."""
    LeadTally.objects.bulk_create(
        [
            LeadTally(
                workspace=workspace,
                form_id=lead.form_id,
                day=lead.consented_at.date(),
                confirmed=lead.status == LeadStatus.CONFIRMED,
                post_id=lead.post_id,
                channel_id=lead.channel_id,
                campaign_id=lead.campaign_id,
            )
            for lead in leads
        ]
    )
    ids = [lead.pk for lead in leads]
    deliveries, _deleted = WebhookDelivery.objects.filter(lead_id__in=ids).delete()
    Lead.objects.filter(pk__in=ids).delete()
    return int(deliveries)


def pending_cutoff(*, now: datetime | None = None) -> datetime:
    days = _setting("RESONANZ_LEADS_PENDING_DAYS", 30)
    return (now or timezone.now()) - timedelta(days=days)


def lead_pending_purge(*, workspace: Workspace, before: datetime) -> int:
    """Deletes the workspace's leads still waiting for their confirmation that consented before ``before``:
    without the confirmation there is no consent to keep the address for (GDPR Art. 5(1)(e)). Their
    anonymous tallies stay (counted as unconfirmed). The confirmation link of such a lead then answers
    "not valid". Returns how many were deleted."""
    with transaction.atomic():
        leads = list(
            Lead.objects.select_for_update().filter(
                workspace=workspace, status=LeadStatus.PENDING, consented_at__lt=before
            )
        )
        if leads:
            _leads_erase(workspace, leads)
            audit_log_record(
                workspace=workspace, actor=None, action="lead.pending_purge", data={"leads": len(leads)}
            )
    return len(leads)


def person_export_record(*, workspace: Workspace, actor: User | None, count: int) -> None:
    """The audit entry of a person's export (access to personal data, GDPR Art. 15)."""
    _require(workspace, actor, LEADS_ACTION)
    audit_log_record(workspace=workspace, actor=actor, action="lead.person_export", data={"leads": count})


def leads_export_record(
    *, workspace: Workspace, actor: User | None, count: int, filters: dict[str, str]
) -> None:
    _require(workspace, actor, LEADS_ACTION)
    audit_log_record(
        workspace=workspace, actor=actor, action="lead.export", data={"leads": count, "filters": filters}
    )
