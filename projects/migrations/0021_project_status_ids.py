"""Projects' ids by status, read off the index alone: the dashboard's achievement rate
joins the periods to the selected and in-progress projects without reading their rows."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0020_warning_params"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["status", "id"], name="project_status_ids"),
        ),
    ]
