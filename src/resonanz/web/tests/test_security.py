# ruff: noqa: F811 - pytest fixtures imported from the web browser tests are used as arguments
"""Security of the web UI, derived from the URLconf: every page and HTMX endpoint is walked.

* permissions: anonymous -> login (token pages: 404/410 for a forged token), a signed-in stranger -> 404,
  an analyst or agent -> 403 for every POST that changes something (allow-list below, with reasons);
* CSRF: every POST endpoint refuses a request without a token;
* CSP: every HTML answer carries a strict policy and has no inline script, ``style=`` or ``on*=``;
* XSS: user content with script payloads (post text, thread part, approval comment, channel handle and
  name, workspace name, notification parameter, CSV cell, ...) is rendered as text everywhere;
* login throttling (allauth's rate limits with the production value) and the security headers.

The list of endpoints is never written down here: ``endpoints()`` reads it from the URLconf, so a new
view that forgets ``workspace_view`` (or a new URL nobody classified) makes these tests fail. The few
endpoints that are not workspace pages are classified explicitly in ``NON_WORKSPACE``.
"""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from django.utils import timezone
from PIL import Image

from resonanz.accounts.models import ApprovalMode, Role, User, Workspace
from resonanz.accounts.services import api_token_create, invitation_create, workspace_create
from resonanz.advocacy.models import AdvocacyOffer
from resonanz.approvals.services import approval_comment, post_submit_for_approval, review_link_create
from resonanz.bulk.models import CalendarFeed, ImportBatch
from resonanz.bulk.services import calendar_feed_create, import_batch_create
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel, ChannelStatus
from resonanz.channels.services import personal_networks
from resonanz.connectors.registry import network_slugs, network_spec
from resonanz.engagement.models import Conversation, Message, Note, SavedReply
from resonanz.leads import services as lead_services
from resonanz.links.services import link_create
from resonanz.listening.models import Alert, Mention, Reshare, SavedQuery, Source
from resonanz.notifications.models import Notification
from resonanz.notifications.services import notification_send
from resonanz.posts import public_media
from resonanz.posts.models import MediaAsset, Post, PostStatus, Variant, VariantStatus
from resonanz.posts.services import (
    MediaInput,
    PostInput,
    media_asset_create,
    post_create,
    post_schedule,
)
from resonanz.posts.views import POST_TRANSITIONS
from testsupport.browser import allow_orm_beside_playwright, browser  # noqa: F401 (fixtures)

# -- payloads -------------------------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT}{IMG}"
# What must never reach an HTML page as it is: each would run in a browser.
RAW_MARKERS = ("<script>alert(1)", "<img src=x onerror", "onerror=alert(1)>")

# -- the URLconf walk -----------------------------------------------------------------------------

# Mounted apps that are not pages of the web UI, with their own protection and tests.
EXCLUDED_PREFIXES = {
    "admin/": "Django's admin: staff accounts only, Django's own checks",
    "accounts/": "allauth: login, logout, password reset, MFA (public by design; throttling tested below)",
    "api/v1/": "the REST API: token or session auth with DRF permissions, tested in resonanz/api/tests",
}

LOGIN = "login"  # needs a signed-in user; user-scoped (no workspace in the URL)
PUBLIC = "public"  # answers everyone, reveals nothing
TOKEN = "token"  # the secret in the URL is the permission
# Every endpoint without ``workspace_id`` in its URL, classified. A new one fails the walk until added.
NON_WORKSPACE: dict[str, tuple[str, str]] = {
    "web:home": (LOGIN, "redirects to the user's only workspace, or to the overview when there are several"),
    "overview:agency": (LOGIN, "the user's own workspaces only; a foreign ?client= id is ignored"),
    "overview:calendar": (LOGIN, "the user's own viewable workspaces only; a foreign ?client= id is ignored"),
    "analytics_agency:agency": (LOGIN, "figures of the user's own workspaces where the role sees analytics"),
    "analytics_agency:script": (PUBLIC, "the vega/vega-lite/vega-embed script from the vl-convert wheel"),
    "web:set_language": (PUBLIC, "Django's set_language: only sets the visitor's language cookie"),
    "web:channel_callback": (LOGIN, "OAuth callback; the state names the workspace and the user"),
    "notifications:list": (LOGIN, "the signed-in user's own notifications"),
    "notifications:badge": (PUBLIC, "the bell; empty for anonymous visitors (stops the polling)"),
    "notifications:mark_read": (LOGIN, "marks only the user's own notifications"),
    "notifications:open": (LOGIN, "404 unless the notification is the user's"),
    "approvals_public:review": (TOKEN, "external reviewer page, signed token"),
    "approvals_public:review_media": (TOKEN, "media of the external review page, signed token"),
    "bulk_public:feed": (TOKEN, "iCal feed, secret token"),
    "web:invitation_accept": (TOKEN, "invitation link, secret token (stored hashed), single-use"),
    "web:profile": (LOGIN, "the signed-in user's own name and language"),
    "web:api_tokens": (LOGIN, "the signed-in user's own API tokens"),
    "web:api_token_revoke": (LOGIN, "revokes only the user's own tokens"),
    "media_public:file": (TOKEN, "media that networks fetch from a URL, signed and expiring token"),
    "links_public:redirect": (
        PUBLIC,
        "short-link redirect to a public target; unknown codes 404, no data shown",
    ),
    "leads_public:bio": (PUBLIC, "a workspace's link-in-bio page: public by design, unknown slugs 404"),
    "leads_public:form": (
        PUBLIC,
        "a hosted lead form: public by design; a submission needs the signed form token",
    ),
    "leads_public:embed": (PUBLIC, "the same form for an iframe on the customer's site"),
    "leads_public:submit": (PUBLIC, "POST endpoint of the pasted HTML form; needs the signed form token"),
    "leads_public:thanks": (PUBLIC, "the form's thank-you text, nothing about the visitor"),
    "leads_public:confirm": (TOKEN, "double opt-in link, signed and expiring token"),
    "hooks:receive": (
        TOKEN,
        "a network's webhook: a delivery needs the network's HMAC signature, the challenge its verify token",
    ),
}

# POST endpoints without Django's CSRF check, and what protects them instead (leads/public_views.py).
CSRF_EXEMPT = {
    "leads_public:form": "posted cross-site without a session; a signed form token replaces the CSRF cookie",
    "leads_public:embed": "posted from an iframe on another site (no third-party cookies); signed form token",
    "leads_public:submit": "posted by a plain HTML form on another site; signed form token",
    "leads_public:confirm": "the signed token in the URL is the permission; there is no session to abuse",
    "hooks:receive": "posted by a network's servers without a session; the body's HMAC signature is the key",
}

# POSTs of workspace pages that an analyst (and an agent: both are read-only roles) may send, and why.
# Everything else must answer 403. (Outside the workspace pages an analyst may also switch the language,
# web:set_language, and mark their own notifications read, notifications:mark_read: see
# test_read_only_roles_may_set_language_and_mark_own_notifications.)
READ_ONLY_MAY_POST = {
    "bulk:feeds": "subscribing to the calendar (a personal iCal feed) is reading; revoking is limited to "
    "one's own feeds by the service (an analyst revoking another's feed gets 403, checked in the walk)",
    "web:post_engagement_refresh": "asks the networks for fresh counts of a post one may see: reading, "
    "rate-limited per post (agents, who may not see posts, get 403: engagement/tests/test_refresh.py)",
}
READ_ONLY_ROLES = [Role.ANALYST, Role.AGENT]
# The agent answers customers: the inbox's POSTs are its work (issue 10). Everything else stays 403 for
# it, and the inbox's workspace settings (engagement:settings) too. An analyst gets 403 on all of them.
AGENT_MAY_POST = {
    "engagement:assign": "assign a conversation (to a member with inbox rights)",
    "engagement:status": "open / pending / close a conversation",
    "engagement:note": "an internal note",
    "engagement:reply": "answer on the network",
    "engagement:presence": "the collision warning's heartbeat",
    "engagement:bulk": "assign or close several conversations",
    "engagement:saved_replies": "create a saved reply",
    "engagement:saved_reply_delete": "delete a saved reply",
    "engagement:message_action": "like, hide or delete a message on the network (what its connector allows)",
}


@dataclass(frozen=True)
class Endpoint:
    name: str  # "web:post_detail"
    route: str  # "w/<int:workspace_id>/posts/<int:post_id>/"
    params: tuple[str, ...]

    @property
    def in_workspace(self) -> bool:
        return "workspace_id" in self.params


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")  # path converters and (?P<name>...) groups alike


def endpoints(urlconf: str | None = None) -> list[Endpoint]:
    """Every named URL of the web UI (all patterns outside ``EXCLUDED_PREFIXES``)."""
    found: list[Endpoint] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if any(route.startswith(p) for p in EXCLUDED_PREFIXES):
                continue
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, route, ns)
            else:
                assert isinstance(pattern, URLPattern)
                assert pattern.name, f"unnamed URL pattern {route!r}: every page needs a name"
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                found.append(Endpoint(name, route, tuple(_PARAM.findall(route))))

    walk(get_resolver(urlconf).url_patterns, "", "")
    return found


# -- the world the walk fills its URLs from: one workspace full of payloads -----------------------


@dataclass
class World:
    workspace: Workspace
    second: Workspace  # the owner's other workspace (the switcher lists it)
    owner: User
    stranger: User
    channel: Channel
    bad_channel: Channel
    post: Post
    variant: Variant
    scheduled: Post
    failed: Post
    asset: MediaAsset
    batch: ImportBatch
    feed_id: int
    feed_token: str
    link_id: int
    review_token: str
    media_token: str
    notification: Notification
    campaign_id: int
    membership_id: int
    invitation_id: int
    invitation_secret: str
    token_id: int
    conversation_id: int
    saved_reply_id: int
    short_link_id: int
    short_link_code: str
    query_id: int
    source_id: int
    mention_id: int
    alert_id: int
    offer_id: int
    lead_form_id: int
    lead_form_slug: str
    lead_public_id: str
    bio_page_id: int
    bio_slug: str
    bio_item_id: int
    lead_webhook_id: int
    lead_confirm_token: str
    message_id: int
    rule_id: int
    schedule_id: int
    budget_id: int

    def values(self, endpoint: Endpoint, param: str) -> list[Any]:
        """The test values of one URL parameter (a new parameter must be added here)."""
        special: dict[tuple[str, str], list[Any]] = {
            ("web:post_action", "action"): list(POST_TRANSITIONS),
            ("web:variant_action", "action"): ["delete", "edit", "repost"],
            ("approvals_public:review", "token"): [self.review_token],
            ("approvals_public:review_media", "token"): [self.review_token],
            ("bulk_public:feed", "token"): [self.feed_token],
            ("web:invitation_accept", "secret"): [self.invitation_secret],
            ("media_public:file", "token"): [self.media_token],
            ("links_public:redirect", "code"): [self.short_link_code],
            ("leads_public:bio", "slug"): [self.bio_slug],
            ("leads_public:confirm", "token"): [self.lead_confirm_token],
            ("hooks:receive", "network"): ["no-such-network"],  # the signed paths: engagement/tests
            **{
                (f"leads_public:{name}", param): [value]
                for name in ("form", "embed", "submit", "thanks")
                for param, value in (("public_id", self.lead_public_id), ("slug", self.lead_form_slug))
            },
            # Every registered network's connect flow (and its callback).
            ("web:channel_connect", "network"): network_slugs(),
            ("web:channel_callback", "network"): network_slugs(),
            # The networks whose connector lets a person connect their own account (advocacy).
            ("advocacy:connect", "network"): personal_networks(),
            ("reports:download", "fmt"): ["pdf", "xlsx", "csv"],
            ("engagement:message_action", "action"): ["like", "hide", "delete_reply"],
        }
        if (endpoint.name, param) in special:
            return special[endpoint.name, param]
        common: dict[str, int] = {
            "workspace_id": self.workspace.pk,
            "post_id": self.post.pk,
            "variant_id": self.variant.pk,
            "channel_id": self.channel.pk,
            "asset_id": self.asset.pk,
            "batch_id": self.batch.pk,
            "feed_id": self.feed_id,
            "link_id": self.link_id,
            "notification_id": self.notification.pk,
            "campaign_id": self.campaign_id,
            "membership_id": self.membership_id,
            "invitation_id": self.invitation_id,
            "token_id": self.token_id,
            "conversation_id": self.conversation_id,
            "saved_reply_id": self.saved_reply_id,
            "short_link_id": self.short_link_id,
            "query_id": self.query_id,
            "source_id": self.source_id,
            "mention_id": self.mention_id,
            "alert_id": self.alert_id,
            "offer_id": self.offer_id,
            "form_id": self.lead_form_id,
            "page_id": self.bio_page_id,
            "item_id": self.bio_item_id,
            "webhook_id": self.lead_webhook_id,
            "message_id": self.message_id,
            "rule_id": self.rule_id,
            "schedule_id": self.schedule_id,
            "budget_id": self.budget_id,
        }
        if param not in common:
            pytest.fail(f"{endpoint.name} ({endpoint.route}): no test value for <{param}>; add one to World")
        return [common[param]]

    def urls(self, endpoint: Endpoint) -> list[str]:
        choices = [self.values(endpoint, p) for p in endpoint.params]
        return [
            reverse(endpoint.name, kwargs=dict(zip(endpoint.params, combo, strict=True)))
            for combo in itertools.product(*choices)
        ]


def _connect_fields(network: str) -> list[Any]:
    connect = network_spec(network).connect
    return list(connect.fields) if connect is not None else []


def _png(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    # Quoted as a spreadsheet writes it (quotes inside doubled), so the payload arrives whole.
    quoted = (";".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows)
    lines = ["Datum;Uhrzeit;Kanäle;Text", *quoted]
    return "\r\n".join(lines).encode()


@pytest.fixture
def world(workspace: Workspace, other_workspace: Workspace, owner: User, make_channel) -> World:
    # Names that the layout shows on every page: the workspace, its organisation, the other workspace.
    workspace.name = f"WS {SCRIPT}"
    workspace.save()
    organisation = workspace.organisation
    organisation.name = f"Org {IMG}"
    organisation.save()
    second = workspace_create(organisation=organisation, name=f"Second {PAYLOAD}", owner=owner)

    stranger = other_workspace.memberships.get().user  # owner of a workspace of another organisation

    channel = make_channel("mastodon", handle="brand@social.example")
    channel.display_name = f"Name {PAYLOAD}"
    channel.save()
    bad_channel = make_channel("mastodon", handle=f"h{PAYLOAD}", remote_id="bad")
    bad_channel.status = ChannelStatus.RECONNECT_NEEDED
    bad_channel.last_error = f"Error {PAYLOAD}"
    bad_channel.display_name = f"Bad {PAYLOAD}"
    bad_channel.save()

    # A scheduled post (dashboard, calendar) and a failed one (dashboard), before approvals are on.
    scheduled = post_create(
        workspace=workspace, author=owner, data=PostInput(text=f"Planned {PAYLOAD}", channel_ids=[channel.pk])
    )
    scheduled = post_schedule(
        workspace=workspace, post=scheduled, actor=owner, at=timezone.now() + timedelta(hours=2)
    )
    failed = post_create(
        workspace=workspace, author=owner, data=PostInput(text=f"Failed {PAYLOAD}", channel_ids=[channel.pk])
    )
    Post.objects.filter(pk=failed.pk).update(status=PostStatus.FAILED)
    failed.variants.update(status=VariantStatus.FAILED, last_error=f"Boom {PAYLOAD}")

    workspace.approval_mode = ApprovalMode.ONE_STEP
    workspace.save()
    asset = media_asset_create(
        workspace=workspace, data=_png(), filename=f"pic{IMG}.png", actor=owner, alt_text=f"Alt {PAYLOAD}"
    )
    post = post_create(
        workspace=workspace,
        author=owner,
        data=PostInput(
            title=f"Title {PAYLOAD}",
            text=f"Text {PAYLOAD}",
            thread=[f"Part {PAYLOAD}"],
            channel_ids=[channel.pk],
            media=[MediaInput(asset_id=asset.pk, alt_text=f"Alt {PAYLOAD}")],
        ),
    )
    post = post_submit_for_approval(workspace=workspace, post=post, actor=owner)
    approval_comment(workspace=workspace, post=post, actor=owner, comment=f"Comment {PAYLOAD}")
    campaign = campaign_create(
        workspace=workspace, actor=owner, name=f"Campaign {PAYLOAD}", goal="reach", target_audience=PAYLOAD
    )
    Post.objects.filter(pk__in=[post.pk, scheduled.pk]).update(campaign=campaign)
    link = review_link_create(workspace=workspace, post=post, actor=owner, reviewer_name=f"Rev {PAYLOAD}")
    feed = calendar_feed_create(workspace=workspace, actor=owner, name=f"Feed {PAYLOAD}")
    batch = import_batch_create(
        workspace=workspace,
        actor=owner,
        filename=f"plan{IMG}.csv",
        data=_csv(
            [
                ["01.12.2099", "09:00", "brand@social.example", f"Cell {PAYLOAD}"],
                ["01.12.2099", "10:00", f"x{SCRIPT}", f"Refused {PAYLOAD}"],
            ]
        ),
    )
    [notification] = notification_send(
        workspace=workspace,
        recipients=[owner],
        kind="comment_added",
        params={"post": f"P {PAYLOAD}", "actor": f"A {SCRIPT}", "workspace": IMG, "comment": PAYLOAD},
        url=reverse("web:post_detail", args=[workspace.pk, post.pk]),
    )
    invitation = invitation_create(
        workspace=workspace, actor=owner, email="invitee@example.com", role=Role.EDITOR
    )
    token = api_token_create(user=owner, name=f"Token {PAYLOAD}", workspaces=[workspace])
    # The inbox: a conversation whose every shown field carries a payload, a note and a saved reply.
    conversation = Conversation.objects.create(
        workspace=workspace, channel=channel, variant=post.variants.get(), root_remote_id="root", kind=PAYLOAD
    )
    message = Message.objects.create(
        conversation=conversation,
        remote_id="m1",
        author_id="a1",
        author_handle=f"fan{IMG}",
        author_name=f"Fan {PAYLOAD}",
        text=f"Message {PAYLOAD}",
        created_at=timezone.now(),
        language="de",
        sentiment="negative",
        sentiment_reasons=[{"word": f"Reason {PAYLOAD}", "weight": 0.5}],
    )
    Note.objects.create(conversation=conversation, author=owner, text=f"Note {PAYLOAD}")
    saved_reply = SavedReply.objects.create(workspace=workspace, title=f"Saved {IMG}", text=f"Hi {PAYLOAD}")
    short_link = link_create(
        workspace=workspace,
        actor=owner,
        target_url=f"https://shop.example/?q={SCRIPT}",
        post=post,
        channel=channel,
        campaign=campaign,
        utm={"utm_term": PAYLOAD[:100]},
    )
    # Listening: a saved query, a source whose last error and a mention whose every field carries a payload.
    query = SavedQuery.objects.create(
        workspace=workspace, name=f"Query {PAYLOAD}", terms=f"Acme\n{IMG}", exclusions=f"x{PAYLOAD}"
    )
    source = Source.objects.create(
        query=query, kind="feed", target=f"https://{PAYLOAD}", last_error=f"E {PAYLOAD}"
    )
    mention = Mention.objects.create(
        workspace=workspace,
        query=query,
        source=source,
        remote_id="m1",
        author=f"A {PAYLOAD}",
        text=f"Acme {PAYLOAD}",
        url="https://blog.example/1",
        published_at=timezone.now(),
        sentiment="negative",
    )
    # An early-warning alert for the mention's hour, with a reshare whose author and text carry payloads.
    alert = Alert.objects.create(
        workspace=workspace,
        hour_start=mention.published_at.replace(minute=0, second=0, microsecond=0),
        negative_count=6,
        total_count=8,
        baseline_count=1.0,
        baseline_share=0.2,
    )
    Reshare.objects.create(
        workspace=workspace,
        mention=mention,
        remote_id="r1",
        subject_remote_id="m1",
        kind="quote",
        author=f"R {PAYLOAD}",
        text=f"Q {PAYLOAD}",
        reshared_at=timezone.now(),
        first_seen_at=timezone.now(),
    )
    # Advocacy: an offer of the post whose suggested text carries a payload.
    offer = AdvocacyOffer.objects.create(
        workspace=workspace, post=post, suggested_texts={channel.network: f"S {PAYLOAD}"}, created_by=owner
    )
    # Leads: a form, a bio page with an entry, a webhook and a lead whose shown fields carry payloads.
    lead_form = lead_services.form_create(
        workspace=workspace,
        actor=owner,
        data=lead_services.FormInput(
            name=f"Form {PAYLOAD}",
            slug="form",
            fields=["name", "company", "message"],
            title_de=f"Titel {PAYLOAD}",
            title_en=f"Title {PAYLOAD}",
            consent_de=f"Einwilligung {PAYLOAD}",
            consent_en=f"Consent {PAYLOAD}",
            thank_you_de=f"Danke {PAYLOAD}",
            thank_you_en=f"Thanks {PAYLOAD}",
        ),
    )
    bio = lead_services.bio_page_create(
        workspace=workspace, actor=owner, slug="bio", title=f"Bio {PAYLOAD}", intro=f"Intro {PAYLOAD}"
    )
    bio_item = lead_services.bio_item_add(
        workspace=workspace, actor=owner, page=bio, label=f"Entry {PAYLOAD}", form=lead_form
    )
    lead_webhook = lead_services.webhook_create(
        workspace=workspace, actor=owner, url="https://crm.example/hook"
    )
    lead = lead_services.lead_submit(
        workspace=workspace,
        form=lead_form,
        data={
            "email": "lead@example.com",
            "name": f"Lead {PAYLOAD}",
            "company": PAYLOAD,
            "consent": "1",
            "consent_version": "1",
        },
        language="en",
        attribution=lead_services.AttributionInput(utm={"utm_campaign": PAYLOAD}),
    ).lead
    assert lead is not None
    # Inbox rules, report schedules and ad budgets: one each, their names carrying payloads.
    from datetime import date
    from decimal import Decimal

    from resonanz.ads.models import AdBudget
    from resonanz.engagement.models import AssignmentRule
    from resonanz.reports.models import ReportSchedule

    rule = AssignmentRule.objects.create(workspace=workspace, name=f"Rule {PAYLOAD}", keywords=PAYLOAD)
    schedule = ReportSchedule.objects.create(
        workspace=workspace,
        name=f"Schedule {PAYLOAD}",
        recipients=[{"email": "boss@example.com", "language": "de"}],
        formats=["pdf"],
    )
    budget = AdBudget.objects.create(
        workspace=workspace,
        campaign_id=campaign.pk,
        amount=Decimal("100.00"),
        currency="EUR",
        period_start=date(2026, 11, 1),
        period_end=date(2026, 11, 30),
    )
    return World(
        message_id=message.pk,
        rule_id=rule.pk,
        schedule_id=schedule.pk,
        budget_id=budget.pk,
        offer_id=offer.pk,
        lead_form_id=lead_form.pk,
        lead_form_slug=lead_form.slug,
        lead_public_id=lead_services.lead_space_get(workspace=workspace).public_id,
        bio_page_id=bio.pk,
        bio_slug=bio.slug,
        bio_item_id=bio_item.pk,
        lead_webhook_id=lead_webhook.pk,
        lead_confirm_token=lead_services.confirmation_token(lead=lead),
        query_id=query.pk,
        source_id=source.pk,
        mention_id=mention.pk,
        alert_id=alert.pk,
        membership_id=workspace.memberships.get(user=owner).pk,
        invitation_id=invitation.invitation.pk,
        invitation_secret=invitation.secret,
        token_id=token.token.pk,
        workspace=workspace,
        second=second,
        owner=owner,
        stranger=stranger,
        channel=channel,
        bad_channel=bad_channel,
        post=post,
        variant=post.variants.get(),
        scheduled=scheduled,
        failed=failed,
        asset=asset,
        batch=batch,
        feed_id=feed.feed.pk,
        feed_token=feed.token,
        link_id=link.link.pk,
        review_token=link.url.rstrip("/").rsplit("/", 1)[-1],
        media_token=signing.TimestampSigner(salt=public_media.SALT).sign_object({"n": "public/none.jpg"}),
        notification=notification,
        campaign_id=campaign.pk,
        conversation_id=conversation.pk,
        saved_reply_id=saved_reply.pk,
        short_link_id=short_link.pk,
        short_link_code=short_link.code,
    )


def _client(user: User | None = None, **kwargs: Any) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **kwargs)
    if user is not None:
        client.force_login(user)
    return client


def _call(client: Client, method: str, url: str, **extra: Any) -> Any:
    return getattr(client, method)(url, **extra)


def _methods(world: World, url: str) -> list[str]:
    """The methods a URL accepts: anything but 405 for an anonymous request (the method checks of
    require_GET/require_POST run before the login check)."""
    anonymous = _client()
    return [m for m in ("get", "post") if _call(anonymous, m, url).status_code != 405]


@dataclass
class Probe:
    endpoint: Endpoint
    url: str
    methods: list[str]


def probes(world: World, urlconf: str | None = None) -> list[Probe]:
    return [
        Probe(endpoint, url, _methods(world, url))
        for endpoint in endpoints(urlconf)
        for url in world.urls(endpoint)
    ]


# -- the permission checks, as functions returning the problems (so that a test can prove they fail) --


def anonymous_problems(world: World, urlconf: str | None = None) -> list[str]:
    problems = []
    login_url = reverse("account_login")
    anonymous = _client()
    for probe in probes(world, urlconf):
        name = probe.endpoint.name
        if not probe.methods:
            problems.append(f"{name} {probe.url}: answers no method")
        kind = LOGIN if probe.endpoint.in_workspace else NON_WORKSPACE.get(name, ("?", ""))[0]
        if kind == "?":
            problems.append(
                f"{name} ({probe.endpoint.route}): not a workspace page; classify it in NON_WORKSPACE"
            )
            continue
        for method in probe.methods:
            if kind == LOGIN:
                response = _call(anonymous, method, probe.url)
                if response.status_code != 302 or not response["Location"].startswith(login_url):
                    problems.append(f"{name} {method.upper()} {probe.url}: {response.status_code}, not login")
            elif kind == TOKEN:
                forged = re.sub(r"/[^/]+(/media/\d+/|/|\.ics)$", r"/forged-TOKEN\1", probe.url)
                assert forged != probe.url, probe.url
                response = _call(anonymous, method, forged)
                if response.status_code not in {404, 410}:
                    problems.append(
                        f"{name} {method.upper()} {forged}: {response.status_code} for a forged token"
                    )
    return problems


def stranger_problems(world: World, urlconf: str | None = None) -> list[str]:
    problems = []
    stranger = _client(world.stranger)
    for probe in probes(world, urlconf):
        if not (probe.endpoint.in_workspace or probe.endpoint.name == "notifications:open"):
            continue  # user-scoped or token pages: see test_user_scoped_pages_show_only_own_things
        for method in probe.methods:
            response = _call(stranger, method, probe.url)
            if response.status_code != 404:
                problems.append(f"{probe.endpoint.name} {method.upper()} {probe.url}: {response.status_code}")
    return problems


def read_only_problems(
    world: World, user: User, urlconf: str | None = None, may_post: dict[str, str] | None = None
) -> list[str]:
    allowed = {**READ_ONLY_MAY_POST, **(may_post or {})}
    problems = []
    client = _client(user)
    for probe in probes(world, urlconf):
        if not probe.endpoint.in_workspace:
            continue
        for method in probe.methods:
            response = _call(client, method, probe.url)
            label = f"{probe.endpoint.name} {method.upper()} {probe.url}"
            if response.status_code >= 500:
                problems.append(f"{label}: {response.status_code}")
            elif method == "post" and probe.endpoint.name not in allowed and response.status_code != 403:
                problems.append(f"{label}: {response.status_code}, expected 403")
    return problems


# -- a URLconf with a view that forgot its check (the walk must catch it) -------------------------


def _forgetful_view(request: HttpRequest, workspace_id: int) -> HttpResponse:
    return HttpResponse(f"workspace {workspace_id} for everyone")


# Used as ROOT_URLCONF by test_a_view_without_its_check_fails_the_walk (allauth for the login redirect).
urlpatterns = [
    path("w/<int:workspace_id>/forgetful/", _forgetful_view, name="forgetful"),
    path("accounts/", include("allauth.urls")),
]


# -- permissions ----------------------------------------------------------------------------------


def test_the_walk_covers_every_part_of_the_ui(world: World) -> None:
    names = {e.name for e in endpoints()}
    for expected in [
        "web:dashboard",
        "web:post_detail",
        "web:workspace_switch",
        "calendar:index",
        "calendar:move",
        "approvals:decide",
        "approvals:comment",
        "bulk:import_detail",
        "bulk:feeds",
        "notifications:open",
        "approvals_public:review",
        "bulk_public:feed",
    ]:
        assert expected in names
    assert not any(e.route.startswith(("admin/", "accounts/", "api/")) for e in endpoints())
    stale = set(NON_WORKSPACE) - names
    assert not stale, f"NON_WORKSPACE names URLs that no longer exist: {stale}"
    assert len(probes(world)) >= 50


def test_anonymous_is_sent_to_login_and_forged_tokens_are_refused(world: World) -> None:
    assert anonymous_problems(world) == []


def test_stranger_gets_404_for_every_get_and_post(world: World) -> None:
    assert stranger_problems(world) == []


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_read_only_roles_get_403_for_every_changing_post(world: World, member, role: str) -> None:
    may_post = AGENT_MAY_POST if role == Role.AGENT else None
    assert read_only_problems(world, member(role), may_post=may_post) == []


def test_a_view_without_its_check_fails_the_walk(world: World, settings) -> None:
    settings.ROOT_URLCONF = __name__
    url = reverse("forgetful", args=[world.workspace.pk])
    assert [e.name for e in endpoints(__name__)] == ["forgetful"]
    assert anonymous_problems(world, __name__) == [
        f"forgetful GET {url}: 200, not login",
        f"forgetful POST {url}: 200, not login",
    ]
    assert stranger_problems(world, __name__) == [f"forgetful GET {url}: 200", f"forgetful POST {url}: 200"]
    assert read_only_problems(world, world.stranger, __name__) == [f"forgetful POST {url}: 200, expected 403"]


def test_read_only_may_post_is_limited_to_their_own_things(world: World, member) -> None:
    analyst = member(Role.ANALYST)
    client = _client(analyst)
    response = client.post(reverse("bulk:feeds", args=[world.workspace.pk]), {"name": "Mein Feed"})
    assert response.status_code == 200
    own = CalendarFeed.objects.get(workspace=world.workspace, created_by=analyst)
    assert (
        client.post(reverse("bulk:feed_revoke", args=[world.workspace.pk, world.feed_id])).status_code == 403
    )
    assert client.post(reverse("bulk:feed_revoke", args=[world.workspace.pk, own.pk])).status_code == 302


def test_read_only_roles_may_set_language_and_mark_own_notifications(world: World, member) -> None:
    analyst = member(Role.ANALYST)
    client = _client(analyst)
    response = client.post(reverse("web:set_language"), {"language": "de", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "de"
    response = client.post(reverse("notifications:mark_read"), {"id": [world.notification.pk], "all": ""})
    assert response.status_code == 302
    client.post(reverse("notifications:mark_read"), {"all": "1"})
    world.notification.refresh_from_db()
    assert world.notification.read_at is None  # the owner's notification stays unread


def test_user_scoped_pages_show_only_own_things(world: World) -> None:
    stranger = _client(world.stranger)
    page = stranger.get(reverse("notifications:list"))
    assert page.status_code == 200
    assert "alert(1)" not in page.content.decode()  # the owner's notification is not listed
    assert stranger.get(reverse("notifications:open", args=[world.notification.pk])).status_code == 404
    home = stranger.get("/")
    assert home.status_code == 302
    assert f"/w/{world.workspace.pk}/" not in home["Location"]


# -- CSRF -----------------------------------------------------------------------------------------


def test_every_post_endpoint_refuses_a_request_without_csrf_token(world: World) -> None:
    strict = _client(world.owner, enforce_csrf_checks=True)
    problems, checked = [], 0
    targets = [
        (p.endpoint.name, p.url)
        for p in probes(world)
        if "post" in p.methods and p.endpoint.name not in CSRF_EXEMPT
    ]
    targets += [("account_login", reverse("account_login")), ("account_logout", reverse("account_logout"))]
    for name, url in targets:
        response = strict.post(url, {"text": "x", "name": "x", "language": "de", "all": "1"})
        checked += 1
        if response.status_code != 403 or b"CSRF" not in response.content:
            problems.append(f"{name} POST {url}: {response.status_code}")
    assert problems == []
    assert checked >= 30
    # The control: with the token, the same kind of request passes.
    token_page = strict.get(reverse("notifications:list"))
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', token_page.content)
    assert token is not None
    ok = strict.post(
        reverse("notifications:mark_read"), {"all": "1", "csrfmiddlewaretoken": token.group(1).decode()}
    )
    assert ok.status_code == 302


def test_htmx_requests_send_the_csrf_token_in_a_header(world: World) -> None:
    strict = _client(world.owner, enforce_csrf_checks=True)
    page = strict.get(reverse("web:dashboard", args=[world.workspace.pk]))
    header = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page.content.decode())
    assert header is not None
    response = strict.post(
        reverse("notifications:mark_read"),
        {"all": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_X_CSRFTOKEN=header.group(1),
    )
    assert response.status_code == 200


# -- rendering every page: CSP and escaping -------------------------------------------------------


class _Inspector(HTMLParser):
    """Collects what a strict CSP would block and what a payload would run."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.csp: list[str] = []
        self.xss: list[str] = []
        self._script: bool = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            kind = (values.get("type") or "").lower()
            self._script = not values.get("src") and kind not in {"application/json", "application/ld+json"}
            if self._script:
                self.csp.append("<script> without src")
        if tag == "style":
            self.csp.append("<style> element")
        for name, value in attrs:
            if name == "style":
                self.csp.append(f"<{tag} style={value!r}>")
            if name.startswith("on"):
                self.csp.append(f"<{tag} {name}={value!r}>")
                if value and "alert(1)" in value:
                    self.xss.append(f"<{tag} {name}={value!r}>")
            if name.startswith("hx-on"):
                self.csp.append(f"<{tag} {name}> (htmx evaluates it)")
            if name in {"href", "src", "action", "formaction"} and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.csp.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and values.get("src") == "x":
            self.xss.append("<img src=x>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and "alert(1)" in data:
            self.xss.append(f"script runs {data!r}")


def inspect_html(html: str) -> _Inspector:
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector


def test_the_inspector_finds_what_a_strict_csp_blocks_and_payloads_that_run() -> None:
    found = inspect_html(
        '<p style="color:red" onclick="go()">x</p><script>alert(1)</script><script src="/a.js"></script>'
        '<script type="application/json">{"a": 1}</script><style>p{}</style><a href="javascript:x()">y</a>'
        '<div hx-on:click="x()"></div><img src=x onerror=alert(1)>'
    )
    assert len(found.csp) == 7
    assert len(found.xss) == 3
    clean = inspect_html(f'<p title="{IMG.replace('"', "&quot;")}">&lt;script&gt;alert(1)&lt;/script&gt;</p>')
    assert (clean.csp, clean.xss) == ([], [])


def _csp_problems(response: HttpResponse) -> list[str]:
    policy = response.get("Content-Security-Policy", "")
    problems = []
    if not policy:
        problems.append("no Content-Security-Policy header")
    for bad in ("'unsafe-inline'", "'unsafe-eval'", "*"):
        if bad in policy.split():
            problems.append(f"CSP allows {bad}")
    directives = dict([*part.strip().split(" ", 1), ""][:2] for part in policy.split(";") if part.strip())
    for directive in ("script-src", "style-src", "default-src"):
        if directive in directives and directives[directive].strip() != "'self'":
            problems.append(f"CSP {directive} {directives[directive]!r}")
    return problems


@dataclass
class Rendered:
    label: str
    response: Any  # the test client's response

    @property
    def body(self) -> str:
        if not hasattr(self, "_body"):
            raw: bytes = self.response.getvalue()  # streamed answers (media files) too
            self._body = raw.decode(errors="replace")
        return self._body

    @property
    def is_html(self) -> bool:
        kind: str = self.response.get("Content-Type", "")
        return kind.startswith("text/html")


def rendered_pages(world: World) -> Iterator[Rendered]:
    """Every GET answer of the walk as the owner (full page and, for HTMX, partial), the public pages
    anonymously, and a few POST answers that echo what was sent."""
    owner = _client(world.owner)
    anonymous = _client()
    for probe in probes(world):
        if "get" not in probe.methods:
            continue
        public = NON_WORKSPACE.get(probe.endpoint.name, ("",))[0] in {TOKEN, PUBLIC}
        client = anonymous if public else owner
        label = f"{probe.endpoint.name} GET {probe.url}"
        yield Rendered(label, client.get(probe.url))
        yield Rendered(f"{label} (htmx)", client.get(probe.url, HTTP_HX_REQUEST="true"))
    queries: list[tuple[str, dict[str, Any]]] = [
        (reverse("calendar:index", args=[world.workspace.pk]), {"view": "week"}),
        (reverse("calendar:index", args=[world.workspace.pk]), {"view": "list"}),
        (reverse("calendar:move", args=[world.workspace.pk]), {"post": world.scheduled.pk}),
        (reverse("web:posts", args=[world.workspace.pk]), {"status": "in_review"}),
    ]
    for url, query in queries:
        yield Rendered(f"GET {url}?{query}", owner.get(url, query))
    yield Rendered("login page", anonymous.get(reverse("account_login")))
    yield Rendered(
        "login with a payload",
        anonymous.post(reverse("account_login"), {"login": f"x{PAYLOAD}@example.com", "password": PAYLOAD}),
    )
    ws = world.workspace.pk
    echoes = [
        (reverse("web:post_check", args=[ws]), {"text": PAYLOAD, "channels": [world.channel.pk]}),
        (reverse("approvals:comment", args=[ws, world.post.pk]), {"comment": PAYLOAD}),
        (reverse("bulk:feeds", args=[ws]), {"name": PAYLOAD}),
        (reverse("bulk:feeds", args=[ws]), {"name": ""}),
        *(
            (
                reverse("web:channel_connect", args=[ws, network]),
                {f"{network}-{f.name}": f"x{SCRIPT}.example" for f in _connect_fields(network)},
            )
            for network in network_slugs()
        ),
        (reverse("approvals_public:review", args=[world.review_token]), {"comment": PAYLOAD}),
    ]
    for url, data in echoes:
        client = anonymous if url.startswith("/review/") else owner
        yield Rendered(f"POST {url}", client.post(url, data))
        yield Rendered(f"POST {url} (htmx)", client.post(url, data, HTTP_HX_REQUEST="true"))


def test_every_page_has_a_strict_csp_and_no_inline_code(world: World) -> None:
    problems, pages = [], 0
    for page in rendered_pages(world):
        if not page.is_html or page.response.status_code in {301, 302, 304}:
            continue
        pages += 1
        for problem in _csp_problems(page.response) + inspect_html(page.body).csp:
            problems.append(f"{page.label}: {problem}")
    assert problems == []
    assert pages >= 40


def test_user_content_is_escaped_on_every_page(world: World) -> None:
    problems, shown = [], 0
    for page in rendered_pages(world):
        body = page.body
        if page.response.status_code >= 500:
            problems.append(f"{page.label}: {page.response.status_code}")
        if not page.is_html:
            if any(m in body for m in RAW_MARKERS):
                # Raw is right for a CSV or an iCal file, never for something a browser renders.
                kind = page.response.get("Content-Type", "")
                if not kind.startswith(("text/csv", "text/calendar", "application/")):
                    problems.append(f"{page.label}: raw payload served as {kind}")
                elif page.response.get("X-Content-Type-Options") != "nosniff":
                    problems.append(f"{page.label}: raw payload without nosniff")
            continue
        problems += [f"{page.label}: raw {m!r}" for m in RAW_MARKERS if m in body]
        problems += [f"{page.label}: {x}" for x in inspect_html(body).xss]
        shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert problems == []
    assert shown >= 20  # the payloads were really on the pages, as text


def test_payload_in_every_field_is_shown_as_text(world: World) -> None:
    owner = _client(world.owner)
    ws = world.workspace.pk
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    pages = {
        "dashboard": reverse("web:dashboard", args=[ws]),
        "detail": reverse("web:post_detail", args=[ws, world.post.pk]),
        "composer": reverse("web:post_edit", args=[ws, world.post.pk]),
        "channels": reverse("web:channels", args=[ws]),
        "notifications": reverse("notifications:list"),
        "import": reverse("bulk:import_detail", args=[ws, world.batch.pk]),
        "feeds": reverse("bulk:feeds", args=[ws]),
        "inbox": reverse("engagement:inbox", args=[ws]),
        "thread": reverse("engagement:thread", args=[ws, world.conversation_id]),
        "saved_replies": reverse("engagement:saved_replies", args=[ws]),
    }
    html = {k: owner.get(v).content.decode() for k, v in pages.items()}
    check = owner.post(
        reverse("web:post_check", args=[ws]), {"text": "Hallo", "channels": [world.channel.pk]}
    )
    html["check"] = check.content.decode()
    assert f"WS {escaped}" in html["dashboard"]  # workspace name
    assert "Org &quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html["dashboard"]  # organisation
    assert f"Planned {escaped}" in html["dashboard"]
    assert f"Text {escaped}" in html["detail"]
    assert f"Part {escaped}" in html["composer"]  # thread part
    assert f"Comment {escaped}" in html["detail"]  # approval comment
    assert f"Name {escaped}" in html["check"]  # channel display name (the previews)
    assert f"h{escaped}" in html["channels"]  # channel handle
    assert f"P {escaped}" in html["notifications"]  # notification parameter
    assert f"Cell {escaped}" in html["import"]  # CSV cell
    assert f"Feed {escaped}" in html["feeds"]
    assert f"Message {escaped}" in html["inbox"]  # a message from the network, in the list
    assert f"Message {escaped}" in html["thread"]
    assert f"Fan {escaped}" in html["thread"]  # its author
    assert f"Reason {escaped}" in html["thread"]  # the classifier's reasons
    assert f"Note {escaped}" in html["thread"]  # an internal note
    assert f"Hi {escaped}" in html["saved_replies"]


# -- login throttling -----------------------------------------------------------------------------


def _login(client: Client, email: str, password: str) -> Any:
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _throttled(response: HttpResponse) -> bool:
    return response.status_code == 429 or "Too many failed login attempts" in response.content.decode()


def test_login_is_throttled_after_five_failures_for_one_email(settings, make_user, monkeypatch) -> None:
    from resonanz.config.settings import base

    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS  # the production value (tests turn it off)
    assert settings.ACCOUNT_RATE_LIMITS["login_failed_pair"] == "5/5m/key"
    cache.clear()
    password = "correct horse battery staple"
    user = make_user("victim@example.com", password=password)
    client = _client()
    for _ in range(5):
        response = _login(client, user.email, "wrong password 123")
        assert response.status_code == 200
        assert not _throttled(response)
        assert "_auth_user_id" not in client.session
    # The 6th attempt within 5 minutes is refused, even with the right password.
    response = _login(client, user.email, password)
    assert _throttled(response)
    assert "_auth_user_id" not in client.session
    # Another account from another address is not affected by this key.
    other = make_user("bystander@example.com", password=password)
    assert _login(_client(REMOTE_ADDR="10.0.0.7"), other.email, password).status_code == 302
    # Five minutes later the e-mail may sign in again.
    later = time.time() + 5 * 60 + 1
    monkeypatch.setattr(time, "time", lambda: later)
    response = _login(client, user.email, password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    cache.clear()


def test_login_is_throttled_per_address_across_emails(settings, make_user) -> None:
    from resonanz.config.settings import base

    settings.ACCOUNT_RATE_LIMITS = base.ACCOUNT_RATE_LIMITS
    cache.clear()
    client = _client(REMOTE_ADDR="192.0.2.9")
    for i in range(10):
        assert not _throttled(_login(client, f"guess{i}@example.com", "wrong password 123"))
    user = make_user("fresh@example.com")
    assert _throttled(_login(client, user.email, "correct horse battery staple"))
    cache.clear()


def test_tests_run_without_throttling_but_production_has_it() -> None:
    """The test settings turn the limits off; the production settings must not."""
    code = (
        "import django, os; django.setup(); from django.conf import settings as s; "
        "print(s.ACCOUNT_RATE_LIMITS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, "
        "s.SESSION_COOKIE_HTTPONLY)"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "resonanz.config.settings.base",
        "RESONANZ_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "RESONANZ_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "RESONANZ_DATA_DIR": tempfile.mkdtemp(prefix="resonanz-security-"),
        "EMAIL_HOST": "smtp.example.com",
        "PYTHONPATH": str(Path(__file__).resolve().parents[3]),
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split("}", 1)[0] + "}" == (
        "{'login_failed': '10/m/ip', 'login_failed_pair': '5/5m/key', 'login_failed_account': '50/h/key'}"
    )
    assert out.stdout.split("}", 1)[1].split() == ["True", "True", "True"]


# -- headers --------------------------------------------------------------------------------------


def test_security_headers(world: World) -> None:
    owner = _client(world.owner)
    for url in [reverse("web:dashboard", args=[world.workspace.pk]), reverse("account_login")]:
        response = owner.get(url) if "/w/" in url else _client().get(url)
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
        assert "form-action 'self'" in response["Content-Security-Policy"]


def test_session_cookie_is_http_only(make_user) -> None:
    user = make_user("cookie@example.com")
    response = _login(_client(), user.email, "correct horse battery staple")
    assert response.status_code == 302
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "lax"


# -- a real browser: no payload runs --------------------------------------------------------------


@pytest.mark.browser
def test_no_payload_runs_in_a_browser(browser, live_server, transactional_db, world: World) -> None:
    ws = world.workspace.pk
    pages = [
        reverse("web:dashboard", args=[ws]),
        reverse("web:posts", args=[ws]),
        reverse("web:post_detail", args=[ws, world.post.pk]),
        reverse("web:post_edit", args=[ws, world.post.pk]),
        reverse("web:channels", args=[ws]),
        reverse("calendar:index", args=[ws]) + "?view=month",
        reverse("calendar:index", args=[ws]) + "?view=list",
        reverse("approvals:list", args=[ws]),
        reverse("bulk:index", args=[ws]),
        reverse("bulk:import_detail", args=[ws, world.batch.pk]),
        reverse("bulk:feeds", args=[ws]),
        reverse("notifications:list"),
        reverse("leads:list", args=[ws]),
        reverse("leads:form_edit", args=[ws, world.lead_form_id]),
        reverse("leads:bio_edit", args=[ws, world.bio_page_id]),
        reverse("leads_public:bio", args=[world.bio_slug]),
        reverse("leads_public:form", args=[world.lead_public_id, world.lead_form_slug]),
    ]
    session = Client()
    session.force_login(world.owner)
    context = browser.new_context(locale="en-US")
    context.add_cookies(
        [{"name": "sessionid", "value": session.cookies["sessionid"].value, "url": live_server.url}]
    )
    dialogs: list[str] = []
    blocked: list[str] = []
    page = context.new_page()
    page.set_default_timeout(10_000)

    def on_dialog(dialog: Any) -> None:
        dialogs.append(f"{page.url}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        for url in pages:
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            assert "alert(1)" in page.locator("body").inner_text(), url  # the payload is there, as text
        page.goto(live_server.url + reverse("web:dashboard", args=[ws]))
        page.locator("#workspace-switcher summary").click()  # the workspace names in the open switcher
        page.wait_for_timeout(200)
        page.goto(live_server.url + reverse("approvals_public:review", args=[world.review_token]))
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    assert dialogs == []
    # Nothing was even attempted: an injected inline script would show up as a CSP violation.
    assert blocked == []
