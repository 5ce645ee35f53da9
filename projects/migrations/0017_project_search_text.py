"""Each project's searchable texts as one upper-cased column, kept by the database.

`Project.search_text` holds, upper-cased and one per line: the code, titles and summaries
(zh/en) and the Chinese and English names of the lead unit and of every participating
partner. A search term never holds a line break (terms are split on whitespace), so "the
term occurs in one of the texts" is exactly "UPPER(term) occurs in search_text": one
LIKE on a stored column per row, where the search used to upper-case five columns and
look up the partners of each row (some 30 µs a row on the bench machine).

PostgreSQL keeps it by triggers, whatever writes (services, admin, import, COPY, psql):
 - before a project is inserted, or updated in a searchable column or its lead unit;
 - after participations are inserted, updated or deleted (once per statement);
 - after a partner's Chinese or English name changes.
Its indexes follow in `0018_project_search_text_indexes` (a transaction of its own: an
index cannot be built on a table with trigger events pending, and the fill leaves the
data generation's). SQLite keeps the column empty: the search reads the texts there
(icontains).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

SEARCHABLE = ("code", "title_zh", "title_en", "summary_zh", "summary_en")

FUNCTIONS = [
    # The text of one project; NULLs are skipped by concat_ws.
    """
    CREATE FUNCTION projects_search_text(
      project_id bigint, code text, title_zh text, title_en text, summary_zh text,
      summary_en text, lead_unit_id bigint
    ) RETURNS text LANGUAGE sql STABLE AS $$
      SELECT upper(concat_ws(E'\\n', code, title_zh, title_en, summary_zh, summary_en,
        (SELECT concat_ws(E'\\n', p.name_zh, p.name_en)
           FROM partners_partner p WHERE p.id = lead_unit_id),
        (SELECT string_agg(concat_ws(E'\\n', p.name_zh, p.name_en), E'\\n' ORDER BY p.id)
           FROM projects_participation pa JOIN partners_partner p ON p.id = pa.partner_id
          WHERE pa.project_id = projects_search_text.project_id)))
    $$
    """,
    """
    CREATE FUNCTION projects_project_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.search_text := projects_search_text(NEW.id, NEW.code, NEW.title_zh, NEW.title_en,
        NEW.summary_zh, NEW.summary_en, NEW.lead_unit_id);
      RETURN NEW;
    END $$
    """,
    # Rewriting the column of the projects concerned re-runs the row trigger above.
    """
    CREATE FUNCTION projects_refresh_search_text(project_ids bigint[]) RETURNS void
    LANGUAGE sql AS $$
      UPDATE projects_project p SET search_text = projects_search_text(
        p.id, p.code, p.title_zh, p.title_en, p.summary_zh, p.summary_en, p.lead_unit_id)
      WHERE p.id = ANY(project_ids)
    $$
    """,
    """
    CREATE FUNCTION projects_participation_search_text() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM projects_refresh_search_text(ARRAY(SELECT DISTINCT project_id FROM new_rows));
      ELSIF TG_OP = 'DELETE' THEN
        PERFORM projects_refresh_search_text(ARRAY(SELECT DISTINCT project_id FROM old_rows));
      ELSE
        PERFORM projects_refresh_search_text(ARRAY(
          SELECT project_id FROM old_rows UNION SELECT project_id FROM new_rows));
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION projects_partner_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM projects_refresh_search_text(ARRAY(
        SELECT id FROM projects_project WHERE lead_unit_id = NEW.id
        UNION SELECT project_id FROM projects_participation WHERE partner_id = NEW.id));
      RETURN NULL;
    END $$
    """,
]

CHANGED = " OR ".join(
    f"OLD.{column} IS DISTINCT FROM NEW.{column}"
    for column in (*SEARCHABLE, "lead_unit_id", "search_text")
)

# Superseded by the indexes of `search_text` (`0017`). Dropped first: the fill rewrites
# every row, and this index's SQL function took ~16 ms a row on the loaded bench
# machine (some 30 minutes for 100,000 projects), as it does on every project write.
DROP_BIGRAMS = "DROP INDEX IF EXISTS project_search_bigrams"

# Filled in one statement before the triggers exist (a row trigger per project would
# look the partners up a million times).
BACKFILL = """
UPDATE projects_project p SET search_text = upper(concat_ws(E'\\n', p.code, p.title_zh,
  p.title_en, p.summary_zh, p.summary_en, l.name_zh, l.name_en, taking_part.names))
FROM projects_project q
LEFT JOIN partners_partner l ON l.id = q.lead_unit_id
LEFT JOIN (
  SELECT pa.project_id,
         string_agg(concat_ws(E'\\n', pp.name_zh, pp.name_en), E'\\n' ORDER BY pp.id) AS names
  FROM projects_participation pa JOIN partners_partner pp ON pp.id = pa.partner_id
  GROUP BY pa.project_id
) taking_part ON taking_part.project_id = q.id
WHERE p.id = q.id
"""

TRIGGERS = [
    """
    CREATE TRIGGER projects_project_search_text_insert BEFORE INSERT ON projects_project
    FOR EACH ROW EXECUTE FUNCTION projects_project_search_text()
    """,
    # Django's save() writes the column back as it read it (or its default): a changed
    # value is recomputed too, so only the triggers ever decide it.
    f"""
    CREATE TRIGGER projects_project_search_text_update BEFORE UPDATE ON projects_project
    FOR EACH ROW WHEN ({CHANGED}) EXECUTE FUNCTION projects_project_search_text()
    """,
    """
    CREATE TRIGGER projects_participation_search_text_insert
    AFTER INSERT ON projects_participation REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION projects_participation_search_text()
    """,
    """
    CREATE TRIGGER projects_participation_search_text_update
    AFTER UPDATE ON projects_participation REFERENCING OLD TABLE AS old_rows
    NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION projects_participation_search_text()
    """,
    """
    CREATE TRIGGER projects_participation_search_text_delete
    AFTER DELETE ON projects_participation REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION projects_participation_search_text()
    """,
    """
    CREATE TRIGGER projects_partner_search_text AFTER UPDATE OF name_zh, name_en
    ON partners_partner FOR EACH ROW
    WHEN (OLD.name_zh IS DISTINCT FROM NEW.name_zh OR OLD.name_en IS DISTINCT FROM NEW.name_en)
    EXECUTE FUNCTION projects_partner_search_text()
    """,
]

REVERSE = [
    """
    CREATE INDEX IF NOT EXISTS project_search_bigrams ON projects_project USING gin (
      registry_project_bigrams(code, title_zh, title_en, summary_zh, summary_en)
    )
    """,
    "DROP TRIGGER IF EXISTS projects_partner_search_text ON partners_partner",
    "DROP TRIGGER IF EXISTS projects_participation_search_text_delete ON projects_participation",
    "DROP TRIGGER IF EXISTS projects_participation_search_text_update ON projects_participation",
    "DROP TRIGGER IF EXISTS projects_participation_search_text_insert ON projects_participation",
    "DROP TRIGGER IF EXISTS projects_project_search_text_update ON projects_project",
    "DROP TRIGGER IF EXISTS projects_project_search_text_insert ON projects_project",
    "DROP FUNCTION IF EXISTS projects_partner_search_text()",
    "DROP FUNCTION IF EXISTS projects_participation_search_text()",
    "DROP FUNCTION IF EXISTS projects_refresh_search_text(bigint[])",
    "DROP FUNCTION IF EXISTS projects_project_search_text()",
    "DROP FUNCTION IF EXISTS projects_search_text(bigint, text, text, text, text, text, bigint)",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in [*FUNCTIONS, DROP_BIGRAMS, BACKFILL, *TRIGGERS]:
        schema_editor.execute(statement)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in REVERSE:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_text_without_control_characters_new_models"),
        ("projects", "0016_project_unchecked_permissions_removed"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddField(
            model_name="project",
            name="search_text",
            field=models.TextField(db_default="", editable=False, verbose_name="search text"),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
