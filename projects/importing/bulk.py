"""The import's fast paths, for files of thousands of rows.

`project_create` costs about 40 queries a row (five constraint checks, two foreign-key
checks, a locked code, one insert and one history insert per linked row), which puts
10,000 rows at many minutes. Here the same rules are applied to a whole batch:

- creating: the access check (`access.can_create_project`), the field whitelist
  (`services._apply_fields`), the share rules (`services._validate_links`) and the
  model's own validation (`full_clean`; the check constraints are mirrored by
  `Project.clean` and field validators, so they are checked without a query each, and
  the lead unit comes from the pre-loaded lookups). Codes are taken from the locked
  sequence once per batch; projects, their links and all their history rows (with the
  importing user) are written with bulk inserts, tags and their history rows too (the
  service's `tags.set()` leaves one "~" history row per project, with the tag list).
- updating: a row whose values equal what is stored is recognised in memory (after the
  same access check) and skips `project_update`, which would write nothing anyway; every
  other row goes through `project_update`.

`tests/test_import_projects.py` checks that both paths leave the same data and history
as the services. `REGISTRY_IMPORT_BULK = False` turns the fast paths off.
"""

from collections import defaultdict

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from projects import access, services, workflow
from projects.errors import InvalidData, NotAllowed
from projects.models import (
    CodeSequence,
    Participation,
    Project,
    ProjectCountry,
    ProjectSector,
    Tag,
    format_project_code,
)
from projects.validation import list_size_errors


def enabled() -> bool:
    return getattr(settings, "REGISTRY_IMPORT_BULK", True)


def prepare_create(*, actor, parsed) -> Project:
    """Check one row as `project_create` would, without writing; raise its errors."""
    lead_unit_id = parsed.data.get("lead_unit")
    if not access.can_create_project(actor, lead_unit_id):
        raise NotAllowed(_("You may only enter projects for your own unit."))
    project = Project(created_by=actor if getattr(actor, "pk", None) else None)
    changed = set(services._apply_fields(project, parsed.data))
    lists = {
        "countries": parsed.countries,
        "sectors": parsed.sectors,
        "participations": parsed.participations,
        "tags": getattr(parsed, "tags", None),
    }
    size_errors = list_size_errors(lists)
    size_errors.update(services.inactive_tag_errors(lists["tags"] or ()))
    if size_errors:
        raise InvalidData(size_errors)
    changed |= {name for name, rows in lists.items() if rows}
    workflow.check_editable(actor, project, changed)
    errors = services._validate_links(parsed.countries or [], parsed.sectors or [])
    try:
        project.full_clean(
            exclude=["code", "tags", "lead_unit", "created_by"],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise InvalidData(errors)
    return project


def create_many(*, actor, prepared: list) -> None:
    """Write (parsed row, unsaved project) pairs that passed `prepare_create`."""
    if not prepared:
        return
    first = CodeSequence.take("project", count=len(prepared))
    projects = []
    for offset, (_parsed, project) in enumerate(prepared):
        project.code = format_project_code(first + offset)
        projects.append(project)
    bulk_create_with_history(projects, Project, default_user=actor)
    countries, sectors, participations = [], [], []
    for parsed, project in prepared:
        for share in parsed.countries or ():
            countries.append(
                ProjectCountry(project=project, country_id=share.country_id, share=share.share)
            )
        for share in parsed.sectors or ():
            sectors.append(
                ProjectSector(project=project, sector_id=share.sector_id, share=share.share)
            )
        for partner_id, role in {(p.partner_id, p.role) for p in parsed.participations or ()}:
            participations.append(Participation(project=project, partner_id=partner_id, role=role))
    for model, rows in (
        (ProjectCountry, countries),
        (ProjectSector, sectors),
        (Participation, participations),
    ):
        if rows:
            bulk_create_with_history(rows, model, default_user=actor)
    _set_tags(actor, prepared)


def _set_tags(actor, prepared) -> None:
    """Link tags and record them in history as `project.tags.set()` would: one "~"
    history row per project with tags, carrying the tag list."""
    wanted = {
        project.pk: sorted({t.strip() for t in parsed.tags or () if t and t.strip()})
        for parsed, project in prepared
    }
    names = {name for tags in wanted.values() for name in tags}
    if not names:
        return
    known = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in sorted(names - set(known))]
    for tag in Tag.objects.bulk_create(missing):
        known[tag.name] = tag
    through = Project.tags.through
    links = through.objects.bulk_create(
        [
            through(project_id=pk, tag_id=known[name].pk)
            for pk, tags in wanted.items()
            for name in tags
        ]
    )
    tagged = [project for _parsed, project in prepared if wanted[project.pk]]
    history = Project.history.bulk_history_create(tagged, update=True, default_user=actor)
    history_of = {record.id: record for record in history}
    history_links = apps.get_model("projects", "HistoricalProject_tags")
    history_links.objects.bulk_create(
        [
            history_links(
                id=link.pk,
                project_id=link.project_id,
                tag_id=link.tag_id,
                history=history_of[link.project_id],
            )
            for link in links
        ]
    )


class CurrentState:
    """What is stored for the projects of one batch, to recognise unchanged rows."""

    def __init__(self, projects: list[Project]):
        ids = [p.pk for p in projects]
        self.countries = defaultdict(dict)
        for project_id, country_id, share in ProjectCountry.objects.filter(
            project_id__in=ids
        ).values_list("project_id", "country_id", "share"):
            self.countries[project_id][country_id] = share
        self.sectors = defaultdict(dict)
        for project_id, sector_id, share in ProjectSector.objects.filter(
            project_id__in=ids
        ).values_list("project_id", "sector_id", "share"):
            self.sectors[project_id][sector_id] = share
        self.participations = defaultdict(set)
        for project_id, partner_id, role in Participation.objects.filter(
            project_id__in=ids
        ).values_list("project_id", "partner_id", "role"):
            self.participations[project_id].add((partner_id, role))
        self.tags = defaultdict(list)
        for project_id, name in Project.tags.through.objects.filter(project_id__in=ids).values_list(
            "project_id", "tag__name"
        ):
            self.tags[project_id].append(name)

    def unchanged(self, project: Project, parsed) -> bool:
        for name, value in parsed.data.items():
            field = project._meta.get_field(name)
            current = getattr(project, field.attname if field.is_relation else name)
            if current != getattr(value, "pk", value):
                return False
        pk = project.pk
        if parsed.countries is not None and self.countries[pk] != {
            c.country_id: c.share for c in parsed.countries
        }:
            return False
        if parsed.sectors is not None and self.sectors[pk] != {
            s.sector_id: s.share for s in parsed.sectors
        }:
            return False
        if parsed.participations is not None and self.participations[pk] != {
            (p.partner_id, p.role) for p in parsed.participations
        }:
            return False
        if parsed.tags is not None and sorted(self.tags[pk]) != sorted(
            {t.strip() for t in parsed.tags if t and t.strip()}
        ):
            return False
        # Duplicates in the file must reach the service, which refuses them.
        if parsed.countries is not None and len(parsed.countries) != len(self.countries[pk]):
            return False
        return not (parsed.sectors is not None and len(parsed.sectors) != len(self.sectors[pk]))
