"""Backups that restore: one dated archive with the database, the media files and a manifest.

Archive members (``firesafe-backup-YYYYMMDD-HHMM.tar.gz``):

- ``database.sqlite3`` (SQLite, copied with the online backup API) or ``database.pgdump``
  (PostgreSQL, ``pg_dump --format=custom``);
- ``media/<path>``: every file under ``MEDIA_ROOT``;
- ``manifest.json``: format, platform version, time, engine, the row count of every table and the
  SHA-256 of every other member.

The row counts describe exactly the dumped data: on PostgreSQL they are taken in the snapshot
``pg_dump`` dumps (``--snapshot``), on SQLite from the copy itself. ``restore`` refuses an archive
whose members do not match the manifest, and a target installation that is already in use.
"""
import hashlib
import importlib.metadata
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

FORMAT = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DB_MEMBER = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the administrator."""


# ---------------------------------------------------------------------------------------------
# Shared helpers


def counted_tables():
    """{model label: table} for every table the platform's models own (many-to-many ones too)."""
    tables = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.managed and not meta.proxy and meta.db_table not in tables.values():
            tables[meta.label] = meta.db_table
    return dict(sorted(tables.items()))


def count_rows(cursor, existing_tables):
    """{model label: rows} through a DB-API cursor; a table that does not exist counts as None."""
    counts = {}
    for label, table in counted_tables().items():
        if table not in existing_tables:
            counts[label] = None
            continue
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
        counts[label] = cursor.fetchone()[0]
    return counts


def current_counts():
    """Row counts of the configured database, as the platform sees it now."""
    with connection.cursor() as cursor:
        return count_rows(cursor, set(connection.introspection.table_names(cursor)))


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class _HashingReader:
    """Hashes the bytes as tarfile reads them, so the manifest describes exactly what was archived."""

    def __init__(self, fh):
        self.fh, self.digest = fh, hashlib.sha256()

    def read(self, size=-1):
        data = self.fh.read(size)
        self.digest.update(data)
        return data


def platform_version():
    try:
        return importlib.metadata.version("firesafe")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Backup


def archive_path(output_dir, now=None):
    """``firesafe-backup-YYYYMMDD-HHMM.tar.gz`` in local time; seconds added if that name is taken."""
    now = timezone.localtime(now)
    path = Path(output_dir) / f"firesafe-backup-{now:%Y%m%d-%H%M}.tar.gz"
    if path.exists():
        path = Path(output_dir) / f"firesafe-backup-{now:%Y%m%d-%H%M%S}.tar.gz"
    if path.exists():
        raise BackupError(f"{path} already exists")
    return path


def dump_sqlite(target):
    """Copy the live SQLite database page by page (consistent even while others write)."""
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        connection.connection.backup(destination)
    finally:
        destination.close()
    copy = sqlite3.connect(target)
    try:
        cursor = copy.cursor()
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return count_rows(cursor, {row[0] for row in cursor.fetchall()})
    finally:
        copy.close()


def pg_environment(db=None):
    """libpq variables for pg_dump / pg_restore / psql from the configured database."""
    db = db or connection.settings_dict
    env = dict(os.environ)
    for var, key in (("PGHOST", "HOST"), ("PGPORT", "PORT"), ("PGUSER", "USER"), ("PGPASSWORD", "PASSWORD"),
                     ("PGDATABASE", "NAME")):
        if db.get(key):
            env[var] = str(db[key])
    return env


def pg_tool(name):
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client programs (Debian: postgresql-client, "
            f"the same major version as the server or newer)")
    return path


def dump_postgresql(target):
    """``pg_dump --format=custom`` of the snapshot in which the rows are counted."""
    pg_dump = pg_tool("pg_dump")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = count_rows(cursor, set(connection.introspection.table_names(cursor)))
        # The exporting transaction stays open while pg_dump reads its snapshot.
        result = subprocess.run(
            [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={target}"],
            env=pg_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return counts


def media_files(media_root):
    """(archive name, path) of every regular file under MEDIA_ROOT, in a stable order."""
    root = Path(media_root)
    if not root.is_dir():
        return []
    return [(MEDIA_PREFIX + path.relative_to(root).as_posix(), path)
            for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()]


@dataclass
class BackupResult:
    path: Path
    manifest: dict


def create_backup(output_dir):
    """Write one archive into ``output_dir`` and return it with its manifest."""
    engine = connection.vendor
    if engine not in DB_MEMBER:
        raise BackupError(f"unsupported database engine: {engine}")
    if connection.in_atomic_block:
        # SQLite's backup would wait forever for the open transaction; pg_dump could not share its snapshot.
        raise BackupError("a backup cannot run inside a database transaction")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = archive_path(output_dir)
    partial = path.with_name(path.name + ".partial")
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".backup-") as tmp:
        dump = Path(tmp) / DB_MEMBER[engine]
        counts = dump_sqlite(dump) if engine == "sqlite" else dump_postgresql(dump)
        files = {}
        try:
            with tarfile.open(partial, "w:gz") as tar:
                for name, source in [(DB_MEMBER[engine], dump), *media_files(settings.MEDIA_ROOT)]:
                    files[name] = _add_file(tar, name, source)
                manifest = {
                    "format": FORMAT, "version": platform_version(), "created": timezone.now().isoformat(),
                    "engine": engine, "database": DB_MEMBER[engine], "counts": counts, "files": files,
                }
                _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode())
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
    return BackupResult(path, manifest)


def _add_file(tar, name, source):
    info = tar.gettarinfo(str(source), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with open(source, "rb") as fh:
        reader = _HashingReader(fh)
        tar.addfile(info, reader)
    return reader.digest.hexdigest()


def _add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o644
    tar.addfile(info, io.BytesIO(data))


# ---------------------------------------------------------------------------------------------
# Restore


def read_archive(archive, workdir):
    """Extract the archive into ``workdir`` after checking it against its manifest; return the manifest.

    Refused: a file that is not a FireSafe backup, a member the manifest does not list (or the other
    way round), a member whose SHA-256 differs from the manifest's. Nothing is restored before this.
    """
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = [m for m in tar.getmembers() if not m.isdir()]
            by_name = {m.name: m for m in members}
            if MANIFEST not in by_name:
                raise BackupError(f"{archive} is not a FireSafe backup (no {MANIFEST})")
            manifest = json.load(tar.extractfile(by_name.pop(MANIFEST)))
            if manifest.get("format") != FORMAT:
                raise BackupError(f"unsupported backup format {manifest.get('format')!r} (expected {FORMAT})")
            missing = sorted(set(manifest["files"]) - set(by_name))
            unexpected = sorted(set(by_name) - set(manifest["files"]))
            if missing or unexpected:
                raise BackupError(f"the archive does not match its manifest: missing {missing or '-'}, "
                                  f"not listed {unexpected or '-'}")
            if any(not m.isfile() for m in by_name.values()):
                raise BackupError("the archive holds links or devices: refused")
            tar.extractall(workdir, members=list(by_name.values()), filter="data")
    except (tarfile.TarError, EOFError, OSError, ValueError, KeyError) as exc:
        raise BackupError(f"cannot read {archive}: {exc}") from exc
    for name, digest in manifest["files"].items():
        if sha256_file(Path(workdir) / name) != digest:
            raise BackupError(f"{name}: its SHA-256 does not match the manifest (damaged or altered archive)")
    return manifest


def installation_in_use():
    """A short description of what the configured installation already holds, or None when empty.

    Empty means no user accounts and no audit entries (what ``migrate`` writes does not count) and
    no file under MEDIA_ROOT.
    """
    from .models import AuditEntry

    parts = []
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
        for model in (apps.get_model(settings.AUTH_USER_MODEL), AuditEntry):
            if model._meta.db_table in existing and model._base_manager.exists():
                parts.append(f"{model._base_manager.count()} rows in {model._meta.label}")
    if media_files(settings.MEDIA_ROOT):
        parts.append(f"files in {settings.MEDIA_ROOT}")
    return ", ".join(parts) or None


def restore_database(manifest, workdir):
    engine = connection.vendor
    if manifest["engine"] != engine:
        raise BackupError(f"this is a {manifest['engine']} backup; the configured database is {engine}")
    dump = Path(workdir) / manifest["database"]
    if engine == "sqlite":
        _restore_sqlite(dump)
    else:
        _restore_postgresql(dump)


def _restore_sqlite(dump):
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or "mode=memory" in name:
        raise BackupError("the configured SQLite database is in memory: nothing to restore into")
    connection.close()
    target = Path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".restoring")
    shutil.copyfile(dump, staged)
    for suffix in ("-wal", "-shm", "-journal"):  # a stale log would be replayed over the restored file
        Path(name + suffix).unlink(missing_ok=True)
    os.replace(staged, target)


def _restore_postgresql(dump):
    pg_restore = pg_tool("pg_restore")
    with connection.cursor() as cursor:
        has_tables = bool(connection.introspection.table_names(cursor))
    connection.close()
    # One transaction: a failed restore leaves the database as it was. --clean only when a
    # (migrated, empty or --force) schema is there already, so a fresh database sees no DROPs.
    command = [pg_restore, "--no-owner", "--single-transaction", "--exit-on-error",
               f"--dbname={connection.settings_dict['NAME']}", str(dump)]
    if has_tables:
        command[1:1] = ["--clean", "--if-exists"]
    result = subprocess.run(command, env=pg_environment(), capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")


def restore_media(workdir):
    """Move the archive's media files into MEDIA_ROOT (same names); returns how many."""
    source = Path(workdir) / MEDIA_PREFIX.rstrip("/")
    moved = 0
    for path in sorted(source.rglob("*")) if source.is_dir() else []:
        if path.is_file():
            target = Path(settings.MEDIA_ROOT) / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved += 1
    return moved


def compare_counts(manifest):
    """[(model label, rows in the archive, rows now)] for every table the manifest counted."""
    now = current_counts()
    return [(label, expected, now.get(label)) for label, expected in manifest["counts"].items()]
