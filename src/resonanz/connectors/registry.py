"""The explicit connector registry: ``settings.RESONANZ_CONNECTORS`` maps a network slug to its class."""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Connector


class UnknownNetwork(LookupError):
    pass


@cache
def get_connector(network: str) -> Connector:
    path = settings.RESONANZ_CONNECTORS.get(network)
    if path is None:
        raise UnknownNetwork(f"no connector registered for network {network!r}")
    cls = import_string(path)
    connector = cls()
    if not isinstance(connector, Connector):
        raise TypeError(f"{path} is not a Connector")
    return connector


def network_choices() -> list[tuple[str, str]]:
    result = []
    for slug in settings.RESONANZ_CONNECTORS:
        try:
            result.append((slug, get_connector(slug).display_name))
        except ImportError:
            result.append((slug, slug.title()))
    return result


def network_display_name(network: str) -> str:
    """"Mastodon", "Bluesky" …: the connector's own name, else the slug capitalised."""
    try:
        return get_connector(network).display_name
    except (UnknownNetwork, ImportError):
        return network.title()
