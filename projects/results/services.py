"""Every write to results: keyword-only, atomic, checked, recorded.

Each function locks the project row (so writes to one project's results are serialised
with its other writes), checks the version the caller last read, the actor's right and
the data, writes, bumps `Project.version` (the API's ETag) and lets django-simple-history
record the change with the acting user. The admin and the API call these functions.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projects.errors import InvalidData, NotAllowed, TransitionNotAllowed
from projects.models import Project
from projects.results import access as results_access
from projects.results.models import Indicator, Period, Result, StandardIndicator
from projects.services import bump_version, check_version, lock_project

State = Period.State

# The period's status table: action → (states it may start from, state it leads to).
# Actuals may be corrected until approved; an approved figure is final.
PERIOD_TRANSITIONS = {
    "report": ((State.OPEN, State.REPORTED, State.RETURNED), State.REPORTED),
    "approve": ((State.REPORTED,), State.APPROVED),
    "return": ((State.REPORTED,), State.RETURNED),
}
MAX_VALUE = Decimal("1e15")


@dataclass
class PeriodData:
    period_start: date
    period_end: date
    target_value: Decimal | None = None
    target_comment: str = ""


@dataclass
class IndicatorData:
    title_zh: str = ""
    title_en: str = ""
    standard: StandardIndicator | None = None
    measure: str = Indicator.Measure.QUANTITATIVE
    unit: str = ""
    ascending: bool | None = None
    baseline_year: int | None = None
    baseline_value: Decimal | None = None
    baseline_comment: str = ""
    periods: list[PeriodData] = field(default_factory=list)


def _history_user(instance, actor) -> None:
    # As in projects.services: commands and imports have no request for the middleware.
    instance._history_user = actor


def _number(value, name: str, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = [_("Give a number.")]
        return None
    if not number.is_finite() or abs(number) >= MAX_VALUE:
        errors[name] = [_("Give a number.")]
        return None
    return number


def _check_indicator(data: IndicatorData, prefix: str, errors: dict) -> None:
    if not (data.title_zh.strip() or data.title_en.strip() or data.standard):
        errors[f"{prefix}title_zh"] = [_("Give a title or choose a standard indicator.")]
    if data.measure not in Indicator.Measure.values:
        errors[f"{prefix}measure"] = [_("Choose quantitative or qualitative.")]
    qualitative = data.measure == Indicator.Measure.QUALITATIVE
    if data.standard is not None and qualitative:
        errors[f"{prefix}measure"] = [_("A standard indicator is quantitative.")]
    if data.standard is not None and not data.standard.active:
        errors[f"{prefix}standard"] = [_("This standard indicator is no longer in use.")]
    data.baseline_value = _number(data.baseline_value, f"{prefix}baseline_value", errors)
    if qualitative and data.baseline_value is not None:
        errors[f"{prefix}baseline_value"] = [_("A qualitative indicator has no figures.")]
    if data.baseline_value is not None and not data.baseline_year:
        errors[f"{prefix}baseline_year"] = [_("Give the year of the baseline.")]
    if data.baseline_year is not None and not 1900 <= int(data.baseline_year) <= 2100:
        errors[f"{prefix}baseline_year"] = [_("Give a year between 1900 and 2100.")]
    for index, period in enumerate(data.periods):
        key = f"{prefix}periods.{index}."
        if period.period_end < period.period_start:
            errors[f"{key}period_end"] = [_("The period cannot end before it starts.")]
        period.target_value = _number(period.target_value, f"{key}target_value", errors)
        if qualitative and period.target_value is not None:
            errors[f"{key}target_value"] = [_("A qualitative indicator has no figures.")]


def _new_indicator(result: Result, data: IndicatorData, actor) -> Indicator:
    standard = data.standard
    indicator = Indicator(
        result=result,
        standard=standard,
        title_zh=data.title_zh.strip(),
        title_en=data.title_en.strip(),
        measure=data.measure,
        # A standard indicator's unit and direction hold for every project following it,
        # so their figures add up.
        unit=standard.unit if standard else data.unit.strip(),
        ascending=standard.ascending
        if standard
        else (True if data.ascending is None else data.ascending),
        baseline_year=data.baseline_year,
        baseline_value=data.baseline_value,
        baseline_comment=data.baseline_comment,
    )
    _history_user(indicator, actor)
    indicator.save()
    for period_data in data.periods:
        period_add(indicator=indicator, actor=actor, data=period_data, _checked=True)
    return indicator


@transaction.atomic
def result_create(
    *,
    project: Project,
    actor,
    type: str,
    title_zh: str = "",
    title_en: str = "",
    indicators: list[IndicatorData] = (),
    expected_version: int | None = None,
) -> Result:
    """A result with its indicators, baselines and period targets, all or nothing."""
    project = lock_project(project)
    check_version(project, expected_version)
    if not results_access.can_define_results(actor, project):
        raise NotAllowed(_("Only the lead unit's officers set a project's results."))
    errors = {}
    if type not in Result.Type.values:
        errors["type"] = [_("Choose output, outcome or impact.")]
    if not (title_zh.strip() or title_en.strip()):
        errors["title_zh"] = [_("Give a title in Chinese or English.")]
    for index, data in enumerate(indicators):
        _check_indicator(data, f"indicators.{index}.", errors)
    if errors:
        raise InvalidData(errors)
    result = Result(
        project=project, type=type, title_zh=title_zh.strip(), title_en=title_en.strip()
    )
    _history_user(result, actor)
    result.save()
    for data in indicators:
        _new_indicator(result, data, actor)
    bump_version(project)
    return result


@transaction.atomic
def indicator_add(
    *, result: Result, actor, data: IndicatorData, expected_version: int | None = None
) -> Indicator:
    project = lock_project(result.project)
    check_version(project, expected_version)
    if not results_access.can_define_results(actor, project):
        raise NotAllowed(_("Only the lead unit's officers set a project's results."))
    errors = {}
    _check_indicator(data, "", errors)
    if errors:
        raise InvalidData(errors)
    indicator = _new_indicator(result, data, actor)
    bump_version(project)
    return indicator


@transaction.atomic
def period_add(
    *,
    indicator: Indicator,
    actor,
    data: PeriodData,
    expected_version: int | None = None,
    _checked: bool = False,
) -> Period:
    """A reporting period with its target."""
    if not _checked:
        project = lock_project(indicator.result.project)
        check_version(project, expected_version)
        if not results_access.can_define_results(actor, project):
            raise NotAllowed(_("Only the lead unit's officers set a project's results."))
        errors = {}
        holder = IndicatorData(
            title_zh="-", measure=indicator.measure, periods=[data], standard=None
        )
        _check_indicator(holder, "", errors)
        if errors:
            raise InvalidData(errors)
    period = Period(
        indicator=indicator,
        period_start=data.period_start,
        period_end=data.period_end,
        target_value=data.target_value,
        target_comment=data.target_comment,
    )
    _history_user(period, actor)
    period.save()
    if not _checked:
        bump_version(project)
    return period


@transaction.atomic
def period_set_target(
    *,
    period: Period,
    actor,
    target_value=None,
    target_comment: str = "",
    expected_version: int | None = None,
) -> Period:
    """Change a period's target; an approved period's figures are final."""
    project = lock_project(period.indicator.result.project)
    check_version(project, expected_version)
    if not results_access.can_define_results(actor, project):
        raise NotAllowed(_("Only the lead unit's officers set a project's results."))
    period = Period.objects.select_related("indicator").get(pk=period.pk)
    if period.status == State.APPROVED:
        raise TransitionNotAllowed(_("The figures of an approved period are final."))
    errors = {}
    value = _number(target_value, "target_value", errors)
    if value is not None and period.indicator.measure == Indicator.Measure.QUALITATIVE:
        errors["target_value"] = [_("A qualitative indicator has no figures.")]
    if errors:
        raise InvalidData(errors)
    period.target_value = value
    period.target_comment = target_comment
    _history_user(period, actor)
    period.save()
    bump_version(project)
    return period


def _locked_period(period: Period, expected_version: int | None) -> tuple[Project, Period]:
    project = lock_project(Project(pk=period.indicator.result.project_id))
    check_version(project, expected_version)
    period = (
        Period.objects.select_related("indicator").select_for_update(of=("self",)).get(pk=period.pk)
    )
    return project, period


def _check_state(period: Period, action: str) -> None:
    sources, _target = PERIOD_TRANSITIONS[action]
    if period.status not in sources:
        raise TransitionNotAllowed(
            _("This period is %(status)s; it cannot be %(action)s now.")
            % {"status": period.get_status_display(), "action": ACTION_LABELS[action]()}
        )


ACTION_LABELS = {
    "report": lambda: _("reported"),
    "approve": lambda: _("approved"),
    "return": lambda: _("returned"),
}


@transaction.atomic
def period_report(
    *,
    period: Period,
    actor,
    actual_value=None,
    actual_comment: str = "",
    partner=None,
    expected_version: int | None = None,
) -> Period:
    """Report a period's actual (lead officers, or partners taking part)."""
    project, period = _locked_period(period, expected_version)
    if not results_access.can_report_actuals(actor, project):
        raise NotAllowed(_("You may only report results of projects you take part in."))
    _check_state(period, "report")
    errors = {}
    value = _number(actual_value, "actual_value", errors)
    actual_comment = (actual_comment or "").strip()
    if period.indicator.measure == Indicator.Measure.QUALITATIVE:
        if value is not None:
            errors["actual_value"] = [_("A qualitative indicator has no figures.")]
        if not actual_comment:
            errors["actual_comment"] = [_("Describe what was achieved.")]
    elif value is None:
        errors["actual_value"] = [_("Give the actual figure.")]
    if period.period_start > timezone.localdate():
        errors["period_start"] = [_("A period that has not started cannot be reported.")]
    own = results_access.reporting_partner_ids(actor, project)
    partner_id = getattr(partner, "pk", partner)
    if partner_id is None and not results_access.can_define_results(actor, project):
        if len(own) == 1:
            (partner_id,) = own
        else:
            errors["partner"] = [_("Say on behalf of which of your institutions you report.")]
    elif partner_id is not None and partner_id not in own:
        errors["partner"] = [
            _("You may only report on behalf of your own institution that takes part in it.")
        ]
    if errors:
        raise InvalidData(errors)
    period.actual_value = value
    period.actual_comment = actual_comment
    period.status = State.REPORTED
    period.reported_by = actor
    period.reporting_partner_id = partner_id
    period.reported_at = timezone.now()
    period.approved_by = None
    period.approved_at = None
    _history_user(period, actor)
    period.save()
    bump_version(project)
    return period


@transaction.atomic
def period_approve(*, period: Period, actor, expected_version: int | None = None) -> Period:
    project, period = _locked_period(period, expected_version)
    if not results_access.can_approve_actuals(actor, project):
        raise NotAllowed(_("Only the lead unit's officers approve reported results."))
    _check_state(period, "approve")
    period.status = State.APPROVED
    period.approved_by = actor
    period.approved_at = timezone.now()
    period.review_comment = ""
    _history_user(period, actor)
    period.save()
    bump_version(project)
    return period


@transaction.atomic
def period_return(
    *, period: Period, actor, comment: str, expected_version: int | None = None
) -> Period:
    """Send a reported actual back to its reporter with the reason."""
    project, period = _locked_period(period, expected_version)
    if not results_access.can_approve_actuals(actor, project):
        raise NotAllowed(_("Only the lead unit's officers approve reported results."))
    _check_state(period, "return")
    comment = (comment or "").strip()
    if not comment:
        raise InvalidData({"comment": [_("Say why the figure is returned.")]})
    period.status = State.RETURNED
    period.review_comment = comment
    _history_user(period, actor)
    period.save()
    bump_version(project)
    return period
