"""Forms of the settings pages. They only parse input; the rules live in ``services``."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from resonanz.web.forms import WebForm

from .models import ApprovalMode, Role


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    # The IANA names the system knows (zoneinfo); the old "Etc/" and upper-case aliases only clutter.
    names = sorted(n for n in available_timezones() if "/" in n and not n.startswith(("Etc/", "SystemV/")))
    return [(name, name.replace("_", " ")) for name in names]


class WorkspaceForm(WebForm):
    name = forms.CharField(
        label=_("Name"), max_length=200, help_text=_("The brand or client, e.g. “Bäckerei Sonnenschein”.")
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        initial=settings.DEFAULT_WORKSPACE_TIME_ZONE,
        help_text=_("Posting times and the calendar of this workspace are in this time zone."),
    )
    approval_mode = forms.TypedChoiceField(
        label=_("Approval"), choices=ApprovalMode.choices, coerce=int, initial=ApprovalMode.NONE
    )
    # Not required, so a form posted without it (an older page, a script) keeps the current language.
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGE_CODE,
        required=False,
        help_text=_(
            "For people whose own language Resonanz does not know: reviewers of review links, invitations,"
            " e-mails to members who never chose a language."
        ),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["time_zone"].choices = time_zone_choices()  # type: ignore[attr-defined]

    def clean_language(self) -> str | None:
        return self.cleaned_data.get("language") or None


class WorkspaceCreateForm(WorkspaceForm):
    organisation = forms.TypedChoiceField(label=_("Organisation"), coerce=int)

    def __init__(self, *args: object, organisations: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = organisations  # type: ignore[attr-defined]
        if len(organisations) == 1:
            self.fields["organisation"].widget = forms.HiddenInput()
            self.fields["organisation"].initial = organisations[0][0]
        self.order_fields(["organisation", "name", "time_zone", "language", "approval_mode"])


class InvitationForm(WebForm):
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.EDITOR)


class MemberRoleForm(WebForm):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)


class ApiTokenForm(WebForm):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the token is for, e.g. “CMS import”.")
    )
    workspaces = forms.TypedMultipleChoiceField(
        label=_("Workspaces"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The token reaches only these workspaces, with your role in each."),
    )
    access = forms.ChoiceField(
        label=_("Access"),
        choices=[("read", _("Read only")), ("write", _("Read and write"))],
        initial="read",
        widget=forms.RadioSelect,
        help_text=_("Read and write needs a role that may change something in each chosen workspace."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the token does not expire (revoke it when it is no longer needed)."),
    )

    def __init__(self, *args: object, workspaces: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["workspaces"].choices = workspaces  # type: ignore[attr-defined]


class InvitationAcceptForm(WebForm):
    """A new account from an invitation: the address is the invitation's, the invitee picks the rest."""

    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    password1 = forms.CharField(label=_("Password"), widget=forms.PasswordInput(render_value=False))
    password2 = forms.CharField(label=_("Password (again)"), widget=forms.PasswordInput(render_value=False))

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ."))
        return data


class ProfileForm(WebForm):
    name = forms.CharField(label=_("Your name"), max_length=150, required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("The browser's language")), *settings.LANGUAGES],
        help_text=_("The language of the pages and of the e-mails Resonanz sends you."),
    )
