"""Searching a social network through one of the workspace's channels, by the connector contract.

The target is the channel's id; the channel's connector answers ``search_posts`` (or raises
``NotSupported``: that network offers no search). No network is named here. Each term is searched on its
own with its own cursor (stored together as JSON), so adding a term later starts that term afresh.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from resonanz.channels.models import Channel
from resonanz.channels.services import channel_account, channel_store_account
from resonanz.connectors.base import Capability, ConnectorError, NotSupported, Reshare
from resonanz.connectors.registry import get_connector

from .base import FetchResult, FoundItem, SourceError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from resonanz.accounts.models import Workspace
    from resonanz.listening.models import Source


class NetworkSearchSource:
    kind: str = "network"
    label: Promise = _("Search on a channel's network")
    target_help: Promise = _("The number of the channel to search with (its network must offer search).")

    def fetch(
        self,
        *,
        workspace: Workspace,
        target: str,
        terms: list[str],
        cursor: str,
        credentials: Mapping[str, str],
    ) -> FetchResult:
        channel = (
            Channel.objects.filter(pk=int(target), workspace=workspace, owner__isnull=True).first()
            if target.isdigit()
            else None
        )
        if channel is None:
            raise SourceError(f"channel {target} is not in this workspace")
        connector = get_connector(channel.network)
        account = channel_account(channel=channel)
        try:
            cursors: dict[str, str] = json.loads(cursor) if cursor else {}
        except ValueError:
            cursors = {}
        items: list[FoundItem] = []
        try:
            for term in terms:
                page = connector.search_posts(account=account, query=term, cursor=cursors.get(term, ""))
                cursors[term] = page.cursor
                items.extend(
                    FoundItem(
                        remote_id=post.remote_id,
                        text=post.text,
                        published_at=post.created_at,
                        url=post.url,
                        author=post.author_handle,
                    )
                    for post in page.posts
                )
        except NotSupported as exc:
            raise SourceError(f"this channel's network offers no search: {exc}") from exc
        except ConnectorError as exc:
            raise SourceError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            channel_store_account(channel=channel, account=account)
        return FetchResult(items=items, cursor=json.dumps(cursors, sort_keys=True))


def network_reshares(*, workspace: Workspace, source: Source, remote_id: str) -> list[Reshare] | None:
    """The reposts and quotes of the post ``remote_id`` found by ``source``, through its channel's
    connector; ``None`` when the source is no network search or its network declares no
    ``Capability.RESHARES``. A connector failure raises ``SourceError``."""
    if source.kind != NetworkSearchSource.kind or not source.target.isdigit():
        return None
    channel = Channel.objects.filter(pk=int(source.target), workspace=workspace, owner__isnull=True).first()
    if channel is None:
        return None
    connector = get_connector(channel.network)
    if Capability.RESHARES not in connector.capabilities:
        return None
    account = channel_account(channel=channel)
    try:
        return connector.fetch_reshares(account=account, remote_id=remote_id)
    except NotSupported:
        return None
    except ConnectorError as exc:
        raise SourceError(f"{type(exc).__name__}: {exc}") from exc
    finally:
        channel_store_account(channel=channel, account=account)


PLUGIN = NetworkSearchSource()
