"""Every write to the pool is a function here: keyword-only, atomic, checked, recorded.

The admin, the API and the import call these functions, so they obey the same rules and
leave the same history. Each one locks the project row, checks the actor's right and the
data, applies the change, bumps `Project.version` (the API's ETag) and lets
django-simple-history record old and new values with the acting user.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from projects import access
from projects.errors import InvalidData, NotAllowed, StaleWrite
from projects.models import (
    Participation,
    Project,
    ProjectCountry,
    ProjectSector,
    Tag,
)
from projects.validation import validate_shares

# Fields of Project that a create/update may set. Status, code and version never.
EDITABLE_FIELDS = (
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "kind",
    "lead_unit",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "estimated_value",
    "currency",
    "support_requested",
    "risk_level",
    "risk_notes",
    "internal_notes",
    "next_review_due",
)


@dataclass(frozen=True)
class CountryShare:
    country_id: str
    share: Decimal | None = None


@dataclass(frozen=True)
class SectorShare:
    sector_id: int
    share: Decimal | None = None


@dataclass(frozen=True)
class PartnerRole:
    partner_id: int
    role: str


def _set_simple_history_user(instance, actor) -> None:
    # simple-history takes the user from the request middleware; services also run from
    # commands and imports, so the actor is attached explicitly.
    instance._history_user = actor


def lock_project(project: Project) -> Project:
    """Re-read the project with its row locked until the transaction ends."""
    return Project.objects.select_for_update().get(pk=project.pk)


def check_version(project: Project, expected_version: int | None) -> None:
    if expected_version is not None and project.version != expected_version:
        raise StaleWrite()


def _validate_links(countries, sectors) -> dict:
    errors = {}
    if countries is not None:
        ids = [c.country_id for c in countries]
        if len(ids) != len(set(ids)):
            errors["countries"] = [_("A country is listed twice.")]
        else:
            try:
                validate_shares([c.share for c in countries], label=_("countries"))
            except ValidationError as error:
                errors["countries"] = error.messages
    if sectors is not None:
        ids = [s.sector_id for s in sectors]
        if len(ids) != len(set(ids)):
            errors["sectors"] = [_("A sector is listed twice.")]
        else:
            try:
                validate_shares([s.share for s in sectors], label=_("sectors"))
            except ValidationError as error:
                errors["sectors"] = error.messages
    return errors


def _apply_fields(project: Project, data: dict) -> list[str]:
    unknown = set(data) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidData({name: [_("This field cannot be set.")] for name in sorted(unknown)})
    changed = []
    for name, value in data.items():
        field = project._meta.get_field(name)
        if field.is_relation:
            new_id = getattr(value, "pk", value)
            if getattr(project, field.attname) != new_id:
                setattr(project, field.attname, new_id)
                changed.append(name)
        elif getattr(project, name) != value:
            setattr(project, name, value)
            changed.append(name)
    return changed


def _full_clean(project: Project, extra_errors: dict) -> None:
    errors = dict(extra_errors)
    try:
        project.full_clean(exclude=["code", "tags"], validate_unique=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise InvalidData(errors)


def _replace_rows(project, model, key: str, wanted: dict, actor) -> bool:
    """Make `project`'s rows of `model` match `wanted` ({key value: {field: value}})."""
    existing = {getattr(row, key): row for row in model.objects.filter(project=project)}
    changed = False
    for key_value, row in existing.items():
        if key_value not in wanted:
            _set_simple_history_user(row, actor)
            row.delete()
            changed = True
    for key_value, values in wanted.items():
        row = existing.get(key_value)
        if row is None:
            row = model(project=project, **{key: key_value}, **values)
            _set_simple_history_user(row, actor)
            row.save()
            changed = True
        elif any(getattr(row, f) != v for f, v in values.items()):
            for f, v in values.items():
                setattr(row, f, v)
            _set_simple_history_user(row, actor)
            row.save()
            changed = True
    return changed


def _replace_participations(project, participations: Iterable[PartnerRole], actor) -> bool:
    wanted = {(p.partner_id, p.role) for p in participations}
    existing = {(p.partner_id, p.role): p for p in project.participations.all()}
    changed = False
    for key, row in existing.items():
        if key not in wanted:
            _set_simple_history_user(row, actor)
            row.delete()
            changed = True
    for partner_id, role in wanted - set(existing):
        row = Participation(project=project, partner_id=partner_id, role=role)
        _set_simple_history_user(row, actor)
        row.save()
        changed = True
    return changed


def _set_tags(project, tags: Iterable[str]) -> bool:
    names = sorted({t.strip() for t in tags if t and t.strip()})
    current = sorted(project.tags.values_list("name", flat=True))
    if names == current:
        return False
    objects = [Tag.objects.get_or_create(name=name)[0] for name in names]
    project.tags.set(objects)
    return True


def _save_links(project, actor, countries, sectors, participations, tags) -> bool:
    changed = False
    if countries is not None:
        changed |= _replace_rows(
            project,
            ProjectCountry,
            "country_id",
            {c.country_id: {"share": c.share} for c in countries},
            actor,
        )
    if sectors is not None:
        changed |= _replace_rows(
            project,
            ProjectSector,
            "sector_id",
            {s.sector_id: {"share": s.share} for s in sectors},
            actor,
        )
    if participations is not None:
        changed |= _replace_participations(project, participations, actor)
    if tags is not None:
        changed |= _set_tags(project, tags)
    return changed


@transaction.atomic
def project_create(
    *,
    actor,
    data: dict,
    countries: Iterable[CountryShare] = (),
    sectors: Iterable[SectorShare] = (),
    participations: Iterable[PartnerRole] = (),
    tags: Iterable[str] = (),
) -> Project:
    """Enter a new project as a draft. Officers create projects for their own units."""
    countries, sectors, participations = list(countries), list(sectors), list(participations)
    lead_unit = data.get("lead_unit")
    lead_unit_id = getattr(lead_unit, "pk", lead_unit)
    if not access.can_create_project(actor, lead_unit_id):
        raise NotAllowed(_("You may only enter projects for your own unit."))
    project = Project(created_by=actor if getattr(actor, "pk", None) else None)
    _apply_fields(project, data)
    _full_clean(project, _validate_links(countries, sectors))
    _set_simple_history_user(project, actor)
    project.save()
    _save_links(project, actor, countries, sectors, participations, tags)
    return project


@transaction.atomic
def project_update(
    *,
    actor,
    project: Project,
    data: dict,
    countries: Iterable[CountryShare] | None = None,
    sectors: Iterable[SectorShare] | None = None,
    participations: Iterable[PartnerRole] | None = None,
    tags: Iterable[str] | None = None,
    expected_version: int | None = None,
) -> tuple[Project, bool]:
    """Change a project's fields and, when given, replace its countries, sectors,
    participations and tags. Returns the project and whether anything changed; an
    unchanged write records nothing and keeps the version."""
    project = lock_project(project)
    check_version(project, expected_version)
    if not access.can_edit_project(actor, project):
        raise NotAllowed(_("You may only change projects of your own unit."))
    new_lead = data.get("lead_unit")
    new_lead_id = getattr(new_lead, "pk", new_lead)
    if (
        new_lead_id is not None
        and new_lead_id != project.lead_unit_id
        and not access.can_create_project(actor, new_lead_id)
    ):
        raise NotAllowed(_("You may only hand a project to a unit you belong to."))
    countries = None if countries is None else list(countries)
    sectors = None if sectors is None else list(sectors)
    changed_fields = _apply_fields(project, data)
    _full_clean(project, _validate_links(countries, sectors))
    links_changed = _save_links(project, actor, countries, sectors, participations, tags)
    if not changed_fields and not links_changed:
        return project, False
    # The row is locked, so a plain increment is safe (and history records a number).
    project.version += 1
    _set_simple_history_user(project, actor)
    project.save()
    return project, True


def bump_version(project: Project) -> None:
    """Mark the project changed (a child row was written) so stale ETags are refused."""
    Project.objects.filter(pk=project.pk).update(version=F("version") + 1)


# --- Workflow, screening and support (projects/workflow.py holds the transition table) ---


def project_transition(
    *,
    project: Project,
    actor,
    action: str,
    reason: str = "",
    expected_version: int | None = None,
) -> Project:
    """Take a workflow action (`submit`, `select`, …) on a project."""
    raise NotImplementedError


def review_record(
    *, project: Project, reviewer, scores: dict, recommendation: str, comment: str = ""
):
    """Record one reviewer's scored review in the project's current screening round."""
    raise NotImplementedError


def support_decide(
    *,
    project: Project,
    actor,
    kind: str,
    amount: Decimal | None = None,
    currency: str = "",
    conditions: str = "",
    valid_until=None,
    decided_on=None,
):
    """A manager grants support to a selected or in-progress project."""
    raise NotImplementedError


def progress_post(*, project: Project, actor, note: str, reported_on=None, partner=None):
    """Post a dated implementation note (staff of the project, or its partners)."""
    raise NotImplementedError
