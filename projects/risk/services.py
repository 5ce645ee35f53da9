"""Writes to the risk registers and warnings: keyword-only, atomic, checked, recorded."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projects.errors import InvalidData, NotAllowed, TransitionNotAllowed
from projects.risk import access as risk_access
from projects.risk.models import CountryRisk, ProjectRisk, Warning

PROJECT_RISK_FIELDS = (
    "kind",
    "category",
    "title",
    "description",
    "likelihood",
    "impact",
    "mitigation",
    "owner",
    "status",
    "resolution_channel",
    "opened_on",
    "closed_on",
)


@transaction.atomic
def country_risk_record(
    *, actor, country, category: str, level: int, effective_date=None, source="", note=""
) -> CountryRisk:
    """A new assessment in the country register (the earlier ones stay as they were)."""
    if not risk_access.can_keep_country_risks(actor):
        raise NotAllowed(_("Only managers keep the country risk register."))
    assessment = CountryRisk(
        country=country,
        category=category,
        level=level,
        effective_date=effective_date or timezone.localdate(),
        source=source,
        note=note,
        recorded_by=actor,
    )
    try:
        assessment.full_clean()
    except Exception as error:  # ValidationError: mapped to field errors
        raise InvalidData(error) from error
    assessment._history_user = actor
    assessment.save()
    return assessment


@transaction.atomic
def project_risk_save(*, actor, project, risk: ProjectRisk | None = None, **data) -> ProjectRisk:
    """Enter or change a risk, issue or dispute of a project."""
    if not risk_access.can_keep_project_risks(actor, project):
        raise NotAllowed(_("Only the lead unit's officers and managers keep project risks."))
    unknown = set(data) - set(PROJECT_RISK_FIELDS)
    if unknown:
        raise InvalidData({name: [_("This field cannot be set.")] for name in sorted(unknown)})
    risk = risk or ProjectRisk(project=project)
    if risk.project_id != project.pk:
        raise InvalidData({"project": [_("This risk belongs to another project.")]})
    for name, value in data.items():
        setattr(risk, name, value)
    errors = {}
    if risk.kind == ProjectRisk.Kind.DISPUTE and not risk.resolution_channel:
        errors["resolution_channel"] = [_("Say how the dispute is being resolved.")]
    if risk.status == ProjectRisk.State.CLOSED and not risk.closed_on:
        risk.closed_on = timezone.localdate()
    if risk.closed_on and risk.closed_on < risk.opened_on:
        errors["closed_on"] = [_("It cannot be closed before it was opened.")]
    try:
        risk.full_clean()
    except Exception as error:
        errors.update(InvalidData(error).errors)
    if errors:
        raise InvalidData(errors)
    risk._history_user = actor
    risk.save()
    return risk


@transaction.atomic
def warning_dismiss(*, warning: Warning, actor, reason: str) -> Warning:
    """A manager decides a warning needs no action; it stays dismissed while its cause
    lasts, and is resolved like any other when the cause goes away."""
    if not risk_access.can_dismiss_warnings(actor):
        raise NotAllowed(_("Only managers dismiss warnings."))
    warning = Warning.objects.select_for_update().get(pk=warning.pk)
    if not warning.is_open:
        raise TransitionNotAllowed(_("This warning is no longer open."))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidData({"dismiss_reason": [_("Say why the warning is dismissed.")]})
    warning.dismissed_at = timezone.now()
    warning.dismissed_by = actor
    warning.dismiss_reason = reason
    warning._history_user = actor
    warning.save()
    return warning
