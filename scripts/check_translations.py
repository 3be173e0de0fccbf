"""Fail if the German catalog is incomplete: every msgid in the code must have a real translation.

Runs `makemessages` into a temporary copy of the package, so a string added to the code without a
translation is caught even when nobody re-ran makemessages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "resonanz"
CATALOG = PACKAGE / "locale" / "de" / "LC_MESSAGES" / "django.po"


def parse(po: Path) -> dict[tuple[str, str], tuple[str, bool]]:
    """(msgctxt, msgid) -> (msgstr or first plural form, fuzzy)."""
    entries: dict[tuple[str, str], tuple[str, bool]] = {}
    text = po.read_text(encoding="utf-8")
    for block in re.split(r"\n\s*\n", text):
        lines = [ln for ln in block.strip().splitlines() if not ln.startswith("#~")]
        fuzzy = any(ln.startswith("#,") and "fuzzy" in ln for ln in lines)
        fields: dict[str, str] = {}
        current = None
        for ln in lines:
            m = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', ln)
            if m:
                current = m.group(1)
                fields[current] = m.group(2)
            elif ln.startswith('"') and current:
                fields[current] += ln[1:-1]
        if "msgid" not in fields or fields["msgid"] == "":
            continue
        msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
        entries[(fields.get("msgctxt", ""), fields["msgid"])] = (msgstr, fuzzy)
    return entries


def main() -> int:
    if not CATALOG.exists():
        print(f"missing catalog {CATALOG}")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "resonanz"
        shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.mo"))
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="resonanz.config.settings.test")
        subprocess.run(
            # -P: the copy's folder is the working directory (makemessages scans it) but must not go on
            # sys.path, or its `calendar` app would shadow the standard library's calendar module.
            [sys.executable, "-P", "-m", "django", "makemessages", "-l", "de", "--no-obsolete", "-v", "0",
             "--ignore", "testing/*"],
            cwd=copy, env=env, check=True,
        )
        fresh = parse(copy / "locale" / "de" / "LC_MESSAGES" / "django.po")
    committed = parse(CATALOG)
    problems = []
    for key in sorted(fresh):
        msgstr, _ = committed.get(key, ("", False))
        if key not in committed:
            problems.append(f"not in the catalog: {key[1]!r}")
        elif not msgstr:
            problems.append(f"untranslated: {key[1]!r}")
        elif committed[key][1]:
            problems.append(f"fuzzy: {key[1]!r}")
    for p in problems[:200]:
        print(p)
    if problems:
        print(f"{len(problems)} translation problem(s); run `resonanz manage makemessages -l de` in "
              "src/resonanz and translate.")
        return 1
    print(f"German catalog complete: {len(fresh)} messages.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
