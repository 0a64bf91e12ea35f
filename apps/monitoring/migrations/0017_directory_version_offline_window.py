"""PostgreSQL only: a change of a device's offline window moves the directory version too (0013).

The consumer's copy of a device now carries its offline window: its last-seen is written at least
three times within it (``store.seen_every``), so a shorter window must reach every consumer at its next
batch, as a new token or threshold does.
"""
from django.db import migrations

TRIGGER = (
    "CREATE OR REPLACE TRIGGER monitoring_device_directory AFTER INSERT OR DELETE OR UPDATE OF code, kind, "
    "is_active, token_hash, thresholds, channels, institution_id{extra} ON monitoring_device "
    "FOR EACH STATEMENT EXECUTE FUNCTION monitoring_bump_directory()"
)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER.format(extra=", offline_after_minutes"))


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER.format(extra=""))


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0016_device_last_values_derived")]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
