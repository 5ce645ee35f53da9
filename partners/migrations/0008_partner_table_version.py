"""Partner names are cached per search word (`registry.freshness`) under the version of
the partners' table: its triggers bump it when a partner is written, and only then."""

from django.db import migrations

from registry.table_versions import versioned_table_triggers


class Migration(migrations.Migration):
    dependencies = [
        ("partners", "0007_text_without_control_characters_new_models"),
        ("registry", "0007_table_versions"),
    ]

    operations = [versioned_table_triggers("partners_partner")]
