"""Partner institutions, the people at them, and which users act for which institution."""

from django.conf import settings
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.models import BilingualNameMixin
from registry.validators import validate_no_control_characters

# IATI organisation identifier: registration-agency prefix (e.g. CN-USCI) and the number.
ORG_ID_PATTERN = r"^[A-Z]{2}-[A-Z0-9]+-[A-Za-z0-9._/-]+$"
org_id_validator = RegexValidator(
    ORG_ID_PATTERN,
    _("Use the IATI org-id form: agency prefix and identifier, e.g. CN-USCI-91450000MA5KXXXX."),
)


class PartnerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(active=True)

    def domestic(self):
        return self.filter(country_id=settings.REGISTRY_HOME_COUNTRY)


class Partner(BilingualNameMixin, models.Model):
    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("government body")
        CHAMBER = "chamber", _("business chamber or association")
        ENTERPRISE = "enterprise", _("enterprise")
        ACADEMIC = "academic", _("university or think tank")
        INTERNATIONAL = "international", _("international organisation")
        FINANCIAL = "financial", _("financial institution")
        NGO = "ngo", _("non-governmental organisation")

    name_zh = models.CharField(
        _("name (Chinese)"), max_length=200, validators=[validate_no_control_characters]
    )
    name_en = models.CharField(
        _("name (English)"), max_length=200, blank=True, validators=[validate_no_control_characters]
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    country = models.ForeignKey(
        "registry.Country",
        on_delete=models.PROTECT,
        related_name="partners",
        verbose_name=_("country"),
    )
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(
        _("description"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(5000)],
    )
    org_id = models.CharField(
        _("organisation identifier"),
        max_length=100,
        blank=True,
        validators=[validate_no_control_characters, org_id_validator],
        help_text=_("IATI org-id, e.g. CN-USCI-…; leave empty if unknown."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    objects = PartnerQuerySet.as_manager()

    class Meta:
        verbose_name = _("partner institution")
        verbose_name_plural = _("partner institutions")
        ordering = ["name_zh"]
        constraints = [
            models.UniqueConstraint(fields=["name_zh", "country"], name="partner_unique_name"),
            models.UniqueConstraint(
                fields=["org_id"], condition=~Q(org_id=""), name="partner_unique_org_id"
            ),
            models.CheckConstraint(
                condition=Q(org_id="") | Q(org_id__regex=ORG_ID_PATTERN),
                name="partner_org_id_form",
            ),
        ]
        indexes = [models.Index(fields=["country", "kind"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_domestic(self) -> bool:
        return self.country_id == settings.REGISTRY_HOME_COUNTRY


class Contact(models.Model):
    """A person at a partner institution. Personal data: only staff see it."""

    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="contacts", verbose_name=_("partner")
    )
    name = models.CharField(_("name"), max_length=120, validators=[validate_no_control_characters])
    position = models.CharField(
        _("position"), max_length=120, blank=True, validators=[validate_no_control_characters]
    )
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(
        _("phone"), max_length=40, blank=True, validators=[validate_no_control_characters]
    )
    notes = models.TextField(
        _("notes"),
        blank=True,
        validators=[validate_no_control_characters, MaxLengthValidator(5000)],
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["partner", "name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user acts for an institution (an officer for a domestic unit, a partner user abroad)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("partner")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "partner"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.partner}"


# Webhook models live in their own module; Django finds an app's models here.
from partners.webhooks.models import (  # noqa: E402, F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
