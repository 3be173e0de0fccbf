"""Reads of uploaded media files (the composer shows thumbnails and previews of them).

Writes stay in ``services.media_asset_create``. Every function takes the workspace: an id from another
workspace is simply not found.
"""

from __future__ import annotations

from collections.abc import Iterable

from resonanz.accounts.models import Workspace

from .models import MediaAsset


def media_asset_get(*, workspace: Workspace, asset_id: int) -> MediaAsset:
    """One media file of the workspace (``MediaAsset.DoesNotExist`` otherwise)."""
    return MediaAsset.objects.get(workspace=workspace, pk=asset_id)


def media_asset_list(*, workspace: Workspace, asset_ids: Iterable[int]) -> list[MediaAsset]:
    """The workspace's media files with these ids, in the order of ``asset_ids`` (unknown ids left out)."""
    ids = list(dict.fromkeys(asset_ids))
    found = {a.pk: a for a in MediaAsset.objects.filter(workspace=workspace, pk__in=ids)}
    return [found[i] for i in ids if i in found]
