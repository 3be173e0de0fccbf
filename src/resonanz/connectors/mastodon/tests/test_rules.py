"""Pure unit tests of Mastodon's counting and instance-limit parsing (no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from resonanz.connectors.mastodon.provider import html_to_text, normalise_text
from resonanz.connectors.mastodon.rules import count_status, countable_text, find_urls, instance_limits

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com",
        "https://example.com/a",
        "https://example.com/" + "x" * 200 + "?q=1&r=2#frag",
        "http://sub.domain.example.org:8080/path/to/thing.html",
    ],
)
def test_every_url_counts_23_regardless_of_length(url: str) -> None:
    assert count_status(url) == 23
    assert count_status(f"Lies {url} jetzt") == len("Lies ") + 23 + len(" jetzt")


def test_url_weight_follows_the_instance_setting() -> None:
    assert count_status("https://example.com/abc", chars_per_url=30) == 30


def test_trailing_punctuation_is_not_part_of_the_url() -> None:
    assert count_status("https://example.com/a.") == 24
    assert count_status("(https://example.com/a)") == 25
    assert find_urls("see https://example.com/x, ok") == [(4, 25)]


def test_urls_without_a_real_host_are_plain_text() -> None:
    # twitter-text (which Mastodon uses) needs a dotted host with a TLD and an explicit scheme.
    assert count_status("http://localhost/x") == len("http://localhost/x")
    assert count_status("example.com/path") == len("example.com/path")


def test_remote_mention_counts_as_local_part() -> None:
    assert count_status("@alice@example.social") == len("@alice")
    assert count_status("Hi @alice@example.social!") == len("Hi @alice!")
    assert countable_text("cc @bob@sub.other.example and @carol") == "cc @bob and @carol"


def test_local_mention_and_email_are_counted_as_written() -> None:
    assert count_status("@alice") == 6
    # An e-mail address is not a mention (no @ after a word character).
    assert count_status("mail a@b.example") == len("mail a@b.example")


def test_mention_inside_url_is_part_of_the_url() -> None:
    assert count_status("https://example.social/@alice@other.example") == 23


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("👍", 1),
        ("👍🏽", 1),  # skin tone modifier
        ("👨‍👩‍👧‍👦", 1),  # ZWJ family
        ("🏳️‍🌈", 1),  # flag + VS16 + ZWJ sequence
        ("🇩🇪🇦🇹", 2),  # two regional-indicator flags
        ("e\u0301", 1),  # combining acute accent
        ("Grüße", 5),
        ("한국어", 3),
    ],
)
def test_graphemes_count_once(text: str, expected: int) -> None:
    assert count_status(text) == expected


def test_content_warning_is_counted_too() -> None:
    assert count_status("Hallo Welt", content_warning="Spoiler") == 10 + 7
    assert count_status("", content_warning="CW 👨‍👩‍👧") == 4


def test_instance_limits_from_v2_fixture() -> None:
    limits = instance_limits(load("instance_v2.json"))
    assert limits["max_characters"] == 1000
    assert limits["max_media_attachments"] == 6
    assert limits["characters_reserved_per_url"] == 23
    assert limits["image_size_limit"] == 16777216
    assert limits["video_size_limit"] == 103809024
    assert limits["description_limit"] == 1500
    assert "image/webp" in limits["supported_mime_types"]
    assert limits["domain"] == "mastodon.example"
    assert limits["version"] == "4.3.2"


def test_instance_limits_defaults_and_legacy_max_toot_chars() -> None:
    defaults = instance_limits({})
    assert defaults["max_characters"] == 500
    assert defaults["max_media_attachments"] == 4
    assert defaults["characters_reserved_per_url"] == 23
    assert defaults["image_size_limit"] > 0
    assert defaults["supported_mime_types"]
    legacy = instance_limits(load("instance_v1_legacy.json"))
    assert legacy["max_characters"] == 5000
    assert legacy["domain"] == "old.example"


def test_html_content_back_to_text() -> None:
    text = html_to_text(load("status.json")["content"])
    assert text == (
        "Neu im Blog: https://blog.example.org/2026/11/ein-sehr-langer-artikel-titel & mehr\n\n"
        "Danke @bob!\nZweite Zeile #fedi"
    )


def test_normalise_text_matches_source_and_rendered_html() -> None:
    source = (
        "Neu im Blog: https://blog.example.org/2026/11/ein-sehr-langer-artikel-titel & mehr\n\n"
        "Danke @bob@other.example!\nZweite Zeile #fedi"
    )
    assert normalise_text(source) == normalise_text(html_to_text(load("status.json")["content"]))
