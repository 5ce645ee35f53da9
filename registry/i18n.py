"""Compile the committed gettext catalogues with Babel (no system gettext needed).

python -m registry.i18n compile   # every registry/locale/*/LC_MESSAGES/*.po → .mo
python -m registry.i18n check     # fail if a message is untranslated or fuzzy
"""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def catalogues():
    return sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))


def compile_all() -> int:
    for po_path in catalogues():
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalogue = read_po(handle)
        with mo_path.open("wb") as handle:
            write_mo(handle, catalogue, use_fuzzy=False)
    return 0


def untranslated(po_path: Path) -> list[str]:
    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "compile":
        return compile_all()
    if command == "check":
        failed = False
        for po_path in catalogues():
            for message_id in untranslated(po_path):
                failed = True
                print(f"{po_path.relative_to(LOCALE_DIR)}: untranslated: {message_id!r}")
        return 1 if failed else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
