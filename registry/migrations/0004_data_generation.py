"""The data generation: one number that grows when the pool's data changes.

On PostgreSQL every pool table gets two triggers:

- `registry_note_change` (per statement, immediate) marks the writing transaction
  (`registry.changed`), so that transaction reads its own writes past the cache;
- `registry_bump_generation` (a constraint trigger deferred to commit) adds one to the
  generation once per transaction. Taking the row lock only at commit, as the last lock
  of the transaction, means writers never wait on each other while they work and cannot
  deadlock on it; and since the new value becomes visible with the commit itself, a
  reader that sees it also sees the data that caused it.

A TRUNCATE bumps the generation at once. SQLite gets the table only: the cache
(`registry.freshness`) is off there.

This migration puts the base's own tables under the generation; each domain app adds its
tables in its own migration (`registry.pool_triggers.pool_table_triggers`:
`partners/0002_data_generation_triggers`, `projects/0004_data_generation_triggers`), so
the base depends on no domain migration. Databases that applied this migration when it
still covered every pool table keep their triggers; the apps' migrations recreate them
idempotently.
"""

from django.db import migrations, models

from registry.pool_triggers import create_table_triggers, drop_table_triggers

POOL_TABLES = (
    "registry_country",
    "registry_countrygroup",
    "registry_countrygroup_members",
    "registry_sector",
)

FUNCTIONS = """
CREATE FUNCTION registry_note_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('registry.changed', 'on', true);
  RETURN NULL;
END $$;

CREATE FUNCTION registry_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('registry.bumped', true) IS DISTINCT FROM 'on' THEN
    PERFORM set_config('registry.bumped', 'on', true);
    INSERT INTO registry_datageneration (id, value) VALUES (1, 1)
      ON CONFLICT (id) DO UPDATE SET value = registry_datageneration.value + 1;
  END IF;
  RETURN NULL;
END $$;
"""

def create_row(apps, schema_editor):
    apps.get_model("registry", "DataGeneration").objects.get_or_create(id=1)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    create_table_triggers(schema_editor, POOL_TABLES)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    drop_table_triggers(schema_editor, POOL_TABLES)
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_note_change()")
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_bump_generation()")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_chinese_search_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="DataGeneration",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(
                        default=1, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("value", models.BigIntegerField(default=0, verbose_name="value")),
            ],
            options={
                "verbose_name": "data generation",
                "verbose_name_plural": "data generations",
            },
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
