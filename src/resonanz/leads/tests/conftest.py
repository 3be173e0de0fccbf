"""Fixtures of the lead tests: forms with and without double opt-in, a campaign, a channel, a post that went
out on it, a short link to a bio page, a test client that looks like a phone's browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from resonanz.accounts.models import User, Workspace
from resonanz.campaigns.models import Campaign
from resonanz.campaigns.services import campaign_create
from resonanz.channels.models import Channel
from resonanz.leads import services
from resonanz.leads.models import BioPage, LeadForm
from resonanz.links import services as link_services
from resonanz.posts.models import Post, Variant

BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
CONSENT_DE = "Ja, ich möchte den Newsletter per E-Mail erhalten. Abmeldung jederzeit möglich."
CONSENT_EN = "Yes, I want to receive the newsletter by e-mail. Unsubscribe at any time."


@pytest.fixture(autouse=True)
def _fresh_state() -> None:
    # A new daily salt per test (its table is rolled back): rate-limit keys, which are salted address
    # hashes, never carry over from one test to the next, even in a shared Redis (never flushed here).
    link_services._salt_memo.clear()


@pytest.fixture
def visitor() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9")


@pytest.fixture
def campaign(workspace: Workspace, owner: User) -> Campaign:
    return campaign_create(workspace=workspace, actor=owner, name="Sommer Aktion 2026", goal="leads")


@pytest.fixture
def channel(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("mastodon", handle="brand@social.example")


@pytest.fixture
def post(workspace: Workspace, owner: User, campaign: Campaign, channel: Channel) -> Post:
    post = Post.objects.create(workspace=workspace, author=owner, text="Newsletter!", campaign=campaign)
    Variant.objects.create(post=post, channel=channel)
    return post


@pytest.fixture
def make_form(workspace: Workspace, owner: User) -> Callable[..., LeadForm]:
    def make(**extra: Any) -> LeadForm:
        values: dict[str, Any] = {
            "name": "Newsletter",
            "fields": ["name", "company"],
            "title_de": "Newsletter abonnieren",
            "title_en": "Subscribe to the newsletter",
            "consent_de": CONSENT_DE,
            "consent_en": CONSENT_EN,
            "thank_you_de": "Danke!",
            "thank_you_en": "Thanks!",
        } | extra
        return services.form_create(workspace=workspace, actor=owner, data=services.FormInput(**values))

    return make


@pytest.fixture
def lead_form(make_form: Callable[..., LeadForm]) -> LeadForm:
    return make_form()


@pytest.fixture
def public_id(workspace: Workspace) -> str:
    return services.lead_space_get(workspace=workspace).public_id


@pytest.fixture
def bio(workspace: Workspace, owner: User, lead_form: LeadForm) -> BioPage:
    page = services.bio_page_create(
        workspace=workspace, actor=owner, slug="brand-a", title="Brand A", intro="Hallo"
    )
    services.bio_item_add(workspace=workspace, actor=owner, page=page, label="Newsletter", form=lead_form)
    return page


def submit_data(form: LeadForm, **extra: str) -> dict[str, str]:
    return {
        "token": services.form_token(form=form),
        "consent_version": str(form.consent_version),
        "email": "erika@example.de",
        "name": "Erika Mustermann",
        "company": "Muster GmbH",
        "consent": "1",
        "lang": "de",
    } | extra


@pytest.fixture
def hook_url() -> str:
    return "https://crm.example/hook"
