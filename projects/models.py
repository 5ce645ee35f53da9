"""The project pool: projects, their countries, sectors and partners, and the screening trail.

Business rules live in `projects/workflow.py` (transitions) and `projects/services.py`
(every write); these models only hold data and the rules the database itself enforces.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from projects.validation import NOTE_MAX_CHARS, SHORT_TEXT_MAX_CHARS, SUMMARY_MAX_CHARS
from registry.language import pick_name
from registry.models import CountryGroup, Sector
from registry.validators import validate_currency, validate_no_control_characters

SHARE_VALIDATORS = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]
SCORE_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]


class Status(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    SCREENING = "screening", _("screening")
    SELECTED = "selected", _("selected")
    NOT_SELECTED = "not_selected", _("not selected")
    IN_PROGRESS = "in_progress", _("in progress")
    COMPLETED = "completed", _("completed")
    SUSPENDED = "suspended", _("suspended")
    WITHDRAWN = "withdrawn", _("withdrawn")
    ARCHIVED = "archived", _("archived")


# IATI 2.03 ActivityStatus for each status: pipeline 1, implementation 2, finalisation 3,
# closed 4, cancelled 5, suspended 6.
IATI_ACTIVITY_STATUS = {
    Status.DRAFT: 1,
    Status.SUBMITTED: 1,
    Status.SCREENING: 1,
    Status.SELECTED: 1,
    Status.NOT_SELECTED: 5,
    Status.IN_PROGRESS: 2,
    Status.COMPLETED: 4,
    Status.SUSPENDED: 6,
    Status.WITHDRAWN: 5,
    Status.ARCHIVED: 4,
}


class Kind(models.TextChoices):
    PROJECT = "project", _("substantive project")
    ACTIVITY = "activity", _("event or activity")


class RiskLevel(models.TextChoices):
    LOW = "low", _("low")
    MEDIUM = "medium", _("medium")
    HIGH = "high", _("high")


class CodeSequence(models.Model):
    """Hands out project numbers. The row is locked while a number is taken, so two
    transactions never get the same one; numbers are never handed out twice."""

    name = models.CharField(max_length=40, primary_key=True)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("code sequence")
        verbose_name_plural = _("code sequences")

    def __str__(self) -> str:
        return f"{self.name}: {self.last_value}"

    @classmethod
    def take(cls, name: str, count: int = 1) -> int:
        """Reserve `count` numbers and return the first. Must run inside a transaction."""
        with transaction.atomic():
            cls.objects.get_or_create(name=name)
            sequence = cls.objects.select_for_update().get(name=name)
            first = sequence.last_value + 1
            sequence.last_value += count
            sequence.save(update_fields=["last_value"])
        return first


PROJECT_CODE_PREFIX = "P"


def format_project_code(number: int) -> str:
    return f"{PROJECT_CODE_PREFIX}{number:06d}"


def next_project_code() -> str:
    return format_project_code(CodeSequence.take("project"))


class Tag(models.Model):
    """Tags are never deleted (a project's history names them): a tag that is no longer
    wanted is merged into another or deactivated (`services.tag_merge`/`tag_deactivate`)."""

    name = models.CharField(
        _("name"), max_length=50, unique=True, validators=[validate_no_control_characters]
    )
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive tags stay on projects and in history.")
    )

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Joins a project's tag names in `tag_names`; a character no tag name holds.
TAG_SEPARATOR = "\x1f"


def split_tag_names(names: str) -> list[str]:
    """The tags of a `tag_names` column, as the API lists them."""
    return sorted(names.split(TAG_SEPARATOR)) if names else []


class ProjectQuerySet(models.QuerySet):
    def with_tag_names(self):
        """The tags as one string column `tag_names` (`TAG_SEPARATOR`-joined, "" for
        none), so the page query reads them instead of a prefetch query of their own."""
        names = (
            Project.tags.through.objects.filter(project_id=models.OuterRef("pk"))
            .order_by()
            .values("project_id")
            .annotate(names=models.StringAgg("tag__name", models.Value(TAG_SEPARATOR)))
            .values("names")
        )
        return self.annotate(
            tag_names=Coalesce(
                models.Subquery(names), models.Value(""), output_field=models.TextField()
            )
        )

    # The lists of a project and what each row names, fetched one query a list. Rows come
    # in their models' order (Meta.ordering: largest share first, roles in order) in the
    # API, the admin, the exports and IATI alike.
    LINKS = {
        "countries": ("project_countries", ("country",)),
        "sectors": ("project_sectors", ("sector", "sector__parent")),
        "participations": ("participations", ("partner", "partner__country")),
    }

    def with_links(self, *lists: str):
        """The project's countries, sectors and participations (or only the `lists`
        named), each row with what it names."""
        prefetches = []
        for name in lists or self.LINKS:
            attribute, related = self.LINKS[name]
            model = self.model._meta.get_field(attribute).related_model
            prefetches.append(
                models.Prefetch(attribute, queryset=model.objects.select_related(*related))
            )
        return self.prefetch_related(*prefetches)

    def with_relations(self, *, tag_names: bool = False):
        """Everything a project response shows, in a fixed number of queries. With
        `tag_names`, the tags come from `with_tag_names()`."""
        queryset = self.with_tag_names() if tag_names else self
        return (
            queryset.select_related("lead_unit", "lead_unit__country")
            .with_links()
            .prefetch_related(*([] if tag_names else ["tags"]))
        )

    # A sector or country group names its reference rows by id (a list of constants, see
    # `family_ids`/`country_ids`) rather than joining the reference tables inside the
    # EXISTS: an OR across the join (sector or its parent) left the planner a nested loop
    # per project (the filtered count took 0.8 s on 100,000 projects), the id list a hash
    # semi-join.
    def in_sector(self, sector):
        """Projects in `sector` or one of its sub-sectors."""
        return self.filter(
            models.Exists(
                ProjectSector.objects.filter(
                    project_id=models.OuterRef("pk"),
                    sector_id__in=Sector.objects.family_ids(sector),
                )
            )
        )

    def in_country_group(self, group):
        """Projects in any member country of `group` (a country group or its code)."""
        return self.filter(self.touching_country_group(group))

    @staticmethod
    def touching_country_group(group) -> models.Exists:
        """The condition of `in_country_group`, for where a condition is wanted rather
        than a filtered queryset (an aggregate's `filter`)."""
        return models.Exists(
            ProjectCountry.objects.filter(
                project_id=models.OuterRef("pk"),
                country_id__in=CountryGroup.objects.country_ids(group),
            )
        )

    def in_pool(self):
        return self.exclude(status__in=[Status.WITHDRAWN, Status.ARCHIVED])

    def review_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.filter(
            status__in=[Status.SELECTED, Status.IN_PROGRESS], next_review_due__lt=today
        )


class Project(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True, editable=False)
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
    summary_zh = models.TextField(
        _("summary (Chinese)"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(SUMMARY_MAX_CHARS)],
    )
    summary_en = models.TextField(
        _("summary (English)"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(SUMMARY_MAX_CHARS)],
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.PROJECT)
    # Changed only by projects.workflow; never by a form or a PATCH.
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.DRAFT, editable=False
    )
    lead_unit = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="led_projects",
        verbose_name=_("lead unit"),
    )
    planned_start = models.DateField(_("planned start"), null=True, blank=True)
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    actual_start = models.DateField(_("actual start"), null=True, blank=True)
    actual_end = models.DateField(_("actual end"), null=True, blank=True)
    estimated_value = models.DecimalField(
        _("estimated value"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, blank=True, validators=[validate_currency]
    )
    support_requested = models.TextField(
        _("support requested"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(NOTE_MAX_CHARS)],
    )
    risk_level = models.CharField(
        _("risk level"), max_length=10, choices=RiskLevel, default=RiskLevel.MEDIUM
    )
    risk_notes = models.TextField(
        _("risk notes"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(NOTE_MAX_CHARS)],
    )
    internal_notes = models.TextField(
        _("internal notes"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(NOTE_MAX_CHARS)],
        help_text=_("Seen by staff only, never by partners."),
    )
    next_review_due = models.DateField(_("next review due"), null=True, blank=True)
    screening_round = models.PositiveSmallIntegerField(_("screening round"), default=0)
    tags = models.ManyToManyField(Tag, blank=True, related_name="projects", verbose_name=_("tags"))
    # Bumped by every write through projects.services; the API's ETag is built from it.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Kept by PostgreSQL triggers (migration 0016), never written by the application:
    # the code, titles, summaries and the names of the lead unit and participating
    # partners, upper-cased, one per line, which the search reads (`projects.api.search`).
    # Empty on SQLite, where the search reads the texts themselves.
    search_text = models.TextField(_("search text"), db_default="", editable=False)
    history = HistoricalRecords(excluded_fields=["updated_at", "search_text"], m2m_fields=[tags])

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="project_planned_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gte=F("actual_start")),
                name="project_actual_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(estimated_value__isnull=True) | Q(estimated_value__gte=0),
                name="project_value_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(estimated_value__isnull=True) | ~Q(currency=""),
                name="project_value_has_currency",
            ),
            models.CheckConstraint(
                condition=Q(status__in=Status.values), name="project_status_known"
            ),
        ]
        indexes = [
            # The default ordering of every list: pages are read off this index.
            models.Index(fields=["-created_at", "-id"], name="project_newest_first"),
            models.Index(fields=["status", "-created_at"]),
            # The projects of a few statuses as ids alone, read off the index without the
            # wide rows (the dashboard's achievement rate: selected and in progress).
            models.Index(fields=["status", "id"], name="project_status_ids"),
            models.Index(fields=["lead_unit", "status"]),
            models.Index(fields=["updated_at", "id"]),
            models.Index(fields=["next_review_due"]),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def save(self, *args, **kwargs):
        # The code is the project's identity from its first save: taken from a locked
        # sequence so two concurrent creations never collide and no code is reused.
        if not self.code:
            self.code = next_project_code()
        super().save(*args, **kwargs)

    @property
    def title(self) -> str:
        return pick_name(self.title_zh, self.title_en)

    def clean(self):
        super().clean()
        errors = {}
        if self.estimated_value is not None and not self.currency:
            errors["currency"] = _("Give the currency of the estimated value.")
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            errors["planned_end"] = _("The planned end cannot be before the planned start.")
        if self.actual_start and self.actual_end and self.actual_end < self.actual_start:
            errors["actual_end"] = _("The actual end cannot be before the actual start.")
        if not (self.title_zh or self.title_en):
            errors["title_zh"] = _("Give a title in Chinese or English.")
        if errors:
            raise ValidationError(errors)


def project_link(related_name: str) -> models.ForeignKey:
    """The foreign key from a project's row (country, sector, participation) to it."""
    return models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name=related_name,
        verbose_name=_("project"),
    )


def share_link_target(model: str, verbose_name) -> models.ForeignKey:
    """The foreign key from a share link to the thing it names (kept while named)."""
    return models.ForeignKey(
        model, on_delete=models.PROTECT, related_name="project_links", verbose_name=verbose_name
    )


def share_link_options(name: str, link: str) -> tuple[list, list, list]:
    """A share link's ordering (largest share first), constraints (each thing named once
    per project; a share between 0 and 100 when given) and index (projects by thing)."""
    ordering = ["-share", f"{link}_id"]
    constraints = [
        models.UniqueConstraint(fields=["project", link], name=f"{name}_unique"),
        models.CheckConstraint(
            condition=Q(share__isnull=True) | (Q(share__gte=0) & Q(share__lte=100)),
            name=f"{name}_share_range",
        ),
    ]
    return ordering, constraints, [models.Index(fields=[link, "project"])]


class ShareLink(models.Model):
    """A project's share (%) in something it names, a country or a sector: one row per
    thing, the shares of a project adding up to 100 when given (`validate_shares`)."""

    # The foreign key to the thing named, e.g. "country".
    link = ""

    share = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=SHARE_VALIDATORS,
    )

    class Meta:
        abstract = True

    @classmethod
    def link_id(cls) -> str:
        return f"{cls.link}_id"

    @classmethod
    def row(cls, project, link_id, share):
        return cls(project=project, **{cls.link_id(): link_id}, share=share)


class ProjectCountry(ShareLink):
    link = "country"

    project = project_link("project_countries")
    country = share_link_target("registry.Country", _("country"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("project country")
        verbose_name_plural = _("project countries")
        ordering, constraints, indexes = share_link_options("project_country", "country")

    def __str__(self) -> str:
        return f"{self.country_id} ({self.share}%)" if self.share is not None else self.country_id


class ProjectSector(ShareLink):
    link = "sector"

    project = project_link("project_sectors")
    sector = share_link_target("registry.Sector", _("sector"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("project sector")
        verbose_name_plural = _("project sectors")
        ordering, constraints, indexes = share_link_options("project_sector", "sector")

    def __str__(self) -> str:
        return str(self.sector)


class Participation(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("lead")
        FUNDING = "funding", _("funding")
        IMPLEMENTING = "implementing", _("implementing")
        PARTNER = "partner", _("partner")
        SUPPORTING = "supporting", _("supporting")

    # IATI 2.03 OrganisationRole: 1 funding, 2 accountable, 3 extending, 4 implementing.
    IATI_ROLE = {
        Role.LEAD: 2,
        Role.FUNDING: 1,
        Role.IMPLEMENTING: 4,
        Role.PARTNER: 4,
        Role.SUPPORTING: 3,
    }

    project = project_link("participations")
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        related_name="participations",
        verbose_name=_("partner"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.PARTNER)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        ordering = ["role", "partner_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "partner", "role"], name="participation_unique"
            ),
        ]
        indexes = [models.Index(fields=["partner", "project"])]

    def __str__(self) -> str:
        return f"{self.partner} ({self.get_role_display()})"


class Review(models.Model):
    """One reviewer's scored screening of a project in one screening round."""

    class Recommendation(models.TextChoices):
        SELECT = "select", _("select")
        NOT_SELECT = "not_select", _("do not select")
        REVISE = "revise", _("return for revision")

    class ConflictDeclaration(models.TextChoices):
        NONE = "none", _("no conflict of interest")
        DECLARED = "declared", _("conflict of interest declared")
        # Reviews recorded before reviewers were asked; never chosen by a reviewer.
        NOT_ASKED = "not_asked", _("not asked (recorded before declarations)")

    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("project")
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reviews",
        verbose_name=_("reviewer"),
    )
    round = models.PositiveSmallIntegerField(_("screening round"))
    strategic_fit = models.PositiveSmallIntegerField(
        _("strategic fit"), validators=SCORE_VALIDATORS
    )
    supply_chain_linkage = models.PositiveSmallIntegerField(
        _("supply-chain linkage"), validators=SCORE_VALIDATORS
    )
    feasibility = models.PositiveSmallIntegerField(
        _("feasibility and market basis"), validators=SCORE_VALIDATORS
    )
    partner_capacity = models.PositiveSmallIntegerField(
        _("partner capacity"), validators=SCORE_VALIDATORS
    )
    regional_balance = models.PositiveSmallIntegerField(
        _("regional balance"), validators=SCORE_VALIDATORS
    )
    risk = models.PositiveSmallIntegerField(
        _("risk"),
        validators=SCORE_VALIDATORS,
        help_text=_("5 = low risk, 1 = high risk."),
    )
    # The weighted score under the weights in force when the review was recorded.
    weighted_score = models.DecimalField(_("weighted score"), max_digits=4, decimal_places=2)
    recommendation = models.CharField(_("recommendation"), max_length=20, choices=Recommendation)
    comment = models.TextField(
        _("comment"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(SHORT_TEXT_MAX_CHARS)],
    )
    # Declared by the reviewer with each review: a declared conflict keeps the review on
    # record but out of the round's average, spread and quorum.
    conflict_declaration = models.CharField(
        _("conflict of interest"), max_length=12, choices=ConflictDeclaration
    )
    conflict_note = models.TextField(
        _("conflict of interest note"),
        blank=True,
        default="",
        validators=[validate_no_control_characters, MaxLengthValidator(SHORT_TEXT_MAX_CHARS)],
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    CRITERIA = (
        "strategic_fit",
        "supply_chain_linkage",
        "feasibility",
        "partner_capacity",
        "regional_balance",
        "risk",
    )

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        ordering = ["project", "round", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "reviewer", "round"], name="review_once_per_round"
            ),
            models.CheckConstraint(
                condition=~Q(conflict_declaration="declared", conflict_note=""),
                name="review_declared_conflict_has_note",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 1}) & Q(**{f"{name}__lte": 5}),
                    name=f"review_{name}_range",
                )
                for name in (
                    "strategic_fit",
                    "supply_chain_linkage",
                    "feasibility",
                    "partner_capacity",
                    "regional_balance",
                    "risk",
                )
            ],
        ]

    def __str__(self) -> str:
        return f"{self.project.code} / {self.reviewer} / {self.round}"

    @property
    def conflict_declared(self) -> bool:
        return self.conflict_declaration == self.ConflictDeclaration.DECLARED

    @classmethod
    def counted(cls, prefix: str = "") -> Q:
        """The reviews that count in a round's average, spread and quorum: all but those
        whose reviewer declared a conflict of interest (`prefix` as in `reviews__`)."""
        return ~Q(**{f"{prefix}conflict_declaration": cls.ConflictDeclaration.DECLARED})


class SupportDecision(models.Model):
    class Kind(models.TextChoices):
        FUNDING = "funding", _("funding")
        POLICY = "policy", _("policy support")
        MATCHMAKING = "matchmaking", _("matchmaking")
        PROMOTION = "promotion", _("promotion")
        FACILITATION = "facilitation", _("facilitation")

    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="support_decisions",
        verbose_name=_("project"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    amount = models.DecimalField(
        _("amount"),
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    currency = models.CharField(
        _("currency"), max_length=3, blank=True, validators=[validate_currency]
    )
    conditions = models.TextField(
        _("conditions"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(SHORT_TEXT_MAX_CHARS)],
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="support_decisions",
        verbose_name=_("decided by"),
    )
    decided_on = models.DateField(_("decided on"), default=timezone.localdate)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("support decision")
        verbose_name_plural = _("support decisions")
        ordering = ["project", "-decided_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0),
                name="support_amount_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | ~Q(currency=""),
                name="support_amount_has_currency",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("decided_on")),
                name="support_valid_after_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project.code}: {self.get_kind_display()}"

    def clean(self):
        # Said in words next to the field; left to the constraints, the form would show
        # their names ("support_amount_has_currency").
        super().clean()
        errors = {}
        if self.amount is not None and not self.currency:
            errors["currency"] = _("Give the currency of the amount.")
        if self.valid_until and self.decided_on and self.valid_until < self.decided_on:
            errors["valid_until"] = _("The end of validity cannot be before the decision date.")
        if errors:
            raise ValidationError(errors)


class StatusChange(models.Model):
    """Append-only: one row per workflow transition."""

    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="status_changes",
        verbose_name=_("project"),
    )
    action = models.CharField(_("action"), max_length=40)
    from_status = models.CharField(_("from"), max_length=20, choices=Status, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=Status)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    reason = models.TextField(
        _("reason"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(SHORT_TEXT_MAX_CHARS)],
    )
    # Reasons are written for the office; a partner reads one only when the deciding
    # user said so.
    reason_visible_to_partners = models.BooleanField(_("reason visible to partners"), default=False)
    created_at = models.DateTimeField(_("at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["project", "created_at", "id"]
        indexes = [models.Index(fields=["to_status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.project_id}: {self.from_status} → {self.to_status}"


class ProgressUpdate(models.Model):
    """A dated note on implementation; partners of the project may post these."""

    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="progress_updates",
        verbose_name=_("project"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    reported_on = models.DateField(_("reported on"), default=timezone.localdate)
    note = models.TextField(
        _("note"), validators=[validate_no_control_characters, MaxLengthValidator(NOTE_MAX_CHARS)]
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("progress update")
        verbose_name_plural = _("progress updates")
        ordering = ["project", "-reported_on", "-id"]

    def __str__(self) -> str:
        return f"{self.project.code} {self.reported_on}"


# Models of the pool's subpackages (results, risk, staff notifications, sites), imported
# here so Django registers them with the app.
from projects.notifications.models import Notification  # noqa: E402, F401
from projects.results.models import (  # noqa: E402, F401
    Indicator,
    Period,
    Result,
    StandardIndicator,
)
from projects.risk.models import (  # noqa: E402, F401
    CountryRisk,
    ProjectRisk,
    Warning,
)
from projects.sites.models import Exactness, FacilityType, Site  # noqa: E402, F401
