"""Turn stored variants into connector drafts and check them against the network's rules."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext

from resonanz.channels.services import channel_account, channel_store_account
from resonanz.connectors.base import DraftMedia, DraftPart, DraftVariant, TextCount, ValidationIssue
from resonanz.connectors.base.errors import ConnectorError
from resonanz.connectors.registry import get_connector

from .models import Variant


def variant_draft(*, variant: Variant) -> DraftVariant:
    parts = []
    for part in variant.parts.all().order_by("index"):
        media = []
        for pm in part.partmedia_set.select_related("asset").order_by("position"):
            with pm.asset.file.open("rb") as fh:
                data = fh.read()
            media.append(
                DraftMedia(
                    data=data,
                    mime_type=pm.asset.mime_type,
                    alt_text=pm.alt_text or pm.asset.alt_text,
                    filename=pm.asset.original_name,
                )
            )
        parts.append(DraftPart(text=part.text, media=media))
    return DraftVariant(
        parts=parts,
        content_warning=variant.content_warning,
        visibility=variant.visibility,
        language=variant.language,
    )


@dataclass(frozen=True)
class VariantReport:
    variant_id: int
    channel_id: int
    network: str
    handle: str
    counts: list[TextCount]
    issues: list[ValidationIssue]

    @property
    def ok(self) -> bool:
        return not self.issues


def variant_check(*, variant: Variant) -> VariantReport:
    channel = variant.channel
    connector = get_connector(channel.network)
    account = channel_account(channel=channel)
    draft = variant_draft(variant=variant)
    issues: list[ValidationIssue]
    try:
        counts = [
            connector.count_text(account=account, text=p.text, content_warning=draft.content_warning)
            for p in draft.parts
        ]
        issues = connector.validate(account=account, variant=draft)
    except ConnectorError as exc:
        # Limits could not be read (e.g. the instance is down): say so, do not pretend it's fine.
        counts = []
        issues = [ValidationIssue(code="limits_unavailable", message=exc.network_message)]
    channel_store_account(channel=channel, account=account)
    if not draft.parts or all(not p.text.strip() and not p.media for p in draft.parts):
        issues = [ValidationIssue(code="empty", message=gettext("The post is empty.")), *issues]
    return VariantReport(
        variant_id=variant.pk,
        channel_id=channel.pk,
        network=channel.network,
        handle=channel.handle,
        counts=counts,
        issues=issues,
    )
