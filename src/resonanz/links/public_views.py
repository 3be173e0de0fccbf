"""The public redirect ``/l/<code>``: 302 to the link's target with its UTM parameters, one click recorded.

Kept lean on purpose (issue 11: ≥ 3,000 redirects/s on 2 cores): in the web server ``fastpath.ShortLinkApp``
answers the plain cases before Django's handler (with this function's headers); what it passes on,
``middleware.ShortLinkMiddleware`` answers before sessions, authentication, CSRF, messages and the rest
run; the code resolves from the cache (one indexed lookup on a miss) and a click is one insert. HEAD
requests (link checkers, previews) and bots are not counted. The answer is ``no-store`` so that a browser
asks again (and counts) each time.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound

from .services import click_record, link_resolve


def link_redirect(request: HttpRequest, code: str) -> HttpResponse:
    if request.method not in {"GET", "HEAD"}:
        return HttpResponseNotAllowed(["GET", "HEAD"])
    target = link_resolve(code=code)
    if target is None:
        return HttpResponseNotFound(b"Not found", content_type="text/plain")
    if request.method == "GET":
        click_record(
            link_id=target.link_id,
            ip=request.META.get("REMOTE_ADDR", ""),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    return redirect_response(destination=target.destination)


def redirect_response(*, destination: str) -> HttpResponse:
    """The 302 itself; ``fastpath`` copies its headers, so both paths answer alike."""
    response = HttpResponse(status=302)
    response["Location"] = destination
    # Set here because CommonMiddleware (which would) does not run for these paths; without it an HTTP/1.1
    # server sends the empty body chunked.
    response["Content-Length"] = "0"
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer-when-downgrade"
    return response
