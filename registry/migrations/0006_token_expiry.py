"""Every API token expires, and a token outlives the deletion of its user as a record.

Tokens issued without an expiry get the default period counted from this migration, so
their holders keep working for that long and then need a new token."""

from datetime import timedelta

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

DEFAULT_DAYS = 90


def expire_open_tokens(apps, schema_editor):
    ApiToken = apps.get_model("registry", "ApiToken")
    ApiToken.objects.filter(expires_at__isnull=True).update(
        expires_at=timezone.now() + timedelta(days=DEFAULT_DAYS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0005_user_preferences"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(expire_open_tokens, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(verbose_name="expires at"),
        ),
        migrations.AlterField(
            model_name="apitoken",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="api_tokens",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
    ]
