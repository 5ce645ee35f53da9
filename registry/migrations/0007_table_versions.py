"""The data generation goes; the few cached lookups follow per-table versions.

Every transaction that wrote to any pool table bumped the one data-generation row at
commit (a hot spot serialising all writers), and every write emptied every cached
result. Here the old triggers are dropped from whichever tables have them (found by
name, so the base need not know the domain's tables), with their functions and the
row's table; `registry_tableversion` and its triggers take over for the base's
reference tables (`registry.table_versions`). Domain apps version their own tables in
their own migrations.
"""

from django.db import migrations, models

from registry.table_versions import (
    create_functions,
    create_table_triggers,
    drop_functions,
    drop_table_triggers,
)

REFERENCE_TABLES = (
    "registry_country",
    "registry_countrygroup",
    "registry_countrygroup_members",
    "registry_sector",
)

OLD_TRIGGERS = ("registry_note_change", "registry_bump_generation", "registry_bump_on_truncate")


def drop_generation_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE tgname = ANY(%s)",
            [list(OLD_TRIGGERS)],
        )
        found = cursor.fetchall()
    for table, trigger in found:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {schema_editor.quote_name(trigger)} ON {table}"
        )
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_note_change()")
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_bump_generation()")


def version_reference_tables(apps, schema_editor):
    create_functions(schema_editor)
    create_table_triggers(schema_editor, REFERENCE_TABLES)


def unversion_reference_tables(apps, schema_editor):
    drop_table_triggers(schema_editor, REFERENCE_TABLES)
    drop_functions(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_token_expiry"),
    ]

    operations = [
        # Not recreated when unapplied: nothing reads the generation any more.
        migrations.RunPython(drop_generation_triggers, migrations.RunPython.noop),
        migrations.DeleteModel(name="DataGeneration"),
        migrations.CreateModel(
            name="TableVersion",
            fields=[
                (
                    "table_name",
                    models.CharField(
                        max_length=63, primary_key=True, serialize=False, verbose_name="table"
                    ),
                ),
                ("value", models.BigIntegerField(default=0, verbose_name="value")),
            ],
            options={
                "verbose_name": "table version",
                "verbose_name_plural": "table versions",
            },
        ),
        migrations.RunPython(version_reference_tables, unversion_reference_tables),
    ]
