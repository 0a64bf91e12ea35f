"""PostgreSQL only: room in the device table's pages for the ingest's updates.

The ingest moves each device's last-seen time forward every few minutes. With full pages (the
default fill factor, 100) every such update moves the row to another page and adds an entry to each
of the table's eight indexes; with room left on the page, PostgreSQL updates the row in place (a
heap-only tuple) and touches no index. The table is small (one row per device): half-full pages cost
little space. Rows written before this get the room as the table is rewritten or vacuumed.
"""
from django.db import migrations


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE monitoring_device SET (fillfactor = 50)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE monitoring_device RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0014_hour_marks_of_every_device")]

    operations = [migrations.RunPython(create, drop)]
