"""Writes of sites: keyword-only, atomic, checked and recorded like every project child.

Each function locks the project row, checks the expected version (the API's ETag) and
the actor's right to edit the project, validates the site (ranges, choices, and that its
country is one of the project's countries), saves it with history naming the actor and
bumps the project's version. A site is never deleted: `site_remove` stamps `removed_at`.
"""

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from projects import access
from projects.errors import InvalidData, NotAllowed
from projects.services import _set_simple_history_user, bump_version, check_version, lock_project
from projects.sites.models import Site

# What a caller may set on a site.
SITE_FIELDS = (
    "name_zh",
    "name_en",
    "latitude",
    "longitude",
    "country",
    "facility_type",
    "admin_area",
    "exactness",
)

# A project has a handful of sites; a cap keeps one project from carrying thousands.
MAX_SITES_PER_PROJECT = 200


def project_country_ids(project) -> set[str]:
    return set(project.project_countries.values_list("country_id", flat=True))


def _decimal(value):
    if value is None or value == "" or isinstance(value, Decimal):
        return value
    try:
        number = Decimal(str(value).strip())
        # Six decimals (~0.1 m) is what the column keeps; finer input is rounded, not refused.
        return number.quantize(Decimal("0.000001")) if number.is_finite() else number
    except (InvalidOperation, ValueError):
        return value  # full_clean reports it as not a number


def _apply(site: Site, data: dict) -> dict:
    unknown = set(data) - set(SITE_FIELDS)
    errors = {name: [_("This field cannot be set.")] for name in sorted(unknown)}
    for name in SITE_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "country":
            site.country_id = getattr(value, "pk", value) or None
        elif name in ("latitude", "longitude"):
            setattr(site, name, _decimal(value))
        else:
            setattr(site, name, "" if value is None else str(value).strip())
    return errors


def validate_site(site: Site, *, country_ids: set[str], extra: dict | None = None) -> None:
    """Raise InvalidData with every field error: the model's own (ranges, choices) and
    the cross-row rule (the country is one of the project's)."""
    errors = dict(extra or {})
    try:
        site.full_clean(exclude=["project"], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)
    if not (site.name_zh or site.name_en):
        errors.setdefault("name_zh", []).append(_("Give the site a name in Chinese or English."))
    if site.country_id and "country" not in errors and site.country_id not in country_ids:
        errors["country"] = [
            _("The site's country must be one of the project's countries (%(countries)s).")
            % {"countries": ", ".join(sorted(country_ids)) or "—"}
        ]
    if errors:
        raise InvalidData(errors)


def _check_right(actor, project) -> None:
    if not access.can_edit_project(actor, project):
        raise NotAllowed(_("You may only change the sites of projects of your own unit."))


@transaction.atomic
def site_add(*, actor, project, data: dict, expected_version: int | None = None) -> Site:
    """Add a site to a project."""
    project = lock_project(project)
    check_version(project, expected_version)
    _check_right(actor, project)
    if project.sites.current().count() >= MAX_SITES_PER_PROJECT:
        raise InvalidData(
            {
                "non_field_errors": [
                    _("A project has at most %(count)d sites.") % {"count": MAX_SITES_PER_PROJECT}
                ]
            }
        )
    site = Site(project=project)
    extra = _apply(site, data)
    validate_site(site, country_ids=project_country_ids(project), extra=extra)
    _set_simple_history_user(site, actor)
    site.save()
    bump_version(project)
    return site


@transaction.atomic
def site_change(
    *, actor, site: Site, data: dict, expected_version: int | None = None
) -> tuple[Site, bool]:
    """Change some fields of a site. Returns the site and whether anything changed."""
    project = lock_project(site.project)
    check_version(project, expected_version)
    _check_right(actor, project)
    site = Site.objects.current().get(pk=site.pk, project=project)
    before = {name: getattr(site, name) for name in SITE_FIELDS if name != "country"}
    before_country = site.country_id
    extra = _apply(site, data)
    validate_site(site, country_ids=project_country_ids(project), extra=extra)
    after = {name: getattr(site, name) for name in before}
    if after == before and site.country_id == before_country:
        return site, False
    _set_simple_history_user(site, actor)
    site.save()
    bump_version(project)
    return site, True


@transaction.atomic
def site_remove(*, actor, site: Site, expected_version: int | None = None) -> Site:
    """Take a site off the project (kept as a row with `removed_at`, and in history)."""
    project = lock_project(site.project)
    check_version(project, expected_version)
    _check_right(actor, project)
    site = Site.objects.current().get(pk=site.pk, project=project)
    site.removed_at = timezone.now()
    _set_simple_history_user(site, actor)
    site.save(update_fields=["removed_at"])
    bump_version(project)
    return site
