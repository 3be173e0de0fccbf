"""Writes of paid posts: budgets, spend entered by hand, the CSV import, the ad-reporting sync."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.campaigns.models import Campaign
from resonanz.channels.models import Channel
from resonanz.channels.services import channel_account, channel_refresh_credentials, channel_store_account
from resonanz.connectors.base import AD_ACCOUNT_SETTING, AdResult, AuthExpired, ConnectorError, TemporaryError
from resonanz.connectors.base.spec import Capability
from resonanz.connectors.registry import get_connector
from resonanz.core.errors import ensure_same_workspace
from resonanz.posts.models import Post, Variant

from .importer import SpendFileError, SpendRow, parse_file
from .models import AdBudget, AdSpend, AdSync, AdSyncStatus, SpendSource

logger = logging.getLogger(__name__)
DEFAULT_CURRENCY = "EUR"
SYNC_DAYS = 30  # the network still corrects recent days; each sync asks for the last month again


def _check(workspace: Workspace, *objects: Campaign | Post | Channel | None) -> None:
    for obj in objects:
        if obj is not None:
            ensure_same_workspace(workspace=workspace, obj_workspace_id=obj.workspace_id)


def budget_create(
    *,
    workspace: Workspace,
    actor: User | None,
    amount: Decimal,
    currency: str,
    period_start: date,
    period_end: date,
    campaign: Campaign | None = None,
    post: Post | None = None,
) -> AdBudget:
    _check(workspace, campaign, post)
    if campaign is None and post is None:
        raise ValidationError({"campaign": _("Choose a campaign or a post for the budget.")})
    if period_end < period_start:
        raise ValidationError({"period_end": _("The end of the period is before its start.")})
    if amount <= 0:
        raise ValidationError({"amount": _("The budget must be more than zero.")})
    return AdBudget.objects.create(
        workspace=workspace,
        campaign=campaign,
        post=post,
        amount=amount,
        currency=currency.upper(),
        period_start=period_start,
        period_end=period_end,
        created_by=actor,
    )


def budget_delete(*, workspace: Workspace, budget: AdBudget) -> None:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=budget.workspace_id)
    budget.delete()


def spend_create(
    *,
    workspace: Workspace,
    actor: User | None,
    day: date,
    spend: Decimal,
    currency: str,
    campaign: Campaign | None = None,
    post: Post | None = None,
    channel: Channel | None = None,
    name: str = "",
    impressions: int = 0,
    clicks: int = 0,
    leads: int = 0,
    conversion_value: Decimal = Decimal(0),
) -> AdSpend:
    """One entry by hand (each entry is its own row)."""
    _check(workspace, campaign, post, channel)
    if spend < 0 or conversion_value < 0:
        raise ValidationError({"spend": _("Amounts cannot be negative.")})
    if campaign is None and post is not None:
        campaign = post.campaign
    return AdSpend.objects.create(
        workspace=workspace,
        source=SpendSource.MANUAL,
        remote_id=f"manual-{uuid.uuid4().hex}",
        name=name,
        channel=channel,
        campaign=campaign,
        post=post,
        day=day,
        spend=spend,
        currency=currency.upper(),
        impressions=impressions,
        clicks=clicks,
        leads=leads,
        conversion_value=conversion_value,
        created_by=actor,
    )


def spend_delete(*, workspace: Workspace, spend: AdSpend) -> None:
    ensure_same_workspace(workspace=workspace, obj_workspace_id=spend.workspace_id)
    spend.delete()


@dataclass(frozen=True)
class ImportResult:
    rows: list[SpendRow]
    created: int
    updated: int
    saved: bool


class _Targets:
    """The workspace's campaigns, posts and channels a file names, each looked up once (a file of 5,000
    rows costs a handful of queries, not three per row)."""

    def __init__(self, workspace: Workspace, rows: list[SpendRow]) -> None:
        self.campaigns = {c.name.casefold(): c for c in Campaign.objects.filter(workspace=workspace)}
        post_ids = {int(r.post) for r in rows if r.post.isdigit()}
        self.posts = {p.pk: p for p in Post.objects.filter(workspace=workspace, pk__in=post_ids)}
        self.channels = list(Channel.objects.filter(workspace=workspace))

    def channel(self, value: str) -> Channel | None:
        handle = value.lstrip("@").casefold()
        for channel in self.channels:
            if channel.handle.casefold() in {handle, value.casefold()} or str(channel.pk) == value:
                return channel
        return None

    def resolve(self, row: SpendRow) -> tuple[Campaign | None, Post | None, Channel | None]:
        campaign = post = channel = None
        if row.campaign:
            campaign = self.campaigns.get(row.campaign.casefold())
            if campaign is None:
                raise SpendFileError(
                    _("Line %(line)s: the workspace has no campaign “%(name)s”. Nothing was imported.")
                    % {"line": row.line, "name": row.campaign},
                    line=row.line,
                )
        if row.post:
            post = self.posts.get(int(row.post)) if row.post.isdigit() else None
            if post is None:
                raise SpendFileError(
                    _("Line %(line)s: the workspace has no post number %(post)s. Nothing was imported.")
                    % {"line": row.line, "post": row.post},
                    line=row.line,
                )
        if row.channel:
            channel = self.channel(row.channel)
            if channel is None:
                raise SpendFileError(
                    _("Line %(line)s: the workspace has no channel “%(channel)s”. Nothing was imported.")
                    % {"line": row.line, "channel": row.channel},
                    line=row.line,
                )
        if campaign is None and post is not None and post.campaign_id:
            campaign = next((c for c in self.campaigns.values() if c.pk == post.campaign_id), None)
        return campaign, post, channel


def _row_key(row: SpendRow) -> str:
    key = row.ad_id or "|".join(
        [row.campaign.casefold(), row.post, row.channel.casefold(), row.ad.casefold()]
    )
    return key[:300]


UPDATED_FIELDS = [
    "name",
    "campaign",
    "post",
    "channel",
    "spend",
    "currency",
    "impressions",
    "clicks",
    "leads",
    "conversion_value",
    "created_by",
    "updated_at",
]


def spend_import_csv(*, workspace: Workspace, actor: User | None, data: bytes, save: bool) -> ImportResult:
    """Check the whole file (``save=False``: the preview) and, with ``save``, store every row in one
    transaction: a bad row raises ``SpendFileError`` with its line and nothing is stored. A row whose key
    (``ad_id``, else campaign + post + channel + ad name) and day were imported before updates that row
    (one multi-row upsert on the unique constraint)."""
    rows = parse_file(data)
    targets = _Targets(workspace, rows)
    seen: dict[tuple[str, date], int] = {}
    records: list[AdSpend] = []
    now = timezone.now()
    for row in rows:
        campaign, post, channel = targets.resolve(row)
        key = _row_key(row)
        if (key, row.day) in seen:
            # The second row would overwrite the first: say so instead of losing one.
            raise SpendFileError(
                _(
                    "Line %(line)s is the same ad on the same day as line %(first)s; give each ad its "
                    "own ad_id or name, or add the two rows up. Nothing was imported."
                )
                % {"line": row.line, "first": seen[(key, row.day)]},
                line=row.line,
            )
        seen[(key, row.day)] = row.line
        records.append(
            AdSpend(
                workspace=workspace,
                source=SpendSource.CSV,
                remote_id=key,
                day=row.day,
                name=row.ad[:300],
                campaign=campaign,
                post=post,
                channel=channel,
                spend=row.spend,
                currency=row.currency or DEFAULT_CURRENCY,
                impressions=row.impressions,
                clicks=row.clicks,
                leads=row.leads,
                conversion_value=row.conversion_value,
                created_by=actor,
                updated_at=now,
            )
        )
    keys = {k for k, _day in seen}
    existing = {
        (remote_id, day)
        for remote_id, day in AdSpend.objects.filter(
            workspace=workspace, source=SpendSource.CSV, remote_id__in=keys
        ).values_list("remote_id", "day")
    }
    updated = sum(1 for item in seen if item in existing)
    if save:
        with transaction.atomic():
            AdSpend.objects.bulk_create(
                records,
                batch_size=500,
                update_conflicts=True,
                unique_fields=["workspace", "source", "remote_id", "day"],
                update_fields=UPDATED_FIELDS,
            )
    return ImportResult(rows=rows, created=len(rows) - updated, updated=updated, saved=save)


# -- the ad-reporting sync ------------------------------------------------------------------------


def channel_ad_account_set(*, workspace: Workspace, channel: Channel, ad_account_id: str) -> Channel:
    """The ad account the channel reports from (kept in the connector's settings of the channel)."""
    _check(workspace, channel)
    account = channel_account(channel=channel)
    account.update_settings(**{AD_ACCOUNT_SETTING: ad_account_id.strip()})
    channel_store_account(channel=channel, account=account)
    return channel


def ad_results_store(*, workspace: Workspace, channel: Channel, results: list[AdResult]) -> tuple[int, int]:
    """Upsert the results (one row per ad and day); an ad that promotes a post this channel published is
    matched to its variant by the post's remote id. Returns (rows, rows matched to a variant)."""
    _check(workspace, channel)
    remote_ids = {r.post_remote_id for r in results if r.post_remote_id}
    variants = {
        v.remote_id: v
        for v in Variant.objects.filter(channel=channel, remote_id__in=remote_ids).select_related("post")
    }
    campaigns = {c.name.casefold(): c for c in Campaign.objects.filter(workspace=workspace)}
    matched = 0
    with transaction.atomic():
        for result in results:
            variant = variants.get(result.post_remote_id) if result.post_remote_id else None
            post = variant.post if variant is not None else None
            campaign = post.campaign if post is not None and post.campaign_id else None
            campaign = campaign or campaigns.get(result.campaign_name.casefold())
            matched += variant is not None
            AdSpend.objects.update_or_create(
                workspace=workspace,
                source=SpendSource.API,
                remote_id=f"{channel.pk}:{result.remote_id}"[:300],
                day=result.day,
                defaults={
                    "name": result.name[:300],
                    "channel": channel,
                    "variant": variant,
                    "post": post,
                    "campaign": campaign,
                    "spend": result.spend,
                    "currency": result.currency or DEFAULT_CURRENCY,
                    "impressions": result.impressions,
                    "clicks": result.clicks,
                    "leads": result.leads,
                    "conversion_value": result.conversion_value,
                },
            )
    return len(results), matched


def _sync_record(channel: Channel, **values: object) -> None:
    AdSync.objects.update_or_create(channel=channel, defaults=values)


def ad_sync_channel(*, workspace: Workspace, channel: Channel, until: date | None = None) -> AdSync:
    """Fetch the last ``SYNC_DAYS`` days from the network and store them. A refused login is refreshed
    once, else the channel is flagged "reconnect needed"; a temporary error is recorded and raised again
    (the task retries); a refusal is recorded."""
    _check(workspace, channel)
    connector = get_connector(channel.network)
    if Capability.AD_REPORTING not in connector.capabilities:
        raise ValidationError(_("This network has no ad reporting."))
    until = until or timezone.localdate()
    since = until - timedelta(days=SYNC_DAYS - 1)
    account = channel_account(channel=channel)
    try:
        try:
            results = connector.fetch_ad_results(account=account, since=since, until=until)
        except AuthExpired as first:
            if not channel_refresh_credentials(channel=channel, account=account, cause=first.network_message):
                raise
            results = connector.fetch_ad_results(account=account, since=since, until=until)
    except TemporaryError as exc:
        _sync_record(channel, status=AdSyncStatus.RETRYING, last_error=exc.network_message)
        raise
    except ConnectorError as exc:
        _sync_record(channel, status=AdSyncStatus.FAILED, last_error=exc.network_message)
        return AdSync.objects.get(channel=channel)
    finally:
        channel_store_account(channel=channel, account=account)
    rows, matched = ad_results_store(workspace=workspace, channel=channel, results=results)
    _sync_record(
        channel, status=AdSyncStatus.OK, synced_at=timezone.now(), rows=rows, matched=matched, last_error=""
    )
    return AdSync.objects.get(channel=channel)


def ad_sync_enqueue(*, workspace: Workspace, channel: Channel) -> None:
    """Ask for a sync of one channel after commit."""
    _check(workspace, channel)
    from .tasks import sync_ad_results

    transaction.on_commit(lambda: sync_ad_results.enqueue(workspace_id=workspace.pk, channel_id=channel.pk))


def ad_sync_all() -> int:
    """Every channel that reports ads and names its ad account: one task each."""
    from .tasks import sync_ad_results

    count = 0
    for channel in Channel.objects.exclude(settings__ad_account_id="").filter(
        settings__has_key=AD_ACCOUNT_SETTING
    ):
        connector_caps = get_connector(channel.network).capabilities
        if Capability.AD_REPORTING in connector_caps:
            sync_ad_results.enqueue(workspace_id=channel.workspace_id, channel_id=channel.pk)
            count += 1
    return count
