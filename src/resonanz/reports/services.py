"""Writes of the reports app: branding, schedules, and the scheduled delivery (exactly once).

Delivery in two steps, like every side effect here:

1. ``report_deliveries_create_due`` (the periodic task) inserts one ``ReportDelivery`` per schedule and
   period that is due. The unique constraint (schedule, period) makes a second run, or a second worker,
   a no-op; after commit each new delivery is handed to its own task.
2. ``report_delivery_send`` claims the delivery with one conditional UPDATE (pending, or sending with an
   expired lease: its sender died), renders the report once per language, sends one e-mail per
   recipient not in ``sent_to`` and records each recipient right after its mail. A sender killed
   mid-way is resumed by the periodic task after the lease; only the one recipient whose mail was
   handed to the server but not yet recorded can get it twice (SMTP has no idempotency key).
"""

from __future__ import annotations

import io
import logging
import re
import smtplib
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace
from resonanz.accounts.permissions import Action, ensure_allowed
from resonanz.accounts.selectors import membership_role
from resonanz.core.errors import ensure_same_workspace

from .content import ReportData, report_build
from .models import (
    DeliveryStatus,
    Frequency,
    PeriodKind,
    ReportBranding,
    ReportDelivery,
    ReportFormat,
    ReportLanguage,
    ReportSchedule,
)
from .periods import Period, occurrence_latest, period_for_occurrence
from .renderers import CONTENT_TYPES, filename, format_change, format_value, period_label, render
from .selectors import branding_get, workspace_zone

logger = logging.getLogger(__name__)

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_TYPES = {"PNG": "png", "JPEG": "jpg"}  # what WeasyPrint and every mail client show
MAX_RECIPIENTS = 20
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 5


def _require(workspace: Workspace, actor: User | None, action: Action = Action.MANAGE_REPORTS) -> None:
    if actor is None:  # the system (the periodic task)
        return
    ensure_allowed(membership_role(workspace=workspace, user=actor), action)


# -- branding -----------------------------------------------------------------------------------------


def colour_validate(*, value: str, field: str) -> str:
    value = value.strip()
    if not HEX_COLOUR.match(value):
        raise ValidationError(
            {field: _("Enter a colour as # and six hexadecimal digits, e.g. #1f4e79.")}, code="invalid_colour"
        )
    return value.lower()


def _logo_validate(data: bytes, name: str) -> str:
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationError(
            {
                "logo": _("The logo is %(size)s bytes; at most %(limit)s bytes are allowed.")
                % {"size": len(data), "limit": LOGO_MAX_BYTES}
            },
            code="logo_too_large",
        )
    from PIL import Image, UnidentifiedImageError

    try:  # the same check as a post's media upload (posts.services.media_asset_create)
        with Image.open(io.BytesIO(data)) as img:
            img.verify()
        with Image.open(io.BytesIO(data)) as img:
            kind = img.format or ""
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:  # Pillow: SyntaxError = broken file
        raise ValidationError({"logo": _("%(name)s is not an image we can read.") % {"name": name}}) from exc
    if kind not in LOGO_TYPES:
        raise ValidationError({"logo": _("The logo must be a PNG or JPEG image.")}, code="logo_type")
    return LOGO_TYPES[kind]


def branding_update(
    *,
    workspace: Workspace,
    actor: User | None,
    primary_color: str,
    accent_color: str,
    footer_text: str = "",
    hide_resonanz_branding: bool = False,
    logo: tuple[bytes, str] | None = None,
    remove_logo: bool = False,
) -> ReportBranding:
    """Save the workspace's report branding; ``logo`` is (bytes, file name). Every field is checked
    before anything is stored, so a bad colour never loses an uploaded logo's neighbours."""
    _require(workspace, actor)
    errors: dict[str, list[str]] = {}
    colours = {}
    for field, value in (("primary_color", primary_color), ("accent_color", accent_color)):
        try:
            colours[field] = colour_validate(value=value, field=field)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    extension = ""
    if logo is not None:
        try:
            extension = _logo_validate(*logo)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if len(footer_text) > 300:
        errors["footer_text"] = [_("At most 300 characters.")]
    if errors:
        raise ValidationError(errors)
    branding = branding_get(workspace=workspace)
    branding.primary_color = colours["primary_color"]
    branding.accent_color = colours["accent_color"]
    branding.footer_text = footer_text.strip()
    branding.hide_resonanz_branding = hide_resonanz_branding
    if remove_logo and branding.logo:
        branding.logo.delete(save=False)
    if logo is not None:
        if branding.logo:
            branding.logo.delete(save=False)
        branding.logo.save(f"logo-{workspace.pk}.{extension}", ContentFile(logo[0]), save=False)
    branding.save()
    return branding


# -- schedules ----------------------------------------------------------------------------------------


def recipients_parse(*, text: str) -> list[dict[str, str]]:
    """``"anna@example.com de"`` per line (comma, semicolon or space between; language optional,
    German by default) → ``[{"email": ..., "language": ...}]``. Checked by ``schedule_save``."""
    result = []
    for line in text.splitlines():
        parts = [p for p in re.split(r"[\s,;]+", line.strip()) if p]
        if not parts:
            continue
        result.append({"email": parts[0], "language": (parts[1] if len(parts) > 1 else "de").lower()})
    return result


def _recipients_validate(recipients: list[dict[str, Any]]) -> list[dict[str, str]]:
    if not recipients:
        raise ValidationError({"recipients": _("Add at least one recipient.")})
    if len(recipients) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": _("At most %(n)s recipients.") % {"n": MAX_RECIPIENTS}})
    clean, seen, problems = [], set(), []
    languages = set(ReportLanguage.values)
    for r in recipients:
        email = str(r.get("email", "")).strip()
        language = str(r.get("language", "de")).strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            problems.append(_("“%(email)s” is not an e-mail address.") % {"email": email})
            continue
        if language not in languages:
            problems.append(
                _("“%(language)s” for %(email)s: the language must be de or en.")
                % {"language": language, "email": email}
            )
            continue
        if email.lower() in seen:
            continue
        seen.add(email.lower())
        clean.append({"email": email, "language": language})
    if problems:
        raise ValidationError({"recipients": problems})
    return clean


def schedule_save(
    *,
    workspace: Workspace,
    actor: User | None,
    schedule: ReportSchedule | None = None,
    name: str,
    frequency: str,
    weekday: int = 0,
    day: int = 1,
    hour: int = 8,
    period: str | None = None,
    recipients: list[dict[str, Any]],
    formats: list[str],
    active: bool = True,
) -> ReportSchedule:
    """Create (``schedule`` None) or update a schedule. The period defaults to the previous week for
    a weekly and the previous month for a monthly schedule."""
    _require(workspace, actor)
    if schedule is not None:
        ensure_same_workspace(workspace=workspace, obj_workspace_id=schedule.workspace_id)
    errors: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        errors["name"] = [_("Give the schedule a name.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose weekly or monthly.")]
    if not 0 <= weekday <= 6:
        errors["weekday"] = [_("Choose a weekday.")]
    if not 1 <= day <= 28:
        # 29 to 31 do not exist in every month; "the 28th" is sent every month.
        errors["day"] = [_("Choose a day from 1 to 28.")]
    if not 0 <= hour <= 23:
        errors["hour"] = [_("Choose an hour from 0 to 23.")]
    if period is None or period == "":
        period = PeriodKind.PREVIOUS_MONTH if frequency == Frequency.MONTHLY else PeriodKind.PREVIOUS_WEEK
    if period not in PeriodKind.values:
        errors["period"] = [_("Choose the previous week or the previous month.")]
    chosen = list(dict.fromkeys(formats))
    if not chosen or any(f not in ReportFormat.values for f in chosen):
        errors["formats"] = [_("Choose at least one format: PDF, XLSX or CSV.")]
    clean_recipients: list[dict[str, str]] = []
    try:
        clean_recipients = _recipients_validate(recipients)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    if schedule is None:
        schedule = ReportSchedule(workspace=workspace, created_by=actor)
    schedule.name = name
    schedule.frequency = frequency
    schedule.weekday = weekday
    schedule.day = day
    schedule.hour = hour
    schedule.period = period
    schedule.recipients = clean_recipients
    schedule.formats = chosen
    schedule.active = active
    schedule.save()
    return schedule


def schedule_delete(*, workspace: Workspace, actor: User | None, schedule: ReportSchedule) -> None:
    _require(workspace, actor)
    ensure_same_workspace(workspace=workspace, obj_workspace_id=schedule.workspace_id)
    schedule.delete()


# -- due deliveries -----------------------------------------------------------------------------------


def schedule_due(*, schedule: ReportSchedule, now: datetime) -> tuple[datetime, Period] | None:
    """The latest occurrence of ``schedule`` at or before ``now`` and the period it covers, or None
    when there is nothing to send: the schedule was made after that occurrence (a new schedule does
    not send last Monday's report at once), or the occurrence is older than
    ``RESONANZ_REPORT_CATCHUP_HOURS`` (a worker down for days does not flood inboxes with old weeks)."""
    tz = workspace_zone(workspace=schedule.workspace)
    at = occurrence_latest(
        frequency=schedule.frequency,
        weekday=schedule.weekday,
        day=schedule.day,
        hour=schedule.hour,
        tz=tz,
        now=now,
    )
    if schedule.created_at is not None and at < schedule.created_at:
        return None
    if now - at > timedelta(hours=settings.RESONANZ_REPORT_CATCHUP_HOURS):
        return None
    return at, period_for_occurrence(kind=schedule.period, at=at, tz=tz)


def report_deliveries_create_due(*, now: datetime | None = None) -> list[int]:
    """Create the deliveries that are due (all workspaces; the periodic task). Returns the new ids;
    each is enqueued after commit. Running twice creates nothing the second time."""
    from .tasks import send_report_delivery

    now = now or timezone.now()
    created = []
    schedules = ReportSchedule.objects.filter(
        active=True, workspace__archived_at__isnull=True
    ).select_related("workspace")
    for schedule in schedules:
        due = schedule_due(schedule=schedule, now=now)
        if due is None:
            continue
        at, period = due
        try:
            with transaction.atomic():
                delivery = ReportDelivery.objects.create(
                    schedule=schedule, period_start=period.start, period_end=period.end, due_at=at
                )
        except IntegrityError:
            continue  # created by an earlier run: exactly once
        created.append(delivery.pk)
        transaction.on_commit(partial(send_report_delivery.enqueue, delivery_id=delivery.pk))
    return created


def report_deliveries_stale(*, now: datetime | None = None) -> list[int]:
    """Deliveries whose sender is gone: pending for longer than a lease (the task was lost), retried
    after a temporary mail error, or sending with an expired lease (the worker died)."""
    now = now or timezone.now()
    return list(
        ReportDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING, created_at__lt=now - LEASE)
            | Q(status=DeliveryStatus.PENDING, attempts__gt=0)
            | Q(status=DeliveryStatus.SENDING, lease_expires_at__lt=now),
            attempts__lt=MAX_ATTEMPTS,
        ).values_list("pk", flat=True)
    )


def _claim(delivery_id: int, workspace: Workspace, now: datetime) -> bool:
    return bool(
        ReportDelivery.objects.filter(
            Q(status=DeliveryStatus.PENDING) | Q(status=DeliveryStatus.SENDING, lease_expires_at__lt=now),
            pk=delivery_id,
            schedule__workspace=workspace,
            attempts__lt=MAX_ATTEMPTS,
        ).update(status=DeliveryStatus.SENDING, lease_expires_at=now + LEASE, attempts=F("attempts") + 1)
    )


def _email(report: ReportData, *, recipient: str, attachments: list[tuple[str, bytes, str]]) -> EmailMessage:
    with translation.override(report.language):
        subject = _("Report for %(name)s: %(period)s") % {
            "name": report.workspace_name,
            "period": period_label(report),
        }
        lines = [
            _("Hello,"),
            "",
            _("attached is the report for %(name)s for %(period)s.")
            % {"name": report.workspace_name, "period": period_label(report)},
            "",
        ]
        for kpi in report.all_kpis:
            lines.append(f"{kpi.label}: {format_value(kpi.value, kpi.kind)} ({format_change(kpi)})")
        if report.branding.footer_text:
            lines += ["", report.branding.footer_text]
        if not report.branding.hide_resonanz_branding:
            lines += ["", _("Made with Resonanz")]
    message = EmailMessage(subject=subject, body="\n".join(lines), to=[recipient])
    for name, content, mime in attachments:
        message.attach(name, content, mime)
    return message


def report_delivery_send(*, workspace: Workspace, delivery_id: int, now: datetime | None = None) -> str:
    """Send one delivery (the ``send_report_delivery`` task). Returns what happened."""
    now = now or timezone.now()
    if not _claim(delivery_id, workspace, now):
        return "skipped: not claimable"
    delivery = ReportDelivery.objects.select_related("schedule", "schedule__workspace").get(pk=delivery_id)
    schedule = delivery.schedule
    period = Period(delivery.period_start, delivery.period_end)
    try:
        by_language: dict[str, tuple[ReportData, list[tuple[str, bytes, str]]]] = {}
        for language in dict.fromkeys(r["language"] for r in schedule.recipients):
            report = report_build(workspace=workspace, period=period, language=language)
            files = [(filename(report, f), render(report, f), CONTENT_TYPES[f]) for f in schedule.formats]
            by_language[language] = (report, files)
    except Exception as exc:  # a bug in building or rendering: keep the reason, do not retry forever
        logger.exception("report delivery %s could not be rendered", delivery_id)
        ReportDelivery.objects.filter(pk=delivery_id).update(
            status=DeliveryStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], lease_expires_at=None
        )
        return "failed"
    sent_to = list(delivery.sent_to)
    for recipient in schedule.recipients:
        email = recipient["email"]
        if email in sent_to:
            continue
        report, files = by_language[recipient["language"]]
        try:
            _email(report, recipient=email, attachments=files).send()
        except (smtplib.SMTPException, OSError) as exc:
            # Temporary (server down, refused for now): back to pending; the periodic task retries it
            # until MAX_ATTEMPTS, after which it is failed with the last reason.
            final = delivery.attempts >= MAX_ATTEMPTS  # read after the claim counted this one
            ReportDelivery.objects.filter(pk=delivery_id).update(
                status=DeliveryStatus.FAILED if final else DeliveryStatus.PENDING,
                error=f"{email}: {exc}"[:2000],
                lease_expires_at=None,
            )
            return "failed" if final else "retry"
        sent_to.append(email)
        ReportDelivery.objects.filter(pk=delivery_id).update(
            sent_to=sent_to, lease_expires_at=timezone.now() + LEASE
        )
    ReportDelivery.objects.filter(pk=delivery_id).update(
        status=DeliveryStatus.SENT, sent_at=timezone.now(), lease_expires_at=None, error=""
    )
    return f"sent to {len(sent_to)}"
