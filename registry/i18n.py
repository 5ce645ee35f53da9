"""Compile the committed gettext catalogues with Babel (no system gettext needed).

python -m registry.i18n compile   # every registry/locale/*/LC_MESSAGES/*.po → .mo
python -m registry.i18n check     # fail if a message is untranslated or fuzzy, or if
                                  # the source marks one the catalogue lacks
python -m registry.i18n stale     # list (and fail on) translations no source marks any
                                  # more and no Django or package catalogue has
"""

import ast
import contextlib
import io
import re
import sys
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

BASE_DIR = Path(__file__).resolve().parent.parent
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# The apps whose text the catalogue translates (Python and templates).
SOURCE_APPS = ("registry", "partners", "projects")
# Django's lazy and no-op variants on top of Babel's gettext/ngettext/pgettext/npgettext.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
    # `gettext_lazy as _lazy`, where `_` is the immediate gettext (results/scorecards.py).
    "_lazy": None,
}


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


def _extracted(method: str, source: bytes) -> list[tuple[str | None, str]]:
    found = []
    for _line, message, _comments, context in extract(
        method, io.BytesIO(source), keywords=KEYWORDS
    ):
        message_id = message[0] if isinstance(message, tuple) else message
        if message_id:
            found.append((context, message_id))
    return found


# How `templatize` writes a translation: " gettext('…') ", " pgettext('c', '…') ", …,
# each call on one line with its arguments as Python literals. The rest of its output
# (the template's text blanked out) is no Python a tokenizer accepts, so the calls are
# read one by one.
TEMPLATE_CALL = re.compile(r" (npgettext|ngettext|pgettext|gettext)\(")


def _template_calls(code: str) -> list[tuple[str | None, str]]:
    found = []
    for line in code.splitlines():
        for match in TEMPLATE_CALL.finditer(line):
            start = match.start() + 1
            for end in (m.end() for m in re.finditer(r"\)", line[start:])):
                try:
                    call = ast.parse(line[start : start + end], mode="eval").body
                except SyntaxError:
                    continue
                args = [a.value for a in call.args if isinstance(a, ast.Constant)]
                with_context = match.group(1).startswith(("p", "np"))
                found.append((args[0], args[1]) if with_context else (None, args[0]))
                break
    return found


def source_messages(base_dir: Path = BASE_DIR) -> dict[tuple[str | None, str], str]:
    """Every (context, msgid) the apps mark for translation, with where it is first
    marked. Templates are read as `makemessages` reads them: Django's `templatize`
    turns {% translate %} and {% blocktranslate %} into gettext calls."""
    from django.utils.translation import templatize

    messages: dict[tuple[str | None, str], str] = {}
    for app in SOURCE_APPS:
        for path in sorted((base_dir / app).rglob("*")):
            if "migrations" in path.parts or not path.is_file():
                continue
            if path.suffix == ".py":
                found = _extracted("python", path.read_bytes())
            elif path.suffix in {".html", ".txt"} and "templates" in path.parts:
                found = _template_calls(templatize(path.read_text("utf-8"), origin=str(path)))
            else:
                continue
            for key in found:
                messages.setdefault(key, str(path.relative_to(base_dir)))
    return messages


def missing_from_catalogue(po_path: Path, base_dir: Path = BASE_DIR) -> list[str]:
    """Marked messages neither this catalogue nor Django's own translates (Django's
    admin catalogue covers "Home", "Save" and the like), or that this catalogue has
    empty or fuzzy. Each as "where: msgid"."""
    from django.utils import translation

    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    language = po_path.parent.parent.name.replace("_", "-").lower()
    missing = []
    with translation.override(language):
        for (context, message_id), where in source_messages(base_dir).items():
            # `templatize` doubles every "%": right for {% blocktranslate %}, whose text
            # is looked up so, not for {% translate %}, looked up as written.
            forms = {message_id, message_id.replace("%%", "%")}
            if not any(_translated(catalogue, context, form) for form in forms):
                missing.append(f"{where}: {message_id}")
    return missing


def _translated(catalogue, context: str | None, message_id: str) -> bool:
    from django.utils import translation

    entry = catalogue.get(message_id, context=context)
    if entry is not None:
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        return not entry.fuzzy and all(strings)
    if context:
        shown = {
            translation.pgettext(context, message_id),
            translation.npgettext(context, message_id, message_id, 1),
        }
    else:
        # A plural message is found by ngettext only.
        shown = {translation.gettext(message_id), translation.ngettext(message_id, message_id, 1)}
    return shown != {message_id}


def _other_catalogue_messages() -> set[tuple[str | None, str]]:
    """(context, msgid) of every catalogue Django and the installed packages ship: our
    catalogue may translate their messages again (the admin's "Filter by …")."""
    from pathlib import Path as _Path

    import django
    from django.apps import apps

    folders = [_Path(django.__file__).parent / "conf" / "locale"]
    folders += [
        _Path(config.path) / "locale"
        for config in apps.get_app_configs()
        if config.name.split(".")[0] not in SOURCE_APPS
    ]
    found = set()
    for folder in folders:
        for po_path in folder.glob("*/LC_MESSAGES/*.po"):
            # Babel prints a warning for every odd line of other packages' files.
            with po_path.open("rb") as handle, contextlib.redirect_stdout(io.StringIO()):
                try:
                    catalogue = read_po(handle)
                except Exception:  # another package's file Babel cannot read: skipped
                    continue
            for message in catalogue:
                message_id = message.id[0] if isinstance(message.id, tuple) else message.id
                if message_id:
                    found.add((message.context, message_id))
    return found


def stale_in_catalogue(po_path: Path, base_dir: Path = BASE_DIR) -> list[str]:
    """Messages of this catalogue that no source marks any more and that no catalogue of
    Django or an installed package has: translations nobody asks for."""
    used = set()
    for context, message_id in source_messages(base_dir):
        used |= {(context, message_id), (context, message_id.replace("%%", "%"))}
    others = _other_catalogue_messages()
    with po_path.open("rb") as handle:
        catalogue = read_po(handle)
    stale = []
    for message in catalogue:
        message_id = message.id[0] if isinstance(message.id, tuple) else message.id
        key = (message.context, message_id)
        if message_id and key not in used and key not in others:
            stale.append(message_id)
    return stale


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "compile"
    if command == "compile":
        return compile_all()
    if command == "check":
        import os

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
        django.setup()
        failed = False
        for po_path in catalogues():
            for message_id in untranslated(po_path):
                failed = True
                print(f"{po_path.relative_to(LOCALE_DIR)}: untranslated: {message_id!r}")
            for where in missing_from_catalogue(po_path):
                failed = True
                print(f"{po_path.relative_to(LOCALE_DIR)}: missing: {where!r}")
        return 1 if failed else 0
    if command == "stale":
        import os

        import django

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
        django.setup()
        found = False
        for po_path in catalogues():
            for message_id in stale_in_catalogue(po_path):
                found = True
                print(f"{po_path.relative_to(LOCALE_DIR)}: stale: {message_id!r}")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
