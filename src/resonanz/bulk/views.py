"""Views of the bulk pages: import (upload, preview, confirm), export (CSV, XLSX), iCal feeds.

Thin: parse input, call services/selectors with the workspace, render. Every workspace view goes
through ``workspace_view`` (404 for non-members, 403 for roles that may not).
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRefresh

from resonanz.accounts.permissions import Action
from resonanz.campaigns.models import Campaign
from resonanz.campaigns.selectors import campaign_options
from resonanz.channels.models import Channel
from resonanz.channels.selectors import channel_list
from resonanz.core.timezones import zone
from resonanz.posts.models import VariantStatus
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from . import exports
from .forms import ExportForm, FeedCreateForm, ImportConfirmForm, ImportUploadForm
from .importer import Column, ImportFileError
from .models import ImportBatch, ImportMode, ImportRowStatus, ImportStatus
from .selectors import (
    ENTRY_STATUSES,
    calendar_entries,
    calendar_feed_get,
    calendar_feed_list,
    entry_status,
    import_batch_duplicate,
    import_batch_get,
    import_batch_list,
    import_row_list,
)
from .services import (
    BulkError,
    calendar_feed_authenticate,
    calendar_feed_create,
    calendar_feed_revoke,
    import_batch_create,
    import_batch_discard,
    import_batch_resume,
    import_batch_run,
    import_batch_stalled,
    import_mode,
)

ROWS_PER_PAGE = 200
FEED_PAST = timedelta(days=30)
FEED_FUTURE = timedelta(days=90)
FEED_STATUSES = [VariantStatus.SCHEDULED, VariantStatus.PUBLISHING, VariantStatus.PUBLISHED]


def _column_labels(batch: ImportBatch | None = None) -> dict[str, str]:
    """Column names for the report: as written in the user's file where known."""
    labels = {
        Column.DATE: _("Date"),
        Column.TIME: _("Time"),
        Column.CHANNELS: _("Channels"),
        Column.TEXT: _("Text"),
        Column.THREAD: _("Thread"),
        Column.TITLE: _("Title"),
        Column.CONTENT_WARNING: _("Content warning"),
        Column.VISIBILITY: _("Visibility"),
        Column.CAMPAIGN: _("Campaign"),
        "": _("Row"),
    }
    written = batch.columns if batch is not None else {}
    return {str(k): written.get(str(k)) or v for k, v in labels.items()}


def _mode_explanation(mode: str) -> str:
    explanations: dict[str, str] = {
        ImportMode.SCHEDULE: _("Rows that pass the check are scheduled at their date and time."),
        ImportMode.SUBMIT: _(
            "This workspace requires approval: each row becomes a post submitted for approval; "
            "its date and time are kept for scheduling after approval."
        ),
        ImportMode.DRAFT: _(
            "Rows become drafts; their date and time are kept, so that someone who may schedule "
            "can schedule them."
        ),
    }
    return explanations.get(mode, "")


def _index_page(
    request: HttpRequest,
    scope: Scope,
    *,
    upload_form: ImportUploadForm | None = None,
    export_form: ExportForm | None = None,
    status: int = 200,
) -> HttpResponse:
    ws = scope.workspace
    today = timezone.now().astimezone(zone(ws.time_zone)).date()
    can_import = scope.can(Action.CREATE_POST)
    mode = import_mode(workspace=ws, role=scope.role) if can_import else ""
    return render_scoped(
        request,
        scope,
        "bulk/index.html",
        {
            "upload_form": upload_form or ImportUploadForm(),
            "export_form": export_form
            or ExportForm(
                initial=ExportForm.default_range(today),
                channels=channel_list(workspace=ws),
                campaigns=campaign_options(workspace=ws),
            ),
            "has_campaigns": campaign_options(workspace=ws).exists(),
            "mode": mode,
            "mode_explanation": _mode_explanation(mode),
            "imports": import_batch_list(workspace=ws)[:10] if can_import else [],
            "feed_count": calendar_feed_list(workspace=ws).count(),
            "columns": _column_labels(),
        },
        status=status,
    )


@require_GET
@workspace_view()
def index(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _index_page(request, scope)


# -- import -------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@workspace_view(Action.CREATE_POST)
def import_upload(request: HttpRequest, scope: Scope) -> HttpResponse:
    if request.method == "GET":
        return redirect("bulk:index", workspace_id=scope.workspace.pk)
    form = ImportUploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_batch_create(
                workspace=scope.workspace,
                actor=scope.user,
                filename=upload.name or "import.csv",
                data=upload.read(),
                as_drafts=form.cleaned_data["as_drafts"],
            )
        except ImportFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("bulk:import_detail", workspace_id=scope.workspace.pk, batch_id=batch.pk)
    return _index_page(request, scope, upload_form=form, status=400)


def _row_view(
    row: Any, channels: dict[int, Channel], labels: dict[str, str], campaigns: dict[int, Campaign]
) -> dict[str, Any]:
    data = row.data
    raw = data.get("raw", {})
    local = datetime.fromisoformat(data["local"]) if data.get("local") else None
    names = [
        f"{channels[c].network}: {channels[c].handle}" for c in data.get("channel_ids", []) if c in channels
    ]
    return {
        "number": row.number,
        "status": row.status,
        "status_label": row.get_status_display(),
        "local": local,
        "raw_when": " ".join(v for v in (raw.get(Column.DATE, ""), raw.get(Column.TIME, "")) if v),
        "channels": names or ([raw.get(Column.CHANNELS)] if raw.get(Column.CHANNELS) else []),
        "text": data.get("text") or raw.get(Column.TEXT, ""),
        "thread_parts": len(data.get("thread", [])),
        "campaign": campaigns.get(data.get("campaign_id") or 0),
        "issues": [
            {"column": labels.get(i.get("column", ""), i.get("column", "")), "message": i.get("message", "")}
            for i in row.issues
        ],
        "post_id": row.post_id,
    }


def _progress(scope: Scope, batch: ImportBatch) -> dict[str, Any]:
    """How far a running check or import is (for the polling fragment)."""
    rows = import_row_list(workspace=scope.workspace, batch=batch)
    if batch.status == ImportStatus.CHECKING:
        done = rows.exclude(status=ImportRowStatus.PENDING).count()
        total = batch.row_count
    else:
        done = rows.filter(status__in=[ImportRowStatus.IMPORTED, ImportRowStatus.FAILED]).count()
        total = batch.valid_count
    return {
        "batch": batch,
        "done": done,
        "total": total,
        "running": batch.status in {ImportStatus.CHECKING, ImportStatus.IMPORTING},
        "stalled": import_batch_stalled(batch=batch),
        "own": batch.created_by_id == scope.user.pk,
    }


@require_GET
@workspace_view(Action.CREATE_POST)
def import_detail(request: HttpRequest, scope: Scope, batch_id: int) -> HttpResponse:
    ws = scope.workspace
    batch = or_404(import_batch_get, workspace=ws, batch_id=batch_id)
    problems_only = request.GET.get("show") == "problems"
    page = Paginator(import_row_list(workspace=ws, batch=batch, problems_only=problems_only), ROWS_PER_PAGE)
    page_obj = page.get_page(request.GET.get("page"))
    channels = {c.pk: c for c in channel_list(workspace=ws)}
    campaigns = {c.pk: c for c in campaign_options(workspace=ws)} if Column.CAMPAIGN in batch.columns else {}
    labels = _column_labels(batch)
    own = batch.created_by_id == scope.user.pk
    preview = batch.status == ImportStatus.PREVIEW
    problems = import_row_list(workspace=ws, batch=batch, problems_only=True)
    return render_scoped(
        request,
        scope,
        "bulk/import_detail.html",
        {
            "batch": batch,
            "page": page_obj,
            "rows": [_row_view(r, channels, labels, campaigns) for r in page_obj.object_list],
            "problems_only": problems_only,
            "problem_count": problems.count(),
            "duplicate": import_batch_duplicate(workspace=ws, batch=batch) if preview else None,
            "may_confirm": own and preview and batch.valid_count > 0,
            "may_discard": own and batch.status in {ImportStatus.PREVIEW, ImportStatus.CHECKING},
            "mode_explanation": _mode_explanation(batch.mode),
            "confirm_form": ImportConfirmForm(),
            "progress": _progress(scope, batch),
        },
    )


@require_GET
@workspace_view(Action.CREATE_POST)
def import_progress(request: HttpRequest, scope: Scope, batch_id: int) -> HttpResponse:
    """The progress fragment, polled by htmx; once the work is done the page reloads itself."""
    batch = or_404(import_batch_get, workspace=scope.workspace, batch_id=batch_id)
    progress = _progress(scope, batch)
    if not progress["running"]:
        return HttpResponseClientRefresh()
    return render_scoped(request, scope, "bulk/_progress.html", {"progress": progress})


@require_POST
@workspace_view(Action.CREATE_POST)
def import_resume(request: HttpRequest, scope: Scope, batch_id: int) -> HttpResponse:
    ws = scope.workspace
    batch = or_404(import_batch_get, workspace=ws, batch_id=batch_id)
    try:
        import_batch_resume(workspace=ws, actor=scope.user, batch=batch)
    except BulkError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Continuing where it stopped."))
    return redirect("bulk:import_detail", workspace_id=ws.pk, batch_id=batch.pk)


@require_POST
@workspace_view(Action.CREATE_POST)
def import_confirm(request: HttpRequest, scope: Scope, batch_id: int) -> HttpResponse:
    ws = scope.workspace
    batch = or_404(import_batch_get, workspace=ws, batch_id=batch_id)
    form = ImportConfirmForm(request.POST)
    form.is_valid()
    try:
        batch = import_batch_run(
            workspace=ws,
            actor=scope.user,
            batch=batch,
            confirm_duplicate=bool(form.cleaned_data.get("confirm_duplicate")),
        )
    except (BulkError, PermissionDenied) as exc:
        messages.error(request, getattr(exc, "message", "") or str(exc))
    else:
        if batch.status == ImportStatus.IMPORTING:  # many rows: the worker imports them
            messages.info(request, _("The import has started; this page shows its progress."))
            return redirect("bulk:import_detail", workspace_id=ws.pk, batch_id=batch.pk)
        done = ngettext("%(count)s post imported.", "%(count)s posts imported.", batch.imported_count) % {
            "count": batch.imported_count
        }
        if batch.failed_count:
            done += " " + ngettext(
                "%(count)s row was refused at import; see below why.",
                "%(count)s rows were refused at import; see below why.",
                batch.failed_count,
            ) % {"count": batch.failed_count}
            messages.warning(request, done)
        else:
            messages.success(request, done)
    return redirect("bulk:import_detail", workspace_id=ws.pk, batch_id=batch.pk)


@require_POST
@workspace_view(Action.CREATE_POST)
def import_discard(request: HttpRequest, scope: Scope, batch_id: int) -> HttpResponse:
    ws = scope.workspace
    batch = or_404(import_batch_get, workspace=ws, batch_id=batch_id)
    try:
        import_batch_discard(workspace=ws, actor=scope.user, batch=batch)
    except BulkError as exc:
        messages.error(request, exc.message)
        return redirect("bulk:import_detail", workspace_id=ws.pk, batch_id=batch.pk)
    messages.success(request, _("The file was discarded; nothing was imported."))
    return redirect("bulk:index", workspace_id=ws.pk)


def _csv_download(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
@workspace_view(Action.CREATE_POST)
def import_problems_csv(request: HttpRequest, scope: Scope, batch_id: int) -> HttpResponse:
    """The refused rows as written in the file, with the reasons in an extra column: fix, upload again."""
    ws = scope.workspace
    batch = or_404(import_batch_get, workspace=ws, batch_id=batch_id)
    columns = list(batch.columns)
    labels = _column_labels(batch)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=batch.delimiter or ",", lineterminator="\r\n")
    writer.writerow([batch.columns[c] for c in columns] + [_("Why refused")])
    for row in import_row_list(workspace=ws, batch=batch, problems_only=True):
        raw = row.data.get("raw", {})
        reasons = "\n".join(f"{labels.get(i['column'], i['column'])}: {i['message']}" for i in row.issues)
        writer.writerow([exports.neutralise(raw.get(c, "")) for c in columns] + [exports.neutralise(reasons)])
    return _csv_download("\ufeff" + buffer.getvalue(), f"resonanz-import-{batch.pk}-refused.csv")


@require_GET
@workspace_view(Action.CREATE_POST)
def import_template(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    first = channel_list(workspace=ws).first()
    day = timezone.now().astimezone(zone(ws.time_zone)).date() + timedelta(days=7)
    german = (translation.get_language() or "").startswith("de")
    campaign = campaign_options(workspace=ws).filter(archived=False).order_by("pk").first()
    text = exports.template_csv(
        german=german,
        channel=first.handle if first else "brand.bsky.social",
        day=day,
        campaign=campaign.name if campaign else "",
    )
    return _csv_download(text, "resonanz-import-vorlage.csv" if german else "resonanz-import-template.csv")


# -- export -------------------------------------------------------------------------------------


def _export_form(request: HttpRequest, scope: Scope) -> ExportForm:
    ws = scope.workspace
    data = request.GET.copy()
    today = timezone.now().astimezone(zone(ws.time_zone)).date()
    for key, value in ExportForm.default_range(today).items():
        data.setdefault(key, value.isoformat())
    return ExportForm(data, channels=channel_list(workspace=ws), campaigns=campaign_options(workspace=ws))


def _export_entries(scope: Scope, form: ExportForm) -> Any:
    ws = scope.workspace
    tz = zone(ws.time_zone)
    d = form.cleaned_data
    start = datetime.combine(d["start"], time.min, tzinfo=tz)
    end = datetime.combine(d["end"] + timedelta(days=1), time.min, tzinfo=tz)
    channel = d.get("channel")
    campaign = d.get("campaign")
    entries = calendar_entries(
        workspace=ws,
        start=start,
        end=end,
        channel_id=channel.pk if channel else None,
        campaign_id=campaign.pk if campaign else None,
        statuses=[d["status"]] if d.get("status") else None,
    )
    labels = {str(k): str(v) for k, v in ENTRY_STATUSES}
    return exports.export_rows(
        entries.iterator(chunk_size=500), time_zone=ws.time_zone, status_labels=labels, status_of=entry_status
    )


def _export_filename(scope: Scope, form: ExportForm, ext: str) -> str:
    d = form.cleaned_data
    return f"resonanz-{scope.workspace.slug}-{d['start']:%Y%m%d}-{d['end']:%Y%m%d}.{ext}"


@require_GET
@workspace_view()
def export_csv(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _export_form(request, scope)
    if not form.is_valid():
        return _index_page(request, scope, export_form=form, status=400)
    excel_de = request.GET.get("excel") == "de"
    lines = exports.csv_lines(
        _export_entries(scope, form), headers=exports.export_headers(), excel_de=excel_de
    )
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in lines), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_filename(scope, form, "csv")}"'
    response["Cache-Control"] = "private, no-store"
    # web.scope types views as returning HttpResponse; Django serves any HttpResponseBase.
    return response  # type: ignore[return-value]


@require_GET
@workspace_view()
def export_xlsx(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _export_form(request, scope)
    if not form.is_valid():
        return _index_page(request, scope, export_form=form, status=400)
    data = exports.xlsx_bytes(
        _export_entries(scope, form),
        headers=exports.export_headers(),
        sheet_title=_("Calendar"),
        german=(translation.get_language() or "").startswith("de"),
    )
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_filename(scope, form, "xlsx")}"'
    response["Cache-Control"] = "private, no-store"
    return response


# -- iCal feeds ---------------------------------------------------------------------------------


def _feed_url(request: HttpRequest, token: str) -> str:
    return request.build_absolute_uri(reverse("bulk_public:feed", args=[token]))


def _feeds_page(
    request: HttpRequest,
    scope: Scope,
    *,
    form: FeedCreateForm | None = None,
    issued: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    response = render_scoped(
        request,
        scope,
        "bulk/feeds.html",
        {
            "feeds": _feed_rows(scope),
            "form": form or FeedCreateForm(),
            "issued": issued,
        },
        status=status,
    )
    response["Cache-Control"] = "private, no-store"  # the page may show a token once
    return response


def _feed_rows(scope: Scope) -> list[dict[str, Any]]:
    manage = scope.can(Action.MANAGE_WORKSPACE)
    return [
        {"feed": f, "may_revoke": manage or f.created_by_id == scope.user.pk}
        for f in calendar_feed_list(workspace=scope.workspace)
    ]


@require_http_methods(["GET", "POST"])
@workspace_view()
def feeds(request: HttpRequest, scope: Scope) -> HttpResponse:
    if request.method == "GET":
        return _feeds_page(request, scope)
    form = FeedCreateForm(request.POST)
    if not form.is_valid():
        return _feeds_page(request, scope, form=form, status=400)
    try:
        issued = calendar_feed_create(
            workspace=scope.workspace, actor=scope.user, name=form.cleaned_data["name"]
        )
    except BulkError as exc:
        form.add_error("name", exc.message)
        return _feeds_page(request, scope, form=form, status=400)
    url = _feed_url(request, issued.token)
    webcal = "webcal://" + url.split("://", 1)[1]
    return _feeds_page(request, scope, issued={"name": issued.feed.name, "url": url, "webcal": webcal})


@require_POST
@workspace_view()
def feed_revoke(request: HttpRequest, scope: Scope, feed_id: int) -> HttpResponse:
    feed = or_404(calendar_feed_get, workspace=scope.workspace, feed_id=feed_id)
    calendar_feed_revoke(workspace=scope.workspace, actor=scope.user, feed=feed)  # PermissionDenied -> 403
    message = _("The feed “%(name)s” was revoked; its address no longer works.") % {"name": feed.name}
    if getattr(request, "htmx", False):
        return render_scoped(
            request, scope, "bulk/_feed_list.html", {"feeds": _feed_rows(scope), "revoked_message": message}
        )
    messages.success(request, message)
    return redirect("bulk:feeds", workspace_id=scope.workspace.pk)


@require_safe  # GET and HEAD (some calendar apps probe with HEAD)
def feed_ics(request: HttpRequest, token: str) -> HttpResponse:
    """The public iCal feed: the token is the permission. Unknown or revoked: 404, nothing else."""
    feed = calendar_feed_authenticate(token=token)
    if feed is None:
        raise Http404
    ws = feed.workspace
    now = timezone.now()
    entries = calendar_entries(
        workspace=ws, start=now - FEED_PAST, end=now + FEED_FUTURE, statuses=FEED_STATUSES
    )
    domain = request.get_host().split(":", 1)[0] or "resonanz"
    with translation.override(feed.created_by.language or ws.language):
        body = exports.ical_bytes(
            entries,
            calendar_name=f"Resonanz · {ws.name}",
            uid_domain=domain,
            post_url=lambda v: request.build_absolute_uri(
                reverse("web:post_detail", args=[ws.pk, v.post_id])
            ),
            status_labels={str(k): str(v) for k, v in ENTRY_STATUSES},
            status_of=entry_status,
        )
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="resonanz-{ws.slug}.ics"'
    response["ETag"] = etag
    # The URL is a secret: no shared cache may keep it; calendar apps poll hourly anyway.
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
