"""backup / restore: a round trip into a new installation, and the archives and targets refused."""
import io
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from apps.core import backup
from apps.core.models import AuditEntry
from apps.orgs.models import User

# A backup runs outside any transaction (as from cron), so these tests commit their data.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHOTO = bytes(range(256)) * 40


def _backup(output):
    out = io.StringIO()
    call_command("backup", "--output", str(output), stdout=out)
    return Path(out.getvalue().strip().splitlines()[-1])


def _members(archive):
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def _rewrite(archive, members):
    with tarfile.open(archive, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


class Target:
    """A new, empty installation: a fresh var dir with SQLite, or a freshly created PostgreSQL database."""

    def __init__(self, var_dir):
        self.var_dir = var_dir
        self.env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEDIA_ROOT")}
        self.env.update(DJANGO_SETTINGS_MODULE="firesafe.settings", FIRESAFE_VAR_DIR=str(var_dir),
                        SECRET_KEY="restore-test", DEBUG="0")
        if connection.vendor == "postgresql":
            db = connection.settings_dict
            # Named after the test database (test_<name>[_gw0]): one scratch database per run and xdist worker.
            self.scratch_db = f"{db['NAME']}_restore"
            self.pg_env = backup.pg_environment(dict(db, NAME=self.scratch_db))
            subprocess.run(["dropdb", "--if-exists", self.scratch_db], env=self.pg_env, check=True)
            subprocess.run(["createdb", self.scratch_db], env=self.pg_env, check=True)
            self.env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{self.scratch_db}"

    def restore(self, archive, *extra):
        return subprocess.run([sys.executable, "manage.py", "restore", str(archive), *extra], env=self.env,
                              cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=300)

    def rows(self, table):
        if connection.vendor == "postgresql":
            result = subprocess.run(["psql", "-Atc", f'SELECT COUNT(*) FROM "{table}"'], env=self.pg_env,
                                    capture_output=True, text=True, check=True)
            return int(result.stdout)
        with sqlite3.connect(self.var_dir / "firesafe.sqlite3") as db:
            return db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]

    def drop(self):
        if connection.vendor == "postgresql":
            subprocess.run(["dropdb", "--if-exists", self.scratch_db], env=self.pg_env, check=True)


@pytest.fixture
def target(tmp_path):
    target = Target(tmp_path / "new-installation")
    yield target
    target.drop()


def test_a_backup_restores_into_a_new_installation(world, tmp_path, target):
    stored = default_storage.save("photos/2026/inspection.jpg", ContentFile(PHOTO))
    archive = _backup(tmp_path / "backups")
    assert archive.name.startswith("firesafe-backup-") and archive.name.endswith(".tar.gz")

    result = target.restore(archive)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Restore verified" in result.stdout and "Audit trail OK" in result.stdout
    assert target.rows(User._meta.db_table) == User.objects.count() == len(world.all_users)
    assert target.rows(AuditEntry._meta.db_table) == AuditEntry.objects.count() > 0
    assert (target.var_dir / "media" / stored).read_bytes() == PHOTO
    # A second restore finds the installation in use.
    again = target.restore(archive)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_a_restore_whose_counts_differ_from_the_manifest_exits_non_zero(world, tmp_path, target):
    archive = _backup(tmp_path / "backups")
    members = _members(archive)
    manifest = json.loads(members["manifest.json"])
    manifest["counts"][User._meta.label] += 1  # as if a row had been lost on the way
    members["manifest.json"] = json.dumps(manifest).encode()
    _rewrite(archive, members)

    result = target.restore(archive)

    assert result.returncode != 0
    assert "MISMATCH" in result.stdout and "NOT verified" in result.stderr


def test_the_manifest_counts_every_table_and_hashes_every_member(world, tmp_path):
    default_storage.save("documents/order.docx", ContentFile(b"docx bytes"))
    archive = _backup(tmp_path)
    members = _members(archive)
    manifest = json.loads(members.pop("manifest.json"))
    assert manifest["engine"] == connection.vendor and manifest["format"] == backup.FORMAT
    assert set(manifest["files"]) == set(members)
    assert manifest["files"]["media/documents/order.docx"] == backup.sha256_file(
        Path(settings.MEDIA_ROOT) / "documents/order.docx")
    assert set(manifest["counts"]) == set(backup.counted_tables())
    assert manifest["counts"][User._meta.label] == len(world.all_users)


def test_a_restore_into_an_installation_in_use_is_refused(world, tmp_path):
    archive = _backup(tmp_path)
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert User.objects.count() == len(world.all_users)


@pytest.mark.parametrize("tamper", ["altered member", "unlisted member", "missing member"])
def test_a_tampered_archive_is_refused_before_anything_is_restored(transactional_db, tmp_path, tamper):
    default_storage.save("photos/a.jpg", ContentFile(PHOTO))
    archive = _backup(tmp_path / "backups")
    default_storage.delete("photos/a.jpg")
    members = _members(archive)
    if tamper == "altered member":
        members["media/photos/a.jpg"] = PHOTO[::-1]
    elif tamper == "unlisted member":
        members["media/photos/extra.jpg"] = b"x"
    else:
        del members["media/photos/a.jpg"]
    _rewrite(archive, members)

    with pytest.raises(CommandError, match="SHA-256|does not match its manifest"):
        call_command("restore", str(archive), stdout=io.StringIO())
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.jpg"))


def test_a_backup_inside_a_transaction_is_refused_not_left_waiting(tmp_path):
    with transaction.atomic(), pytest.raises(CommandError, match="inside a database transaction"):
        _backup(tmp_path)


def test_a_file_that_is_not_a_backup_is_refused(transactional_db, tmp_path):
    junk = tmp_path / "firesafe-backup-junk.tar.gz"
    junk.write_bytes(b"not a tar file")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("restore", str(junk), stdout=io.StringIO())
