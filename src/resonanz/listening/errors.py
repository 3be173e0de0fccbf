"""Typed errors of listening (a view turns them into 404)."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist


class ListeningNotFound(ObjectDoesNotExist):
    """The query, source or mention is not in this workspace."""
