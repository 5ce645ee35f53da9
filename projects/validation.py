"""Validation shared by the admin, the API and the import: one function per rule."""

from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

HUNDRED = Decimal("100")

# What one project may carry, so a single write stays cheap (the API, the admin and the
# import refuse more with a message naming the limit).
LIST_LIMITS = {"countries": 60, "sectors": 20, "participations": 100, "tags": 50}
# Free-text fields: summaries, notes and reasons.
SUMMARY_MAX_CHARS = 20_000
NOTE_MAX_CHARS = 10_000
SHORT_TEXT_MAX_CHARS = 5_000


def list_size_errors(lists: dict[str, list | None]) -> dict[str, list[str]]:
    """`{"countries": [...], ...}` (None: not given) → field errors for lists over their cap."""
    errors = {}
    for name, rows in lists.items():
        limit = LIST_LIMITS[name]
        if rows is not None and len(rows) > limit:
            errors[name] = [
                _("At most %(limit)d %(name)s per project; %(count)d were given.")
                % {"limit": limit, "name": _(name), "count": len(rows)}
            ]
    return errors


def validate_shares(shares: Iterable[Decimal | None], *, label: str) -> None:
    """Shares of one project add up to 100 when they are given.

    Either no share is given (the split is unknown) or every row has one and they sum to
    exactly 100. `label` names the list in the message ("countries", "sectors").
    """
    shares = list(shares)
    given = [share for share in shares if share is not None]
    if not given:
        return
    if len(given) != len(shares):
        raise ValidationError(
            _("Give a share for every one of the %(label)s, or for none.") % {"label": label},
            code="shares_incomplete",
        )
    total = sum(given, Decimal("0"))
    if total != HUNDRED:
        raise ValidationError(
            _("The shares of the %(label)s add up to %(total)s%%, not 100%%.")
            % {"label": label, "total": format(total.normalize(), "f")},
            code="shares_total",
        )


def validate_project_shares(project) -> None:
    """Check the stored countries and sectors of a project."""
    errors = {}
    for field, label, rows in (
        ("countries", _("countries"), project.project_countries.all()),
        ("sectors", _("sectors"), project.project_sectors.all()),
    ):
        try:
            validate_shares([row.share for row in rows], label=label)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
