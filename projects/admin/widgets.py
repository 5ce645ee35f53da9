"""Form fields of the desk: currency as a select of ISO 4217 codes (the IATI list the
validator already checks against), the currencies used most at the top, each named in the
page's language."""

import csv
from functools import cache

from babel import UnknownLocaleError
from babel.numbers import get_currency_name
from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

COMMON = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP")


@cache
def _currency_rows() -> tuple[tuple[str, str], ...]:
    path = settings.BASE_DIR / "fixtures" / "reference" / "currencies.csv"
    with path.open(encoding="utf-8") as handle:
        return tuple((row["code"], row["name_en"]) for row in csv.DictReader(handle))


def currency_name(code: str, english: str) -> str:
    """The currency's name in the active language (CLDR's, through Babel), else English."""
    language = get_language() or settings.LANGUAGE_CODE
    if language.startswith("en"):
        return english
    try:
        name = get_currency_name(code, locale=to_locale(language))
    except (UnknownLocaleError, ValueError):
        return english
    # Babel answers the code itself for a currency CLDR does not name.
    return english if name == code else name


# Labels read at render time, in the language of the request (the choices are built once).
_label = lazy(lambda code, english: f"{code} {currency_name(code, english)}", str)


def currency_choices() -> list:
    rows = dict(_currency_rows())
    common = [(code, _label(code, rows[code])) for code in COMMON if code in rows]
    rest = [(code, _label(code, name)) for code, name in sorted(rows.items()) if code not in COMMON]
    return [("", "—"), (_("Common"), common), (_("All currencies"), rest)]


class CurrencySelect(forms.Select):
    def __init__(self, attrs=None):
        super().__init__(attrs, choices=currency_choices())
