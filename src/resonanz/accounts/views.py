"""Pages of the accounts app beyond allauth's own: the unlock link of a locked sign-in and the settings
pages of a team (workspace, members and invitations, API tokens). Thin views like every app's: parse the
form, call a service, render; the settings pages are mounted by the shell (``accounts/urls.py``).

Every workspace view goes through ``workspace_view``: a signed-in user who is not a member gets 404, a
member whose role does not allow the action (permissions table) gets 403.
"""

from __future__ import annotations

from datetime import date, datetime, time

from allauth.account.internal.flows.login import record_authentication
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from resonanz.core.timezones import LocalTimeError, zone
from resonanz.web.scope import Scope, render_scoped, workspace_view

from .forms import (
    ApiTokenForm,
    InvitationAcceptForm,
    InvitationForm,
    MemberRoleForm,
    ProfileForm,
    WorkspaceCreateForm,
    WorkspaceForm,
)
from .login_limits import login_unlock_accept
from .middleware import two_factor_session_refresh
from .models import Role, User
from .permissions import Action
from .selectors import (
    api_token_list,
    invitation_list_pending,
    membership_list,
    organisation_list_for_workspace_create,
    permission_table,
    workspace_list_archived_for_owner,
    workspace_list_for_user,
)
from .services import (
    AccountsError,
    InvitationInvalid,
    api_token_create,
    api_token_revoke,
    invitation_accept,
    invitation_accept_new_user,
    invitation_create,
    invitation_days,
    invitation_lookup,
    invitation_resend,
    invitation_revoke,
    membership_remove,
    membership_role_change,
    organisation_two_factor_set,
    two_factor_required,
    user_profile_update,
    workspace_archive,
    workspace_create,
    workspace_restore,
    workspace_update,
)


def login_unlock(request: HttpRequest, token: str) -> HttpResponse:
    response = TemplateResponse(request, "account/login_unlock.html")
    valid = login_unlock_accept(request=request, token=token, response=response)
    response.context_data = {"valid": valid}
    if not valid:
        response.status_code = 400
    return response


# -- workspace settings -------------------------------------------------------------------------


def _settings_page(
    request: HttpRequest, scope: Scope, template: str, context: dict[str, object], *, status: int = 200
) -> HttpResponse:
    return render_scoped(request, scope, template, {"settings_section": template, **context}, status=status)


@require_http_methods(["GET", "POST"])
@workspace_view(Action.MANAGE_WORKSPACE, allow_archived=True)
def workspace_settings(request: HttpRequest, scope: Scope) -> HttpResponse:
    ws = scope.workspace
    initial = {
        "name": ws.name,
        "time_zone": ws.time_zone,
        "approval_mode": ws.approval_mode,
        "language": ws.language,
    }
    form = WorkspaceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            workspace_update(workspace=ws, actor=scope.user, **form.cleaned_data)
        except (AccountsError, LocalTimeError) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Saved the settings of %(name)s.") % {"name": ws.name})
            return redirect("web:workspace_settings", workspace_id=ws.pk)
    status = 400 if request.method == "POST" else 200
    return _settings_page(
        request,
        scope,
        "accounts/workspace_settings.html",
        {
            "form": form,
            "may_create": organisation_list_for_workspace_create(user=scope.user).exists(),
            "archived": workspace_list_archived_for_owner(user=scope.user),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@workspace_view()
def workspace_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    """A new workspace in one of the organisations where the user's role allows it (the current
    workspace's organisation first)."""
    organisations = list(organisation_list_for_workspace_create(user=scope.user))
    if not organisations:
        raise PermissionDenied(_("Your role does not allow this action."))
    organisations.sort(key=lambda org: org.pk != scope.workspace.organisation_id)
    choices = [(org.pk, org.name) for org in organisations]
    form = WorkspaceCreateForm(
        request.POST or None,
        organisations=choices,
        # A new client is likely to speak like the one the user is in now.
        initial={"organisation": choices[0][0], "language": scope.workspace.language},
    )
    if request.method == "POST" and form.is_valid():
        data = {key: value for key, value in form.cleaned_data.items() if value is not None}
        organisation = next(org for org in organisations if org.pk == data.pop("organisation"))
        try:
            created = workspace_create(organisation=organisation, owner=scope.user, **data)
        except (AccountsError, LocalTimeError) as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Created the workspace %(name)s.") % {"name": created.name})
            return redirect("web:workspace_settings", workspace_id=created.pk)
    status = 400 if request.method == "POST" else 200
    return _settings_page(request, scope, "accounts/workspace_new.html", {"form": form}, status=status)


@require_POST
@workspace_view(Action.ARCHIVE_WORKSPACE, allow_archived=True)
def workspace_archive_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    try:
        workspace_archive(workspace=scope.workspace, actor=scope.user)
    except AccountsError as exc:
        messages.error(request, exc.message)
        return redirect("web:workspace_settings", workspace_id=scope.workspace.pk)
    messages.success(
        request,
        _("Archived %(name)s. Restore it from the settings of another workspace.")
        % {"name": scope.workspace.name},
    )
    return redirect("web:home")


@require_POST
@workspace_view(Action.ARCHIVE_WORKSPACE, allow_archived=True)
def workspace_restore_view(request: HttpRequest, scope: Scope) -> HttpResponse:
    workspace_restore(workspace=scope.workspace, actor=scope.user)
    messages.success(request, _("Restored %(name)s.") % {"name": scope.workspace.name})
    return redirect("web:workspace_settings", workspace_id=scope.workspace.pk)


# -- members, invitations, who can do what ------------------------------------------------------------


def _members_page(
    request: HttpRequest, scope: Scope, *, invite_form: InvitationForm | None = None, status: int = 200
) -> HttpResponse:
    memberships = list(membership_list(workspace=scope.workspace))
    owners = sum(1 for m in memberships if m.role == Role.OWNER)
    rows = [
        (m, MemberRoleForm(initial={"role": m.role}, prefix=f"m{m.pk}"), m.role == Role.OWNER and owners == 1)
        for m in memberships
    ]
    return _settings_page(
        request,
        scope,
        "accounts/members.html",
        {
            "rows": rows,
            "invite_form": invite_form or InvitationForm(),
            "invitations": invitation_list_pending(workspace=scope.workspace),
            "invitation_days": invitation_days(),
        },
        status=status,
    )


@require_http_methods(["GET"])
@workspace_view(Action.MANAGE_MEMBERS)
def members(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _members_page(request, scope)


@require_POST
@workspace_view(Action.MANAGE_MEMBERS)
def member_role(request: HttpRequest, scope: Scope, membership_id: int) -> HttpResponse:
    form = MemberRoleForm(request.POST, prefix=f"m{membership_id}")
    if not form.is_valid():
        messages.error(request, _("Unknown role."))
        return redirect("web:members", workspace_id=scope.workspace.pk)
    try:
        membership = membership_role_change(
            workspace=scope.workspace,
            actor=scope.user,
            membership_id=membership_id,
            role=form.cleaned_data["role"],
        )
    except AccountsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(user)s is now %(role)s.") % {"user": membership.user, "role": Role(membership.role).label},
        )
    return redirect("web:members", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.MANAGE_MEMBERS)
def member_remove(request: HttpRequest, scope: Scope, membership_id: int) -> HttpResponse:
    try:
        membership_remove(workspace=scope.workspace, actor=scope.user, membership_id=membership_id)
    except AccountsError as exc:
        messages.error(request, exc.message)
        return redirect("web:members", workspace_id=scope.workspace.pk)
    messages.success(request, _("Removed the member."))
    if not scope.user.memberships.filter(workspace=scope.workspace).exists():
        return redirect("web:home")  # she removed herself
    return redirect("web:members", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.MANAGE_MEMBERS)
def invitation_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            issued = invitation_create(workspace=scope.workspace, actor=scope.user, **form.cleaned_data)
        except AccountsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Sent an invitation to %(email)s.") % {"email": issued.invitation.email}
            )
            return redirect("web:members", workspace_id=scope.workspace.pk)
    return _members_page(request, scope, invite_form=form, status=400)


@require_POST
@workspace_view(Action.MANAGE_MEMBERS)
def invitation_resend_view(request: HttpRequest, scope: Scope, invitation_id: int) -> HttpResponse:
    try:
        issued = invitation_resend(workspace=scope.workspace, actor=scope.user, invitation_id=invitation_id)
    except AccountsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Sent the invitation to %(email)s again.") % {"email": issued.invitation.email}
        )
    return redirect("web:members", workspace_id=scope.workspace.pk)


@require_POST
@workspace_view(Action.MANAGE_MEMBERS)
def invitation_revoke_view(request: HttpRequest, scope: Scope, invitation_id: int) -> HttpResponse:
    try:
        invitation = invitation_revoke(
            workspace=scope.workspace, actor=scope.user, invitation_id=invitation_id
        )
    except AccountsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Withdrew the invitation to %(email)s.") % {"email": invitation.email})
    return redirect("web:members", workspace_id=scope.workspace.pk)


@require_http_methods(["GET"])
@workspace_view()
def permissions(request: HttpRequest, scope: Scope) -> HttpResponse:
    """Who can do what: the permissions table, and who holds which role here (for every member)."""
    return _settings_page(
        request,
        scope,
        "accounts/permissions.html",
        {
            "roles": Role.choices,
            "table": permission_table(),
            "memberships": membership_list(workspace=scope.workspace),
        },
    )


# -- accepting an invitation (not under a workspace: the invitee is not a member yet) -------------------


def _after_accept(request: HttpRequest, user: User, workspace_id: int) -> HttpResponse:
    if two_factor_required(user=user):
        messages.info(
            request, _("Your organisation requires two-factor authentication: set it up now, please.")
        )
        return redirect("mfa_activate_totp")
    return redirect("web:dashboard", workspace_id=workspace_id)


@require_http_methods(["GET", "POST"])
def invitation_accept_view(request: HttpRequest, secret: str) -> HttpResponse:
    try:
        invitation = invitation_lookup(secret=secret)
    except InvitationInvalid as exc:
        status = 404 if exc.code == "unknown" else 410
        return render(request, "accounts/invitation_invalid.html", {"error": exc}, status=status)
    user = request.user if isinstance(request.user, User) else None
    account_exists = User.objects.filter(email__iexact=invitation.email).exists()
    form = InvitationAcceptForm(request.POST or None) if user is None and not account_exists else None
    error = ""
    if request.method == "POST":
        try:
            if user is not None:
                membership = invitation_accept(secret=secret, user=user)
                return _after_accept(request, user, membership.workspace_id)
            if form is not None and form.is_valid():
                membership = invitation_accept_new_user(
                    secret=secret,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                    language=translation.get_language() or "",
                )
                login(request, membership.user, backend="django.contrib.auth.backends.ModelBackend")
                # She has just set her password: tell allauth, so that its pages that want a recent
                # authentication (the two-factor set-up) do not ask for the password again at once.
                record_authentication(
                    request,
                    membership.user,
                    method="password",
                    email=membership.user.email,
                    reauthenticated=True,  # allauth: what its reauthentication check looks for
                )
                return _after_accept(request, membership.user, membership.workspace_id)
        except AccountsError as exc:
            if form is not None:
                form.add_error(None, exc.message)
            else:
                error = exc.message
    context = {
        "invitation": invitation,
        "form": form,
        "error": error,
        "account_exists": account_exists,
        "login_url": f"{reverse('account_login')}?next={request.path}",
    }
    return render(
        request, "accounts/invitation_accept.html", context, status=400 if request.method == "POST" else 200
    )


# -- API tokens (the user's own, not under a workspace: one token may reach several) --------------------


def _signed_in(request: HttpRequest) -> User:
    if not isinstance(request.user, User):  # login_required stops anonymous users; narrows the type
        raise PermissionDenied
    return request.user


def _token_expiry(day: date | None) -> datetime | None:
    """The end of the chosen day in the site's default zone (the form asks for a date only)."""
    if day is None:
        return None
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone(settings.DEFAULT_WORKSPACE_TIME_ZONE))


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's tokens: create one (the secret is shown on this answer only), see the last use, revoke."""
    user = _signed_in(request)
    workspaces = list(workspace_list_for_user(user=user))
    form = ApiTokenForm(
        request.POST or None, workspaces=[(ws.pk, f"{ws.organisation.name} / {ws.name}") for ws in workspaces]
    )
    issued = None
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            chosen = [ws for ws in workspaces if ws.pk in set(form.cleaned_data["workspaces"])]
            try:
                issued = api_token_create(
                    user=user,
                    name=form.cleaned_data["name"],
                    workspaces=chosen,
                    expires_at=_token_expiry(form.cleaned_data["expires_on"]),
                    read_only=form.cleaned_data["access"] == "read",
                )
            except AccountsError as exc:
                form.add_error(None, exc.message)
            else:
                status = 201
                form = ApiTokenForm(
                    workspaces=[(ws.pk, f"{ws.organisation.name} / {ws.name}") for ws in workspaces]
                )
    context = {
        "form": form,
        "issued": issued,
        "tokens": api_token_list(user=user),
        "workspace": workspaces[0] if workspaces else None,
        "workspaces": workspaces,
    }
    return render(request, "accounts/api_tokens.html", context, status=status)


@login_required
@require_POST
def api_token_revoke_view(request: HttpRequest, token_id: int) -> HttpResponse:
    api_token_revoke(user=_signed_in(request), token_id=token_id)
    messages.success(request, _("Revoked the token."))
    return redirect("web:api_tokens")


# -- the user's own settings (profile; password, e-mail, two-factor and sessions are allauth's pages) ---


@login_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    user = _signed_in(request)
    form = ProfileForm(request.POST or None, initial={"name": user.name, "language": user.language})
    if request.method == "POST" and form.is_valid():
        user_profile_update(user=user, **form.cleaned_data)
        response = redirect("web:profile")
        # The language cookie follows the saved choice (the middleware reads the user's language first).
        if user.language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, user.language, max_age=settings.LANGUAGE_COOKIE_AGE
            )
        else:
            response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        with translation.override(user.language or translation.get_language()):
            messages.success(request, _("Saved your profile."))
        return response
    workspaces = list(workspace_list_for_user(user=user)[:1])
    context = {"form": form, "workspace": workspaces[0] if workspaces else None}
    return render(request, "accounts/profile.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@workspace_view(Action.ARCHIVE_WORKSPACE)
def organisation_two_factor(request: HttpRequest, scope: Scope) -> HttpResponse:
    required = request.POST.get("required") == "1"
    organisation = organisation_two_factor_set(workspace=scope.workspace, actor=scope.user, required=required)
    two_factor_session_refresh(request=request, user=scope.user)  # applies to her own session at once
    if required:
        messages.success(
            request,
            _("Everyone in %(name)s now needs two-factor authentication.") % {"name": organisation.name},
        )
    else:
        messages.success(
            request, _("%(name)s no longer requires two-factor authentication.") % {"name": organisation.name}
        )
    return redirect("web:workspace_settings", workspace_id=scope.workspace.pk)
