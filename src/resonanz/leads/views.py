"""Team pages of leads: the list with filters and counts, CSV export, forms (with the embed snippets), bio
pages, webhooks (test, delivery log) and the per-person export and erasure.

Permissions (``services.LEADS_ACTION`` etc.): leads are personal data, so the list, the export and the forms
need MANAGE_CAMPAIGNS (editors and above); webhooks and erasure need MANAGE_WORKSPACE (owners and admins).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.campaigns.selectors import campaign_choices
from resonanz.channels.models import Channel
from resonanz.links.selectors import link_base_url, link_list
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .export import leads_csv_response
from .forms import BioItemForm, BioPageForm, LeadFilterForm, LeadFormForm, PersonForm, WebhookForm
from .models import FIELD_LABELS, Lead, LeadForm
from .selectors import (
    LeadFilter,
    bio_item_get,
    bio_page_get,
    bio_page_list,
    delivery_list,
    form_get,
    form_list,
    lead_list,
    leads_count_by,
    person_export,
    person_leads,
    webhook_get,
    webhook_list,
)
from .services import (
    ERASE_ACTION,
    LEADS_ACTION,
    WEBHOOK_ACTION,
    FormInput,
    bio_item_add,
    bio_item_move,
    bio_item_remove,
    bio_page_create,
    bio_page_update,
    form_create,
    form_delete,
    form_static_token,
    form_update,
    lead_space_get,
    person_erase,
    person_export_record,
    webhook_create,
    webhook_delete,
    webhook_set_active,
    webhook_test,
)


def _add_errors(form: Any, exc: ValidationError) -> None:
    for name, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        form.add_error(name if name in form.fields else None, errors)


def _set_choices(form: Any, name: str, choices: list[Any]) -> None:
    form.fields[name].choices = [("", "—"), *choices]


def _filter_form(scope: Scope, data: Any) -> LeadFilterForm:
    ws = scope.workspace
    form = LeadFilterForm(data)
    _set_choices(form, "form", [(f.pk, f.name) for f in LeadForm.objects.filter(workspace=ws)])
    _set_choices(form, "campaign", [(c.pk, c.name) for c in campaign_choices(workspace=ws)])
    _set_choices(form, "channel", [(c.pk, str(c)) for c in Channel.objects.filter(workspace=ws)])
    return form


def _filters(form: LeadFilterForm) -> LeadFilter:
    if not form.is_valid():
        return LeadFilter()
    d = form.cleaned_data
    return LeadFilter(
        form_id=d["form"],
        status=d["status"] or "",
        campaign_id=d["campaign"],
        channel_id=d["channel"],
        start=d["start"],
        end=d["end"],
    )


@require_GET
@workspace_view(LEADS_ACTION)
def lead_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    filter_form = _filter_form(scope, request.GET or None)
    filters = _filters(filter_form)
    leads = list(lead_list(workspace=ws, filters=filters)[:200])
    # The filter's period (its end day inclusive; leads_count_by's end is exclusive), else the last 90 days.
    start = filters.start or (timezone.now() - timedelta(days=90)).date()
    end = (filters.end or timezone.now().date()) + timedelta(days=1)
    names: dict[str, dict[int, str]] = {
        "campaign": {c.pk: c.name for c in campaign_choices(workspace=ws)},
        "channel": {c.pk: str(c) for c in Channel.objects.filter(workspace=ws)},
        "post": {},
    }
    counts = {}
    for by in ("campaign", "channel", "post"):
        rows = leads_count_by(workspace=ws, start=start, end=end, by=by)  # type: ignore[arg-type]
        counts[by] = [
            (names[by].get(key, f"#{key}") if key is not None else "—", count) for key, count in rows.items()
        ]
    return render_scoped(
        request,
        scope,
        "leads/list.html",
        {
            "leads": leads,
            "filter_form": filter_form,
            "counts": counts,
            "query": request.GET.urlencode(),
            "can_erase": scope.can(ERASE_ACTION),
            "can_webhooks": scope.can(WEBHOOK_ACTION),
        },
    )


@require_GET
@workspace_view(LEADS_ACTION)
def lead_export_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    filters = _filters(_filter_form(scope, request.GET or None))
    return leads_csv_response(
        workspace=scope.workspace,
        actor=scope.user,
        filters=filters,
        described={k: str(v) for k, v in request.GET.items() if v},
    )


# -- forms --------------------------------------------------------------------------------------------


@require_GET
@workspace_view(LEADS_ACTION)
def form_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_scoped(request, scope, "leads/forms.html", {"forms": form_list(workspace=scope.workspace)})


def _snippets(request: HttpRequest, scope: Scope, form: LeadForm) -> dict[str, str]:
    public_id = lead_space_get(workspace=scope.workspace).public_id
    base = settings.BASE_URL.rstrip("/")
    hosted = base + reverse("leads_public:form", args=[public_id, form.slug])
    embed = base + reverse("leads_public:embed", args=[public_id, form.slug])
    submit = base + reverse("leads_public:submit", args=[public_id, form.slug])
    frame_id = f"resonanz-form-{form.pk}"
    iframe = (
        f'<iframe id="{frame_id}" src="{embed}" title="{escape(form.name)}" '
        'style="width:100%;min-height:32rem;border:0" loading="lazy"></iframe>\n'
        # Passes the page's own utm_* / rzl parameters to the form, so the lead is attributed.
        f"<script>(function(f){{if(location.search)f.src+=location.search;}})"
        f'(document.getElementById("{frame_id}"));</script>'
    )
    fields = "\n".join(
        f'  <label>{escape(str(FIELD_LABELS[name]))} <input name="{name}" type="text"></label>'
        for name in form.fields
    )
    plain = (
        f'<form method="post" action="{submit}">\n'
        f'  <input type="hidden" name="token" value="{form_static_token(form=form)}">\n'
        '  <input type="hidden" name="lang" value="de">\n'
        f'  <input type="hidden" name="consent_version" value="{form.consent_version}">\n'
        f'  <label>{escape(str(FIELD_LABELS["email"]))} <input name="email" type="email" required></label>\n'
        + (fields + "\n" if fields else "")
        + '  <div style="position:absolute;left:-10000px" aria-hidden="true">'
        '<input name="website" tabindex="-1" autocomplete="off"></div>\n'
        '  <label><input type="checkbox" name="consent" value="1" required> '
        f"{escape(form.consent_de)}</label>\n"
        "  <button>Senden</button>\n</form>"
    )
    return {"hosted": hosted, "iframe": iframe, "plain": plain}


@require_http_methods(["GET", "POST"])
@workspace_view(LEADS_ACTION)
def form_edit_view(request: HttpRequest, scope: Scope, form_id: int | None = None) -> HttpResponse:
    ws = scope.workspace
    instance = or_404(form_get, workspace=ws, form_id=form_id) if form_id is not None else None
    if request.method == "POST":
        form = LeadFormForm(request.POST)
        if form.is_valid():
            cleaned = dict(form.cleaned_data)
            data = FormInput(fields=cleaned.pop("extra_fields"), **cleaned)
            try:
                if instance is None:
                    instance = form_create(workspace=ws, actor=scope.user, data=data)
                else:
                    instance = form_update(workspace=ws, actor=scope.user, form=instance, data=data)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Form saved."))
                return redirect(reverse("leads:form_edit", args=[ws.pk, instance.pk]))
        status = 400
    else:
        initial = (
            {key: getattr(instance, key) for key in LeadFormForm.base_fields if key != "extra_fields"}
            | {"extra_fields": instance.fields}
            if instance is not None
            else {"double_opt_in": True, "active": True}
        )
        form = LeadFormForm(initial=initial)
        status = 200
    return render_scoped(
        request,
        scope,
        "leads/form_edit.html",
        {
            "form": form,
            "instance": instance,
            "snippets": _snippets(request, scope, instance) if instance else None,
        },
        status=status,
    )


@require_POST
@workspace_view(LEADS_ACTION)
def form_delete_view(request: HttpRequest, scope: Scope, form_id: int) -> HttpResponse:
    instance = or_404(form_get, workspace=scope.workspace, form_id=form_id)
    try:
        form_delete(workspace=scope.workspace, actor=scope.user, form=instance)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("leads:form_edit", args=[scope.workspace.pk, form_id]))
    messages.success(request, _("Form deleted."))
    return redirect(reverse("leads:forms", args=[scope.workspace.pk]))


# -- bio pages ------------------------------------------------------------------------------------------


@require_GET
@workspace_view(LEADS_ACTION)
def bio_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_scoped(
        request, scope, "leads/bio_pages.html", {"pages": bio_page_list(workspace=scope.workspace)}
    )


def _item_form(scope: Scope, data: Any = None) -> BioItemForm:
    form = BioItemForm(data)
    ws = scope.workspace
    base = link_base_url(workspace=ws)
    form.fields["target"].choices = [  # type: ignore[attr-defined]
        ("", "—"),
        (_("Forms"), [(f"form:{f.pk}", f.name) for f in LeadForm.objects.filter(workspace=ws, active=True)]),
        (
            _("Short links"),
            [
                (f"link:{link.pk}", f"{base}/l/{link.code} → {link.target_url}")
                for link in link_list(workspace=ws)[:200]
            ],
        ),
    ]
    return form


@require_http_methods(["GET", "POST"])
@workspace_view(LEADS_ACTION)
def bio_edit_view(request: HttpRequest, scope: Scope, page_id: int | None = None) -> HttpResponse:
    ws = scope.workspace
    page = or_404(bio_page_get, workspace=ws, page_id=page_id) if page_id is not None else None
    status = 200
    if request.method == "POST":
        form = BioPageForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                if page is None:
                    page = bio_page_create(
                        workspace=ws, actor=scope.user, slug=d["slug"], title=d["title"], intro=d["intro"]
                    )
                else:
                    page = bio_page_update(
                        workspace=ws,
                        actor=scope.user,
                        page=page,
                        slug=d["slug"],
                        title=d["title"],
                        intro=d["intro"],
                    )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Page saved."))
                return redirect(reverse("leads:bio_edit", args=[ws.pk, page.pk]))
        status = 400
    else:
        form = BioPageForm(
            initial={"title": page.title, "slug": page.slug, "intro": page.intro} if page else None
        )
    return _bio_page(request, scope, page, form, status=status)


def _bio_page(
    request: HttpRequest,
    scope: Scope,
    page: Any,
    form: BioPageForm,
    item_form: BioItemForm | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    return render_scoped(
        request,
        scope,
        "leads/bio_edit.html",
        {
            "page": page,
            "form": form,
            "items": list(page.items.select_related("link", "form")) if page else [],
            "item_form": item_form or _item_form(scope),
            "public_url": settings.BASE_URL.rstrip("/") + reverse("leads_public:bio", args=[page.slug])
            if page
            else "",
        },
        status=status,
    )


@require_POST
@workspace_view(LEADS_ACTION)
def bio_item_add_view(request: HttpRequest, scope: Scope, page_id: int) -> HttpResponse:
    ws = scope.workspace
    page = or_404(bio_page_get, workspace=ws, page_id=page_id)
    item_form = _item_form(scope, request.POST)
    if item_form.is_valid():
        kind, _sep, raw = item_form.cleaned_data["target"].partition(":")
        link = link_list(workspace=ws).filter(pk=int(raw)).first() if kind == "link" else None
        lead_form = LeadForm.objects.filter(workspace=ws, pk=int(raw)).first() if kind == "form" else None
        try:
            bio_item_add(
                workspace=ws,
                actor=scope.user,
                page=page,
                label=item_form.cleaned_data["label"],
                link=link,
                form=lead_form,
            )
        except ValidationError as exc:
            _add_errors(item_form, exc)
        else:
            return redirect(reverse("leads:bio_edit", args=[ws.pk, page.pk]))
    form = BioPageForm(initial={"title": page.title, "slug": page.slug, "intro": page.intro})
    return _bio_page(request, scope, page, form, item_form, status=400)


@require_POST
@workspace_view(LEADS_ACTION)
def bio_item_change_view(request: HttpRequest, scope: Scope, item_id: int) -> HttpResponse:
    item = or_404(bio_item_get, workspace=scope.workspace, item_id=item_id)
    action = request.POST.get("action")
    if action == "remove":
        bio_item_remove(workspace=scope.workspace, actor=scope.user, item=item)
    elif action in ("up", "down"):
        bio_item_move(workspace=scope.workspace, actor=scope.user, item=item, up=action == "up")
    return redirect(reverse("leads:bio_edit", args=[scope.workspace.pk, item.page_id]))


# -- webhooks -------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@workspace_view(WEBHOOK_ACTION)
def webhook_list_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    status = 200
    form = WebhookForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                hook = webhook_create(
                    workspace=scope.workspace, actor=scope.user, url=form.cleaned_data["url"]
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Webhook added."))
                return redirect(reverse("leads:webhook", args=[scope.workspace.pk, hook.pk]))
        status = 400
    return render_scoped(
        request,
        scope,
        "leads/webhooks.html",
        {"webhooks": webhook_list(workspace=scope.workspace), "form": form},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@workspace_view(WEBHOOK_ACTION)
def webhook_detail_view(request: HttpRequest, scope: Scope, webhook_id: int) -> HttpResponse:
    ws = scope.workspace
    hook = or_404(webhook_get, workspace=ws, webhook_id=webhook_id)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "test":
            webhook_test(workspace=ws, actor=scope.user, webhook=hook)
            messages.success(request, _("Test event queued; the delivery log shows the answer."))
        elif action in ("activate", "deactivate"):
            webhook_set_active(workspace=ws, actor=scope.user, webhook=hook, active=action == "activate")
        elif action == "delete":
            webhook_delete(workspace=ws, actor=scope.user, webhook=hook)
            messages.success(request, _("Webhook deleted."))
            return redirect(reverse("leads:webhooks", args=[ws.pk]))
        return redirect(reverse("leads:webhook", args=[ws.pk, hook.pk]))
    return render_scoped(
        request,
        scope,
        "leads/webhook.html",
        {"hook": hook, "deliveries": delivery_list(workspace=ws, webhook=hook)[:100]},
    )


# -- per person (GDPR) ----------------------------------------------------------------------------------


@require_GET
@workspace_view(LEADS_ACTION)
def person_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = PersonForm(request.GET or None)
    leads: list[Lead] = []
    if form.is_valid():
        leads = list(person_leads(workspace=scope.workspace, email=form.cleaned_data["email"]))
    return render_scoped(
        request,
        scope,
        "leads/person.html",
        {
            "form": form,
            "leads": leads,
            "searched": form.is_bound and form.is_valid(),
            "can_erase": scope.can(ERASE_ACTION),
        },
    )


@require_GET
@workspace_view(LEADS_ACTION)
def person_export_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    email = request.GET.get("email", "").strip()
    if not email:
        raise Http404
    data = person_export(workspace=scope.workspace, email=email)
    person_export_record(workspace=scope.workspace, actor=scope.user, count=len(data["leads"]))
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="person.json"'
    return response


@require_POST
@workspace_view(ERASE_ACTION)
def person_erase_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    email = request.POST.get("email", "")
    try:
        count = person_erase(workspace=scope.workspace, actor=scope.user, email=email)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(reverse("leads:person", args=[scope.workspace.pk]))
    messages.success(request, _("Erased: %(count)s entries of this person.") % {"count": count})
    return redirect(reverse("leads:person", args=[scope.workspace.pk]))
