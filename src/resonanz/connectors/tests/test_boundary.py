"""No network is named in product code outside ``resonanz/connectors/``.

Everything network-specific (name, colour, limits, options, connect flow, preview, validation) lives in the
network's folder and reaches the rest of the product through the registry. This test reads every product
file (Python, templates, JavaScript, CSS) outside ``connectors/`` and fails on any registered network's
slug or display name, and on the networks we expect to add next. Tests, migrations, translation catalogs
and test-support code are not product code; the settings' registry lines are how a network is added.
"""

from __future__ import annotations

import re
from pathlib import Path

from resonanz.connectors.registry import network_slugs, network_spec

PACKAGE = Path(__file__).resolve().parents[2]  # src/resonanz
# Networks on the road map. "X" (ex-Twitter) is too short to search for as a word; see SHORT_WORDS.
FUTURE_NETWORKS = (
    "facebook",
    "instagram",
    "linkedin",
    "xing",
    "tiktok",
    "youtube",
    "pinterest",
    "threads",
    "telegram",
    "whatsapp",
    "wordpress",
    "twitter",
)
SUFFIXES = {".py", ".html", ".js", ".css", ".txt", ".md", ".json"}
EXCLUDED_DIRS = {"connectors", "tests", "migrations", "locale", "testing", "__pycache__"}
EXCLUDED_FILES = {"conftest.py"}
# The registry: one line per network in the settings (``"slug": "resonanz.connectors.<slug>...",``).
REGISTRY_LINE = re.compile(r'^\s*"[a-z0-9_]+":\s*"resonanz\.connectors\.[A-Za-z0-9_.]+",\s*(#.*)?$')
# Network names that are also everyday words: only the capitalised name or the slug as a string literal
# (``network == "threads"``) counts, not "threads" of a pool or of a post.
COMMON_WORDS = {"threads"}
# Names of one or two letters ("X"): as words they are everywhere (``overflow-x``, ``X-CSRFToken``, ``3 x 1``,
# ``for x in``), so only the name as a whole string literal counts (``network == "x"``, ``"X"``); its former
# name "twitter" is searched as a word (FUTURE_NETWORKS).
SHORT_WORDS_MAX = 2
# Data files whose strings are tokens of texts, not names we wrote: the trained sentiment weights hold the
# token "x" (as in "xx", a kiss). Network names of three letters and more are still searched there (the
# training script drops them from the vocabulary); only the one- and two-letter names are not.
TOKEN_FILES = {Path("language/data/sentiment_model.json")}


def network_words() -> list[str]:
    words = {*FUTURE_NETWORKS}
    for slug in network_slugs():
        words.add(slug)
        words.add(network_spec(slug).brand.display_name)
    return sorted(words, key=str.lower)


def product_files() -> list[Path]:
    files = []
    for path in PACKAGE.rglob("*"):
        if not path.is_file() or path.suffix not in SUFFIXES or path.name in EXCLUDED_FILES:
            continue
        relative = path.relative_to(PACKAGE)
        if EXCLUDED_DIRS.intersection(relative.parts[:-1]):
            continue
        files.append(path)
    return files


def _pattern(words: list[str]) -> re.Pattern[str]:
    """A whole word in any case ("bluesky" in "Bluesky's", not in "blueskyish"); for common words only
    the capitalised name or a quoted slug."""
    short = sorted({w.lower() for w in words if len(w) <= SHORT_WORDS_MAX})
    plain = [w for w in words if w.lower() not in COMMON_WORDS and len(w) > SHORT_WORDS_MAX]
    common = [w.lower() for w in words if w.lower() in COMMON_WORDS]
    alternatives = ["(?i:" + "|".join(map(re.escape, plain)) + ")"]
    for word in short:
        alternatives.append(f"(?<=[\"'])(?i:{re.escape(word)})(?=[\"'])")
    for word in common:
        alternatives.append(re.escape(word.capitalize()))
        alternatives.append(f"(?<=[\"'])(?i:{re.escape(word)})(?=[\"'])")
    return re.compile(r"(?<![A-Za-z0-9])(" + "|".join(alternatives) + r")(?![A-Za-z0-9])")


def offences(words: list[str], files: list[Path]) -> list[str]:
    pattern = _pattern(words)
    long_only = _pattern([w for w in words if len(w) > SHORT_WORDS_MAX])
    found = []
    for path in files:
        name = path.relative_to(PACKAGE) if path.is_relative_to(PACKAGE) else path
        chosen = long_only if name in TOKEN_FILES else pattern
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if REGISTRY_LINE.match(line) and path.parent.name == "settings":
                continue
            for match in chosen.finditer(line):
                found.append(f"{name}:{number}: {match.group(0)!r}: {line.strip()}")
    return found


def test_the_words_cover_every_registered_network() -> None:
    words = network_words()
    for slug in network_slugs():
        assert slug in words
        assert network_spec(slug).brand.display_name in words


def test_the_scan_finds_a_network_name(tmp_path: Path) -> None:
    # The check itself must be able to fail.
    sample = tmp_path / "views.py"
    slug = network_slugs()[0]
    name = network_spec(slug).brand.display_name
    sample.write_text(
        f'if channel.network == "{slug}":\n    label = "{name}\'s limit"\n'
        'elif network == "threads":  # the pool has threads\n    pass\n',
        encoding="utf-8",
    )
    found = offences(network_words(), [sample])
    assert [line.split(":")[1] for line in found] == ["1", "2", "3"]


def test_a_one_letter_name_counts_only_as_a_string(tmp_path: Path) -> None:
    sample = tmp_path / "views.py"
    sample.write_text(
        'if channel.network == "x":\n    label = "X"\n'
        'style = "overflow-x: auto"  # 3 x 1, X-CSRFToken\nfor x in items:\n    pass\n',
        encoding="utf-8",
    )
    found = offences(["x", "X", "bluesky"], [sample])
    assert [line.split(":")[1] for line in found] == ["1", "2"]


def test_no_network_is_named_outside_connectors() -> None:
    found = offences(network_words(), product_files())
    heading = "Network names outside resonanz/connectors/ (move them into the connector):"
    assert not found, "\n".join([heading, *found])
