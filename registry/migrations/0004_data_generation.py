"""The data generation: one number that grows when the pool's data changes.

On PostgreSQL every pool table gets two triggers:

- `registry_note_change` (per statement, immediate) marks the writing transaction
  (`registry.changed`), so that transaction reads its own writes past the cache;
- `registry_bump_generation` (a constraint trigger deferred to commit) adds one to the
  generation once per transaction. Taking the row lock only at commit, as the last lock
  of the transaction, means writers never wait on each other while they work and cannot
  deadlock on it; and since the new value becomes visible with the commit itself, a
  reader that sees it also sees the data that caused it.

A TRUNCATE bumps the generation at once. Tables added to the pool later need the same
two triggers in their own migration (see `POOL_TABLES`). SQLite gets the table only: the
cache (`registry.freshness`) is off there.
"""

from django.db import migrations, models

POOL_TABLES = (
    "partners_partner",
    "partners_membership",
    "partners_contact",
    "projects_project",
    "projects_project_tags",
    "projects_tag",
    "projects_projectcountry",
    "projects_projectsector",
    "projects_participation",
    "projects_review",
    "projects_supportdecision",
    "projects_statuschange",
    "projects_progressupdate",
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

TABLE_TRIGGERS = """
CREATE TRIGGER registry_note_change AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION registry_note_change();
CREATE CONSTRAINT TRIGGER registry_bump_generation AFTER INSERT OR UPDATE OR DELETE
  ON {table} DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION registry_bump_generation();
CREATE TRIGGER registry_bump_on_truncate AFTER TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION registry_bump_generation();
"""

DROP_TABLE_TRIGGERS = """
DROP TRIGGER IF EXISTS registry_note_change ON {table};
DROP TRIGGER IF EXISTS registry_bump_generation ON {table};
DROP TRIGGER IF EXISTS registry_bump_on_truncate ON {table};
"""


def create_row(apps, schema_editor):
    apps.get_model("registry", "DataGeneration").objects.get_or_create(id=1)


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    for table in POOL_TABLES:
        schema_editor.execute(TABLE_TRIGGERS.format(table=schema_editor.quote_name(table)))


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in POOL_TABLES:
        schema_editor.execute(DROP_TABLE_TRIGGERS.format(table=schema_editor.quote_name(table)))
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_note_change()")
    schema_editor.execute("DROP FUNCTION IF EXISTS registry_bump_generation()")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_chinese_search_indexes"),
        ("projects", "0003_project_newest_first_index"),
        ("partners", "0001_initial"),
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
