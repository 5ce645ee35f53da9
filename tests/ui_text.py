"""The catalogue check on a page's text: a page in Chinese shows no English interface
text from a known list (Django's, DRF's and the desk's strings that once slipped through
untranslated) and no message the source marks for translation that the catalogue
lacks. Used by the browser tests and by tests/test_catalogue.py."""

import functools
import html
import re

from registry import i18n

# Matched as whole phrases, case included.
ENGLISH_UI = (
    "- Select an option -",
    "Select an option",
    "Filter by",
    "Enter times in",
    "Note: Enter",
    "Api Root",
    "API root",
    "Project List",
    "Project Instance",
    "Save and add another",
    "Save and continue editing",
    "Home",
    "Dashboard",
    "Screening queue",
    "Record a review",
    "Record support decision",
    "Before submitting",
    "What you can do",
    "History",
    "Apply",
    "Clear",
    "Figures",
    "Save as PNG",
    "created",
    "changed",
    "record created",
    "record changed",
    "estimated value",
    "selection rate",
    "Log out",
    "Search",
    "Export CSV",
    "Export XLSX",
)
# A marked message is looked for by its literal parts (placeholders cut out), those long
# enough not to match by chance.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfi]|%[sdfi]|\{\w*\}")
MIN_PART = 8


def english_ui(text: str) -> list[str]:
    return [
        phrase for phrase in ENGLISH_UI if re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text)
    ]


@functools.cache
def _untranslated_parts() -> tuple[tuple[str, str], ...]:
    """(message, literal part) of every marked message the Chinese catalogue lacks."""
    parts = []
    for po_path in i18n.catalogues():
        for where in i18n.missing_from_catalogue(po_path):
            message = where.split(": ", 1)[1]
            for part in PLACEHOLDER.split(message.replace("%%", "%")):
                if len(part.strip()) >= MIN_PART:
                    parts.append((message, part.strip()))
    return tuple(parts)


def untranslated(text: str) -> list[str]:
    return sorted({message for message, part in _untranslated_parts() if part in text})


def problems(text: str) -> list[str]:
    """What a Chinese page's visible text shows that it should not."""
    return english_ui(text) + untranslated(text)


def visible_text(page_html: str) -> str:
    """Roughly what a browser shows of an HTML page: no scripts, styles or tags."""
    body = re.sub(r"(?is)<(script|style|template)\b.*?</\1>", " ", page_html)
    body = re.sub(r"(?s)<!--.*?-->", " ", body)
    body = re.sub(r"(?s)<[^>]+>", " ", body)
    return html.unescape(body)
