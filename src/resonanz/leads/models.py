"""Leads (issue 11): lead forms, the leads they collect with their proof of consent and attribution,
link-in-bio pages, and webhooks that hand confirmed leads to a CRM.

Proof of consent (DSGVO Art. 7(1), UWG §7(2) Nr. 2): each lead keeps the exact consent text shown, its
version, the language, when it was given (``consented_at``) and, with double opt-in, when the address was
confirmed (``confirmed_at``). Attribution is by foreign keys to the short link, post, variant, channel and
campaign that brought the visitor, plus the raw UTM values; none of it is personal until the visitor
submits the form.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

#: The fixed set of fields a form may ask for; e-mail is always asked and required.
OPTIONAL_FIELDS = ("name", "company", "phone", "message")
FIELD_LABELS = {
    "email": _("E-mail address"),
    "name": _("Name"),
    "company": _("Company"),
    "phone": _("Phone"),
    "message": _("Message"),
}
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _public_id() -> str:
    return secrets.token_urlsafe(8)


class LeadSpace(models.Model):
    """A workspace's public id in the addresses of its hosted forms (``/f/<public_id>/<slug>/``): the
    internal workspace id stays out of public URLs and cannot be enumerated."""

    workspace = models.OneToOneField("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    public_id = models.CharField(max_length=16, unique=True, default=_public_id)

    def __str__(self) -> str:
        return self.public_id


class LeadForm(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="lead_forms")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80)
    fields = models.JSONField(_("fields"), default=list, blank=True)  # a subset of OPTIONAL_FIELDS, in order
    title_de = models.CharField(_("heading (German)"), max_length=200, blank=True)
    title_en = models.CharField(_("heading (English)"), max_length=200, blank=True)
    consent_de = models.TextField(_("consent text (German)"))
    consent_en = models.TextField(_("consent text (English)"))
    # Raised whenever a consent text changes: a lead records the version it agreed to.
    consent_version = models.PositiveIntegerField(default=1)
    double_opt_in = models.BooleanField(_("double opt-in"), default=True)
    thank_you_de = models.TextField(_("thank-you text (German)"), blank=True)
    thank_you_en = models.TextField(_("thank-you text (English)"), blank=True)
    redirect_url = models.URLField(_("redirect after submitting"), max_length=2000, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lead form")
        verbose_name_plural = _("lead forms")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="leadform_unique_slug")]

    def __str__(self) -> str:
        return self.name

    def text(self, name: str, language: str) -> str:
        """``title``, ``consent`` or ``thank_you`` in ``language`` (German when English is empty)."""
        value: str = getattr(self, f"{name}_{'en' if language == 'en' else 'de'}")
        return value or getattr(self, f"{name}_de")


class LeadStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    CONFIRMED = "confirmed", _("Confirmed")


class Lead(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="leads")
    form = models.ForeignKey(LeadForm, on_delete=models.PROTECT, related_name="leads")
    email = models.EmailField(_("e-mail address"), max_length=254)
    data = models.JSONField(default=dict, blank=True)  # the optional fields the form asked for
    language = models.CharField(_("language"), max_length=8)
    status = models.CharField(_("status"), max_length=16, choices=LeadStatus.choices)
    double_opt_in = models.BooleanField(default=True)
    consent_text = models.TextField()
    consent_version = models.PositiveIntegerField()
    consented_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    link = models.ForeignKey(
        "links.ShortLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    post = models.ForeignKey("posts.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    variant = models.ForeignKey(
        "posts.Variant", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    utm = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-consented_at", "-pk"]
        indexes = [
            models.Index(fields=["workspace", "consented_at"], name="lead_ws_time"),
            models.Index(fields=["workspace", "email"], name="lead_ws_email"),
        ]

    def __str__(self) -> str:
        return self.email


class LeadTally(models.Model):
    """What is left of erased leads (GDPR Art. 17): counts without the person, so that the statistics per
    post, channel and campaign stay as they were. One row per erased lead's attribution and day."""

    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    form = models.ForeignKey(LeadForm, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    day = models.DateField()
    confirmed = models.BooleanField()
    post = models.ForeignKey("posts.Post", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    channel = models.ForeignKey(
        "channels.Channel", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    count = models.PositiveIntegerField(default=1)

    def __str__(self) -> str:
        return f"{self.day} {self.count}"


class BioPage(models.Model):
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="bio_pages")
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("link-in-bio page")
        verbose_name_plural = _("link-in-bio pages")
        ordering = ["title", "pk"]

    def __str__(self) -> str:
        return self.title


class BioItem(models.Model):
    """One entry of a bio page, in ``position`` order: a short link or a lead form."""

    page = models.ForeignKey(BioPage, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    label = models.CharField(_("label"), max_length=200)
    link = models.ForeignKey(
        "links.ShortLink", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    form = models.ForeignKey(LeadForm, on_delete=models.CASCADE, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(link__isnull=False, form__isnull=True)
                | models.Q(link__isnull=True, form__isnull=False),
                name="bioitem_link_xor_form",
            )
        ]

    def __str__(self) -> str:
        return self.label


def _secret() -> str:
    return secrets.token_hex(32)


class LeadWebhook(models.Model):
    workspace = models.ForeignKey(
        "accounts.Workspace", on_delete=models.CASCADE, related_name="lead_webhooks"
    )
    url = models.URLField(_("address"), max_length=2000)
    secret = models.CharField(max_length=128, default=_secret)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lead webhook")
        verbose_name_plural = _("lead webhooks")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Delivered")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event for one webhook: its payload (a copy of the lead, erased with it), attempts and outcome."""

    webhook = models.ForeignKey(LeadWebhook, on_delete=models.CASCADE, related_name="deliveries")
    lead = models.ForeignKey(
        Lead, on_delete=models.SET_NULL, null=True, blank=True, related_name="deliveries"
    )
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event} {self.status}"
