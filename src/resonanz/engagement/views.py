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

import hashlib
from datetime import UTC, timedelta
from functools import lru_cache
from html import escape
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.datastructures import MultiValueDict
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from resonanz.accounts.models import User
from resonanz.accounts.permissions import Action
from resonanz.connectors.registry import find_spec
from resonanz.web.scope import Scope, or_404, render_scoped, workspace_view

from .forms import (
    KIND_LABELS,
    AssignForm,
    BulkForm,
    EraseForm,
    FilterForm,
    PersonForm,
    RetentionForm,
    RuleForm,
    SavedReplyForm,
    SettingsForm,
    StatusForm,
    TextForm,
)
from .models import AssignmentRule, AssignMode, Conversation, Message, MessageLanguage, Priority, Sentiment
from .selectors import (
    conversation_get,
    conversation_list,
    conversation_outgoing,
    conversation_rows,
    conversation_thread,
    first_response_due,
    inbox_members,
    person_messages,
    response_report,
    rule_get,
    rule_list,
    rule_preview,
    saved_reply_get,
    saved_reply_list,
)
from .services import (
    conversation_assign,
    conversation_bulk,
    conversation_set_status,
    inbox_settings_get,
    inbox_settings_set_retention,
    inbox_settings_update,
    message_act,
    message_actions,
    note_add,
    person_erase,
    person_export,
    presence_touch,
    reply_create,
    rule_create,
    rule_delete,
    rule_move,
    rule_update,
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


def _rows(scope: Scope, qs: Any, target_minutes: int) -> list[dict[str, Any]]:
    """The page's rows with every value the row template shows already computed: labels translated
    once per request, the thread's URL from one ``reverse``, the timer's text. The template then only
    looks up dict keys (the 50 rows are the list's and the polling's hot path; per-row ``{% url %}``,
    filters and model attribute lookups were most of the page's CPU, docs/inbox.md)."""
    now = timezone.now()
    # ``reverse`` once: the thread URLs differ only in the conversation's id, the last segment.
    prefix = reverse("engagement:thread", args=[scope.workspace.pk, 0]).removesuffix("0/")
    statuses = {k: str(v) for k, v in Conversation._meta.get_field("status").choices}  # type: ignore[union-attr]
    priorities = {k: str(v) for k, v in Priority.choices}
    languages = {k: str(v) for k, v in LANGUAGES.items()}
    sentiments = {k: str(v) for k, v in SENTIMENTS.items()}
    kinds = {k: str(v) for k, v in KIND_LABELS.items()}
    overdue_by, answer_within = _("overdue by %(since)s"), _("answer within %(left)s")
    rows = []
    for c in conversation_rows(conversations=qs, limit=PAGE_SIZE):
        started = c["started_at"] or c["created_at"]
        due = (
            None
            if c["first_response_at"] is not None or started is None
            else started + timedelta(minutes=target_minutes)
        )
        overdue = due is not None and due < now
        timer = ""
        if c["first_response_at"] is None and due is not None:
            timer = (
                overdue_by % {"since": timesince(due, now)}
                if overdue
                else answer_within % {"left": timeuntil(due, now)}
            )
        priority = c["priority"]
        rows.append(
            {
                "pk": c["pk"],
                "url": f"{prefix}{c['pk']}/",
                "who": c["last_author"] or c["last_handle"] or "—",
                "text": _truncated(c["last_text"] or ""),
                "language": languages.get(c["last_language"] or ""),
                "sentiment": sentiments.get(c["last_sentiment"] or ""),
                "sentiment_value": c["last_sentiment"],
                "channel": c["channel__display_name"] or c["channel__handle"],
                "kind": kinds.get(c["kind"], c["kind"]),
                "status": statuses.get(c["status"], c["status"]),
                "priority": priority if priority != "normal" else "",
                "priority_label": priorities.get(priority, priority),
                "assignee": (c["assignee__name"] or c["assignee__email"]) if c["assignee_id"] else None,
                "answered": c["first_response_at"] is not None,
                "overdue": overdue,
                "timer": timer,
                # The timer's instant (UTC, seconds): inbox.js counts the text on from it in the browser,
                # and the polling's ETag covers it instead of the text (``_rows_etag``).
                "due": due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if timer and due else "",
            }
        )
    return rows


def _truncated(text: str) -> str:
    """``truncatechars:140``, without its per-character walk for the texts that fit: ``Truncator``
    counts characters other than combining marks, so a text of at most 140 code points is never cut."""
    return text if len(text) <= TEXT_CHARS else truncatechars(text, TEXT_CHARS)


# One row of the list, as engagement/tests/legacy_rows.html (the template it replaces) rendered it, byte
# for byte (tests/test_rows_html.py compares both). Rendered with ``str.format`` in Python because the
# 50 rows were most of a list page's CPU even without tags (~20 variable nodes each through the template
# engine's resolve / localize / conditional_escape, docs/inbox.md). Every value is escaped with
# ``html.escape`` (what Django's ``escape`` calls, quotes included) in ``_rows_html``; the pieces with
# markup are constant text.
_ROW = (
    '\n<tr class="inbox-row{overdue}" id="conversation-{pk}">\n'
    '  <td><input type="checkbox" name="ids" value="{pk}" form="bulk-form" id="pick-{pk}"'
    ' hx-preserve="true" aria-label="{l_select}"></td>\n'
    '  <td data-label="{l_from}"><a href="{url}">{who}</a>\n'
    '    <div class="inbox-text muted">{text}</div>\n'
    "    {badges}</td>\n"
    '  <td data-label="{l_channel}"><span class="chip">{channel}</span>'
    ' <span class="muted">{kind}</span></td>\n'
    '  <td data-label="{l_status}">{status}{priority}</td>\n'
    '  <td data-label="{l_assigned}">{assignee}</td>\n'
    '  <td data-label="{l_timer}">{timer}</td>\n'
    "</tr>"
)
TEXT_CHARS = 140


def _rows_html(rows: list[dict[str, Any]]) -> SafeString:
    """The list's ``<tr>``s (the polling's whole answer, the page's ``<tbody>``)."""
    e = escape
    labels = {
        name: e(_(msgid))
        for name, msgid in (
            ("l_select", "Select"),
            ("l_from", "From"),
            ("l_channel", "Channel"),
            ("l_status", "Status"),
            ("l_assigned", "Assigned"),
            ("l_timer", "Timer"),
        )
    }
    if not rows:
        return mark_safe(  # noqa: S308 - the one value escaped
            '\n<tr id="inbox-empty"><td colspan="6" class="muted">'
            f"{e(_('No conversation matches these filters.'))}</td></tr>\n\n"
        )
    l_language, l_sentiment = e(_("Language")), e(_("Sentiment"))
    nobody = f'<span class="muted">{e(_("nobody"))}</span>'
    answered = f'<span class="timer">{e(_("answered"))}</span>'
    out = []
    for row in rows:
        badges = (
            f'<span class="badge lang" title="{l_language}">{e(row["language"])}</span>'
            if row["language"]
            else ""
        )
        if row["sentiment"]:
            badges += (
                f' <span class="badge sentiment-{e(str(row["sentiment_value"]))}" title="{l_sentiment}">'
                f"{e(row['sentiment'])}</span>"
            )
        if row["answered"]:
            timer = answered
        elif row["timer"]:
            timer = f'<span class="timer" data-due="{e(row["due"])}">{e(row["timer"])}</span>'
        else:
            timer = ""
        pk = int(row["pk"])
        out.append(
            _ROW.format(
                overdue=" is-overdue" if row["overdue"] else "",
                pk=pk,
                url=e(row["url"]),
                who=e(row["who"]),
                text=e(row["text"]),
                badges=badges,
                channel=e(row["channel"]),
                kind=e(str(row["kind"])),
                status=e(str(row["status"])),
                priority=(
                    f' <span class="badge priority-{e(row["priority"])}">'
                    f"{e(str(row['priority_label']))}</span>"
                    if row["priority"]
                    else ""
                ),
                assignee=nobody if row["assignee"] is None else e(row["assignee"]),
                timer=timer,
                **labels,
            )
        )
    out.append("\n")
    return mark_safe("".join(out))  # noqa: S308 - every value escaped above


@lru_cache(maxsize=256)
def _filter_html(
    language: str,
    workspace_id: int,
    channels: tuple[tuple[int, str], ...],
    kinds: tuple[str, ...],
    data: tuple[tuple[str, tuple[str, ...]], ...] | None,
) -> SafeString:
    """The filter form's fields as the page showed them (``<div>{{ field.label_tag }}{{ field }}</div>``
    per field), rendered once per (language, channels, kinds, query) and worker: its ~66 widget
    templates were a third of a list page's template time. The arguments are everything the HTML
    depends on (choices, labels, the submitted values and so the fields' errors), so a renamed or new
    channel is a new key — nothing to invalidate. ``workspace_id`` only keeps one workspace's entries
    apart from another's."""
    del workspace_id
    with translation.override(language):
        if data is None:
            form = FilterForm(initial=DEFAULT_FILTERS, channels=list(channels), kinds=list(kinds))
        else:
            form = FilterForm(
                MultiValueDict({k: list(v) for k, v in data}), channels=list(channels), kinds=list(kinds)
            )
        return format_html_join("", "<div>{}{}</div>", ((field.label_tag(), field) for field in form))


# Without a query the inbox opens on the open conversations of everyone.
DEFAULT_FILTERS: dict[str, Any] = {"status": "open", "assignee": "all"}


def _list_context(request: HttpRequest, scope: Scope) -> dict[str, Any]:
    channels = _channels(scope)
    names = tuple((c.pk, c.display_name or c.handle) for c in channels)
    kinds = tuple(_kinds(channels))
    filters: dict[str, Any] = dict(DEFAULT_FILTERS)
    data = None
    if request.GET:
        form = FilterForm(request.GET, channels=list(names), kinds=list(kinds))
        filters = (
            {k: v for k, v in form.cleaned_data.items() if v not in (None, "")} if form.is_valid() else {}
        )
        data = tuple((name, tuple(request.GET.getlist(name))) for name in form.fields if name in request.GET)
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
        search=filters.get("q"),
    )
    rows = _rows(scope, qs, settings.first_response_minutes)
    query = request.GET.urlencode() if request.GET else "status=open&assignee=all"
    return {
        # Built lazily: the polling renders the rows only.
        "filter_html": lambda: _filter_html(
            translation.get_language() or "", scope.workspace.pk, names, kinds, data
        ),
        "rows": rows,
        # Built lazily too: a poll answered 304 renders nothing.
        "rows_html": lambda: _rows_html(rows),
        "settings": settings,
        "statuses": Conversation._meta.get_field("status").choices,  # type: ignore[union-attr]
        "kind_labels": {k: str(v) for k, v in KIND_LABELS.items()},
        "poll_seconds": POLL_SECONDS,
        # The timers' words for inbox.js, which counts them on in the browser (the same msgids as _rows).
        "timer_overdue": _("overdue by %(since)s"),
        "timer_within": _("answer within %(left)s"),
        "rows_url": reverse("engagement:rows", args=[scope.workspace.pk]) + "?" + query,
        "workspace": scope.workspace,
        "user": scope.user,
    }


@require_GET
@workspace_view(Action.USE_INBOX)
def inbox_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    context = _list_context(request, scope)
    # The bulk form's people: the full page only (the polled rows do not show them).
    context["members"] = list(inbox_members(workspace=scope.workspace))
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
    """The list's rows alone: what the polling swaps in. With an ``ETag`` and ``Cache-Control: private,
    no-cache``, the browser revalidates each poll with ``If-None-Match`` (htmx polls with
    ``XMLHttpRequest``, which goes through the browser's HTTP cache) and an unchanged list is answered
    ``304 Not Modified`` without a body (RFC 9110 §13.1.2, §15.4.5; the browser then hands htmx its
    stored copy). The ETag covers the rows' values and each timer's due instant, not the timer's text:
    "overdue by 3 hours, 35 minutes" changes every minute for each row, so with 50 rows the hash of the
    HTML changed on every 15 s poll and no poll was ever answered 304 (measured, docs/inbox.md). The
    text is counted on in the browser from ``data-due`` (``engagement/inbox.js``, also after the swap of
    a stored copy). A 304 costs the row query, not the rendering or the transfer."""
    context = _list_context(request, scope)
    etag = _rows_etag(context["rows"])
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        response: HttpResponse = not_modified
    else:
        response = HttpResponse(context["rows_html"]())
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _rows_etag(rows: list[dict[str, Any]]) -> str:
    """A strong validator of what the rows show apart from the clock: every value of every row except
    the timer's text (its ``due`` instant and ``overdue`` are in), and the language of the labels."""
    key = repr((translation.get_language(), [[v for k, v in row.items() if k != "timer"] for row in rows]))
    return '"' + hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + '"'


def _conversation(scope: Scope, conversation_id: int) -> Conversation:
    return or_404(conversation_get, workspace=scope.workspace, conversation_id=conversation_id)


ACTION_LABELS = {"like": _lazy("Like"), "hide": _lazy("Hide"), "delete_reply": _lazy("Delete on the network")}


def _with_actions(conversation: Conversation, thread: list[Message]) -> list[Message]:
    """Each message with the actions its channel's connector declares (``NetworkSpec.inbox_actions``)."""
    for message in thread:
        message.inbox_actions = [  # type: ignore[attr-defined]
            (a, ACTION_LABELS.get(a, a)) for a in message_actions(conversation=conversation, message=message)
        ]
    return thread


def _thread_context(scope: Scope, conversation: Conversation) -> dict[str, Any]:
    settings = inbox_settings_get(workspace=scope.workspace)
    post = conversation.variant.post if conversation.variant else None
    due = first_response_due(conversation=conversation, target_minutes=settings.first_response_minutes)
    return {
        "conversation": conversation,
        "post": post,
        "thread": _with_actions(
            conversation, conversation_thread(workspace=scope.workspace, conversation=conversation)
        ),
        "notes": list(conversation.notes.select_related("author")),
        "outgoing": list(conversation_outgoing(workspace=scope.workspace, conversation=conversation)),
        "saved_replies": list(saved_reply_list(workspace=scope.workspace)),
        "members": list(inbox_members(workspace=scope.workspace)),
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


def _back(
    request: HttpRequest,
    scope: Scope,
    conversation: Conversation,
    message: str = "",
    *,
    done: str = "",
) -> HttpResponse:
    """The handling column again (htmx) or the thread page. What is being written stays in the browser
    (htmx's ``hx-preserve`` on the reply and note boxes): assigning or a status must not wipe a draft;
    only the box whose text was just sent (``done``: "reply" or "note") comes back empty."""
    if _is_htmx(request):
        conversation = _conversation(scope, conversation.pk)
        context = {
            **_thread_context(scope, conversation),
            "keep_reply": done != "reply",
            "keep_note": done != "note",
        }
        return render(request, "engagement/_thread_side.html", context)
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
    return _back(request, scope, conversation, _("Note added."), done="note")


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
    return _back(request, scope, conversation, _("Your reply is being sent."), done="reply")


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
            status=form.cleaned_data.get("status") or "",
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


@require_POST
@workspace_view(Action.USE_INBOX)
def message_action_view(
    request: HttpRequest, scope: Scope, conversation_id: int, message_id: int, action: str
) -> HttpResponse:
    """Like, hide or delete one message on the network (what its connector declares)."""
    conversation = _conversation(scope, conversation_id)
    message = conversation.messages.filter(pk=message_id).first()
    if message is None:
        raise Http404
    message.conversation = conversation
    try:
        message_act(workspace=scope.workspace, message=message, action=action, actor=scope.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("engagement:thread", workspace_id=scope.workspace.pk, conversation_id=conversation.pk)
    done = {
        "like": _("Liked on the network."),
        "hide": _("Hidden on the network."),
        "delete_reply": _("Deleted on the network."),
    }
    messages.success(request, done.get(action, ""))
    return redirect("engagement:thread", workspace_id=scope.workspace.pk, conversation_id=conversation.pk)


# -- assignment rules (owners and admins) ---------------------------------------------------------------


def _rule_form(scope: Scope, data: Any = None, initial: dict[str, Any] | None = None) -> RuleForm:
    channels = _channels(scope)
    members = [(u.pk, u.name or u.email) for u in inbox_members(workspace=scope.workspace)]
    return RuleForm(
        data,
        initial=initial,
        channels=[(c.pk, c.display_name or c.handle) for c in channels],
        kinds=_kinds(channels),
        members=members,
    )


def _rule_values(scope: Scope, cleaned: dict[str, Any]) -> tuple[dict[str, Any], list[User]]:
    """The form's values as the service takes them: channel and people as objects of this workspace."""
    channels = {c.pk: c for c in _channels(scope)}
    people = {u.pk: u for u in inbox_members(workspace=scope.workspace)}
    values = {k: v for k, v in cleaned.items() if k not in {"channel", "assignee", "pool"}}
    values["channel"] = channels.get(cleaned["channel"]) if cleaned.get("channel") else None
    values["assignee"] = people.get(cleaned["assignee"]) if cleaned.get("assignee") else None
    pool = [people[pk] for pk in cleaned.get("pool") or [] if pk in people]
    return values, pool


def _rule_initial(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "enabled": rule.enabled,
        "channel": rule.channel_id,
        "kind": rule.kind,
        "language": rule.language,
        "sentiment": rule.sentiment,
        "keywords": rule.keywords,
        "assign_mode": rule.assign_mode,
        "assignee": rule.assignee_id,
        "pool": [u.pk for u in rule.pool.all()],
        "set_status": rule.set_status,
        "set_priority": rule.set_priority,
    }


def _rule_rows(scope: Scope) -> list[dict[str, Any]]:
    statuses = dict(Conversation._meta.get_field("status").choices or [])  # type: ignore[arg-type]
    rows = []
    for rule in rule_list(workspace=scope.workspace):
        conditions = [
            str(x)
            for x in (
                rule.channel.display_name or rule.channel.handle if rule.channel else "",
                KIND_LABELS.get(rule.kind, rule.kind) if rule.kind else "",
                LANGUAGES.get(rule.language, "") if rule.language else "",
                SENTIMENTS.get(rule.sentiment, "") if rule.sentiment else "",
                ", ".join(rule.keywords.splitlines()),
            )
            if x
        ]
        actions = []
        if rule.assign_mode == AssignMode.PERSON and rule.assignee:
            actions.append(_("assign to %(person)s") % {"person": rule.assignee.name or rule.assignee.email})
        elif rule.assign_mode == AssignMode.ROUND_ROBIN:
            names = ", ".join(u.name or u.email for u in rule.pool.all())
            actions.append(_("assign in turn among %(people)s") % {"people": names})
        if rule.set_status:
            actions.append(
                _("status: %(status)s") % {"status": statuses.get(rule.set_status, rule.set_status)}
            )
        if rule.set_priority:
            actions.append(
                _("priority: %(priority)s") % {"priority": dict(Priority.choices).get(rule.set_priority, "")}
            )
        rows.append({"rule": rule, "conditions": conditions, "actions": actions})
    return rows


def _rules_page(
    request: HttpRequest,
    scope: Scope,
    form: RuleForm,
    *,
    rule: AssignmentRule | None = None,
    preview: list[Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    return render_scoped(
        request,
        scope,
        "engagement/rules.html",
        {
            "form": form,
            "rows": _rule_rows(scope),
            "editing": rule,
            "preview": preview,
            "preview_matched": sum(1 for item in preview or [] if item["hit"]),
            "workspace": scope.workspace,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_WORKSPACE)
def rules_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The list of rules in order and the form for a new one."""
    form = _rule_form(scope, request.POST or None, initial={"enabled": True})
    if request.method == "POST":
        if form.is_valid():
            values, pool = _rule_values(scope, form.cleaned_data)
            try:
                rule_create(workspace=scope.workspace, actor=scope.user, values=values, pool=pool)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Rule created."))
                return redirect("engagement:rules", workspace_id=scope.workspace.pk)
        return _rules_page(request, scope, form, status=400)
    return _rules_page(request, scope, form)


def _form_errors(form: RuleForm, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_WORKSPACE)
def rule_edit_view(request: HttpRequest, scope: Scope, rule_id: int) -> HttpResponse:
    rule = or_404(rule_get, workspace=scope.workspace, rule_id=rule_id)
    if request.method == "POST":
        form = _rule_form(scope, request.POST)
        if form.is_valid():
            values, pool = _rule_values(scope, form.cleaned_data)
            try:
                rule_update(workspace=scope.workspace, rule=rule, actor=scope.user, values=values, pool=pool)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Rule saved."))
                return redirect("engagement:rules", workspace_id=scope.workspace.pk)
        return _rules_page(request, scope, form, rule=rule, status=400)
    return _rules_page(request, scope, _rule_form(scope, initial=_rule_initial(rule)), rule=rule)


@require_POST
@workspace_view(Action.MANAGE_WORKSPACE)
def rule_delete_view(request: HttpRequest, scope: Scope, rule_id: int) -> HttpResponse:
    rule = or_404(rule_get, workspace=scope.workspace, rule_id=rule_id)
    rule_delete(workspace=scope.workspace, rule=rule, actor=scope.user)
    messages.success(request, _("Rule deleted."))
    return redirect("engagement:rules", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.MANAGE_WORKSPACE)
def rule_move_view(request: HttpRequest, scope: Scope, rule_id: int) -> HttpResponse:
    rule = or_404(rule_get, workspace=scope.workspace, rule_id=rule_id)
    offset = -1 if request.POST.get("direction") == "up" else 1
    rule_move(workspace=scope.workspace, rule=rule, actor=scope.user, offset=offset)
    return redirect("engagement:rules", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.MANAGE_WORKSPACE)
def rule_preview_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The form's rule, unsaved, tried on the last 50 conversations: which it would take. htmx swaps in
    the result alone; without JavaScript the page comes back with the form as it was filled in."""
    form = _rule_form(scope, request.POST)
    preview: list[Any] | None = None
    if form.is_valid():
        values, _pool = _rule_values(scope, form.cleaned_data)
        draft = AssignmentRule(
            workspace=scope.workspace,
            **{
                k: v
                for k, v in values.items()
                if k in {"channel", "kind", "language", "sentiment", "keywords"}
            },
        )
        preview = rule_preview(workspace=scope.workspace, rules=[draft])
        preview = [{"row": row, "hit": row.rule is not None} for row in preview]
    if _is_htmx(request):
        return render(
            request,
            "engagement/_rule_preview.html",
            {
                "preview": preview,
                "preview_matched": sum(1 for item in preview or [] if item["hit"]),
                "form": form,
                "workspace": scope.workspace,
            },
            status=200 if preview is not None else 400,
        )
    return _rules_page(request, scope, form, preview=preview, status=200 if preview is not None else 400)


# -- privacy (GDPR): retention, one person's messages ------------------------------------------------------

PERSON_SHOWN = 200


def _privacy_page(
    request: HttpRequest,
    scope: Scope,
    *,
    retention_form: RetentionForm | None = None,
    person_form: PersonForm | None = None,
    erase_form: EraseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    settings = inbox_settings_get(workspace=scope.workspace)
    person = ""
    if person_form is None:
        person_form = PersonForm(request.GET or None)
    if person_form.is_bound and person_form.is_valid():
        person = person_form.cleaned_data["person"]
    found = person_messages(workspace=scope.workspace, person=person) if person else None
    return render_scoped(
        request,
        scope,
        "engagement/privacy.html",
        {
            "retention_form": retention_form
            or RetentionForm(initial={"retention_days": settings.retention_days}),
            "person_form": person_form,
            "erase_form": erase_form or EraseForm(initial={"person": person}),
            "person": person,
            "found": list(found[:PERSON_SHOWN]) if found is not None else None,
            "found_count": found.count() if found is not None else 0,
            "settings_section": "engagement/privacy.html",
            "workspace": scope.workspace,
        },
        status=status,
    )


@require_GET
@workspace_view(Action.MANAGE_WORKSPACE)
def privacy_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Retention, and the search for one person's messages with what erasing them would remove."""
    return _privacy_page(request, scope)


@require_POST
@workspace_view(Action.MANAGE_WORKSPACE)
def retention_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = RetentionForm(request.POST)
    if form.is_valid():
        try:
            inbox_settings_set_retention(
                workspace=scope.workspace, actor=scope.user, days=form.cleaned_data["retention_days"]
            )
        except ValidationError as exc:
            form.add_error("retention_days", exc.messages)
        else:
            messages.success(request, _("Retention saved."))
            return redirect("engagement:privacy", workspace_id=scope.workspace.pk)
    return _privacy_page(request, scope, retention_form=form, status=400)


@require_POST
@workspace_view(Action.MANAGE_WORKSPACE)
def erase_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = EraseForm(request.POST)
    if not form.is_valid():
        return _privacy_page(
            request, scope, person_form=PersonForm(request.POST), erase_form=form, status=400
        )
    done = person_erase(workspace=scope.workspace, actor=scope.user, person=form.cleaned_data["person"])
    messages.success(
        request,
        _("Erased %(messages)s messages; %(notes)s notes no longer quote them.")
        % {"messages": done["messages"], "notes": done["notes"]},
    )
    return redirect("engagement:privacy", workspace_id=scope.workspace.pk)


@require_GET
@workspace_view(Action.MANAGE_WORKSPACE)
def export_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = PersonForm(request.GET)
    if not form.is_valid():
        return HttpResponseBadRequest(_("Enter a handle or account id."))
    data = person_export(workspace=scope.workspace, actor=scope.user, person=form.cleaned_data["person"])
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = 'attachment; filename="inbox-export.json"'
    return response


__all__ = ["Http404", "ObjectDoesNotExist"]
