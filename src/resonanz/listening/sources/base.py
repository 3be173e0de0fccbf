"""The contract of a listening source: one module per kind, registered in ``sources.REGISTRY``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from django.utils.functional import Promise

if TYPE_CHECKING:
    from resonanz.accounts.models import Workspace


class SourceError(Exception):
    """The source could not be read this time (kept on the source as ``last_error``; polled again later)."""


@dataclass(frozen=True)
class FoundItem:
    remote_id: str
    text: str
    published_at: datetime
    url: str = ""
    author: str = ""


@dataclass(frozen=True)
class FetchResult:
    items: list[FoundItem]
    cursor: str  # handed back on the next poll; opaque to everything but the source


class SourcePlugin(Protocol):
    kind: str
    label: Promise
    #: Help for the target field ("the feed's address", "the channel to search with").
    target_help: Promise

    def fetch(
        self,
        *,
        workspace: Workspace,
        target: str,
        terms: list[str],
        cursor: str,
        credentials: Mapping[str, str],
    ) -> FetchResult:
        """Read the source from ``cursor`` on. ``credentials``: the source's own secrets (empty for public
        sources), stored encrypted on the source."""
        ...
