"""What is left of the data generation's triggers: the old migrations of the domain apps
(`partners/0002`, `projects/0004`, `projects/0005`) and the base's `registry/0004` still
call these, and now they do nothing.

One *data generation* row, bumped at the commit of every transaction that wrote to any
pool table, keyed the result cache: every writer of the pool updated that one row (a
hot spot serialising them) and any write emptied every cached result. Migration
`registry/0007` drops the triggers and the row; the few lookups still cached follow the
versions of their own tables (`registry.table_versions`). A fresh database never gets
the old triggers, so the functions `registry/0004` still creates are dropped again by
`registry/0007`.
"""

from django.db import migrations


def create_table_triggers(schema_editor, tables) -> None:
    """No longer creates anything (see above)."""


def drop_table_triggers(schema_editor, tables) -> None:
    """No longer drops anything: `registry/0007` drops whatever triggers are left."""


def pool_table_triggers(*tables: str) -> migrations.RunPython:
    """A no-op in the old migrations that put `tables` under the data generation."""
    return migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)
