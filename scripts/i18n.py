"""Refresh the English catalogue: extract, update, fill from JSON, compile.

    .venv/bin/python scripts/i18n.py [translations.json ...]

1. extracts every marked message (babel.cfg) into app/translations/messages.pot;
2. updates app/translations/en/LC_MESSAGES/messages.po (no fuzzy matching: a changed
   Chinese message needs a new English one, never a guess);
3. fills empty English entries from the given JSON files ({"中文 msgid": "English"}, plural
   entries as {"msgid": ["one", "other"]}); entries already translated are kept unless the
   JSON gives a different text, which replaces them;
4. compiles the .mo file and lists the messages still without English, exiting 1 if any.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "app/translations/messages.pot"
PO = ROOT / "app/translations/en/LC_MESSAGES/messages.po"
PYBABEL = str(Path(sys.executable).with_name("pybabel"))


def _run(*args: str) -> None:
    done = subprocess.run([PYBABEL, *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"pybabel {args[0]} failed:\n{done.stderr}")


def main(paths: list[str]) -> int:
    _run("extract", "-F", "babel.cfg", "-o", str(POT), ".")
    _run("update", "-i", str(POT), "-d", "app/translations", "--no-fuzzy-matching")
    given: dict[str, object] = {}
    for path in paths:
        given.update(json.loads(Path(path).read_text(encoding="utf-8")))
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    missing = []
    for message in catalog:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in given:
            value = given[key]
            message.string = tuple(value) if isinstance(message.id, tuple) else str(value)
        text = message.string
        if not (all(text) if isinstance(text, tuple) else text):
            missing.append(key)
    with PO.open("wb") as fh:
        write_po(fh, catalog)
    _run("compile", "-d", "app/translations")
    for key in missing:
        print(f"no English yet: {key}")
    print(f"{len(catalog)} messages, {len(missing)} without English")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
