"""Listening sources as small plugins: one module per kind, registered here by kind.

No network is named here: searching a social network goes through the connector contract
(``network.py`` calls ``search_posts`` of the channel's connector).
"""

from __future__ import annotations

from . import discourse, feed, network, wiki
from .base import FetchResult, FoundItem, SourceError, SourcePlugin

REGISTRY: dict[str, SourcePlugin] = {
    feed.PLUGIN.kind: feed.PLUGIN,
    network.PLUGIN.kind: network.PLUGIN,
    wiki.PLUGIN.kind: wiki.PLUGIN,
    discourse.PLUGIN.kind: discourse.PLUGIN,
}

__all__ = ["REGISTRY", "FetchResult", "FoundItem", "SourceError", "SourcePlugin"]
