"""The public pages: link-in-bio, hosted and embedded lead forms, the plain-HTML POST endpoint, the double
opt-in confirmation. No login, no session, no cookie: nothing personal is kept until a visitor submits.

**CSRF.** These forms are posted from other sites (the iframe on a customer's page, the plain HTML snippet in
their own markup). Django's CSRF cookie does not work there: browsers do not send a ``SameSite=Lax`` cookie on
a cross-site POST, and third-party cookies in iframes are blocked by default (Safari, Firefox, Chrome's
tracking protection). CSRF also defends a *signed-in session* against forged requests; these pages have no
session to abuse. So the submit views are ``csrf_exempt`` and check a **signed form token** instead
(``services.form_token``: timestamped, 48 h, for pages we render; ``form_static_token`` for the pasted
snippet), which proves the form is ours and this form's; the honeypot and the per-address rate limit stop
the rest.

**Language**: ``?lang=de|en`` or the browser's (LocaleMiddleware); the page, the errors and the
confirmation e-mail use it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.links.selectors import link_base_url
from resonanz.links.services import ATTRIBUTION_PARAM

from .models import FIELD_LABELS, UTM_FIELDS, LeadForm
from .selectors import bio_items, bio_page_public_get, form_public_get
from .services import (
    HONEYPOT,
    AttributionInput,
    ConfirmationError,
    form_token,
    form_token_valid,
    lead_confirm_check,
    lead_confirm_token,
    lead_space_get,
    lead_submit,
    submission_allowed,
)

ATTRIBUTION_KEYS = (ATTRIBUTION_PARAM, *UTM_FIELDS)
# The embedded form may be framed by any web site (that is its purpose): scheme sources rather than "*",
# which would also allow data: and other schemes; everything else stays as strict.
EMBED_CSP = {**settings.SECURE_CSP, "frame-ancestors": ["https:", "http:"]}


def _language(request: HttpRequest) -> str:
    asked = request.GET.get("lang") or request.POST.get("lang") or ""
    if asked in ("de", "en"):
        return asked
    return "en" if (translation.get_language() or "de").startswith("en") else "de"


def _attribution_query(source: Any) -> dict[str, str]:
    return {key: str(source.get(key))[:300] for key in ATTRIBUTION_KEYS if source.get(key)}


def _public(response: HttpResponseBase, language: str) -> HttpResponseBase:
    response["Content-Language"] = language
    response["Referrer-Policy"] = "strict-origin-when-cross-origin"
    return response


@require_GET
def bio_page(request: HttpRequest, slug: str) -> HttpResponseBase:
    page = bio_page_public_get(slug=slug)
    if page is None:
        raise Http404
    language = _language(request)
    query = _attribution_query(request.GET)
    base = link_base_url(workspace=page.workspace)
    public_id = lead_space_get(workspace=page.workspace).public_id
    entries = []
    for item in bio_items(page=page):
        if item.link is not None:
            href = f"{base}/l/{item.link.code}"
            kind = "link"
        elif item.form is not None:
            href = reverse("leads_public:form", args=[public_id, item.form.slug])
            params = {**query, "lang": language}
            href += "?" + urlencode(params)
            kind = "form"
        else:
            continue
        entries.append({"label": item.label, "href": href, "kind": kind, "id": item.pk})
    with translation.override(language):
        response = render(
            request, "leads/public/bio.html", {"page": page, "entries": entries, "lang": language}
        )
    # Public and the same for everyone (no cookie is set): a short shared cache keeps it fast.
    response["Cache-Control"] = "public, max-age=60"
    return _public(response, language)


def _form_or_404(public_id: str, slug: str) -> LeadForm:
    form = form_public_get(public_id=public_id, slug=slug)
    if form is None or not form.active:
        raise Http404
    return form


def _form_context(
    form: LeadForm,
    language: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    attribution: dict[str, str] | None = None,
    embed: bool = False,
    public_id: str,
) -> dict[str, Any]:
    values = values or {}
    errors = errors or {}
    fields = []
    for name in ("email", *form.fields):
        fields.append(
            {
                "name": name,
                "label": FIELD_LABELS[name],
                "required": name == "email",
                "type": {"email": "email", "phone": "tel"}.get(name, "text"),
                "textarea": name == "message",
                "autocomplete": {
                    "email": "email",
                    "name": "name",
                    "company": "organization",
                    "phone": "tel",
                }.get(name, "off"),
                "value": values.get(name, ""),
                "errors": errors.get(name, []),
            }
        )
    return {
        "form": form,
        "title": form.text("title", language) or form.name,
        "fields": fields,
        "consent_text": form.text("consent", language),
        "consent_checked": bool(values.get("consent")),
        "consent_errors": errors.get("consent", []),
        "general_errors": errors.get("__all__", []),
        "token": form_token(form=form),
        "attribution": attribution or {},
        "honeypot": HONEYPOT,
        "lang": language,
        "embed": embed,
        "action": reverse(
            "leads_public:embed" if embed else "leads_public:form", args=[public_id, form.slug]
        ),
    }


def _render_form(
    request: HttpRequest, form: LeadForm, public_id: str, language: str, *, status: int = 200, **kwargs: Any
) -> HttpResponseBase:
    with translation.override(language):
        context = _form_context(form, language, public_id=public_id, **kwargs)
        response = render(request, "leads/public/form.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return _public(response, language)


def _handle_submit(request: HttpRequest, public_id: str, slug: str, *, embed: bool) -> HttpResponseBase:
    form = _form_or_404(public_id, slug)
    language = _language(request)
    values = {key: request.POST.get(key, "") for key in ("email", *form.fields, "consent", "consent_version")}
    values[HONEYPOT] = request.POST.get(HONEYPOT, "")
    attribution = _attribution_query(request.POST)
    kwargs: dict[str, Any] = {"values": values, "attribution": attribution, "embed": embed}
    with translation.override(language):
        if not form_token_valid(form=form, token=request.POST.get("token", "")):
            errors = {"__all__": [_("This form has expired. Please check your entries and send it again.")]}
            return _render_form(request, form, public_id, language, status=400, errors=errors, **kwargs)
        if not submission_allowed(ip=request.META.get("REMOTE_ADDR", "")):
            errors = {
                "__all__": [_("Too many entries from your connection. Please try again in a few minutes.")]
            }
            return _render_form(request, form, public_id, language, status=429, errors=errors, **kwargs)
        try:
            lead_submit(
                workspace=form.workspace,
                form=form,
                data=values,
                language=language,
                attribution=AttributionInput(
                    rzl=attribution.get(ATTRIBUTION_PARAM, ""),
                    utm={k: v for k, v in attribution.items() if k in UTM_FIELDS},
                ),
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            return _render_form(request, form, public_id, language, status=400, errors=errors, **kwargs)
    response = HttpResponse(status=303)  # "See Other": the browser GETs the next page, no re-POST on reload
    if form.redirect_url and not embed:
        response["Location"] = form.redirect_url
        return response
    thanks = reverse("leads_public:thanks", args=[public_id, form.slug]) + "?" + urlencode({"lang": language})
    if embed:
        thanks += "&embed=1"
    response["Location"] = thanks
    return response


@never_cache
@csrf_exempt  # the signed form token replaces the CSRF cookie, see the module's docstring
@require_http_methods(["GET", "POST"])
def form_page(request: HttpRequest, public_id: str, slug: str) -> HttpResponseBase:
    if request.method == "POST":
        return _handle_submit(request, public_id, slug, embed=False)
    form = _form_or_404(public_id, slug)
    return _render_form(
        request, form, public_id, _language(request), attribution=_attribution_query(request.GET)
    )


@never_cache
@csrf_exempt
@xframe_options_exempt
@csp_override(EMBED_CSP)
@require_http_methods(["GET", "POST"])
def form_embed(request: HttpRequest, public_id: str, slug: str) -> HttpResponseBase:
    if request.method == "POST":
        return _handle_submit(request, public_id, slug, embed=True)
    form = _form_or_404(public_id, slug)
    return _render_form(
        request, form, public_id, _language(request), attribution=_attribution_query(request.GET), embed=True
    )


@never_cache
@csrf_exempt
@require_POST
def form_submit(request: HttpRequest, public_id: str, slug: str) -> HttpResponseBase:
    """The endpoint of the plain HTML ``<form>`` on another site: a normal form POST (no script, no CORS);
    success answers 303 to the form's redirect address (back to the customer's site) or our thank-you page;
    bad input answers our hosted form with the errors and the entries kept."""
    return _handle_submit(request, public_id, slug, embed=False)


@xframe_options_exempt
@csp_override(EMBED_CSP)
@require_GET
def form_thanks(request: HttpRequest, public_id: str, slug: str) -> HttpResponseBase:
    form = form_public_get(public_id=public_id, slug=slug)
    if form is None:
        raise Http404
    language = _language(request)
    with translation.override(language):
        response = render(
            request,
            "leads/public/thanks.html",
            {
                "form": form,
                "title": form.text("title", language) or form.name,
                "thank_you": form.text("thank_you", language),
                "lang": language,
                "embed": request.GET.get("embed") == "1",
            },
        )
    return _public(response, language)


@never_cache
@csrf_exempt  # the signed token in the address is the permission; there is no session to protect
@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponseBase:
    """The double opt-in link. GET shows a button, POST confirms: mail scanners (Outlook Safe Links and the
    like) open every link in an e-mail, and a GET that confirmed would confirm addresses nobody clicked.
    A forged or unknown token answers 404, an expired one 410; each says so in the visitor's language."""
    language = _language(request)
    try:
        if request.method == "POST":
            lead, _now_confirmed = lead_confirm_token(token=token)
        else:
            lead = lead_confirm_check(token=token)
    except ConfirmationError as error:
        with translation.override(language):
            response = render(
                request,
                "leads/public/confirm_failed.html",
                {"expired": error.expired, "lang": language},
                status=410 if error.expired else 404,
            )
        return _public(response, language)
    language = lead.language
    context = {
        "form": lead.form,
        "title": lead.form.text("title", language) or lead.form.name,
        "thank_you": lead.form.text("thank_you", language),
        "lang": language,
        "confirmed": lead.confirmed_at is not None,
    }
    with translation.override(language):
        response = render(request, "leads/public/confirm.html", context)
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return _public(response, language)
