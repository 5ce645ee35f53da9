"""What a warning says about its cause, in the reader's language.

A rule stores the facts of a cause as `Warning.params` (JSON: dates as ISO strings,
figures as decimal strings, a country's code with its names in both languages); the
sentence is made from the kind and these params through gettext when it is shown, so the
admin, the project panel, the API and the notices each speak their reader's language.
`Warning.detail` keeps the English sentence as written: the text the admin search reads,
and the only text of the warnings raised before params existed whose old text could not
be read back into params (migration 0019).
"""

import datetime
from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from projects.risk.models import CountryRiskLevel, RiskCategory
from registry.language import pick_name


def iso(day: datetime.date | None) -> str | None:
    return None if day is None else day.isoformat()


def figure(value: Decimal) -> str:
    """A decimal as plain digits without trailing zeros (`80.5000` → `80.5`)."""
    return f"{value.normalize():f}"


def _country_risk(params: dict) -> str:
    country = pick_name(params.get("country_zh"), params.get("country_en")) or params["country"]
    category = params["category"]
    level = params["level"]
    return _("%(country)s: %(category)s risk %(level)s") % {
        "country": country,
        "category": RiskCategory(category).label if category in RiskCategory else category,
        "level": CountryRiskLevel(level).label if level in CountryRiskLevel else level,
    }


def _no_progress(params: dict) -> str:
    if params.get("last_update"):
        return _("last progress update on %(date)s") % {"date": params["last_update"]}
    return _("no progress update yet")


def _support_expiring(params: dict) -> str:
    return _("support decision valid until %(date)s") % {"date": params["valid_until"]}


def _review_overdue(params: dict) -> str:
    return _("periodic review was due on %(date)s") % {"date": params["due"]}


def _end_passed(params: dict) -> str:
    return _("planned end was %(date)s") % {"date": params["planned_end"]}


def _under_target(params: dict) -> str:
    return _("actual %(actual)s against a target of %(target)s") % {
        "actual": params["actual"],
        "target": params["target"],
    }


def _dispute_open(params: dict) -> str:
    return _("dispute open since %(date)s") % {"date": params["opened_on"]}


SENTENCES = {
    "country_risk": _country_risk,
    "no_progress": _no_progress,
    "support_expiring": _support_expiring,
    "review_overdue": _review_overdue,
    "end_passed": _end_passed,
    "under_target": _under_target,
    "dispute_open": _dispute_open,
}


def describe(kind: str, params: dict | None, fallback: str = "") -> str:
    """The warning's detail in the active language; `fallback` (the stored English text)
    when there are no params or they do not fit the kind's sentence."""
    sentence = SENTENCES.get(kind)
    if params is None or sentence is None:
        return fallback
    try:
        return sentence(params)
    except (KeyError, TypeError, ValueError):
        return fallback


def english(kind: str, params: dict) -> str:
    """The sentence as stored in `Warning.detail`."""
    with translation.override("en"):
        return describe(kind, params)[:300]
