"""Partner tables in the base's machinery: the bigram search index (functions from
`registry/migrations/0003_chinese_search_indexes`; the expression must stay identical to
`partners/search.py`) and the data generation's triggers
(`registry/migrations/0004_data_generation`: every write makes the cached counts and
figures stale). PostgreSQL only. Both are
idempotent, for databases where the base's migrations had created them already."""

from django.db import migrations

from registry.pool_triggers import pool_table_triggers

INDEX = """
CREATE INDEX IF NOT EXISTS partner_search_bigrams ON partners_partner USING gin (
  registry_partner_bigrams(name_zh, name_en)
)
"""


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INDEX)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS partner_search_bigrams")


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0001_initial"),
        ("registry", "0004_data_generation"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
        pool_table_triggers(
            "partners_partner",
            "partners_membership",
            "partners_contact",
        ),
    ]
