"""PostgreSQL only: monitoring_reading becomes a table partitioned by month (see monitoring.partitions)."""
from django.db import migrations


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from apps.monitoring.partitions import PARTITION_SQL

    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PARTITION_SQL)  # no parameters: the % of format() stay as they are


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0008_live_stream_storage")]

    operations = [migrations.RunPython(partition, migrations.RunPython.noop)]
