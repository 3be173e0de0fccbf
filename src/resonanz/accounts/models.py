"""Tenancy: Organisation -> Workspaces (one per brand or client) -> Memberships with roles."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("e-mail is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    # The interface language once signed in (accounts.middleware), and the language of e-mails. Empty until
    # the user picks one with the language switcher: the browser's language then, e-mails in the default.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text=_("Empty: the browser's language (e-mails in the site's default language)."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.email


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), unique=True)
    # Members without a second factor are sent to set one up (allauth.mfa) before anything else: the
    # invitation's acceptance and every page (``accounts.middleware.TwoFactorRequiredMiddleware``).
    require_two_factor = models.BooleanField(_("require two-factor authentication"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class ApprovalMode(models.IntegerChoices):
    NONE = 0, _("No approval")
    ONE_STEP = 1, _("One step")
    TWO_STEPS = 2, _("Two steps")


class Workspace(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="workspaces")
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"))
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.DEFAULT_WORKSPACE_TIME_ZONE)
    approval_mode = models.PositiveSmallIntegerField(
        _("approval"), choices=ApprovalMode.choices, default=ApprovalMode.NONE
    )
    # The language of what goes out on the workspace's behalf when no person's language is known: the
    # review page of a reviewer without an account, e-mails to invitees and to members who never chose one.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("For review links, invitations and e-mails to people whose language is not known."),
    )
    # Archived: gone from the switchers, the pages and the API (only its settings page stays, to restore
    # it); archiving is refused while posts are scheduled (``services.workspace_archive``).
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "slug"], name="workspace_unique_slug_per_org")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    EDITOR = "editor", _("Editor")
    CONTRIBUTOR = "contributor", _("Contributor")
    ANALYST = "analyst", _("Analyst")
    AGENT = "agent", _("Agent")
    # Employee advocacy (advocacy app): shares offered brand posts on their own personal channels.
    ADVOCATE = "advocate", _("Advocate")


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "workspace"], name="membership_unique_user_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.workspace} ({self.role})"


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; it is shown once at creation."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    workspaces = models.ManyToManyField(Workspace, related_name="api_tokens")
    # Read-only: the API refuses every method but GET, HEAD and OPTIONS (403), whatever the user's role.
    read_only = models.BooleanField(_("read-only"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class Invitation(models.Model):
    """An invitation by e-mail to join a workspace with a role. Only a SHA-256 of the link's secret is
    stored (like ``ApiToken``): the link is shown nowhere but in the e-mail, and a leaked database row
    cannot be turned into a working link. Resending issues a new secret and a new expiry."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    secret_hash = models.CharField(max_length=64, unique=True)
    # The language of the e-mail: the invitee's own if she has an account with one, else the inviter's.
    language = models.CharField(max_length=8, blank=True, default="")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.email} -> {self.workspace} ({self.role})"

    @property
    def pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()
