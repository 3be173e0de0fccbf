"""The inbox's pages: the list with filters (refreshed by htmx polling), a conversation's thread,
assignment, status, notes, saved replies, answering, and the response-time report.

Thin like every view: parse, call a service with the workspace, render. Everything requires
``Action.USE_INBOX`` (owners, admins, editors and agents); the workspace's inbox settings require
``MANAGE_WORKSPACE``. No network is named here: channels, kinds and labels come from the connector
registry.

Updates without reload are htmx polling of the list (every ``POLL_SECONDS``), not server-sent events:
the list changes when a sync task stores messages (a minute apart at most), so a poll loses nothing that
matters, costs one indexed query, works through every proxy and needs no long-lived worker connection
per agent (50 agents = 50 held connections under SSE with the WSGI server we run).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Action
from resonanz.connectors.registry import find_spec
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import (
    KIND_LABELS,
    AssignForm,
    BulkForm,
    FilterForm,
    SavedReplyForm,
    SettingsForm,
    StatusForm,
    TextForm,
)
from .models import Conversation, MessageLanguage, Sentiment
from .selectors import (
    conversation_get,
    conversation_list,
    conversation_outgoing,
    conversation_thread,
    first_response_due,
    inbox_members,
    response_report,
    saved_reply_get,
    saved_reply_list,
)
from .services import (
    conversation_assign,
    conversation_bulk,
    conversation_set_status,
    inbox_settings_get,
    inbox_settings_update,
    note_add,
    presence_touch,
    reply_create,
    saved_reply_create,
    saved_reply_delete,
    saved_reply_render,
)

LANGUAGES = dict(MessageLanguage.choices)
SENTIMENTS = dict(Sentiment.choices)
POLL_SECONDS = 15
PRESENCE_POLL_SECONDS = 10
PAGE_SIZE = 50


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _channels(scope: Scope) -> list[Any]:
    return list(scope.workspace.channels.filter(owner__isnull=True))


def _kinds(channels: list[Any]) -> list[str]:
    """The inbox kinds the workspace's channels declare (``NetworkSpec.inbox``), in a stable order."""
    found: set[str] = set()
    for channel in channels:
        spec = find_spec(channel.network)
        if spec is not None:
            found.update(k.value for k in spec.inbox)
    return sorted(found)


def _member(scope: Scope, value: str) -> User | None:
    """ "me", a member's id, or "" (nobody); anything else is refused by the service (not a member)."""
    if value == "me":
        return scope.user
    if not value:
        return None
    if not value.isdigit():
        raise ValidationError(_("Unknown person."))
    user = User.objects.filter(pk=int(value)).first()
    if user is None:
        raise ValidationError(_("Unknown person."))
    return user


def _list_context(request: HttpRequest, scope: Scope) -> dict[str, Any]:
    channels = _channels(scope)
    names = [(c.pk, c.display_name or c.handle) for c in channels]
    # Without a query the inbox opens on the open conversations of everyone.
    filters: dict[str, Any] = {"status": "open", "assignee": "all"}
    if request.GET:
        form = FilterForm(request.GET, channels=names, kinds=_kinds(channels))
        filters = (
            {k: v for k, v in form.cleaned_data.items() if v not in (None, "")} if form.is_valid() else {}
        )
    else:
        form = FilterForm(initial=filters, channels=names, kinds=_kinds(channels))
    settings = inbox_settings_get(workspace=scope.workspace)
    qs = conversation_list(
        workspace=scope.workspace,
        status=filters.get("status"),
        channel_id=filters.get("channel"),
        assignee=filters.get("assignee", "all"),
        user=scope.user,
        kind=filters.get("kind"),
        language=filters.get("language"),
        sentiment=filters.get("sentiment"),
    )
    now = timezone.now()
    rows = []
    for conversation in qs[:PAGE_SIZE]:
        due = first_response_due(conversation=conversation, target_minutes=settings.first_response_minutes)
        rows.append(
            {
                "c": conversation,
                "due": due,
                "overdue": due is not None and due < now,
                "language": LANGUAGES.get(conversation.last_language or ""),  # type: ignore[attr-defined]
                "sentiment": SENTIMENTS.get(conversation.last_sentiment or ""),  # type: ignore[attr-defined]
                "kind": KIND_LABELS.get(conversation.kind, conversation.kind),
            }
        )
    query = request.GET.urlencode() if request.GET else "status=open&assignee=all"
    return {
        "filter_form": form,
        "rows": rows,
        "settings": settings,
        "members": list(inbox_members(workspace=scope.workspace)),
        "kind_labels": {k: str(v) for k, v in KIND_LABELS.items()},
        "poll_seconds": POLL_SECONDS,
        "rows_url": reverse("engagement:rows", args=[scope.workspace.pk]) + "?" + query,
        "workspace": scope.workspace,
        "user": scope.user,
    }


@require_GET
@workspace_view(Action.USE_INBOX)
def inbox_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    context = _list_context(request, scope)
    context["settings_form"] = SettingsForm(
        initial={
            "round_robin": context["settings"].round_robin,
            "first_response_minutes": context["settings"].first_response_minutes,
        }
    )
    return render_scoped(request, scope, "engagement/inbox.html", context)


@require_GET
@workspace_view(Action.USE_INBOX)
def inbox_rows_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The list's rows alone: what the polling swaps in."""
    return render(request, "engagement/_rows.html", _list_context(request, scope))


def _conversation(scope: Scope, conversation_id: int) -> Conversation:
    return or_404(conversation_get, workspace=scope.workspace, conversation_id=conversation_id)


def _thread_context(scope: Scope, conversation: Conversation) -> dict[str, Any]:
    settings = inbox_settings_get(workspace=scope.workspace)
    post = conversation.variant.post if conversation.variant else None
    due = first_response_due(conversation=conversation, target_minutes=settings.first_response_minutes)
    return {
        "conversation": conversation,
        "post": post,
        "thread": conversation_thread(workspace=scope.workspace, conversation=conversation),
        "notes": list(conversation.notes.select_related("author")),
        "outgoing": list(conversation_outgoing(workspace=scope.workspace, conversation=conversation)),
        "members": list(inbox_members(workspace=scope.workspace)),
        "saved_replies": list(saved_reply_list(workspace=scope.workspace)),
        "statuses": Conversation._meta.get_field("status").choices,  # type: ignore[union-attr]
        "kind_labels": {k: str(v) for k, v in KIND_LABELS.items()},
        "network_name": spec.display_name if (spec := find_spec(conversation.channel.network)) else "",
        "due": due,
        "overdue": due is not None and due < timezone.now(),
        "presence_seconds": PRESENCE_POLL_SECONDS,
        "workspace": scope.workspace,
    }


@require_GET
@workspace_view(Action.USE_INBOX)
def thread_view(request: HttpRequest, scope: Scope, conversation_id: int) -> HttpResponse:
    conversation = _conversation(scope, conversation_id)
    return render_scoped(request, scope, "engagement/thread.html", _thread_context(scope, conversation))


def _back(request: HttpRequest, scope: Scope, conversation: Conversation, message: str = "") -> HttpResponse:
    if _is_htmx(request):
        conversation = _conversation(scope, conversation.pk)
        return render(request, "engagement/_thread_side.html", _thread_context(scope, conversation))
    if message:
        messages.success(request, message)
    return redirect("engagement:thread", workspace_id=scope.workspace.pk, conversation_id=conversation.pk)


def _refused(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return HttpResponseBadRequest(" ".join(exc.messages))


@require_POST
@workspace_view(Action.USE_INBOX)
def assign_view(request: HttpRequest, scope: Scope, conversation_id: int) -> HttpResponse:
    conversation = _conversation(scope, conversation_id)
    form = AssignForm(request.POST)
    form.is_valid()
    try:
        assignee = _member(scope, form.cleaned_data.get("assignee", ""))
        conversation_assign(
            workspace=scope.workspace, conversation=conversation, assignee=assignee, actor=scope.user
        )
    except ValidationError as exc:
        return _refused(request, exc)
    return _back(request, scope, conversation, _("Assignment saved."))


@require_POST
@workspace_view(Action.USE_INBOX)
def status_view(request: HttpRequest, scope: Scope, conversation_id: int) -> HttpResponse:
    conversation = _conversation(scope, conversation_id)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Unknown status."))
    conversation_set_status(
        workspace=scope.workspace,
        conversation=conversation,
        status=form.cleaned_data["status"],
        actor=scope.user,
    )
    return _back(request, scope, conversation, _("Status saved."))


@require_POST
@workspace_view(Action.USE_INBOX)
def note_view(request: HttpRequest, scope: Scope, conversation_id: int) -> HttpResponse:
    conversation = _conversation(scope, conversation_id)
    form = TextForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("A note needs a text."))
    try:
        note_add(
            workspace=scope.workspace,
            conversation=conversation,
            author=scope.user,
            text=form.cleaned_data["text"],
        )
    except ValidationError as exc:
        return _refused(request, exc)
    return _back(request, scope, conversation, _("Note added."))


@require_POST
@workspace_view(Action.USE_INBOX)
def reply_view(request: HttpRequest, scope: Scope, conversation_id: int) -> HttpResponse:
    conversation = _conversation(scope, conversation_id)
    form = TextForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("A reply needs a text."))
    try:
        reply_create(
            workspace=scope.workspace,
            conversation=conversation,
            author=scope.user,
            text=form.cleaned_data["text"],
        )
    except ValidationError as exc:
        return _refused(request, exc)
    return _back(request, scope, conversation, _("Your reply is being sent."))


@require_POST
@workspace_view(Action.USE_INBOX)
def presence_view(request: HttpRequest, scope: Scope, conversation_id: int) -> HttpResponse:
    """The heartbeat of an open thread: records this viewer, answers with who else is there."""
    conversation = _conversation(scope, conversation_id)
    others = presence_touch(
        workspace=scope.workspace,
        conversation=conversation,
        user=scope.user,
        typing=bool(request.POST.get("text", "").strip()),
    )
    return render(
        request,
        "engagement/_presence.html",
        {
            "others": others,
            "conversation": conversation,
            "workspace": scope.workspace,
            "presence_seconds": PRESENCE_POLL_SECONDS,
        },
    )


@require_GET
@workspace_view(Action.USE_INBOX)
def saved_reply_insert_view(request: HttpRequest, scope: Scope, conversation_id: int) -> HttpResponse:
    """The reply box filled with a saved reply, its variables replaced for this conversation."""
    conversation = _conversation(scope, conversation_id)
    value = request.GET.get("saved_reply", "")
    text = ""
    if value.isdigit():
        saved = or_404(saved_reply_get, workspace=scope.workspace, saved_reply_id=int(value))
        text = saved_reply_render(
            workspace=scope.workspace, saved_reply=saved, conversation=conversation, agent=scope.user
        )
    return render(request, "engagement/_reply_text.html", {"text": text})


@require_POST
@workspace_view(Action.USE_INBOX)
def bulk_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = BulkForm(request.POST)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    if not form.is_valid() or not ids:
        return HttpResponseBadRequest(_("Choose conversations and an action."))
    try:
        assignee = _member(scope, form.cleaned_data.get("assignee", ""))
        count = conversation_bulk(
            workspace=scope.workspace,
            conversation_ids=ids,
            action=form.cleaned_data["action"],
            assignee=assignee,
            actor=scope.user,
        )
    except ValidationError as exc:
        return _refused(request, exc)
    messages.success(request, _("%(count)s conversations changed.") % {"count": count})
    return redirect(
        reverse("engagement:inbox", args=[scope.workspace.pk]) + "?" + request.POST.get("query", "")
    )


@require_POST
@workspace_view(Action.MANAGE_WORKSPACE)
def settings_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = SettingsForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(" ".join(str(e) for e in form.errors.values()))
    inbox_settings_update(
        workspace=scope.workspace,
        round_robin=form.cleaned_data["round_robin"],
        first_response_minutes=form.cleaned_data["first_response_minutes"],
    )
    messages.success(request, _("Inbox settings saved."))
    return redirect("engagement:inbox", workspace_id=scope.workspace.pk)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.USE_INBOX)
def saved_replies_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = SavedReplyForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                saved_reply_create(workspace=scope.workspace, **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Saved reply created."))
                return redirect("engagement:saved_replies", workspace_id=scope.workspace.pk)
        status = 400
    return render_scoped(
        request,
        scope,
        "engagement/saved_replies.html",
        {"form": form, "saved_replies": saved_reply_list(workspace=scope.workspace)},
        status=status,
    )


@require_POST
@workspace_view(Action.USE_INBOX)
def saved_reply_delete_view(request: HttpRequest, scope: Scope, saved_reply_id: int) -> HttpResponse:
    saved = or_404(saved_reply_get, workspace=scope.workspace, saved_reply_id=saved_reply_id)
    saved_reply_delete(workspace=scope.workspace, saved_reply=saved)
    messages.success(request, _("Saved reply deleted."))
    return redirect("engagement:saved_replies", workspace_id=scope.workspace.pk)


@require_GET
@workspace_view(Action.USE_INBOX)
def report_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_scoped(
        request,
        scope,
        "engagement/report.html",
        {
            "report": response_report(workspace=scope.workspace),
            "settings": inbox_settings_get(workspace=scope.workspace),
        },
    )


__all__ = ["Http404", "ObjectDoesNotExist"]
