"""Risk registers and warnings. Writes go through `projects.risk.services`; warnings are
kept by `projects.risk.warnings`, never by hand."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from registry.validators import validate_no_control_characters


class RiskCategory(models.TextChoices):
    POLITICAL = "political", _("political")
    SECURITY = "security", _("security")
    PAYMENT = "payment", _("payment and currency")
    DISASTER = "disaster", _("natural disaster")
    HEALTH = "health", _("public health")
    LEGAL = "legal", _("legal")


class CountryRiskLevel(models.IntegerChoices):
    LOW = 1, _("low")
    MEDIUM = 2, _("medium")
    HIGH = 3, _("high")
    VERY_HIGH = 4, _("very high")


class CountryRiskQuerySet(models.QuerySet):
    def current(self, today=None):
        """The assessment in force per (country, category): the latest effective one
        (the register is small, a few rows per country, so a NOT EXISTS is cheap)."""
        today = today or timezone.localdate()
        return self._current_portable(today)

    def _current_portable(self, today):
        newer = CountryRisk.objects.filter(
            country_id=models.OuterRef("country_id"),
            category=models.OuterRef("category"),
            effective_date__lte=today,
        ).filter(
            Q(effective_date__gt=models.OuterRef("effective_date"))
            | Q(effective_date=models.OuterRef("effective_date"), id__gt=models.OuterRef("id"))
        )
        return self.filter(effective_date__lte=today).exclude(models.Exists(newer))


class CountryRisk(models.Model):
    """One assessment of a country's risk in a category, in force from its effective date
    until a later one. The register is append-only: a new level is a new row."""

    country = models.ForeignKey(
        "registry.Country",
        on_delete=models.PROTECT,
        related_name="risk_assessments",
        verbose_name=_("country"),
    )
    category = models.CharField(_("category"), max_length=20, choices=RiskCategory)
    level = models.PositiveSmallIntegerField(_("level"), choices=CountryRiskLevel)
    effective_date = models.DateField(_("effective date"), default=timezone.localdate)
    source = models.CharField(
        _("source"), max_length=300, blank=True, validators=[validate_no_control_characters]
    )
    note = models.TextField(_("note"), blank=True, validators=[validate_no_control_characters])
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("recorded by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    objects = CountryRiskQuerySet.as_manager()

    class Meta:
        verbose_name = _("country risk")
        verbose_name_plural = _("country risks")
        ordering = ["country", "category", "-effective_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=4), name="country_risk_level"
            )
        ]
        indexes = [models.Index(fields=["country", "category", "-effective_date"])]

    def __str__(self) -> str:
        return f"{self.country_id} {self.get_category_display()}: {self.get_level_display()}"


class ProjectRisk(models.Model):
    """A risk, an issue or a dispute of one project."""

    class Kind(models.TextChoices):
        RISK = "risk", _("risk")
        ISSUE = "issue", _("issue")
        DISPUTE = "dispute", _("dispute")

    class Rating(models.IntegerChoices):
        LOW = 1, _("low")
        MEDIUM = 2, _("medium")
        HIGH = 3, _("high")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("risk state", "open")
        MITIGATED = "mitigated", _("mitigated")
        CLOSED = "closed", _("closed")

    class Channel(models.TextChoices):
        NEGOTIATION = "negotiation", _("negotiation")
        MEDIATION = "mediation", _("mediation")
        ARBITRATION = "arbitration", _("commercial arbitration")

    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        related_name="risks",
        verbose_name=_("project"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.RISK)
    category = models.CharField(_("category"), max_length=20, choices=RiskCategory)
    title = models.CharField(
        _("title"), max_length=300, validators=[validate_no_control_characters]
    )
    description = models.TextField(
        _("description"), blank=True, validators=[validate_no_control_characters]
    )
    likelihood = models.PositiveSmallIntegerField(
        _("likelihood"), choices=Rating, default=Rating.MEDIUM
    )
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Rating, default=Rating.MEDIUM)
    mitigation = models.TextField(
        _("mitigation"), blank=True, validators=[validate_no_control_characters]
    )
    owner = models.CharField(
        pgettext_lazy("risk", "owner"),
        max_length=200,
        blank=True,
        validators=[validate_no_control_characters],
    )
    status = models.CharField(_("status"), max_length=10, choices=State, default=State.OPEN)
    resolution_channel = models.CharField(
        _("resolution channel"), max_length=20, choices=Channel, blank=True
    )
    opened_on = models.DateField(_("opened on"), default=timezone.localdate)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("project risk")
        verbose_name_plural = _("project risks")
        ordering = ["project", "-opened_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="dispute") | ~Q(resolution_channel=""),
                name="project_risk_dispute_has_channel",
            ),
        ]
        indexes = [models.Index(fields=["kind", "status", "opened_on"])]

    def __str__(self) -> str:
        return self.title


class Warning(models.Model):
    """A condition that needs attention, kept by `projects.risk.warnings`: raised when
    its cause appears, resolved when the cause goes away, or dismissed by a manager."""

    class Kind(models.TextChoices):
        COUNTRY_RISK = "country_risk", _("country risk high")
        NO_PROGRESS = "no_progress", _("no progress update")
        SUPPORT_EXPIRING = "support_expiring", _("support decision expiring")
        REVIEW_OVERDUE = "review_overdue", _("periodic review overdue")
        END_PASSED = "end_passed", _("planned end passed")
        UNDER_TARGET = "under_target", _("indicator under target")
        DISPUTE_OPEN = "dispute_open", _("dispute open too long")

    class Severity(models.IntegerChoices):
        NOTICE = 1, _("notice")
        WARNING = 2, _("warning")
        CRITICAL = 3, _("critical")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity)
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.PROTECT,
        related_name="warnings",
        verbose_name=_("project"),
    )
    # What in the project causes it (a country and category, a decision, a period…), so
    # one project can carry several warnings of a kind.
    subject = models.CharField(pgettext_lazy("warning", "subject"), max_length=60, blank=True)
    # The facts of the cause (`projects.risk.details`), from which the detail is written
    # in the reader's language; `detail` keeps the English text as written (searched in
    # the admin; the only text of older warnings whose params could not be recovered).
    params = models.JSONField(_("parameters"), null=True, blank=True, editable=False)
    detail = models.CharField(_("detail"), max_length=300, blank=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    dismissed_at = models.DateTimeField(_("dismissed at"), null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dismissed by"),
    )
    dismiss_reason = models.TextField(
        _("reason for dismissal"), blank=True, validators=[validate_no_control_characters]
    )
    history = HistoricalRecords(excluded_fields=["last_seen"])

    class Meta:
        verbose_name = _("warning")
        verbose_name_plural = _("warnings")
        ordering = ["-severity", "-first_seen", "-id"]
        constraints = [
            # One live warning per cause: the daily job and the events never duplicate it.
            models.UniqueConstraint(
                fields=["kind", "project", "subject"],
                condition=Q(resolved_at__isnull=True),
                name="warning_one_live_per_cause",
            ),
            models.CheckConstraint(
                condition=Q(dismissed_at__isnull=True) | ~Q(dismiss_reason=""),
                name="warning_dismissal_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "resolved_at"]),
            models.Index(fields=["project", "resolved_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None and self.dismissed_at is None

    @property
    def description(self) -> str:
        """The detail in the active language."""
        from projects.risk.details import describe

        return describe(self.kind, self.params, self.detail)
