from django.db import migrations

# Rights are decided by `projects.access` from the roles; these two permissions were
# granted to the reviewer and manager groups but never checked.
UNCHECKED = ("review_project", "decide_project")


def remove_unchecked_permissions(apps, schema_editor):
    # Only the permission rows (and with them their group/user links) go: no record of
    # the pool refers to a permission.
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="projects",
        content_type__model="project",
        codename__in=UNCHECKED,
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("projects", "0015_site_current_newest_first"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="project",
            options={
                "ordering": ["-created_at", "-id"],
                "verbose_name": "project",
                "verbose_name_plural": "projects",
            },
        ),
        migrations.RunPython(remove_unchecked_permissions, migrations.RunPython.noop),
    ]
