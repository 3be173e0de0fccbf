"""Fixtures of the bulk tests: logged-in clients, a Mastodon and a Bluesky channel, CSV builders."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

import pytest

from resonanz.channels.models import Channel

FUTURE = "01.12.2099"  # a date far enough ahead (the DST tests use 2099 as well)


@pytest.fixture
def mastodon(make_channel: Callable[..., Channel]) -> Channel:
    # make_channel("mastodon") carries cached instance limits (500 characters): no network needed.
    return make_channel("mastodon", handle="brand@social.example")


@pytest.fixture
def bluesky(make_channel: Callable[..., Channel]) -> Channel:
    return make_channel("bluesky", base_url="https://bsky.social", handle="brand.bsky.social")


def make_csv(
    rows: list[list[str]],
    *,
    header: list[str] | None = None,
    delimiter: str = ";",
    encoding: str = "utf-8",
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header or ["Datum", "Uhrzeit", "Kanäle", "Text"])
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)
