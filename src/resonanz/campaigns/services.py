"""Writes of campaigns: create, update, archive (and restore). Every function takes the workspace.

Only roles with ``Action.MANAGE_CAMPAIGNS`` (editors and above) change campaigns; every member sees them
and anyone who writes posts may put a post into one (``resonanz.posts.services``).
"""

from __future__ import annotations

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.core.services import audit_log_record

from .models import DEFAULT_COLOUR, Campaign, Goal
from .selectors import campaign_next_colour

NAME_MAX = 120
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


def _require(workspace: Workspace, actor: User | None) -> None:
    if actor is None:  # system actions carry no user
        return
    ensure_allowed(membership_role(workspace=workspace, user=actor), Action.MANAGE_CAMPAIGNS)


def _clean(
    *,
    workspace: Workspace,
    name: str,
    goal: str,
    colour: str,
    starts_on: date | None,
    ends_on: date | None,
    exclude_pk: int | None = None,
) -> tuple[str, str]:
    """The name and colour as stored; raises ValidationError (per field) for anything not allowed."""
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = _("Give the campaign a name.")
    elif len(name) > NAME_MAX:
        errors["name"] = _("The name is too long (at most %(limit)s characters).") % {"limit": NAME_MAX}
    else:
        same = Campaign.objects.filter(workspace=workspace, name__iexact=name)
        if exclude_pk is not None:
            same = same.exclude(pk=exclude_pk)
        if same.exists():
            errors["name"] = _("This workspace already has a campaign called “%(name)s”.") % {"name": name}
    if goal not in Goal.values:
        errors["goal"] = _("Choose one of the goals.")
    colour = (colour or DEFAULT_COLOUR).strip()
    if not _COLOUR.match(colour):
        errors["colour"] = _("Enter a colour like #7c3aed.")
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = _("The campaign cannot end before it starts.")
    if errors:
        raise ValidationError(errors)
    return name, colour.lower()


@transaction.atomic
def campaign_create(
    *,
    workspace: Workspace,
    actor: User | None,
    name: str,
    goal: str,
    target_audience: str = "",
    kpi_target: int | None = None,
    colour: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Campaign:
    """A new campaign; without a colour it gets the next one its workspace does not use yet."""
    _require(workspace, actor)
    colour = colour.strip() or campaign_next_colour(workspace=workspace)
    name, colour = _clean(
        workspace=workspace, name=name, goal=goal, colour=colour, starts_on=starts_on, ends_on=ends_on
    )
    campaign = Campaign.objects.create(
        workspace=workspace,
        name=name,
        goal=goal,
        target_audience=target_audience.strip(),
        kpi_target=kpi_target,
        colour=colour,
        starts_on=starts_on,
        ends_on=ends_on,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    audit_log_record(workspace=workspace, actor=actor, action="campaign.create", target=campaign)
    return campaign


@transaction.atomic
def campaign_update(
    *,
    workspace: Workspace,
    campaign: Campaign,
    actor: User | None,
    name: str,
    goal: str,
    target_audience: str = "",
    kpi_target: int | None = None,
    colour: str = DEFAULT_COLOUR,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Campaign:
    _require(workspace, actor)
    campaign = Campaign.objects.select_for_update().get(workspace=workspace, pk=campaign.pk)
    name, colour = _clean(
        workspace=workspace,
        name=name,
        goal=goal,
        colour=colour,
        starts_on=starts_on,
        ends_on=ends_on,
        exclude_pk=campaign.pk,
    )
    campaign.name, campaign.goal, campaign.colour = name, goal, colour
    campaign.target_audience = target_audience.strip()
    campaign.kpi_target = kpi_target
    campaign.starts_on, campaign.ends_on = starts_on, ends_on
    campaign.save()
    audit_log_record(workspace=workspace, actor=actor, action="campaign.update", target=campaign)
    return campaign


@transaction.atomic
def campaign_archive(
    *, workspace: Workspace, campaign: Campaign, actor: User | None, archived: bool = True
) -> Campaign:
    """Archive (``archived=False``: restore) a campaign. Its posts keep it; the composer no longer
    offers it for new posts."""
    _require(workspace, actor)
    campaign = Campaign.objects.select_for_update().get(workspace=workspace, pk=campaign.pk)
    if campaign.archived != archived:
        campaign.archived = archived
        campaign.save(update_fields=["archived", "updated_at"])
        audit_log_record(
            workspace=workspace,
            actor=actor,
            action="campaign.archive" if archived else "campaign.restore",
            target=campaign,
        )
    return campaign
