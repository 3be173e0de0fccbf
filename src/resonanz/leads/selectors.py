"""Reads of the leads app. Every function takes the workspace; other workspaces' rows do not exist.

``leads_count_by`` is the one other apps (analytics, reports, ads) read: anonymous counts per campaign,
channel or post, including the tallies of erased leads, so a GDPR erasure never changes the statistics.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from django.db.models import Count, Q, QuerySet, Sum

from resonanz.accounts.models import Workspace

from .models import (
    BioItem,
    BioPage,
    Lead,
    LeadForm,
    LeadSpace,
    LeadStatus,
    LeadTally,
    LeadWebhook,
    WebhookDelivery,
)

GroupBy = Literal["campaign", "channel", "post", "form"]


def form_list(*, workspace: Workspace) -> QuerySet[LeadForm]:
    return LeadForm.objects.filter(workspace=workspace).annotate(
        lead_count=Count("leads"),
        confirmed_count=Count("leads", filter=Q(leads__status=LeadStatus.CONFIRMED)),
    )


def form_get(*, workspace: Workspace, form_id: int) -> LeadForm:
    """Raises ``LeadForm.DoesNotExist`` (404) for an unknown id or another workspace's form."""
    return LeadForm.objects.get(workspace=workspace, pk=form_id)


def form_public_get(*, public_id: str, slug: str) -> LeadForm | None:
    """The form behind a public address (any workspace: the address is the key); None if unknown."""
    return (
        LeadForm.objects.select_related("workspace")
        .filter(
            workspace__in=LeadSpace.objects.filter(public_id=public_id).values("workspace"),
            slug=slug,
            workspace__archived_at__isnull=True,
        )
        .first()
    )


def public_id_of(*, workspace: Workspace) -> str | None:
    return LeadSpace.objects.filter(workspace=workspace).values_list("public_id", flat=True).first()


def bio_page_list(*, workspace: Workspace) -> QuerySet[BioPage]:
    return BioPage.objects.filter(workspace=workspace)


def bio_page_get(*, workspace: Workspace, page_id: int) -> BioPage:
    return BioPage.objects.get(workspace=workspace, pk=page_id)


def bio_page_public_get(*, slug: str) -> BioPage | None:
    return (
        BioPage.objects.select_related("workspace")
        .filter(slug=slug, workspace__archived_at__isnull=True)
        .first()
    )


def bio_items(*, page: BioPage) -> list[BioItem]:
    """The page's entries in order, with their link or form (one query)."""
    return list(page.items.select_related("link", "form").filter(Q(form__isnull=True) | Q(form__active=True)))


def bio_item_get(*, workspace: Workspace, item_id: int) -> BioItem:
    return BioItem.objects.select_related("page").get(page__workspace=workspace, pk=item_id)


@dataclass(frozen=True)
class LeadFilter:
    form_id: int | None = None
    status: str = ""
    campaign_id: int | None = None
    channel_id: int | None = None
    start: date | None = None  # inclusive, UTC day of consent
    end: date | None = None  # inclusive


def lead_list(*, workspace: Workspace, filters: LeadFilter | None = None) -> QuerySet[Lead]:
    f = filters or LeadFilter()
    qs = Lead.objects.filter(workspace=workspace).select_related(
        "form", "link", "post", "channel", "campaign"
    )
    if f.form_id is not None:
        qs = qs.filter(form_id=f.form_id)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.campaign_id is not None:
        qs = qs.filter(campaign_id=f.campaign_id)
    if f.channel_id is not None:
        qs = qs.filter(channel_id=f.channel_id)
    if f.start is not None:
        qs = qs.filter(consented_at__date__gte=f.start)
    if f.end is not None:
        qs = qs.filter(consented_at__date__lte=f.end)
    return qs.order_by("-consented_at", "-pk")


def leads_count_by(
    *,
    workspace: Workspace,
    start: datetime | date,
    end: datetime | date,
    by: GroupBy = "campaign",
    confirmed_only: bool = True,
) -> dict[int | None, int]:
    """Leads per campaign, channel, post or form id (None: without one) whose consent falls in
    [``start``, ``end``) — datetimes compare as instants, dates as UTC days — confirmed ones only unless
    ``confirmed_only=False``. Erased leads still count (their anonymous tallies). Two grouped queries."""
    if by not in ("campaign", "channel", "post", "form"):
        raise ValueError(by)
    key = f"{by}_id"
    leads = Lead.objects.filter(workspace=workspace)
    tallies = LeadTally.objects.filter(workspace=workspace)
    if isinstance(start, datetime):
        leads = leads.filter(consented_at__gte=start)
        tallies = tallies.filter(day__gte=start.date())
    else:
        leads = leads.filter(consented_at__date__gte=start)
        tallies = tallies.filter(day__gte=start)
    if isinstance(end, datetime):
        leads = leads.filter(consented_at__lt=end)
        tallies = tallies.filter(day__lt=end.date())
    else:
        leads = leads.filter(consented_at__date__lt=end)
        tallies = tallies.filter(day__lt=end)
    if confirmed_only:
        leads = leads.filter(status=LeadStatus.CONFIRMED)
        tallies = tallies.filter(confirmed=True)
    counts: dict[int | None, int] = defaultdict(int)
    for row in leads.values(key).annotate(n=Count("pk")).order_by():
        counts[row[key]] += row["n"]
    for row in tallies.values(key).annotate(n=Sum("count")).order_by():
        counts[row[key]] += int(row["n"] or 0)
    return dict(sorted(counts.items(), key=lambda item: -item[1]))


def webhook_list(*, workspace: Workspace) -> QuerySet[LeadWebhook]:
    return LeadWebhook.objects.filter(workspace=workspace)


def webhook_get(*, workspace: Workspace, webhook_id: int) -> LeadWebhook:
    return LeadWebhook.objects.get(workspace=workspace, pk=webhook_id)


def delivery_list(*, workspace: Workspace, webhook: LeadWebhook | None = None) -> QuerySet[WebhookDelivery]:
    qs = WebhookDelivery.objects.filter(webhook__workspace=workspace).select_related("webhook")
    return qs.filter(webhook=webhook) if webhook is not None else qs


def person_leads(*, workspace: Workspace, email: str) -> QuerySet[Lead]:
    return (
        lead_list(workspace=workspace).filter(email__iexact=email.strip())
        if email.strip()
        else Lead.objects.none()
    )


def person_export(*, workspace: Workspace, email: str) -> dict[str, Any]:
    """Everything stored about the person with this address in the workspace (GDPR Art. 15 and 20): each
    lead with its fields, proof of consent and attribution, and every webhook delivery that carried it."""
    leads = list(person_leads(workspace=workspace, email=email))
    deliveries = (
        WebhookDelivery.objects.filter(lead__in=leads).select_related("webhook").order_by("created_at", "pk")
    )
    return {
        "email": email.strip(),
        "workspace": workspace.name,
        "leads": [lead_payload(lead=lead) | {"form_name": lead.form.name} for lead in leads],
        "webhook_deliveries": [
            {
                "url": d.webhook.url,
                "event": d.event,
                "status": d.status,
                "created_at": d.created_at.isoformat(),
                "payload": d.payload,
            }
            for d in deliveries
        ],
    }


def lead_payload(*, lead: Lead) -> dict[str, Any]:
    """What a CRM gets: the person's fields, the proof of consent and the attribution (names and ids)."""
    return {
        "id": lead.pk,
        "form": {"id": lead.form_id, "slug": lead.form.slug, "name": lead.form.name},
        "email": lead.email,
        "fields": lead.data,
        "language": lead.language,
        "status": lead.status,
        "consent": {
            "text": lead.consent_text,
            "version": lead.consent_version,
            "double_opt_in": lead.double_opt_in,
            "consented_at": lead.consented_at.isoformat(),
            "confirmed_at": lead.confirmed_at.isoformat() if lead.confirmed_at else None,
        },
        "attribution": {
            "short_link": lead.link.code if lead.link else None,
            "post_id": lead.post_id,
            "variant_id": lead.variant_id,
            "channel": str(lead.channel) if lead.channel else None,
            "campaign": lead.campaign.name if lead.campaign else None,
            "utm": lead.utm,
        },
    }
