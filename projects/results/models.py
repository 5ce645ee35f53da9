"""Results framework: what a project delivers, measured against targets per period.

Writes go through `projects.results.services`; these models hold data and the rules the
database itself enforces.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from registry.language import pick_name
from registry.validators import validate_no_control_characters


class StandardIndicator(models.Model):
    """An indicator of the corridor's library: project indicators that follow it add up
    across the pool. Kept by managers in the admin; never deleted, only made inactive."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(
        _("name (Chinese)"), max_length=200, validators=[validate_no_control_characters]
    )
    name_en = models.CharField(
        _("name (English)"), max_length=200, validators=[validate_no_control_characters]
    )
    unit = models.CharField(_("unit"), max_length=30, validators=[validate_no_control_characters])
    ascending = models.BooleanField(
        _("higher is better"),
        default=True,
        help_text=_("Untick when a lower figure is better (e.g. days, cost)."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("standard indicator")
        verbose_name_plural = _("standard indicators")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return pick_name(self.name_zh, self.name_en)


class Result(models.Model):
    class Type(models.TextChoices):
        OUTPUT = "output", _("output")
        OUTCOME = "outcome", _("outcome")
        IMPACT = "impact", _("impact")

    # IATI ResultType: 1 output, 2 outcome, 3 impact.
    IATI_TYPE = {Type.OUTPUT: "1", Type.OUTCOME: "2", Type.IMPACT: "3"}

    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        related_name="results",
        verbose_name=_("project"),
    )
    type = models.CharField(_("type"), max_length=10, choices=Type)
    title_zh = models.CharField(
        _("title (Chinese)"),
        max_length=300,
        blank=True,
        validators=[validate_no_control_characters],
    )
    title_en = models.CharField(
        _("title (English)"),
        max_length=300,
        blank=True,
        validators=[validate_no_control_characters],
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("results framework", "result")
        verbose_name_plural = _("results")
        ordering = ["project", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(title_zh="") | ~Q(title_en=""), name="result_has_title"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        return pick_name(self.title_zh, self.title_en)


class Indicator(models.Model):
    class Measure(models.TextChoices):
        QUANTITATIVE = "quantitative", _("quantitative")
        QUALITATIVE = "qualitative", _("qualitative")

    # IATI IndicatorMeasure: 1 unit, 5 qualitative.
    IATI_MEASURE = {Measure.QUANTITATIVE: "1", Measure.QUALITATIVE: "5"}

    result = models.ForeignKey(
        Result,
        on_delete=models.PROTECT,
        related_name="indicators",
        verbose_name=pgettext_lazy("results framework", "result"),
    )
    standard = models.ForeignKey(
        StandardIndicator,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
        verbose_name=_("standard indicator"),
    )
    title_zh = models.CharField(
        _("title (Chinese)"),
        max_length=300,
        blank=True,
        validators=[validate_no_control_characters],
    )
    title_en = models.CharField(
        _("title (English)"),
        max_length=300,
        blank=True,
        validators=[validate_no_control_characters],
    )
    measure = models.CharField(
        _("measure"), max_length=15, choices=Measure, default=Measure.QUANTITATIVE
    )
    unit = models.CharField(
        _("unit"), max_length=30, blank=True, validators=[validate_no_control_characters]
    )
    ascending = models.BooleanField(_("higher is better"), default=True)
    baseline_year = models.PositiveSmallIntegerField(_("baseline year"), null=True, blank=True)
    baseline_value = models.DecimalField(
        _("baseline value"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    baseline_comment = models.TextField(
        _("baseline comment"), blank=True, validators=[validate_no_control_characters]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["result", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(measure="quantitative") | Q(baseline_value__isnull=True),
                name="indicator_qualitative_no_value",
            ),
            models.CheckConstraint(
                condition=Q(baseline_value__isnull=True) | Q(baseline_year__isnull=False),
                name="indicator_baseline_has_year",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        title = pick_name(self.title_zh, self.title_en)
        if not title and self.standard_id:
            return self.standard.name
        return title


class Period(models.Model):
    """One reporting period of an indicator: its target, and the actual as reported and
    then approved or returned (`projects.results.services`)."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("period", "open")
        REPORTED = "reported", _("reported")
        APPROVED = "approved", _("approved")
        RETURNED = "returned", _("returned")

    indicator = models.ForeignKey(
        Indicator, on_delete=models.PROTECT, related_name="periods", verbose_name=_("indicator")
    )
    period_start = models.DateField(_("period start"))
    period_end = models.DateField(_("period end"))
    target_value = models.DecimalField(
        _("target"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    target_comment = models.TextField(
        _("target comment"), blank=True, validators=[validate_no_control_characters]
    )
    actual_value = models.DecimalField(
        _("actual"), max_digits=20, decimal_places=4, null=True, blank=True
    )
    actual_comment = models.TextField(
        _("actual comment"), blank=True, validators=[validate_no_control_characters]
    )
    # Set only by the services (report, approve, return).
    status = models.CharField(
        _("status"), max_length=10, choices=State, default=State.OPEN, editable=False
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported by"),
        editable=False,
    )
    reporting_partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reported on behalf of"),
        editable=False,
    )
    reported_at = models.DateTimeField(_("reported at"), null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
        editable=False,
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)
    review_comment = models.TextField(
        _("review comment"), blank=True, editable=False, validators=[validate_no_control_characters]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        ordering = ["indicator", "period_start", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="period_dates_in_order"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "reported", "approved", "returned"]),
                name="period_status_known",
            ),
        ]
        indexes = [models.Index(fields=["status", "period_end"])]

    def __str__(self) -> str:
        return f"{self.period_start} to {self.period_end}"
