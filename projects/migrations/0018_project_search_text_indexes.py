"""The indexes of `Project.search_text` (PostgreSQL; see `0017_project_search_text`).

- pg_trgm's trigrams (`gin_trgm_ops`) serve `search_text LIKE '%TERM%'` for a term with a
  run of three or more letters or digits, Chinese as well as Latin;
- the set of the column's characters (`string_to_array(search_text, NULL)`, a C function:
  an SQL function building 1- and 2-character pieces took the index build ~16 ms a row
  on the loaded bench machine) serves a one-character term exactly and narrows a
  two-character one to the projects holding both characters.

They replace the bigram index over the projects' own texts (dropped in `0016`); the
partners keep theirs, for the partners' own list. The statistics are gathered at once:
the new column has none, and the planner would guess every pattern rare.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE INDEX IF NOT EXISTS project_search_text_trigrams ON projects_project
    USING gin (search_text gin_trgm_ops)
    """,
    """
    CREATE INDEX IF NOT EXISTS project_search_text_characters ON projects_project
    USING gin (string_to_array(search_text, NULL))
    """,
    "ANALYZE projects_project",
]

REVERSE = [
    "DROP INDEX IF EXISTS project_search_text_characters",
    "DROP INDEX IF EXISTS project_search_text_trigrams",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("projects", "0017_project_search_text")]

    operations = [migrations.RunPython(_run(FORWARD), _run(REVERSE), elidable=False)]
