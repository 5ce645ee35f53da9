import csv
import re
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@cache
def currency_codes() -> frozenset[str]:
    """ISO 4217 codes in use (IATI Currency codelist, withdrawn codes left out)."""
    path = settings.BASE_DIR / "fixtures" / "reference" / "currencies.csv"
    with path.open(encoding="utf-8") as handle:
        return frozenset(row["code"] for row in csv.DictReader(handle))


def validate_currency(value: str) -> None:
    if value and value not in currency_codes():
        raise ValidationError(
            _("%(value)s is not an ISO 4217 currency code."),
            code="currency",
            params={"value": value},
        )


# C0 control characters other than tab, line feed and carriage return; surrogates and the
# two non-characters XML also refuses. None can be written to XML (IATI), and PostgreSQL
# refuses NUL outright.
FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def validate_no_control_characters(value: str) -> None:
    """On every free-text model field, so the admin, the API and the import all refuse
    such text with a field error."""
    match = FORBIDDEN_CHARACTERS.search(value or "")
    if match:
        raise ValidationError(
            _(
                "Remove the control character U+%(code)04X at position %(position)d: "
                "text may hold no control characters other than tab and line breaks."
            ),
            code="control_character",
            params={"code": ord(match.group()), "position": match.start() + 1},
        )
