"""Every write to the pool is a function here: keyword-only, atomic, checked, recorded.

The admin, the API and the import call these functions, so they obey the same rules and
leave the same history. Each one locks the project row, checks the actor's right and the
data, applies the change, bumps `Project.version` (the API's ETag) and lets
django-simple-history record old and new values with the acting user.
"""

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from partners.models import Partner
from projects import access, events, workflow
from projects.errors import InvalidData, NotAllowed, StaleWrite, TransitionNotAllowed
from projects.models import (
    CodeSequence,
    Participation,
    ProgressUpdate,
    Project,
    ProjectCountry,
    ProjectSector,
    Review,
    Site,
    Status,
    StatusChange,
    SupportDecision,
    Tag,
    format_project_code,
)
from projects.validation import list_size_errors, validate_shares
from registry.roles import REVIEWER

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
    """Each country and sector once; shares complete and adding up to 100 when given."""
    errors = {}
    checks = (
        ("countries", countries, "country_id", _("A country is listed twice."), _("countries")),
        ("sectors", sectors, "sector_id", _("A sector is listed twice."), _("sectors")),
    )
    for field, rows, key, twice, label in checks:
        if rows is None:
            continue
        ids = [getattr(row, key) for row in rows]
        if len(ids) != len(set(ids)):
            errors[field] = [twice]
            continue
        try:
            validate_shares([row.share for row in rows], label=label)
        except ValidationError as error:
            errors[field] = error.messages
    return errors


def _sites_outside(project: Project, countries) -> dict:
    """A country cannot leave a project while one of its sites lies there."""
    if countries is None:
        return {}
    wanted = {c.country_id for c in countries}
    stranded = sorted(
        set(
            Site.objects.current()
            .filter(project=project)
            .exclude(country_id__in=wanted)
            .values_list("country_id", flat=True)
        )
    )
    if not stranded:
        return {}
    return {
        "countries": [
            _("The project has sites in %(countries)s: move or remove them first.")
            % {"countries": ", ".join(stranded)}
        ]
    }


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


def _full_clean(
    project: Project,
    extra_errors: dict,
    *,
    exclude=("code", "tags"),
    validate_constraints: bool = True,
) -> None:
    errors = dict(extra_errors)
    try:
        project.full_clean(
            exclude=list(exclude),
            validate_unique=False,
            validate_constraints=validate_constraints,
        )
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


def inactive_tag_errors(names, *, keep=(), inactive_names=None) -> dict:
    """Field errors for tags that are no longer in use (merged or deactivated), unless
    the project already carries them (`keep`). `inactive_names`: the inactive tags among
    them as the caller read them (a batch reads its tags once, `projects_create_many`)."""
    wanted = set(names) - set(keep)
    if inactive_names is None:
        inactive_names = Tag.objects.filter(name__in=wanted, is_active=False).values_list(
            "name", flat=True
        )
    inactive = sorted(wanted & set(inactive_names))
    if not inactive:
        return {}
    return {
        "tags": [_("The tag “%(name)s” is no longer in use.") % {"name": name} for name in inactive]
    }


def _set_tags(project, tags: Iterable[str]) -> bool:
    names = sorted({t.strip() for t in tags if t and t.strip()})
    current = sorted(project.tags.values_list("name", flat=True))
    if names == current:
        return False
    errors = inactive_tag_errors(names, keep=current)
    if errors:
        raise InvalidData(errors)
    objects = [Tag.objects.get_or_create(name=name)[0] for name in names]
    project.tags.set(objects)
    return True


def _check_list_sizes(countries, sectors, participations, tags) -> None:
    errors = list_size_errors(
        {
            "countries": countries,
            "sectors": sectors,
            "participations": participations,
            "tags": tags,
        }
    )
    if errors:
        raise InvalidData(errors)


def _changed_lists(project, countries, sectors, participations, tags) -> set[str]:
    """The lists given that differ from what the project has (read only, nothing written),
    for the editable-fields check before anything is written."""
    changed = set()
    if countries is not None:
        current = dict(project.project_countries.values_list("country_id", "share"))
        if current != {c.country_id: c.share for c in countries}:
            changed.add("countries")
    if sectors is not None:
        current = dict(project.project_sectors.values_list("sector_id", "share"))
        if current != {s.sector_id: s.share for s in sectors}:
            changed.add("sectors")
    if participations is not None:
        current = set(project.participations.values_list("partner_id", "role"))
        if current != {(p.partner_id, p.role) for p in participations}:
            changed.add("participations")
    if tags is not None:
        names = sorted({t.strip() for t in tags if t and t.strip()})
        if names != sorted(project.tags.values_list("name", flat=True)):
            changed.add("tags")
    return changed


def _save_links(project, actor, countries, sectors, participations, tags) -> bool:
    changed = False
    for model, shares in ((ProjectCountry, countries), (ProjectSector, sectors)):
        if shares is not None:
            key = model.link_id()
            wanted = {getattr(row, key): {"share": row.share} for row in shares}
            changed |= _replace_rows(project, model, key, wanted, actor)
    if participations is not None:
        changed |= _replace_participations(project, participations, actor)
    if tags is not None:
        changed |= _set_tags(project, tags)
    return changed


def _new_project(
    *,
    actor,
    data: dict,
    countries: list,
    sectors: list,
    participations: list = (),
    tags: list = (),
    lead_unit_exists: bool = False,
    inactive_tags: frozenset[str] | None = None,
    constraints_at_insert: bool = False,
) -> Project:
    """An unsaved new project after every check of a create: the actor's right for the
    lead unit, the editable fields, the countries' and sectors' rules and the model's
    own validation (fields, `clean`, check constraints). Raises NotAllowed/InvalidData.
    `lead_unit_exists`: the caller has read the lead unit already (a batch reads all of
    them in one query), so its existence is not checked again here.
    `inactive_tags`: the inactive tags among the batch's, read once by the caller.
    `constraints_at_insert`: the caller lets the database check the constraints when it
    inserts, and names a refused project with `validate_constraints` (see
    `projects_create_many`)."""
    lead_unit = data.get("lead_unit")
    lead_unit_id = getattr(lead_unit, "pk", lead_unit)
    if not access.can_create_project(actor, lead_unit_id):
        raise NotAllowed(_("You may only enter projects for your own unit."))
    _check_list_sizes(countries, sectors, participations, tags)
    tag_errors = inactive_tag_errors(tags, inactive_names=inactive_tags) if tags else {}
    if tag_errors:
        raise InvalidData(tag_errors)
    project = Project(created_by=actor if getattr(actor, "pk", None) else None)
    changed = set(_apply_fields(project, data))
    lists = {"countries": countries, "sectors": sectors, "participations": participations}
    changed |= {name for name, rows in (*lists.items(), ("tags", tags)) if rows}
    # What a new project may carry is the editable-fields table's (status draft).
    workflow.check_editable(actor, project, changed)
    # `created_by` is the acting user, read from the database by its caller.
    exclude = ["code", "tags"] + (["lead_unit", "created_by"] if lead_unit_exists else [])
    _full_clean(
        project,
        _validate_links(countries, sectors),
        exclude=exclude,
        validate_constraints=not constraints_at_insert,
    )
    return project


def _past_moment(at):
    """`at` on a create or transition records when it happened, for loading past records
    (the demo data's two years); never in the future, so the pool's figures stay true."""
    if at is not None and at > timezone.now():
        raise InvalidData({"at": [_("A recorded moment cannot be in the future.")]})
    return at


@transaction.atomic
def project_create(
    *,
    actor,
    data: dict,
    countries: Iterable[CountryShare] = (),
    sectors: Iterable[SectorShare] = (),
    participations: Iterable[PartnerRole] = (),
    tags: Iterable[str] = (),
    at=None,
) -> Project:
    """Enter a new project as a draft. Officers create projects for their own units."""
    at = _past_moment(at)
    countries, sectors, participations = list(countries), list(sectors), list(participations)
    tags = list(tags)
    project = _new_project(
        actor=actor,
        data=data,
        countries=countries,
        sectors=sectors,
        participations=participations,
        tags=tags,
    )
    if at is not None:
        project.created_at = at
        project._history_date = at
    _set_simple_history_user(project, actor)
    project.save()
    _save_links(project, actor, countries, sectors, participations, tags)
    return project


@dataclass(frozen=True)
class NewProject:
    """One project for `projects_create_many`: what `project_create` takes."""

    data: dict
    countries: Sequence[CountryShare] = ()
    sectors: Sequence[SectorShare] = ()
    participations: Sequence[PartnerRole] = ()
    tags: Sequence[str] = ()


@transaction.atomic
def projects_create_many(
    *, actor, projects: Sequence[NewProject], numbers: Iterator[int] | None = None
) -> list[Project | NotAllowed | InvalidData]:
    """Enter many new projects as drafts, with the rules and the history of
    `project_create`, for files of thousands of rows.

    Each project is checked as `project_create` checks it (`_new_project`: right, fields,
    links, `full_clean`); the lead units are read in one query instead of one per
    project, and so are the tags no longer in use. The check constraints are checked by
    the database as it inserts the batch:
    `validate_constraints` asks the database once per constraint and project inside a
    savepoint (15 statements a project, measured: 15 of the 19.5 statements a row the
    import then cost). When the database refuses the batch, each project is checked with
    `validate_constraints`, the refused ones are reported with their field errors and the
    rest is inserted again. (`Project.clean` mirrors every constraint with a message, so
    the database should never refuse.) The projects that pass are written together: their
    codes from the locked sequence in one step, then the projects, their countries,
    sectors and participations with simple-history's `bulk_create_with_history` (one
    "+" history row each, under `actor`), then the projects' tags with the "~" history
    row and tag list `project_create` writes (`_add_tags_with_history`: one statement per
    table for the batch). Returns, in order, the created project or the error of each
    input; the caller decides whether a batch with errors is kept (the import rolls it
    back).

    `numbers`: code numbers the caller reserved beforehand (`CodeSequence.take` in a
    short transaction of its own, as the import does, so the sequence row is not locked
    for the caller's whole transaction); a project takes the next one when it is written.
    Without them the codes come from the locked sequence here."""
    projects = list(projects)
    lead_unit_ids = {
        getattr(lead, "pk", lead)
        for lead in (new.data.get("lead_unit") for new in projects)
        if lead is not None
    }
    existing_leads = set(
        Partner._base_manager.filter(pk__in=lead_unit_ids).values_list("pk", flat=True)
    )
    tag_names = {name for new in projects for name in new.tags}
    inactive_tags = frozenset(
        Tag.objects.filter(name__in=tag_names, is_active=False).values_list("name", flat=True)
        if tag_names
        else ()
    )
    results: list[Project | NotAllowed | InvalidData] = []
    checked: list[tuple[NewProject, Project]] = []
    for new in projects:
        lead = new.data.get("lead_unit")
        lead_id = getattr(lead, "pk", lead)
        try:
            project = _new_project(
                actor=actor,
                data=new.data,
                countries=list(new.countries),
                sectors=list(new.sectors),
                participations=list(new.participations),
                tags=list(new.tags),
                lead_unit_exists=lead_id in existing_leads,
                inactive_tags=inactive_tags,
                constraints_at_insert=True,
            )
        except (NotAllowed, InvalidData) as error:
            results.append(error)
            continue
        results.append(project)
        checked.append((new, project))
    while checked:
        try:
            with transaction.atomic():
                _insert_new_projects(actor, checked, numbers)
            break
        except IntegrityError:
            refused = _refused_by_constraints([project for _new, project in checked])
            if not refused:
                raise
            for position, outcome in enumerate(results):
                if id(outcome) in refused:
                    results[position] = InvalidData(refused[id(outcome)])
            checked = [(new, project) for new, project in checked if id(project) not in refused]
            for _new, project in checked:
                # Written again from scratch: the insert that was rolled back may have
                # given them ids.
                project.pk = None
                project._state.adding = True
    return results


def _refused_by_constraints(projects: list[Project]) -> dict[int, dict]:
    """{id(project): field errors} of the projects the check constraints refuse."""
    refused = {}
    for project in projects:
        try:
            project.validate_constraints(exclude=["code"])
        except ValidationError as error:
            refused[id(project)] = error.message_dict
    return refused


def _insert_new_projects(
    actor, checked: list[tuple[NewProject, Project]], numbers: Iterator[int] | None
) -> None:
    uncoded = [project for _new, project in checked if not project.code]
    if numbers is None:
        first = CodeSequence.take("project", count=len(uncoded))
        numbers = iter(range(first, first + len(uncoded)))
    # A project written again after the database refused its batch keeps its code.
    for project in uncoded:
        project.code = format_project_code(next(numbers))
    bulk_create_with_history([p for _n, p in checked], Project, default_user=actor)
    countries, sectors, participations = [], [], []
    for new, project in checked:
        for model, rows, shares in (
            (ProjectCountry, countries, new.countries),
            (ProjectSector, sectors, new.sectors),
        ):
            rows += [model.row(project, getattr(s, model.link_id()), s.share) for s in shares]
        participations += [
            Participation(project=project, partner_id=partner_id, role=role)
            for partner_id, role in {(p.partner_id, p.role) for p in new.participations}
        ]
    for model, rows in (
        (ProjectCountry, countries),
        (ProjectSector, sectors),
        (Participation, participations),
    ):
        if rows:
            bulk_create_with_history(rows, model, default_user=actor)
    wanted = {
        project.pk: sorted({t.strip() for t in new.tags if t and t.strip()})
        for new, project in checked
    }
    names = {name for tags in wanted.values() for name in tags}
    if not names:
        return
    # The tags are read (and the new ones made) once for the batch, not once per project.
    known = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    for tag in Tag.objects.bulk_create([Tag(name=n) for n in sorted(names - set(known))]):
        known[tag.name] = tag
    _add_tags_with_history(
        actor,
        {project: [known[name] for name in wanted[project.pk]] for _n, project in checked},
    )


def _add_tags_with_history(actor, tags: dict[Project, list[Tag]]) -> None:
    """Give new projects (which have no tags yet) their tags, with the history
    `project.tags.add()` writes (simple-history's m2m_changed receiver): per project with
    tags, one "~" historical project row under `actor` and, on it, one historical row
    per tag link. Here the batch costs one statement per table (the links, the history
    rows, their tag rows) where `add()` took about four per project (3,871 statements for
    1,000 imported projects). The receiver's m2m-history signals are not sent: nothing
    in the registry listens to them."""
    tagged = [project for project, project_tags in tags.items() if project_tags]
    if not tagged:
        return
    through = Project.tags.through
    links = through.objects.bulk_create(
        [through(project=project, tag=tag) for project in tagged for tag in tags[project]]
    )
    for project in tagged:
        _set_simple_history_user(project, actor)
    records = Project.history.bulk_history_create(tagged, update=True, default_user=actor)
    record_of = {record.id: record for record in records}
    tag_history = Project.history.model._meta.get_field("historicalproject_tags").related_model
    tag_history.objects.bulk_create(
        [
            tag_history(
                history=record_of[link.project_id], id=link.pk, project=link.project, tag=link.tag
            )
            for link in links
        ]
    )


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
    if not access.can_change_project(actor, project):
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
    participations = None if participations is None else list(participations)
    tags = None if tags is None else list(tags)
    _check_list_sizes(countries, sectors, participations, tags)
    # The status the project is in decides, before anything is written.
    changed_lists = _changed_lists(project, countries, sectors, participations, tags)
    changed_fields = _apply_fields(project, data)
    workflow.check_editable(actor, project, {*changed_fields, *changed_lists})
    link_errors = _validate_links(countries, sectors)
    for name, messages in _sites_outside(project, countries).items():
        link_errors.setdefault(name, []).extend(messages)
    _full_clean(project, link_errors)
    # Set before the links: a tag change writes the project's history record at once.
    _set_simple_history_user(project, actor)
    links_changed = _save_links(project, actor, countries, sectors, participations, tags)
    if not changed_fields and not links_changed:
        return project, False
    # The row is locked, so a plain increment is safe (and history records a number).
    project.version += 1
    project.save()
    events.announce(
        project=project,
        event=events.UPDATED,
        actor=actor,
        changed_fields=[*changed_fields, *(["links"] if links_changed else [])],
    )
    return project, True


def bump_version(project: Project) -> None:
    """Mark the project changed (a child row was written) so stale ETags are refused and
    partners syncing by `updated_since` see it."""
    Project.objects.filter(pk=project.pk).update(
        version=F("version") + 1, updated_at=timezone.now()
    )


# --- Workflow, screening and support (projects/workflow.py holds the transition table) ---

logger = logging.getLogger(__name__)

# Statuses in which implementation notes make sense: from selection to the end of work.
PROGRESS_STATUSES = (
    Status.SELECTED,
    Status.IN_PROGRESS,
    Status.SUSPENDED,
    Status.COMPLETED,
)
SUPPORT_STATUSES = (Status.SELECTED, Status.IN_PROGRESS)
TRANSITION_REASON_PREFIX = "transition:"


def _announce_transition(project, status_change, transition) -> None:
    logger.info(
        "project %s: %s (%s -> %s) by %s",
        project.code,
        transition.name,
        status_change.from_status,
        status_change.to_status,
        status_change.actor_id,
    )
    workflow.transition_committed.send(
        sender=Project, project=project, status_change=status_change, transition=transition
    )


@transaction.atomic
def project_transition(
    *,
    project: Project,
    actor,
    action: str,
    reason: str = "",
    reason_visible_to_partners: bool = False,
    expected_version: int | None = None,
    at=None,
) -> Project:
    """Take a workflow action (`submit`, `select`, …) on a project (`at`: when it
    happened, for past records; now by default).

    Checks, in this order: the action exists (InvalidData), the version (StaleWrite), the
    actor's right (NotAllowed), the current status (TransitionNotAllowed), the reason
    (InvalidData) and the transition's guards (TransitionNotAllowed)."""
    transition = workflow.get_transition(action)
    at = _past_moment(at)
    project = lock_project(project)
    check_version(project, expected_version)
    reason = (reason or "").strip()
    workflow.check_transition(transition, project, actor, reason)

    from_status = project.status
    project.status = workflow.resolve_target(transition, project)
    for effect in transition.effects:
        effect(project)
    status_change = StatusChange.objects.create(
        project=project,
        action=transition.name,
        from_status=from_status,
        to_status=project.status,
        actor=actor if getattr(actor, "pk", None) else None,
        reason=reason,
        reason_visible_to_partners=bool(reason_visible_to_partners and reason),
        **({"created_at": at} if at is not None else {}),
    )
    if at is not None:
        project._history_date = at
    project.version += 1
    _set_simple_history_user(project, actor)
    # Ties the project's history record to its StatusChange so the merged history shows
    # one entry per transition, with the field changes that came with it.
    project._change_reason = f"{TRANSITION_REASON_PREFIX}{status_change.pk}"
    project.save()
    transaction.on_commit(lambda: _announce_transition(project, status_change, transition))
    return project


def review_scores(scores: dict) -> dict[str, int]:
    """Check a review's scores: every criterion, whole numbers from 1 to 5, nothing else."""
    if not isinstance(scores, dict):
        raise InvalidData({"scores": [_("Give the scores as a mapping of criterion to score.")]})
    errors = {}
    for name in sorted(set(scores) - set(Review.CRITERIA)):
        errors[name] = [_("“%(name)s” is not a screening criterion.") % {"name": name}]
    clean = {}
    for name in Review.CRITERIA:
        value = scores.get(name)
        if value is None or value == "":
            errors[name] = [_("Give a score from 1 to 5.")]
            continue
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            errors[name] = [_("A score is a whole number from 1 to 5.")]
            continue
        clean[name] = value
    if errors:
        raise InvalidData(errors)
    return clean


# What a reviewer may declare; "not_asked" marks only the reviews recorded before.
REVIEW_DECLARATIONS = (Review.ConflictDeclaration.NONE, Review.ConflictDeclaration.DECLARED)


def review_declaration_errors(declaration: str, note: str) -> dict:
    """The field errors of a conflict-of-interest declaration: one of
    `REVIEW_DECLARATIONS` must be made, and a declared conflict says what it is."""
    if declaration not in REVIEW_DECLARATIONS:
        return {
            "conflict_declaration": [
                _("Declare whether you have a conflict of interest with this project.")
            ]
        }
    if declaration == Review.ConflictDeclaration.DECLARED and not note:
        return {"conflict_note": [_("Say what the conflict of interest is.")]}
    return {}


def weighted_score(scores: dict[str, int]) -> Decimal:
    """sum(score * weight) / sum(weights), with the weights in REGISTRY_REVIEW_WEIGHTS."""
    weights = settings.REGISTRY_REVIEW_WEIGHTS
    total_weight = sum(Decimal(str(weights.get(name, 0))) for name in Review.CRITERIA)
    if total_weight <= 0:
        raise ImproperlyConfigured("REGISTRY_REVIEW_WEIGHTS must give some criterion a weight.")
    total = sum(
        (Decimal(scores[name]) * Decimal(str(weights.get(name, 0))) for name in Review.CRITERIA),
        Decimal("0"),
    )
    return (total / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def review_record(
    *,
    project: Project,
    reviewer,
    scores: dict,
    recommendation: str,
    conflict_declaration: str,
    conflict_note: str = "",
    comment: str = "",
    expected_version: int | None = None,
) -> Review:
    """Record one reviewer's scored review in the project's current screening round, with
    the reviewer's conflict-of-interest declaration ("none", or "declared" with a note
    saying what the conflict is)."""
    project = lock_project(project)
    check_version(project, expected_version)
    if not access.can_review(reviewer, project):
        if access.is_superuser(reviewer) or REVIEWER in access.user_roles(reviewer):
            raise NotAllowed(
                _(
                    "You may not review this project: your institution is its lead unit "
                    "(conflict of interest)."
                ),
                code="conflict_of_interest",
            )
        raise NotAllowed(_("Only reviewers may review projects."))
    if project.status != Status.SCREENING:
        raise TransitionNotAllowed(
            _("Reviews are recorded only while a project is in screening; this one is %(status)s.")
            % {"status": workflow.status_label(project.status)}
        )
    clean_scores = review_scores(scores)
    if recommendation not in Review.Recommendation.values:
        raise InvalidData(
            {
                "recommendation": [
                    _("Choose one of: %(choices)s.")
                    % {"choices": ", ".join(Review.Recommendation.values)}
                ]
            }
        )
    conflict_note = (conflict_note or "").strip()
    declaration_errors = review_declaration_errors(conflict_declaration, conflict_note)
    if declaration_errors:
        raise InvalidData(declaration_errors)
    # The project row is locked, so this check cannot race with a concurrent review.
    if Review.objects.filter(
        project=project, reviewer=reviewer, round=project.screening_round
    ).exists():
        raise InvalidData(
            {
                "reviewer": [
                    _("You have already reviewed this project in screening round %(round)d.")
                    % {"round": project.screening_round}
                ]
            },
            message=_("You have already reviewed this project in screening round %(round)d.")
            % {"round": project.screening_round},
        )
    review = Review(
        project=project,
        reviewer=reviewer,
        round=project.screening_round,
        recommendation=recommendation,
        conflict_declaration=conflict_declaration,
        conflict_note=conflict_note,
        comment=comment or "",
        weighted_score=weighted_score(clean_scores),
        **clean_scores,
    )
    try:
        # The texts' own validators (length, control characters); the rules above
        # already stand for the constraints, whose names are no message for a person.
        review.full_clean(
            exclude=["project", "reviewer"], validate_unique=False, validate_constraints=False
        )
    except ValidationError as error:
        raise InvalidData(error) from None
    _set_simple_history_user(review, reviewer)
    review.save()
    bump_version(project)
    return review


def _decimal_or_none(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidData({field: [_("Enter a number.")]}) from None
    if not number.is_finite():
        raise InvalidData({field: [_("Enter a number.")]})
    return number


@transaction.atomic
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
    expected_version: int | None = None,
) -> SupportDecision:
    """A manager grants support to a selected or in-progress project."""
    project = lock_project(project)
    check_version(project, expected_version)
    if not access.can_decide(actor):
        raise NotAllowed(_("Only managers decide on support."))
    if project.status not in SUPPORT_STATUSES:
        raise TransitionNotAllowed(
            _(
                "Support is decided only for selected or in-progress projects; "
                "this one is %(status)s."
            )
            % {"status": workflow.status_label(project.status)}
        )
    amount = _decimal_or_none(amount, "amount")
    currency = (currency or "").strip().upper()
    decided_on = decided_on or timezone.localdate()
    errors = {}
    if kind not in SupportDecision.Kind.values:
        errors["kind"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(SupportDecision.Kind.values)}
        ]
    if amount is not None and not currency:
        errors["currency"] = [_("Give the currency of the amount.")]
    if valid_until and valid_until < decided_on:
        errors["valid_until"] = [_("Support cannot end before it is decided.")]
    decision = SupportDecision(
        project=project,
        kind=kind,
        amount=amount,
        currency=currency,
        conditions=conditions or "",
        decided_by=actor,
        decided_on=decided_on,
        valid_until=valid_until,
    )
    try:
        decision.full_clean(exclude=["project", "decided_by"])
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, [])
            errors[name] += [m for m in messages if m not in errors[name]]
    if errors:
        raise InvalidData(errors)
    _set_simple_history_user(decision, actor)
    decision.save()
    bump_version(project)
    events.announce(
        project=project, event=events.SUPPORT_DECIDED, actor=actor, support_decision=decision
    )
    return decision


@transaction.atomic
def progress_post(
    *,
    project: Project,
    actor,
    note: str,
    reported_on=None,
    partner=None,
    expected_version: int | None = None,
) -> ProgressUpdate:
    """Post a dated implementation note (staff of the project, or its partners).

    A partner user always posts on behalf of an institution of theirs that takes part in
    the project; staff may name one of their own institutions or none."""
    project = lock_project(project)
    check_version(project, expected_version)
    if not access.can_post_progress(actor, project):
        raise NotAllowed(_("You may only post progress on projects you take part in."))
    if project.status not in PROGRESS_STATUSES:
        raise TransitionNotAllowed(
            _("Progress is posted from selection to completion; this project is %(status)s.")
            % {"status": workflow.status_label(project.status)}
        )
    note = (note or "").strip()
    reported_on = reported_on or timezone.localdate()
    errors = {}
    if not note:
        errors["note"] = [_("Write the progress note.")]
    if reported_on > timezone.localdate():
        errors["reported_on"] = [_("A progress report cannot be dated in the future.")]
    partner_id = getattr(partner, "pk", partner)
    taking_part = set(project.participations.values_list("partner_id", flat=True))
    taking_part.add(project.lead_unit_id)
    own = access.member_partner_ids(actor) & taking_part
    if partner_id is None and access.is_partner_only(actor):
        if len(own) == 1:
            (partner_id,) = own
        else:
            errors["partner"] = [_("Say on behalf of which of your institutions you post.")]
    elif partner_id is not None and not access.is_superuser(actor) and partner_id not in own:
        errors["partner"] = [
            _("You may only post on behalf of your own institution that takes part in it.")
        ]
    if errors:
        raise InvalidData(errors)
    update = ProgressUpdate(
        project=project, author=actor, partner_id=partner_id, reported_on=reported_on, note=note
    )
    _set_simple_history_user(update, actor)
    update.save()
    bump_version(project)
    events.announce(
        project=project, event=events.PROGRESS_POSTED, actor=actor, progress_update=update
    )
    return update


# --- Tags: merged or deactivated, never deleted ---------------------------------------


@transaction.atomic
def tag_deactivate(*, tag: Tag, actor) -> None:
    """Take a tag out of use: it stays on its projects and in their history, and can no
    longer be given to another project."""
    if not access.is_superuser(actor) and not access.can_decide(actor):
        raise NotAllowed(_("Only managers and administrators retire tags."))
    Tag.objects.filter(pk=tag.pk).update(is_active=False)


@transaction.atomic
def tag_merge(*, source: Tag, target: Tag, actor) -> int:
    """Move every project from `source` to `target` and retire `source`. Each project
    changed gets a new version and a history record (so syncing clients see it); the
    source tag stays, inactive, for the history that names it. Returns the number of
    projects moved."""
    if not access.is_superuser(actor) and not access.can_decide(actor):
        raise NotAllowed(_("Only managers and administrators merge tags."))
    if source.pk == target.pk:
        raise InvalidData({"target": [_("Choose another tag to merge into.")]})
    if not target.is_active:
        raise InvalidData({"target": [_("Merge into a tag that is in use.")]})
    moved = 0
    for project in Project.objects.select_for_update().filter(tags=source).order_by("pk"):
        _set_simple_history_user(project, actor)
        # The tag list is written the way `project_update` writes it (one history record
        # with the new list), whatever the project's status: a merge renames, it decides
        # nothing.
        names = {tag.name for tag in project.tags.all()} - {source.name} | {target.name}
        project.tags.set(Tag.objects.filter(name__in=names))
        project.version += 1
        project.save()
        moved += 1
    Tag.objects.filter(pk=source.pk).update(is_active=False)
    return moved
