"""Template filters for networks: ``{{ channel.network|network_name }}`` shows "Mastodon", not the slug.

The name comes from the connector registry (``display_name`` of the registered connector), looked up once
per slug and process; a slug without a connector (a network removed from the settings, a typo in old data)
is shown capitalised instead of failing the page.
"""

from __future__ import annotations

import functools

from django import template

from resonanz.connectors.registry import UnknownNetwork, get_connector

register = template.Library()


@functools.cache
def network_display_name(network: str) -> str:
    """The network's name as users know it ("Mastodon", "Bluesky") for a slug ("mastodon")."""
    try:
        name = get_connector(network).display_name
    except (UnknownNetwork, ImportError):
        name = ""
    return str(name or network.title())


@register.filter(name="network_name")
def network_name(network: object) -> str:
    """``{{ variant.channel.network|network_name }}``: the network's display name (autoescaped as usual)."""
    return network_display_name(str(network or ""))
