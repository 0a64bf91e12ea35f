"""PostgreSQL only: a version of what the ingest keeps of each device, moved by every change to it.

The MQTT consumer keeps a copy of each device (token, kind, thresholds, channels, service, township:
``store.directory``) so that a live stream does not read the device again for every reading. Any
statement that changes one of those columns, adds or removes a device, or moves an institution to
another township moves this version, in the same transaction (a row, not a sequence: a consumer
never sees a version before the change it stands for is committed). The ingest reads the version
with the devices that need attention, once per batch, and drops its copies when it moved.
"""
from django.db import migrations

CREATE = (
    "CREATE TABLE IF NOT EXISTS monitoring_directory_version (id integer PRIMARY KEY CHECK (id = 1), "
    "version bigint NOT NULL)",
    "INSERT INTO monitoring_directory_version (id, version) VALUES (1, 1) ON CONFLICT (id) DO NOTHING",
    "CREATE OR REPLACE FUNCTION monitoring_bump_directory() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN UPDATE monitoring_directory_version SET version = version + 1 WHERE id = 1; RETURN NULL; END $$",
    "CREATE TRIGGER monitoring_device_directory AFTER INSERT OR DELETE OR UPDATE OF code, kind, is_active, "
    "token_hash, thresholds, channels, institution_id ON monitoring_device "
    "FOR EACH STATEMENT EXECUTE FUNCTION monitoring_bump_directory()",
    "CREATE TRIGGER monitoring_device_directory_truncate AFTER TRUNCATE ON monitoring_device "
    "FOR EACH STATEMENT EXECUTE FUNCTION monitoring_bump_directory()",
    "CREATE TRIGGER ledger_institution_directory AFTER UPDATE OF township_id ON ledger_institution "
    "FOR EACH STATEMENT EXECUTE FUNCTION monitoring_bump_directory()",
)
DROP = (
    "DROP TRIGGER IF EXISTS ledger_institution_directory ON ledger_institution",
    "DROP TRIGGER IF EXISTS monitoring_device_directory_truncate ON monitoring_device",
    "DROP TRIGGER IF EXISTS monitoring_device_directory ON monitoring_device",
    "DROP FUNCTION IF EXISTS monitoring_bump_directory()",
    "DROP TABLE IF EXISTS monitoring_directory_version",
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
    dependencies = [("monitoring", "0012_device_streak_flag"), ("ledger", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
