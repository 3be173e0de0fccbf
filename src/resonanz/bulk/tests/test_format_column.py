"""The optional format column: each network's declared formats (``NetworkSpec.formats``), by value, alias
or label in either language; applied to the row's channels that offer it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from resonanz.bulk import importer
from resonanz.bulk.importer import ChannelRef, Column, parse_file
from resonanz.bulk.services import import_batch_create, import_batch_run
from resonanz.posts.models import Variant

from .conftest import FUTURE, make_csv

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CHANNELS = [
    ChannelRef(id=1, network="instagram", handle="brand_ig"),
    ChannelRef(id=2, network="bluesky", handle="brand.bsky.social"),
    ChannelRef(id=3, network="facebook", handle="Brand Page"),
]


def parse_one(cell: str, channels: str = "instagram:brand_ig", header: str = "Format"):
    data = make_csv(
        [["01.12.2026", "09:00", channels, "Hallo", cell]],
        header=["Datum", "Uhrzeit", "Kanäle", "Text", header],
    )
    parsed = parse_file(data, channels=CHANNELS, time_zone="Europe/Berlin", now=NOW)
    assert Column.FORMAT in parsed.columns, parsed.ignored_columns
    [row] = parsed.rows
    return row


@pytest.mark.parametrize("header", ["Format", "format", "Beitragsformat", "Post format", "Beitragsart"])
def test_the_column_is_found_by_its_german_and_english_names(header: str) -> None:
    assert parse_one("Story", header=header).formats == {1: "story"}


@pytest.mark.parametrize("cell", ["story", "Story", "STORIES", " stories "])
def test_values_and_aliases_in_any_case(cell: str) -> None:
    row = parse_one(cell)
    assert row.ok, row.issues
    assert (row.format, row.formats) == ("story", {1: "story"})


def test_the_label_in_either_language_is_understood() -> None:
    with translation.override("de"):
        german = str(dict(importer._format_labels())["feed"])
    assert parse_one(german).formats == {1: "feed"}
    assert parse_one("Feed post").formats == {1: "feed"}


def test_an_empty_cell_keeps_each_channels_default() -> None:
    row = parse_one("")
    assert row.ok
    assert row.format == ""
    assert row.formats == {}


def test_the_format_goes_only_to_the_channels_that_offer_it() -> None:
    row = parse_one("Reel", channels="instagram:brand_ig | brand.bsky.social | facebook:Brand Page")
    assert row.ok, row.issues
    assert row.formats == {1: "reel", 3: "reel"}  # Bluesky has one format: its default


def test_a_format_none_of_the_rows_channels_offers_refuses_the_row_in_the_readers_language() -> None:
    with translation.override("de"):
        row = parse_one("Story", channels="brand.bsky.social | facebook:Brand Page")
        [message] = [i.message for i in row.issues if i.column == Column.FORMAT]
    assert "Bluesky" in message
    assert "Facebook" in message
    assert "Story" in message
    assert "Keiner" in message


def test_an_unknown_format_lists_the_known_ones() -> None:
    with translation.override("de"):
        row = parse_one("Karussellchen")
        [message] = [i.message for i in row.issues if i.column == Column.FORMAT]
    assert "Karussellchen" in message
    assert "(reel)" in message.lower() or "reel" in message.lower()
    assert "story" in message.lower()


@pytest.mark.django_db
def test_an_imported_row_carries_the_format_to_its_variants(workspace, owner, make_channel) -> None:
    facebook = make_channel("facebook", base_url="https://graph.facebook.com", handle="Brand Page")
    bluesky = make_channel("bluesky", base_url="https://bsky.social", handle="brand.bsky.social")
    data = make_csv(
        [[FUTURE, "09:00", f"{facebook.pk} | {bluesky.pk}", "Neue Kollektion", "Feed-Beitrag"]],
        header=["Datum", "Uhrzeit", "Kanäle", "Text", "Format"],
    )
    batch = import_batch_create(workspace=workspace, actor=owner, filename="plan.csv", data=data)
    batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    assert [r.status for r in batch.rows.all()] == ["imported"], list(batch.rows.values("status", "issues"))
    formats = dict(
        Variant.objects.filter(post__workspace=workspace).values_list("channel__network", "format")
    )
    assert formats == {"facebook": "feed", "bluesky": ""}


@pytest.mark.django_db
def test_the_formats_own_rules_are_checked_per_row(workspace, owner, make_channel) -> None:
    """A Story is one picture or video; bulk rows carry no media, so the row is refused with the
    network's rule for that format (as drafts too), and nothing is created."""
    instagram = make_channel("instagram", base_url="https://graph.facebook.com", handle="brand_ig")
    data = make_csv(
        [[FUTURE, "09:00", str(instagram.pk), "Neue Kollektion", "Story"]],
        header=["Datum", "Uhrzeit", "Kanäle", "Text", "Format"],
    )
    with translation.override("en"):
        batch = import_batch_create(
            workspace=workspace, actor=owner, filename="plan.csv", data=data, as_drafts=True
        )
        batch = import_batch_run(workspace=workspace, actor=owner, batch=batch)
    [row] = batch.rows.all()
    assert row.status == "refused"
    assert any("Story" in issue["message"] for issue in row.issues), row.issues
    assert not Variant.objects.filter(post__workspace=workspace).exists()
