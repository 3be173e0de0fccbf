"""Web views of the reports: the report of a period (HTML, PDF, CSV, XLSX), branding, schedules,
delivery history. Thin: parse, call the content builder or a service with the workspace, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.permissions import Action
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .content import branding_data, report_build
from .forms import BrandingForm, PeriodForm, ScheduleForm
from .models import ReportLanguage, ReportSchedule
from .renderers import CONTENT_TYPES, filename, html_context, render
from .selectors import branding_get, delivery_list, schedule_get, schedule_list, workspace_zone
from .services import branding_update, recipients_parse, schedule_delete, schedule_save


def _language(form: PeriodForm) -> str:
    chosen = form.cleaned_data.get("language") if form.is_valid() else ""
    current = (translation.get_language() or "de")[:2]
    return chosen or (current if current in ReportLanguage.values else "de")


def _period_form(request: HttpRequest, scope: Scope) -> PeriodForm:
    today = timezone.now().astimezone(workspace_zone(workspace=scope.workspace)).date()
    return PeriodForm(request.GET or {"period": "last_month"}, today=today)


def _query(request: HttpRequest) -> str:
    return request.GET.urlencode()


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def report_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _period_form(request, scope)
    context: dict[str, Any] = {
        "form": form,
        "query": _query(request),
        "can_manage": scope.can(Action.MANAGE_REPORTS),
    }
    status = 200
    if form.is_valid():
        report = report_build(
            workspace=scope.workspace, period=form.cleaned_data["report_period"], language=_language(form)
        )
        with translation.override(report.language):
            context.update(html_context(report, chart_format="svg"))
    else:
        status = 400
    return render_scoped(request, scope, "reports/list.html", context, status=status)


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def report_download_view(request: HttpRequest, scope: Scope, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404
    form = _period_form(request, scope)
    if not form.is_valid():
        return render_scoped(request, scope, "reports/list.html", {"form": form}, status=400)
    report = report_build(
        workspace=scope.workspace, period=form.cleaned_data["report_period"], language=_language(form)
    )
    response = HttpResponse(render(report, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename(report, fmt)}"'
    return response


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_REPORTS)
def branding_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    branding = branding_get(workspace=scope.workspace)
    if request.method == "POST":
        form = BrandingForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            upload = data.get("logo")
            try:
                branding_update(
                    workspace=scope.workspace,
                    actor=scope.user,
                    primary_color=data["primary_color"],
                    accent_color=data["accent_color"],
                    footer_text=data["footer_text"],
                    hide_resonanz_branding=data["hide_resonanz_branding"],
                    logo=(upload.read(), upload.name or "logo") if upload else None,
                    remove_logo=data["remove_logo"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Report branding saved."))
                return redirect(reverse("reports:branding", args=[scope.workspace.pk]))
        status = 400
    else:
        form = BrandingForm(
            initial={
                "primary_color": branding.primary_color,
                "accent_color": branding.accent_color,
                "footer_text": branding.footer_text,
                "hide_resonanz_branding": branding.hide_resonanz_branding,
            }
        )
        status = 200
    return render_scoped(
        request,
        scope,
        "reports/branding.html",
        {
            "form": form,
            "branding": branding,
            "logo_uri": branding_data(workspace=scope.workspace).logo_data_uri,
        },
        status=status,
    )


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def schedule_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_scoped(
        request,
        scope,
        "reports/schedules.html",
        {
            "schedules": schedule_list(workspace=scope.workspace),
            "can_manage": scope.can(Action.MANAGE_REPORTS),
        },
    )


def _schedule_initial(schedule: ReportSchedule) -> dict[str, Any]:
    return {
        "name": schedule.name,
        "frequency": schedule.frequency,
        "weekday": schedule.weekday,
        "day": schedule.day,
        "hour": schedule.hour,
        "period": schedule.period,
        "recipients": "\n".join(f"{r['email']} {r['language']}" for r in schedule.recipients),
        "formats": schedule.formats,
        "active": schedule.active,
    }


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_REPORTS)
def schedule_edit_view(request: HttpRequest, scope: Scope, schedule_id: int | None = None) -> HttpResponse:
    schedule = (
        or_404(schedule_get, workspace=scope.workspace, schedule_id=schedule_id) if schedule_id else None
    )
    status = 200
    if request.method == "POST":
        form = ScheduleForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = schedule_save(
                    workspace=scope.workspace,
                    actor=scope.user,
                    schedule=schedule,
                    name=data["name"],
                    frequency=data["frequency"],
                    weekday=data["weekday"],
                    day=data["day"],
                    hour=data["hour"],
                    period=data["period"],
                    recipients=recipients_parse(text=data["recipients"]),
                    formats=data["formats"],
                    active=data["active"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Schedule “%(name)s” saved.") % {"name": saved.name})
                return redirect(reverse("reports:schedules", args=[scope.workspace.pk]))
        status = 400
    elif schedule is not None:
        form = ScheduleForm(initial=_schedule_initial(schedule))
    else:
        form = ScheduleForm(initial={"formats": ["pdf"], "period": "previous_week", "weekday": 0})
    return render_scoped(
        request, scope, "reports/schedule_form.html", {"form": form, "schedule": schedule}, status=status
    )


@require_POST
@workspace_view(Action.MANAGE_REPORTS)
def schedule_delete_view(request: HttpRequest, scope: Scope, schedule_id: int) -> HttpResponse:
    schedule = or_404(schedule_get, workspace=scope.workspace, schedule_id=schedule_id)
    schedule_delete(workspace=scope.workspace, actor=scope.user, schedule=schedule)
    messages.success(request, _("Schedule “%(name)s” deleted.") % {"name": schedule.name})
    return redirect(reverse("reports:schedules", args=[scope.workspace.pk]))


@require_GET
@workspace_view(Action.VIEW_ANALYTICS)
def delivery_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_scoped(
        request,
        scope,
        "reports/deliveries.html",
        {"deliveries": delivery_list(workspace=scope.workspace)[:200]},
    )
