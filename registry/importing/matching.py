"""Turning what people type in a spreadsheet into codes and ids: the pieces every import
shares (the reference data, closed vocabularies, items and shares in one cell).

Countries match by ISO alpha-2/alpha-3/numeric code or Chinese/English name; sectors by
code or name. Every table is loaded once per import (a few queries), never a query per
cell. Several items in one cell are separated by `;` (also the full-width semicolon or a
line break; countries and sectors also accept `、`). An item may carry a value after `:`
(or the full-width colon). Full-width forms come from Chinese input methods and are
equivalent.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils import translation
from django.utils.translation import gettext as _

from registry.models import Country, Sector

# \uff1b full-width semicolon, \uff1a full-width colon.
ITEM_SEPARATORS = re.compile("[;\uff1b\n\r]+")
LIST_SEPARATORS = re.compile("[;\uff1b\n\r\u3001]+")
VALUE_SEPARATOR = re.compile("[:\uff1a]")


def normalize(text: str) -> str:
    """The form names are compared in: full-width folded to ASCII, case and spacing ignored."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


class Vocabulary:
    """A closed list of codes (a TextChoices) and every way of writing each one."""

    def __init__(self, choices, words: dict):
        self.choices = choices
        self.words = words
        self._index: dict[str, str] = {}
        for value, label in choices.choices:
            forms = {value, *words.get(value, ())}
            with translation.override("en"):
                forms.add(str(label))
            with translation.override("zh-hans"):
                forms.add(str(label))
            for form in forms:
                self._index[normalize(form)] = value

    def match(self, text: str) -> str | None:
        return self._index.get(normalize(text))

    def allowed(self) -> str:
        return ", ".join(self.choices.values)

    def rows(self):
        """(code, Chinese words, English label) for the template's code list."""
        for value, label in self.choices.choices:
            with translation.override("en"):
                english = str(label)
            yield value, "、".join(self.words.get(value, ())), english


class MatchError(ValueError):
    """A value that could not be matched; the message is for the user."""


@dataclass(frozen=True)
class Item:
    name: str
    value: str  # text after the colon, "" when absent


def split_items(text: str, separators=ITEM_SEPARATORS) -> list[Item]:
    items = []
    for part in separators.split(text or ""):
        part = part.strip()
        if not part:
            continue
        pieces = VALUE_SEPARATOR.split(part)
        if len(pieces) > 1:
            items.append(Item(":".join(pieces[:-1]).strip(), pieces[-1].strip()))
        else:
            items.append(Item(part, ""))
    return items


def parse_share(text: str) -> Decimal | None:
    text = unicodedata.normalize("NFKC", text or "").strip().rstrip("%").strip()
    if not text:
        return None
    try:
        share = Decimal(text)
    except InvalidOperation:
        raise MatchError(_("%(value)s is not a share in per cent.") % {"value": text}) from None
    if not share.is_finite() or share < 0 or share > 100:
        raise MatchError(_("A share must be between 0 and 100, not %(value)s.") % {"value": text})
    return share


class ReferenceLookups:
    """Countries and sectors, loaded once and matched in memory."""

    def __init__(self):
        self.countries: dict[str, str] = {}
        for iso2, iso3, numeric, name_zh, name_en in Country.objects.values_list(
            "iso2", "iso3", "numeric", "name_zh", "name_en"
        ):
            for form in (iso2, iso3, numeric, name_zh, name_en):
                if form:
                    self.countries.setdefault(normalize(form), iso2)
        self.sectors: dict[str, int] = {}
        for pk, code, name_zh, name_en in Sector.objects.values_list(
            "pk", "code", "name_zh", "name_en"
        ):
            for form in (code, name_zh, name_en):
                self.sectors.setdefault(normalize(form), pk)

    def country(self, text: str) -> str:
        found = self.countries.get(normalize(text))
        if found is None:
            raise MatchError(
                _("Unknown country %(value)s: give its ISO code (LA, LAO) or its name.")
                % {"value": text}
            )
        return found

    def sector(self, text: str) -> int:
        found = self.sectors.get(normalize(text))
        if found is None:
            raise MatchError(
                _("Unknown sector %(value)s: give its code (see the template's code list).")
                % {"value": text}
            )
        return found

    def country_shares(self, text: str) -> list[tuple[str, Decimal | None]]:
        return [
            (self.country(i.name), parse_share(i.value)) for i in split_items(text, LIST_SEPARATORS)
        ]

    def sector_shares(self, text: str) -> list[tuple[int, Decimal | None]]:
        return [
            (self.sector(i.name), parse_share(i.value)) for i in split_items(text, LIST_SEPARATORS)
        ]
