"""Per-table versions: a number per table that grows when that table's data changes, for
the few tables whose lookups are cached (`registry.freshness`).

On PostgreSQL each such table gets three triggers:

- `registry_version_note` (per statement, immediate) marks the writing transaction
  (`registry.changed`), so that transaction reads its own writes past the cache;
- `registry_version_bump` (a constraint trigger deferred to commit) adds one to the
  table's row of `registry_tableversion` once per transaction. The row lock is taken only
  at commit, as the last lock of the transaction, so writers of the table never wait on
  each other while they work; and since the new value becomes visible with the commit,
  a reader that sees it also sees the data that caused it;
- `registry_version_truncate` bumps it at once on TRUNCATE.

Only the tables whose rows are cached get them: the reference data (countries, groups,
sectors) and partner names. The pool's own tables (projects and everything hanging off
them) have none, so writers of projects share no row at all.

The base's migration (`registry/0007`) creates the functions and versions its own
tables; a domain app versions its tables in its own migration with
`versioned_table_triggers(...)`, so the base depends on no domain migration.
"""

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION registry_note_version_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('registry.changed', 'on', true);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION registry_bump_table_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('registry.bumped_' || TG_TABLE_NAME, true) IS DISTINCT FROM 'on' THEN
    PERFORM set_config('registry.bumped_' || TG_TABLE_NAME, 'on', true);
    INSERT INTO registry_tableversion (table_name, value) VALUES (TG_TABLE_NAME, 1)
      ON CONFLICT (table_name) DO UPDATE SET value = registry_tableversion.value + 1;
  END IF;
  RETURN NULL;
END $$;
"""

DROP_FUNCTIONS = """
DROP FUNCTION IF EXISTS registry_note_version_change();
DROP FUNCTION IF EXISTS registry_bump_table_version();
"""

DROP_TABLE_TRIGGERS = """
DROP TRIGGER IF EXISTS registry_version_note ON {table};
DROP TRIGGER IF EXISTS registry_version_bump ON {table};
DROP TRIGGER IF EXISTS registry_version_truncate ON {table};
"""

TABLE_TRIGGERS = (
    DROP_TABLE_TRIGGERS
    + """
CREATE TRIGGER registry_version_note AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION registry_note_version_change();
CREATE CONSTRAINT TRIGGER registry_version_bump AFTER INSERT OR UPDATE OR DELETE
  ON {table} DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION registry_bump_table_version();
CREATE TRIGGER registry_version_truncate AFTER TRUNCATE ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION registry_bump_table_version();
"""
)


def create_functions(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS)


def drop_functions(schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTIONS)


def create_table_triggers(schema_editor, tables) -> None:
    """Versions `tables` (idempotent). A table gets its row at once: only a table with a
    row is cached (`registry.freshness`)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(TABLE_TRIGGERS.format(table=schema_editor.quote_name(table)))
        schema_editor.execute(
            "INSERT INTO registry_tableversion (table_name, value) VALUES (%s, 0) "
            "ON CONFLICT (table_name) DO NOTHING",
            [table],
        )


def drop_table_triggers(schema_editor, tables) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in tables:
        schema_editor.execute(DROP_TABLE_TRIGGERS.format(table=schema_editor.quote_name(table)))
        schema_editor.execute("DELETE FROM registry_tableversion WHERE table_name = %s", [table])


def versioned_table_triggers(*tables: str) -> migrations.RunPython:
    """The operation that versions `tables` (and stops versioning them when unapplied)."""

    def forwards(apps, schema_editor):
        create_table_triggers(schema_editor, tables)

    def backwards(apps, schema_editor):
        drop_table_triggers(schema_editor, tables)

    return migrations.RunPython(forwards, backwards)
