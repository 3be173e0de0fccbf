"""Template filters for networks: ``{{ channel.network|network_name }}`` shows its name, not the slug.

The name comes from the connector registry (``display_name`` of the registered connector), looked up once
per slug and process; a slug without a connector (a network removed from the settings, a typo in old data)
is shown capitalised instead of failing the page.
"""

from __future__ import annotations

from django import template

from resonanz.connectors.registry import network_display_name

register = template.Library()


@register.filter(name="network_name")
def network_name(network: object) -> str:
    """``{{ variant.channel.network|network_name }}``: the network's display name (autoescaped as usual)."""
    return network_display_name(str(network or ""))
