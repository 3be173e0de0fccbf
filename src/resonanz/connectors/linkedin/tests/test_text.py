"""The little text format (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/
shares/little-text-format): escaping, mentions, hashtags, counting."""

from __future__ import annotations

import pytest

from resonanz.connectors.linkedin.text import (
    COMMENTARY_LIMIT,
    RESERVED,
    commentary_length,
    escape_plain,
    mentions,
    to_little,
)
from testsupport.emulators.linkedin import parse_little


@pytest.mark.parametrize(
    ("text", "little"),
    [
        ("Hello World", "Hello World"),
        # Every reserved character of the documentation's list, escaped with a backslash.
        ("a\\b", "a\\\\b"),
        ("Preis (netto) 10 € | inkl. {Versand}", "Preis \\(netto\\) 10 € \\| inkl. \\{Versand\\}"),
        ("<b>*fett*</b> ~durch~ [x]", "\\<b\\>\\*fett\\*\\</b\\> \\~durch\\~ \\[x\\]"),
        ("snake_case & a@b.de", "snake\\_case & a\\@b.de"),
        ("Nr. # 5", "Nr. \\# 5"),
        # The documentation's mention examples stay elements.
        ("Danke @[Eddy](urn:li:person:1234)!", "Danke @[Eddy](urn:li:person:1234)!"),
        ("Mit @[Devtestco](urn:li:organization:2414183)", "Mit @[Devtestco](urn:li:organization:2414183)"),
        # A reserved character in a mention's name is escaped inside the brackets.
        ("@[A_B (DE)](urn:li:organization:1)", "@[A\\_B \\(DE\\)](urn:li:organization:1)"),
        # Hashtags stay hashtags; links stay links (escaping them would change the address).
        ("Neu: #Marketing #B2B", "Neu: #Marketing #B2B"),
        ("#mein_tag", "#mein\\_tag"),
        ("Siehe https://example.com/a_b?x=1", "Siehe https://example.com/a_b?x=1"),
        ("(https://example.com/x_y)", "\\(https://example.com/x_y\\)"),
    ],
)
def test_to_little(text: str, little: str) -> None:
    assert to_little(text) == little


def test_every_reserved_character_is_escaped() -> None:
    for character in RESERVED:
        assert escape_plain(f"x{character}y") == f"x\\{character}y"


@pytest.mark.parametrize(
    "text",
    [
        "Preis (netto) | {Versand} <b> *x* ~y~ [z] a_b \\ @ # Ende",
        "Danke @[Eddy](urn:li:person:1234) und @[A_B (DE)](urn:li:organization:1) #Tag",
        "Mehr unter https://example.com/a_b (Link) - ÄÖÜ 👍",
    ],
)
def test_linkedin_reads_back_exactly_what_was_written(text: str) -> None:
    """The emulator parses commentary as LinkedIn does: the escaped text comes back whole."""
    shown, truncated = parse_little(to_little(text))
    assert (shown, truncated) == (text, False)


def test_unescaped_text_is_silently_truncated_which_is_why_we_escape() -> None:
    shown, truncated = parse_little("Unser Angebot (nur heute) gilt")
    assert truncated
    assert shown == "Unser Angebot "


def test_mentions_and_counting() -> None:
    text = "Hallo @[Eddy](urn:li:person:1234) 👍"
    assert [(m.name, m.urn) for m in mentions(text)] == [("Eddy", "urn:li:person:1234")]
    # The mention counts as its name; the emoji as two UTF-16 code units; escapes do not count.
    assert commentary_length(text) == len("Hallo Eddy ") + 2
    assert commentary_length("(" * COMMENTARY_LIMIT) == COMMENTARY_LIMIT
