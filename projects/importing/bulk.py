"""The import's fast paths, for files of thousands of rows.

`project_create` costs about 40 queries a row (constraint checks, foreign-key checks, a
locked code, one insert and one history insert per linked row), which puts 10,000 rows
at many minutes. So:

- creating: new rows go to the services' bulk entry point,
  `services.projects_create_many`, which checks each project as `project_create` does
  and writes the batch with bulk inserts and simple-history's bulk history.
- updating: a row whose values equal what is stored is recognised in memory (after the
  same access check) and skips `project_update`, which would write nothing anyway; every
  other row goes through `project_update`.

`tests/test_import_projects.py` checks that both paths leave the same data and history
as the services. `REGISTRY_IMPORT_BULK = False` turns the fast paths off.
"""

from collections import defaultdict

from django.conf import settings

from projects.models import Participation, Project, ProjectCountry, ProjectSector


def enabled() -> bool:
    return getattr(settings, "REGISTRY_IMPORT_BULK", True)


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
