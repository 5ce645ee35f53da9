"""The data generation's triggers (see `registry/migrations/0004_data_generation.py`),
for the migrations of every app whose tables are part of the pool.

The base's migration creates the two trigger functions and the triggers of its own
tables; each app's migration adds its tables with `pool_table_triggers(...)`, so the
base's migrations never depend on the domain's. PostgreSQL only: the cache that reads
the generation (`registry.freshness`) is off on SQLite.

Creating is idempotent (drop if present, then create): databases migrated before the
triggers moved into the apps' migrations already have them on every table.
"""

from django.db import migrations

TABLE_TRIGGERS = """
DROP TRIGGER IF EXISTS registry_note_change ON {table};
DROP TRIGGER IF EXISTS registry_bump_generation ON {table};
DROP TRIGGER IF EXISTS registry_bump_on_truncate ON {table};
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


def create_table_triggers(schema_editor, tables) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(TABLE_TRIGGERS.format(table=schema_editor.quote_name(table)))


def drop_table_triggers(schema_editor, tables) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(DROP_TABLE_TRIGGERS.format(table=schema_editor.quote_name(table)))


def pool_table_triggers(*tables: str) -> migrations.RunPython:
    """The operation that puts `tables` under the data generation (and takes them out
    when unapplied)."""

    def forwards(apps, schema_editor):
        create_table_triggers(schema_editor, tables)

    def backwards(apps, schema_editor):
        drop_table_triggers(schema_editor, tables)

    return migrations.RunPython(forwards, backwards)
