"""Project tables in the base's machinery: the bigram search index (functions from
`registry/migrations/0003_chinese_search_indexes`; the expression must stay identical to
`projects/api/search.py`) and the data generation's triggers
(`registry/migrations/0004_data_generation`: every write makes the cached counts and
figures stale). PostgreSQL only. Both are
idempotent, for databases where the base's migrations had created them already."""

from django.db import migrations

from registry.pool_triggers import pool_table_triggers

INDEX = """
CREATE INDEX IF NOT EXISTS project_search_bigrams ON projects_project USING gin (
  registry_project_bigrams(code, title_zh, title_en, summary_zh, summary_en)
)
"""


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS project_search_bigrams")


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_project_newest_first_index"),
        ("registry", "0004_data_generation"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
        pool_table_triggers(
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
        ),
    ]
