"""Project sites. `projects_site` joins the pool tables whose writes bump the data
generation (`registry/migrations/0004_data_generation.py`), so cached figures and counts
never outlive a site change."""

from decimal import Decimal

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.db import migrations, models

from registry.pool_triggers import pool_table_triggers

# The site permissions of the role groups (`registry.roles.GROUP_PERMISSIONS`). Only these:
# a full `sync_groups` here would look for permissions of models later migrations add.
SITE_PERMISSIONS = {
    "officer": ("view_site", "add_site", "change_site", "delete_site"),
    "reviewer": ("view_site",),
    "manager": ("view_site",),
}


def grant_site_permissions(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("projects")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in SITE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="projects", codename__in=codenames)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0004_search_index_and_triggers"),
        ("registry", "0004_data_generation"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="HistoricalSite",
            fields=[
                (
                    "id",
                    models.BigIntegerField(
                        auto_created=True, blank=True, db_index=True, verbose_name="ID"
                    ),
                ),
                (
                    "name_zh",
                    models.CharField(blank=True, max_length=200, verbose_name="name (Chinese)"),
                ),
                (
                    "name_en",
                    models.CharField(blank=True, max_length=200, verbose_name="name (English)"),
                ),
                (
                    "latitude",
                    models.DecimalField(
                        decimal_places=6,
                        help_text="Decimal degrees, WGS 84, from -90 to 90.",
                        max_digits=8,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("-90")),
                            django.core.validators.MaxValueValidator(Decimal("90")),
                        ],
                        verbose_name="latitude",
                    ),
                ),
                (
                    "longitude",
                    models.DecimalField(
                        decimal_places=6,
                        help_text="Decimal degrees, WGS 84, from -180 to 180.",
                        max_digits=9,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("-180")),
                            django.core.validators.MaxValueValidator(Decimal("180")),
                        ],
                        verbose_name="longitude",
                    ),
                ),
                (
                    "facility_type",
                    models.CharField(
                        choices=[
                            ("port", "port"),
                            ("industrial_park", "industrial park"),
                            ("dry_port", "dry port"),
                            ("rail_terminal", "rail terminal"),
                            ("border_crossing", "border crossing"),
                            ("distribution_centre", "logistics or distribution centre"),
                            ("overseas_warehouse", "overseas warehouse"),
                            ("school", "school or college"),
                            ("hospital", "hospital"),
                            ("office", "office"),
                            ("other", "other"),
                        ],
                        default="other",
                        max_length=30,
                        verbose_name="facility type",
                    ),
                ),
                (
                    "admin_area",
                    models.CharField(
                        blank=True,
                        help_text="Province, state or district, if useful.",
                        max_length=200,
                        verbose_name="administrative area",
                    ),
                ),
                (
                    "exactness",
                    models.CharField(
                        choices=[("exact", "exact"), ("approximate", "approximate")],
                        default="exact",
                        max_length=12,
                        verbose_name="exactness",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created at"
                    ),
                ),
                (
                    "removed_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="removed at"
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField(db_index=True)),
                ("history_change_reason", models.CharField(max_length=100, null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
                (
                    "country",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="registry.country",
                        verbose_name="country",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
            ],
            options={
                "verbose_name": "historical site",
                "verbose_name_plural": "historical sites",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="Site",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "name_zh",
                    models.CharField(blank=True, max_length=200, verbose_name="name (Chinese)"),
                ),
                (
                    "name_en",
                    models.CharField(blank=True, max_length=200, verbose_name="name (English)"),
                ),
                (
                    "latitude",
                    models.DecimalField(
                        decimal_places=6,
                        help_text="Decimal degrees, WGS 84, from -90 to 90.",
                        max_digits=8,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("-90")),
                            django.core.validators.MaxValueValidator(Decimal("90")),
                        ],
                        verbose_name="latitude",
                    ),
                ),
                (
                    "longitude",
                    models.DecimalField(
                        decimal_places=6,
                        help_text="Decimal degrees, WGS 84, from -180 to 180.",
                        max_digits=9,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("-180")),
                            django.core.validators.MaxValueValidator(Decimal("180")),
                        ],
                        verbose_name="longitude",
                    ),
                ),
                (
                    "facility_type",
                    models.CharField(
                        choices=[
                            ("port", "port"),
                            ("industrial_park", "industrial park"),
                            ("dry_port", "dry port"),
                            ("rail_terminal", "rail terminal"),
                            ("border_crossing", "border crossing"),
                            ("distribution_centre", "logistics or distribution centre"),
                            ("overseas_warehouse", "overseas warehouse"),
                            ("school", "school or college"),
                            ("hospital", "hospital"),
                            ("office", "office"),
                            ("other", "other"),
                        ],
                        default="other",
                        max_length=30,
                        verbose_name="facility type",
                    ),
                ),
                (
                    "admin_area",
                    models.CharField(
                        blank=True,
                        help_text="Province, state or district, if useful.",
                        max_length=200,
                        verbose_name="administrative area",
                    ),
                ),
                (
                    "exactness",
                    models.CharField(
                        choices=[("exact", "exact"), ("approximate", "approximate")],
                        default="exact",
                        max_length=12,
                        verbose_name="exactness",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created at"
                    ),
                ),
                (
                    "removed_at",
                    models.DateTimeField(
                        blank=True, editable=False, null=True, verbose_name="removed at"
                    ),
                ),
                (
                    "country",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sites",
                        to="registry.country",
                        verbose_name="country",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sites",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
            ],
            options={
                "verbose_name": "site",
                "verbose_name_plural": "sites",
                "ordering": ["project", "id"],
                "indexes": [
                    models.Index(
                        fields=["project", "removed_at"], name="projects_si_project_fc50a4_idx"
                    )
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("latitude__gte", -90), ("latitude__lte", 90)),
                        name="site_latitude_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("longitude__gte", -180), ("longitude__lte", 180)),
                        name="site_longitude_range",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("name_zh", ""), _negated=True),
                            models.Q(("name_en", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="site_has_a_name",
                    ),
                ],
            },
        ),
        pool_table_triggers("projects_site"),
        migrations.RunPython(grant_site_permissions, migrations.RunPython.noop),
    ]
