"""The explicit connector registry: ``settings.RESONANZ_CONNECTORS`` maps a network slug to its class.

Everything outside ``connectors/`` learns about networks here: which exist (``network_slugs``), what each
declares (``network_spec``: name, colour, limits, options, connect flow, preview) and where its folder is
(templates and static files are found there, see ``loaders.py`` and ``finders.py``).
"""

from __future__ import annotations

import inspect
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

from .base import Connector
from .base.spec import NetworkSpec


class UnknownNetwork(LookupError):
    pass


@cache
def _load(network: str, path: str) -> Connector:
    cls = import_string(path)
    connector = cls()
    if not isinstance(connector, Connector):
        raise TypeError(f"{path} is not a Connector")
    return connector


def get_connector(network: str) -> Connector:
    # Keyed by the dotted path too, so a test's override_settings(RESONANZ_CONNECTORS=…) takes effect.
    path = settings.RESONANZ_CONNECTORS.get(network)
    if path is None:
        raise UnknownNetwork(f"no connector registered for network {network!r}")
    return _load(network, path)


def network_slugs() -> list[str]:
    """The registered networks, in the order of the settings."""
    return list(settings.RESONANZ_CONNECTORS)


def registered_connectors() -> list[Connector]:
    return [get_connector(slug) for slug in network_slugs()]


def network_spec(network: str) -> NetworkSpec:
    return get_connector(network).spec


def find_spec(network: str) -> NetworkSpec | None:
    """The spec, or None for a slug without a connector (old data, a network removed from settings)."""
    try:
        return network_spec(network)
    except (UnknownNetwork, ImportError):
        return None


def network_choices() -> list[tuple[str, str]]:
    """``(slug, display name)`` of every registered network (usable as callable model choices)."""
    return [(slug, network_display_name(slug)) for slug in network_slugs()]


def network_display_name(network: str) -> str:
    """The connector's own name, else the slug capitalised (a page never fails over old data)."""
    spec = find_spec(network)
    return spec.brand.display_name if spec is not None else network.title()


def connector_dir(network: str) -> Path:
    """The connector's folder (where its ``provider`` module lives): its templates and static files."""
    return Path(inspect.getfile(type(get_connector(network)))).resolve().parent


def connector_dirs(subdir: str) -> list[Path]:
    """``<connector folder>/<subdir>`` of every registered connector that has one."""
    found = []
    for slug in network_slugs():
        try:
            path = connector_dir(slug) / subdir
        except ImportError:
            continue
        if path.is_dir() and path not in found:
            found.append(path)
    return found
