"""PostgreSQL only: which devices have a streak of abnormal values in progress, indexed.

The ingest asks once per batch which devices need the exact evaluation (an open alarm or a streak
in progress, ``store.ATTENTION_SQL``). A generated column computed from ``eval_state`` (not a model
field: Django never writes it, PostgreSQL keeps it) and a partial index on it make that a look at the
few devices concerned, instead of an index probe and a walk through the JSON per device of every
batch. (A partial index on the expression alone is not chosen: the planner has no statistics for it
and estimates a third of the table.)
"""
from django.db import migrations

STREAK = "jsonb_path_exists(eval_state, 'strict $.s.* ? (@[0] != 0)', '{}', true)"
CREATE = (
    f"ALTER TABLE monitoring_device ADD COLUMN IF NOT EXISTS streak boolean GENERATED ALWAYS AS ({STREAK}) STORED",
    "CREATE INDEX IF NOT EXISTS monitoring_device_streak_idx ON monitoring_device (id) WHERE streak",
)
DROP = (
    "DROP INDEX IF EXISTS monitoring_device_streak_idx",
    "ALTER TABLE monitoring_device DROP COLUMN IF EXISTS streak",
)


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0011_threshold_rule_by_level")]

    operations = [migrations.RunPython(create, drop)]
