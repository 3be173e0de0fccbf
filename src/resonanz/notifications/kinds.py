"""The registry of notification kinds: what each says, with which parameters.

Texts are lazy msgids with ``%(name)s`` placeholders; they are rendered when shown (in the active
language) or e-mailed (in the recipient's ``User.language``). Parameters are plain strings; a missing
one renders as an empty string rather than failing. Parameters by kind:

* ``publish_failed``: post, channel, workspace, message
* ``first_comment_failed``: post, channel, workspace, message (the post itself is published)
* ``channel_reconnect_needed``: network, handle, workspace, message
* ``channel_login_expires_soon``: network, handle, workspace, date, days
* ``approval_requested``: post, actor, workspace
* ``post_approved``: post, actor, workspace
* ``post_rejected``: post, actor, workspace, message (the reason)
* ``comment_added``: post, actor, workspace, comment
* ``inbox_mention``: actor, workspace, conversation (who wrote to us), note
* ``listening_alert``: workspace, hour, count (negative mentions), baseline (the usual count), and the
  projected spread: reshares (so far), r (offspring mean), reshares_12h, low_12h, high_12h, reach_12h
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    PUBLISH_FAILED = "publish_failed", _("Publishing failed")
    CHANNEL_RECONNECT_NEEDED = "channel_reconnect_needed", _("Channel needs reconnecting")
    CHANNEL_LOGIN_EXPIRES_SOON = "channel_login_expires_soon", _("Channel login expires soon")
    APPROVAL_REQUESTED = "approval_requested", _("Approval requested")
    POST_APPROVED = "post_approved", _("Post approved")
    POST_REJECTED = "post_rejected", _("Post rejected")
    COMMENT_ADDED = "comment_added", _("Comment added")
    INBOX_MENTION = "inbox_mention", _("Mentioned in the inbox")
    LISTENING_ALERT = "listening_alert", _("Negative wave")
    FIRST_COMMENT_FAILED = "first_comment_failed", _("First comment failed")


EMAIL_SUBJECT_PREFIX = "Resonanz: "  # the product's name, not translated


@dataclass(frozen=True)
class KindText:
    title: Promise  # in-app heading; the e-mail subject after EMAIL_SUBJECT_PREFIX
    body: Promise


KINDS: dict[str, KindText] = {
    NotificationKind.PUBLISH_FAILED: KindText(
        title=_("Publishing to %(channel)s failed"),
        body=_(
            "The post “%(post)s” could not be published to %(channel)s in the workspace %(workspace)s: "
            "%(message)s"
        ),
    ),
    NotificationKind.FIRST_COMMENT_FAILED: KindText(
        title=_("The first comment on %(channel)s failed"),
        body=_(
            "The post “%(post)s” is published on %(channel)s in the workspace %(workspace)s, but its first "
            "comment could not be posted: %(message)s"
        ),
    ),
    NotificationKind.CHANNEL_RECONNECT_NEEDED: KindText(
        title=_("%(network)s channel %(handle)s needs reconnecting"),
        body=_(
            "The channel %(handle)s in the workspace %(workspace)s can no longer publish: %(message)s\n\n"
            "Scheduled posts for this channel are held until you reconnect it."
        ),
    ),
    NotificationKind.CHANNEL_LOGIN_EXPIRES_SOON: KindText(
        title=_("%(network)s channel %(handle)s must be reconnected by %(date)s"),
        body=_(
            "The login of the channel %(handle)s in the workspace %(workspace)s ends on %(date)s "
            "(in %(days)s days), and %(network)s does not let Resonanz renew it on its own. Reconnect the "
            "channel before then, so scheduled posts keep going out."
        ),
    ),
    NotificationKind.APPROVAL_REQUESTED: KindText(
        title=_("“%(post)s” is waiting for approval"),
        body=_("%(actor)s asks for approval of the post “%(post)s” in the workspace %(workspace)s."),
    ),
    NotificationKind.POST_APPROVED: KindText(
        title=_("“%(post)s” was approved"),
        body=_("%(actor)s approved the post “%(post)s” in the workspace %(workspace)s."),
    ),
    NotificationKind.POST_REJECTED: KindText(
        title=_("“%(post)s” was rejected"),
        body=_("%(actor)s rejected the post “%(post)s” in the workspace %(workspace)s: %(message)s"),
    ),
    NotificationKind.COMMENT_ADDED: KindText(
        title=_("New comment on “%(post)s”"),
        body=_("%(actor)s commented on the post “%(post)s” in the workspace %(workspace)s: %(comment)s"),
    ),
    NotificationKind.INBOX_MENTION: KindText(
        title=_("%(actor)s mentioned you in the inbox"),
        body=_(
            "%(actor)s mentioned you in a note on the conversation with %(conversation)s in the workspace "
            "%(workspace)s: %(note)s"
        ),
    ),
    NotificationKind.LISTENING_ALERT: KindText(
        title=_("Negative wave in %(workspace)s"),
        body=_(
            "%(count)s negative mentions in the hour from %(hour)s in the workspace %(workspace)s, where "
            "%(baseline)s are usual at this hour of the week. Look at the mentions driving it.\n\n"
            "Spread: %(reshares)s reposts and quotes so far, R = %(r)s (1 or more: it keeps growing). "
            "Expected in the next 12 hours if nothing is done: %(reshares_12h)s more (%(low_12h)s to "
            "%(high_12h)s), reaching about %(reach_12h)s accounts."
        ),
    ),
}


class _Params(dict[str, str]):
    """Missing parameters render as "" (an older notification must never break a page)."""

    def __missing__(self, key: str) -> str:
        return ""


def _render(text: Promise, params: Mapping[str, object]) -> str:
    return str(text) % _Params({k: str(v) for k, v in params.items()})


def render_title(kind: str, params: Mapping[str, object]) -> str:
    """The title in the active language."""
    spec = KINDS.get(kind)
    return _render(spec.title, params) if spec else kind


def render_body(kind: str, params: Mapping[str, object]) -> str:
    """The body in the active language."""
    spec = KINDS.get(kind)
    return _render(spec.body, params) if spec else ""


def language_for(language: str | None) -> str:
    """The language to write to someone in: theirs if we have it, else the site's default."""
    available = {code for code, _name in settings.LANGUAGES}
    if language in available:
        return language  # type: ignore[return-value]
    if language and language.split("-")[0] in available:
        return language.split("-")[0]
    return settings.LANGUAGE_CODE


def render_email(kind: str, params: Mapping[str, object], *, language: str | None) -> tuple[str, str]:
    """(subject, body) in ``language`` (falls back to the default language)."""
    with translation.override(language_for(language)):
        return EMAIL_SUBJECT_PREFIX + render_title(kind, params), render_body(kind, params)
