"""Template loader for the registered connectors' own templates (``connectors/<network>/templates/``).

Listed in ``TEMPLATES[...]["OPTIONS"]["loaders"]``; it follows ``settings.RESONANZ_CONNECTORS``, so a
network's templates live in its folder and need no entry anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from django.template.loaders.filesystem import Loader as FilesystemLoader

from .registry import connector_dirs


class Loader(FilesystemLoader):
    def get_dirs(self) -> list[str | Path]:
        return list(connector_dirs("templates"))
