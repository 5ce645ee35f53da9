"""Indexed substring search for Chinese (and any) text on PostgreSQL.

Trigram indexes do not serve 1–2 character queries, and most Chinese words have two
characters. So each searchable row is indexed by the set of its overlapping 2-character
pieces (bigrams, upper-cased) in a GIN index; a query of n >= 2 characters becomes
"the row's bigrams contain the query's bigrams" (served by the index) followed by an
exact UPPER(...) LIKE recheck, so the rows are exactly those of a plain substring match.

The functions are IMMUTABLE so they can be indexed; the index expressions must stay
identical to those in `projects/api/search.py` and `partners/search.py`. SQLite skips all
of this (the search falls back to icontains there).

The indexes themselves are created by the apps whose tables they index
(`partners/0002_search_index_and_triggers`, `projects/0004_search_index_and_triggers`),
so the base depends on no domain migration. Databases that applied this migration when
it still created them keep them; the apps' migrations create them only if missing.
"""

from django.db import migrations

FORWARD = [
    """
    CREATE FUNCTION registry_bigrams(doc text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT coalesce(array_agg(DISTINCT substr(upper(doc), i, 2)), '{}')
      FROM generate_series(1, char_length(doc) - 1) AS i
    $$
    """,
    """
    CREATE FUNCTION registry_project_bigrams(
      code text, title_zh text, title_en text, summary_zh text, summary_en text
    ) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT registry_bigrams(
        coalesce(code, '') || E'\\n' || coalesce(title_zh, '') || E'\\n' ||
        coalesce(title_en, '') || E'\\n' || coalesce(summary_zh, '') || E'\\n' ||
        coalesce(summary_en, '')
      )
    $$
    """,
    """
    CREATE FUNCTION registry_partner_bigrams(name_zh text, name_en text) RETURNS text[]
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT registry_bigrams(coalesce(name_zh, '') || E'\\n' || coalesce(name_en, ''))
    $$
    """,
]

REVERSE = [
    "DROP FUNCTION IF EXISTS registry_partner_bigrams(text, text)",
    "DROP FUNCTION IF EXISTS registry_project_bigrams(text, text, text, text, text)",
    "DROP FUNCTION IF EXISTS registry_bigrams(text)",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0002_api_tokens"),
    ]

    operations = [migrations.RunPython(_run(FORWARD), _run(REVERSE), elidable=False)]
