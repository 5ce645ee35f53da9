"""Form fields of the desk: currency as a select of ISO 4217 codes (the IATI list the
validator already checks against), the currencies used most at the top."""

import csv
from functools import cache

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

COMMON = ("CNY", "USD", "EUR", "HKD", "JPY", "GBP")


@cache
def _currency_rows() -> tuple[tuple[str, str], ...]:
    path = settings.BASE_DIR / "fixtures" / "reference" / "currencies.csv"
    with path.open(encoding="utf-8") as handle:
        return tuple((row["code"], row["name_en"]) for row in csv.DictReader(handle))


def currency_choices() -> list:
    rows = dict(_currency_rows())
    common = [(code, f"{code} {rows[code]}") for code in COMMON if code in rows]
    rest = [(code, f"{code} {name}") for code, name in sorted(rows.items()) if code not in COMMON]
    return [("", "—"), (_("Common"), common), (_("All currencies"), rest)]


class CurrencySelect(forms.Select):
    def __init__(self, attrs=None):
        super().__init__(attrs, choices=currency_choices())
