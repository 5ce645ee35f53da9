import csv
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
