"""docs/connectors/<slug>.md exists for every registered network and names the code's scopes and version.

The scopes and the pinned API version are read from the connectors' own constants, so changing a scope or
moving a version without updating the operator docs fails here (issue 9).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from resonanz.connectors.bluesky import oauth as bluesky_oauth
from resonanz.connectors.facebook import graph as facebook_graph
from resonanz.connectors.facebook import provider as facebook_provider
from resonanz.connectors.facebook import webhooks as facebook_webhooks
from resonanz.connectors.instagram import provider as instagram_provider
from resonanz.connectors.linkedin import client as linkedin_client
from resonanz.connectors.linkedin import oauth as linkedin_oauth
from resonanz.connectors.mastodon import oauth as mastodon_oauth
from resonanz.connectors.registry import network_slugs
from resonanz.connectors.threads import client as threads_client
from resonanz.connectors.threads import oauth as threads_oauth
from resonanz.connectors.x import oauth as x_oauth

DOCS = Path(__file__).resolve().parents[4] / "docs" / "connectors"
HEADINGS = ("## What works", "## Scopes", "## API version", "## App review", "## Register the app")

# slug -> (every scope the code can request, the pinned version as the docs write it)
FACTS: dict[str, tuple[tuple[str, ...], str]] = {
    "bluesky": ((bluesky_oauth.MAIN_PASSWORD_SCOPE,), "none"),
    "mastodon": (tuple(mastodon_oauth.SCOPES.split()), "v1"),
    "x": (x_oauth.SCOPES, "2"),
    "facebook": (
        facebook_provider.SCOPES + facebook_provider.ADS_SCOPES + facebook_webhooks.PUSH_SCOPES,
        facebook_graph.GRAPH_VERSION,
    ),
    "instagram": (instagram_provider.SCOPES + facebook_webhooks.PUSH_SCOPES, facebook_graph.GRAPH_VERSION),
    "linkedin": (
        linkedin_oauth.MEMBER_SCOPES + linkedin_oauth.PAGE_SCOPES + linkedin_oauth.ADS_SCOPES,
        linkedin_client.API_VERSION,
    ),
    "threads": (threads_oauth.SCOPES, threads_client.API_VERSION),
}


def test_every_registered_network_has_facts() -> None:
    assert sorted(FACTS) == sorted(network_slugs()), "add the new network's docs file and its FACTS entry"


@pytest.mark.parametrize("slug", sorted(FACTS))
def test_network_doc_names_code_scopes_and_version(slug: str) -> None:
    path = DOCS / f"{slug}.md"
    assert path.is_file(), f"{path} missing"
    text = path.read_text(encoding="utf-8")
    for heading in HEADINGS:
        assert re.search(rf"^{re.escape(heading)}\s*$", text, re.M), f"{slug}: heading {heading!r} missing"
    scopes_section = text.split("## Scopes", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"`([^`\s]+)`", scopes_section))
    scopes, version = FACTS[slug]
    missing = [scope for scope in scopes if scope not in documented]
    assert not missing, f"{slug}: scopes requested in code but not in the docs: {missing}"
    assert f"Pinned version: `{version}`" in text, f"{slug}: docs do not name the pinned version {version!r}"


def test_overview_links_every_network_doc() -> None:
    overview = (DOCS.parent / "connectors.md").read_text(encoding="utf-8")
    for slug in FACTS:
        assert f"connectors/{slug}.md" in overview, f"docs/connectors.md does not link connectors/{slug}.md"
