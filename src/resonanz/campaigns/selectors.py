"""Reads of campaigns. Every function takes the workspace; other workspaces' campaigns do not exist."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from resonanz.accounts.models import Workspace

from .models import CAMPAIGN_COLOURS, Campaign


def campaign_list(*, workspace: Workspace, include_archived: bool = True) -> QuerySet[Campaign]:
    """The workspace's campaigns (active first, by name), each with ``post_count``."""
    qs = Campaign.objects.filter(workspace=workspace)
    if not include_archived:
        qs = qs.filter(archived=False)
    # Meta.ordering does not apply to a GROUP BY query: order explicitly.
    return qs.annotate(post_count=Count("posts")).order_by("archived", Lower("name"), "pk")


def campaign_get(*, workspace: Workspace, campaign_id: int) -> Campaign:
    """Raises ``Campaign.DoesNotExist`` for an unknown id or another workspace's campaign."""
    return Campaign.objects.get(workspace=workspace, pk=campaign_id)


# What ``campaign_update`` takes, i.e. what the edit form and the API's PATCH may change.
EDITABLE_FIELDS = ("name", "goal", "target_audience", "kpi_target", "colour", "starts_on", "ends_on")


def campaign_editable_values(*, campaign: Campaign) -> dict[str, Any]:
    """The campaign's current editable values: the edit form's initial data, and what a partial API
    update keeps of the fields it does not send."""
    return {name: getattr(campaign, name) for name in EDITABLE_FIELDS}


def campaign_choices(*, workspace: Workspace, keep_id: int | None = None) -> QuerySet[Campaign]:
    """What a post can be put into: the active campaigns, plus ``keep_id`` (a post's current campaign,
    even when it was archived since)."""
    condition = Q(archived=False)
    if keep_id is not None:
        condition |= Q(pk=keep_id)
    return Campaign.objects.filter(condition, workspace=workspace).only("pk", "name", "archived", "colour")


def campaign_options(*, workspace: Workspace) -> QuerySet[Campaign]:
    """Every campaign of the workspace for filters (active first, by name): few columns, no counts."""
    return Campaign.objects.filter(workspace=workspace).only("pk", "name", "colour", "archived")


def campaign_next_colour(*, workspace: Workspace) -> str:
    """The colour for a new campaign: the first of ``CAMPAIGN_COLOURS`` no active campaign of the workspace
    uses, else the palette again in turn."""
    used = [
        c.lower()
        for c in Campaign.objects.filter(workspace=workspace, archived=False).values_list("colour", flat=True)
    ]
    for colour in CAMPAIGN_COLOURS:
        if colour not in used:
            return colour
    return CAMPAIGN_COLOURS[len(used) % len(CAMPAIGN_COLOURS)]
