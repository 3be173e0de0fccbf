"""The leads CSV, shared by the page and the API (presentation: it renders a response)."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.utils.translation import gettext as _

from resonanz.accounts.models import User, Workspace

from .models import FIELD_LABELS, OPTIONAL_FIELDS, UTM_FIELDS
from .selectors import LeadFilter, lead_list
from .services import leads_export_record


def _csv_safe(value: str) -> str:
    """Visitors type these values: a leading = + - @ would run as a formula in a spreadsheet (OWASP CSV
    injection, https://owasp.org/www-community/attacks/CSV_Injection), so it gets an apostrophe first."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def leads_csv_response(
    *, workspace: Workspace, actor: User, filters: LeadFilter, described: dict[str, str]
) -> HttpResponse:
    """The filtered leads as CSV: UTF-8 with BOM and ``;`` (Excel in German opens it as it is). The export
    of personal data is written to the audit log (who, how many, which filters)."""
    leads = lead_list(workspace=workspace, filters=filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="leads.csv"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("E-mail address"),
            *(str(FIELD_LABELS[name]) for name in OPTIONAL_FIELDS),
            _("Form"),
            _("Status"),
            _("Language"),
            _("Consented at"),
            _("Confirmed at"),
            _("Consent version"),
            _("Consent text"),
            _("Short link"),
            _("Post"),
            _("Channel"),
            _("Campaign"),
            *UTM_FIELDS,
        ]
    )
    count = 0
    for lead in leads.iterator(chunk_size=500):
        count += 1
        writer.writerow(
            [
                _csv_safe(lead.email),
                *(_csv_safe(lead.data.get(name, "")) for name in OPTIONAL_FIELDS),
                _csv_safe(lead.form.name),
                lead.get_status_display(),
                lead.language,
                lead.consented_at.isoformat(),
                lead.confirmed_at.isoformat() if lead.confirmed_at else "",
                lead.consent_version,
                _csv_safe(lead.consent_text),
                lead.link.code if lead.link else "",
                lead.post_id or "",
                _csv_safe(str(lead.channel)) if lead.channel else "",
                _csv_safe(lead.campaign.name) if lead.campaign else "",
                *(_csv_safe(lead.utm.get(key, "")) for key in UTM_FIELDS),
            ]
        )
    leads_export_record(workspace=workspace, actor=actor, count=count, filters=described)
    return response
