"""A project's sites: named points with a facility type, in one of the project's countries.

Plain decimal latitude/longitude (WGS 84) are enough for a point per site: no GIS stack.
Ranges are enforced by validators (admin, API, import) and by check constraints (the
database). That the country is one of the project's countries is a rule across rows: it
lives in `projects.sites.services`, which every writer calls.
"""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.language import pick_name
from registry.validators import validate_no_control_characters


class FacilityType(models.TextChoices):
    PORT = "port", _("port")
    INDUSTRIAL_PARK = "industrial_park", _("industrial park")
    DRY_PORT = "dry_port", _("dry port")
    RAIL_TERMINAL = "rail_terminal", _("rail terminal")
    BORDER_CROSSING = "border_crossing", _("border crossing")
    DISTRIBUTION_CENTRE = "distribution_centre", _("logistics or distribution centre")
    OVERSEAS_WAREHOUSE = "overseas_warehouse", _("overseas warehouse")
    SCHOOL = "school", _("school or college")
    HOSPITAL = "hospital", _("hospital")
    OFFICE = "office", _("office")
    OTHER = "other", _("other")


class Exactness(models.TextChoices):
    """IATI GeographicExactness: 1 exact, 2 approximate."""

    EXACT = "exact", _("exact")
    APPROXIMATE = "approximate", _("approximate")


class SiteQuerySet(models.QuerySet):
    def current(self):
        """Sites not removed. Removed sites stay as rows (and in history)."""
        return self.filter(removed_at__isnull=True)


class Site(models.Model):
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        related_name="sites",
        verbose_name=_("project"),
    )
    name_zh = models.CharField(
        _("name (Chinese)"), max_length=200, blank=True, validators=[validate_no_control_characters]
    )
    name_en = models.CharField(
        _("name (English)"), max_length=200, blank=True, validators=[validate_no_control_characters]
    )
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=8,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
        help_text=_("Decimal degrees, WGS 84, from -90 to 90."),
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
        help_text=_("Decimal degrees, WGS 84, from -180 to 180."),
    )
    country = models.ForeignKey(
        "registry.Country",
        on_delete=models.PROTECT,
        related_name="sites",
        verbose_name=_("country"),
    )
    facility_type = models.CharField(
        _("facility type"), max_length=30, choices=FacilityType, default=FacilityType.OTHER
    )
    admin_area = models.CharField(
        _("administrative area"),
        max_length=200,
        blank=True,
        help_text=_("Province, state or district, if useful."),
        validators=[validate_no_control_characters],
    )
    exactness = models.CharField(
        _("exactness"), max_length=12, choices=Exactness, default=Exactness.EXACT
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True, editable=False)
    history = HistoricalRecords()

    objects = SiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        ordering = ["project", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90) & Q(latitude__lte=90), name="site_latitude_range"
            ),
            models.CheckConstraint(
                condition=Q(longitude__gte=-180) & Q(longitude__lte=180),
                name="site_longitude_range",
            ),
            models.CheckConstraint(
                condition=~Q(name_zh="") | ~Q(name_en=""), name="site_has_a_name"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "removed_at"]),
            # sites.geojson and the dashboard map read current sites newest project first
            # (`-project_id, id`) and stop at their cap: in this order, PostgreSQL walks
            # the index and stops at the limit instead of sorting every site.
            models.Index(
                fields=["-project", "id"],
                condition=Q(removed_at__isnull=True),
                name="site_current_newest_first",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return pick_name(self.name_zh, self.name_en)
