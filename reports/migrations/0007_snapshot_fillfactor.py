"""Leave half of each snapshot page free on PostgreSQL, so that a roll-up's upsert
rewrites a row on its own page (a HOT update: no index entry is written, and the old
version is pruned on the page). The snapshot is small — two rows per region per
campaign-year — so the space costs little. The setting applies to pages written from now
on: an existing snapshot's rows move to such pages as they are updated (or all at once
with VACUUM FULL).
Nothing to do on SQLite."""

from django.db import migrations


def set_fillfactor(apps, schema_editor, value=50):
    if schema_editor.connection.vendor != "postgresql":
        return
    table = schema_editor.quote_name(apps.get_model("reports", "AttainmentSnapshot")._meta.db_table)
    schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {int(value)})")


def reset_fillfactor(apps, schema_editor):
    set_fillfactor(apps, schema_editor, 100)


class Migration(migrations.Migration):
    dependencies = [("reports", "0006_campaign_fk_unchecked")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor)]
