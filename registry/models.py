"""Reference data shared by every app: countries, country groups and sectors."""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry import freshness
from registry.language import pick_name


class BilingualNameMixin:
    """Shows the Chinese or the English name, whichever the active language asks for."""

    @property
    def name(self) -> str:
        return pick_name(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name


class Country(BilingualNameMixin, models.Model):
    iso2 = models.CharField(_("ISO alpha-2"), max_length=2, primary_key=True)
    iso3 = models.CharField(_("ISO alpha-3"), max_length=3, unique=True)
    numeric = models.CharField(_("ISO numeric"), max_length=3, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    region = models.CharField(_("M49 region"), max_length=50, blank=True)
    region_code = models.CharField(_("M49 region code"), max_length=3, blank=True)
    subregion = models.CharField(_("M49 sub-region"), max_length=60, blank=True)
    subregion_code = models.CharField(_("M49 sub-region code"), max_length=3, blank=True)

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["iso2"]
        constraints = [
            models.CheckConstraint(
                condition=Q(iso2__regex=r"^[A-Z]{2}$"), name="country_iso2_form"
            ),
            models.CheckConstraint(
                condition=Q(iso3__regex=r"^[A-Z]{3}$"), name="country_iso3_form"
            ),
        ]


class CountryGroupQuerySet(models.QuerySet):
    def country_ids(self, group) -> list[str]:
        """The ISO codes of `group`'s countries (a country group or its code): what a
        filter by a country group means (a project in any member country).

        A list, which a filter puts into its statement as constants: PostgreSQL then
        estimates the matching rows from each country's statistics. Given a subquery it
        guessed a quarter of the pool (23,578 projects for western Europe's 2,183 of
        100,000) and picked plans fit for that many, e.g. walking the newest projects
        until enough matched. Read once per version of the membership table
        (`registry.freshness`)."""
        by_code = isinstance(group, str)
        members = CountryGroup.members.through.objects.filter(
            **({"countrygroup__code": group} if by_code else {"countrygroup": group})
        ).order_by("country_id")
        return freshness.remember(
            ("country_group_members", "code" if by_code else "pk", group if by_code else group.pk),
            lambda: list(members.values_list("country_id", flat=True)),
            using=members.db,
            tables=[
                CountryGroup.members.through._meta.db_table,
                CountryGroup._meta.db_table,
            ],
        )


class CountryGroup(BilingualNameMixin, models.Model):
    class Kind(models.TextChoices):
        BLOC = "bloc", _("organisation or agreement")
        M49 = "m49", _("UN M49 sub-region")
        CUSTOM = "custom", _("custom grouping")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.CUSTOM)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(
        Country, related_name="groups", verbose_name=_("members"), blank=True
    )

    objects = CountryGroupQuerySet.as_manager()

    class Meta:
        verbose_name = _("country group")
        verbose_name_plural = _("country groups")
        ordering = ["kind", "code"]


class SectorQuerySet(models.QuerySet):
    def family_ids(self, sector) -> list[int]:
        """The ids of `sector` and its sub-sectors: what a filter by a sector means (a
        top-level sector includes its sub-sectors). A list, for the planner's estimates
        (as `CountryGroupQuerySet.country_ids`), read once per version of the table."""
        family = self.filter(Q(pk=sector.pk) | Q(parent=sector)).order_by("pk")
        return freshness.remember(
            ("sector_family", sector.pk),
            lambda: list(family.values_list("pk", flat=True)),
            using=family.db,
            tables=[Sector._meta.db_table],
        )


class Sector(BilingualNameMixin, models.Model):
    """A two-level taxonomy: top-level sectors and their sub-sectors."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent sector"),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    people_to_people = models.BooleanField(
        _("people-to-people sector"),
        default=False,
        help_text=_("Soft connectivity: culture, tourism, education and the like."),
    )
    dac_code = models.CharField(
        _("OECD DAC purpose code"),
        max_length=5,
        blank=True,
        help_text=_("5-digit DAC code used when the project is published in IATI format."),
    )
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    objects = SectorQuerySet.as_manager()

    class Meta:
        verbose_name = _("sector")
        verbose_name_plural = _("sectors")
        ordering = ["sort_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(dac_code="") | Q(dac_code__regex=r"^[0-9]{5}$"),
                name="sector_dac_code_form",
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("pk")), name="sector_not_own_parent"
            ),
        ]

    @property
    def top_level(self) -> "Sector":
        return self.parent if self.parent_id else self

    def clean(self):
        super().clean()
        if self.parent_id and self.parent.parent_id:
            raise ValidationError(
                {"parent": _("A sub-sector's parent must be a top-level sector.")}
            )
        if self.parent_id and self.pk and self.children.exists():
            raise ValidationError(
                {"parent": _("A sector with sub-sectors cannot itself become a sub-sector.")}
            )


class TableVersion(models.Model):
    """How often one table whose lookups are cached has changed: PostgreSQL triggers of
    that table bump it once per committed transaction that wrote to it
    (`registry.table_versions`). Reference rows and partner names are cached under the
    versions of their tables by `registry.freshness`, so a cached lookup is never older
    than the data."""

    table_name = models.CharField(_("table"), max_length=63, primary_key=True)
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("table version")
        verbose_name_plural = _("table versions")

    def __str__(self) -> str:
        return f"{self.table_name}: {self.value}"


# A token lives TOKEN_DEFAULT_DAYS unless issued for fewer or more, and never longer than
# TOKEN_MAX_DAYS: a leaked or forgotten token stops working on its own.
TOKEN_DEFAULT_DAYS = 90
TOKEN_MAX_DAYS = 365


class ApiToken(models.Model):
    """A named API token of a user. Only the SHA-256 of the secret is stored: the secret
    is shown once when the token is issued and can never be read back."""

    # PROTECT: a token is a record of who had access when; deleting its user must not
    # erase it (users are deactivated, which refuses their tokens).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the secret, so a holder can tell which token is which.
    key_prefix = models.CharField(_("key prefix"), max_length=12, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Every token expires (registry.authentication.TOKEN_MAX_DAYS at most after issue).
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["user", "-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"

    def clean(self):
        super().clean()
        issued = self.created_at or timezone.now()
        if self.expires_at and self.expires_at > issued + timedelta(days=TOKEN_MAX_DAYS):
            raise ValidationError(
                {
                    "expires_at": _("A token expires at most %(days)d days after it is issued.")
                    % {"days": TOKEN_MAX_DAYS}
                }
            )

    def is_usable(self, now) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at > now


class UserPreference(models.Model):
    """What a user chose for themselves: the language of the emails the registry sends
    them (set with the language switch) and the notification kinds they turned off."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preference",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    muted_notifications = models.JSONField(_("notifications turned off"), default=list, blank=True)

    class Meta:
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return str(self.user)
