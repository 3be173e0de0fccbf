"""Static files finder for the registered connectors' own files (``connectors/<network>/static/``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, overload

from django.contrib.staticfiles import utils
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

from .registry import connector_dirs


class ConnectorFinder(BaseFinder):
    def _storages(self) -> list[FileSystemStorage]:
        return [FileSystemStorage(location=str(path)) for path in connector_dirs("static")]

    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...

    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...

    def find(self, path: str, find_all: bool = False) -> str | list[str] | None:
        matches: list[str] = []
        for storage in self._storages():
            if storage.exists(path):
                match = storage.path(path)
                if not find_all:
                    return match
                matches.append(match)
        return matches if find_all else None

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        for storage in self._storages():
            for path in utils.get_files(storage, list(ignore_patterns or [])):
                yield path, storage
