"""Import a handover package (see handover.py and docs/handover.md) into a fresh installation.

All or nothing: every file is checked against the manifest's sha256, every row against its
entity's JSON Schema and this installation's fields; the rows get new ids (every reference,
including content-type/object-id pairs and many-to-many lists, is translated to them); shared
reference rows (rule sets, number formats, thresholds …) that the installation already has
from its migrations are found by their natural key and take the package's values; people are
found by username or created inactive without a password; the package's trail entries are
appended to this installation's chain with their original time and actor name. Any error
rolls everything back (the files written are removed) and is reported with its file, line and
field.
"""
import hashlib
import json
import logging
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, transaction
from django.utils.translation import gettext as _

from .handover import (
    FORMAT,
    REFERENCE,
    TRAIL,
    VERSION,
    HandoverError,
    entity_map,
    is_content_type,
    is_file,
    model_of,
)

log = logging.getLogger(__name__)

MAX_ERRORS = 200


@dataclass
class RowError:
    file: str
    line: int
    field: str
    message: str

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ImportFailed(HandoverError):
    def __init__(self, errors):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors[:20]))


@dataclass
class ImportResult:
    counts: dict = field(default_factory=OrderedDict)  # entity -> rows in the package
    added: dict = field(default_factory=OrderedDict)  # entity -> rows added
    matched: dict = field(default_factory=OrderedDict)  # entity -> existing rows reused
    ids: dict = field(default_factory=dict)  # entity -> {package id: new id}
    files: int = 0
    manifest: dict = field(default_factory=dict)


def _sha256(zf, name):
    sha, size = hashlib.sha256(), 0
    with zf.open(name) as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
            size += len(block)
    return sha.hexdigest(), size


def read_manifest(zf):
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise HandoverError(f"manifest.json missing or unreadable: {exc}") from exc
    version = str(manifest.get("format_version", ""))
    if manifest.get("format") != FORMAT or version.split(".")[0] != VERSION.split(".")[0]:
        raise HandoverError(f"not a {FORMAT} package of version {VERSION.split('.')[0]}.x")
    return manifest


def check_files(zf, manifest):
    errors = []
    names = set(zf.namelist())
    for entry in manifest.get("files", []):
        path = entry.get("path", "")
        if path not in names:
            errors.append(RowError(path, 0, "", _("listed in the manifest but not in the zip")))
            continue
        digest, size = _sha256(zf, path)
        if digest != entry.get("sha256") or size != entry.get("size"):
            errors.append(RowError(path, 0, "", _("changed after export: does not match its SHA-256 in the manifest")))
    for e in manifest.get("entities", []):
        for key in ("schema", "data"):
            if e.get(key) not in names:
                errors.append(RowError(str(e.get(key)), 0, "", _("missing from the zip")))
    return errors


def _order(labels, ents):
    """Entities so that every non-null foreign key's target comes first (cycles broken)."""
    done, out, visiting = set(), [], set()

    def visit(label):
        if label in done or label in visiting:
            return
        visiting.add(label)
        model = model_of(label)
        for f in model._meta.concrete_fields:
            if f.is_relation and not is_content_type(f):
                target = f.related_model._meta.label
                if target != label and target in labels:
                    visit(target)
        visiting.discard(label)
        done.add(label)
        out.append(label)

    for label in labels:
        visit(label)
    trail = [label for label in out if ents[label].select == TRAIL]
    return [label for label in out if label not in trail] + trail


class Importer:
    def __init__(self, zf, manifest, actor=None):
        self.zf, self.manifest, self.actor = zf, manifest, actor
        self.ents = entity_map()
        self.errors = []
        self.result = ImportResult(manifest=manifest)
        self.ids = self.result.ids
        self.deferred = []  # (model, new pk, attname, target label, package id)
        self.generic = []  # (model, new pk, ct attname, id attname, target label, package id)
        self.m2m = []  # (model, field name, new pk, target label, [package ids])
        self.claimed = set()
        self.saved_files = []
        self.file_names = {}
        self.cts = {}
        self.failed = {}  # entity -> package ids of refused rows (rows referring to them are not reported again)

    def error(self, file, line, fld, message):
        self.errors.append(RowError(file, line, fld, str(message)))
        if len(self.errors) >= MAX_ERRORS:
            raise ImportFailed(self.errors)

    def check_fresh(self, entries):
        """The records (not the shared rules) must not be here yet: the package is for a fresh installation."""
        for label, entry in entries.items():
            entity = self.ents.get(label)
            if entity is None or entity.select in (REFERENCE, TRAIL) or entity.match or not entry.get("count"):
                continue
            present = model_of(label)._default_manager.count()
            if present:
                self.error(entry["data"], 0, "", _(
                    "this platform already holds %(n)d of these records; import the package into a freshly "
                    "installed platform") % {"n": present})

    # -- files ---------------------------------------------------------------------------------
    def store_files(self):
        for entry in self.manifest.get("files", []):
            path = entry["path"]
            if not path.startswith("files/"):
                continue
            name = path[len("files/"):]
            if ".." in name.split("/") or name.startswith("/"):
                self.error(path, 0, "", _("not a safe file name"))
                continue
            with self.zf.open(path) as fh:
                saved = default_storage.save(name, File(fh, name=name))
            self.saved_files.append(saved)
            self.file_names[name] = saved
            self.result.files += 1

    def remove_files(self):
        for name in self.saved_files:
            try:
                default_storage.delete(name)
            except OSError as exc:  # the import is undone either way; say which file stayed behind
                log.warning("handover import: could not remove %s after a failed import: %s", name, exc)

    # -- rows ----------------------------------------------------------------------------------
    def content_type(self, label):
        if label not in self.cts:
            try:
                app_label, model = label.split(".", 1)
                self.cts[label] = ContentType.objects.get_by_natural_key(app_label, model)
            except (ValueError, ContentType.DoesNotExist):
                self.cts[label] = None
        return self.cts[label]

    def run(self):
        import jsonschema

        entries = {e["name"]: e for e in self.manifest.get("entities", [])}
        for label in entries:
            if label not in self.ents:
                self.error(entries[label].get("data", label), 0, "",
                           _("this platform has no such kind of record (%(label)s)") % {"label": label})
        self.check_fresh(entries)
        if self.errors:
            return
        self.store_files()
        for label in _order([lb for lb in entries], self.ents):
            entry = entries[label]
            try:
                pkg_schema = json.loads(self.zf.read(entry["schema"]))
                validator = jsonschema.Draft202012Validator(pkg_schema,
                                                            format_checker=jsonschema.FormatChecker())
            except (ValueError, jsonschema.SchemaError) as exc:
                self.error(entry["schema"], 0, "", _("not a valid JSON Schema: %(error)s") % {"error": exc})
                continue
            self.import_entity(self.ents[label], entry, validator)
        if self.errors:
            return
        self.fix_references()

    def import_entity(self, entity, entry, validator):
        model = model_of(entity.label)
        fields = {f.name: f for f in model._meta.concrete_fields}
        m2m = {f.name: f for f in model._meta.many_to_many}
        derived = {spec[0] for spec in entity.derived}  # the model derives them: read, not written
        ids = self.ids.setdefault(entity.label, {})
        self.result.counts[entity.label] = 0
        self.result.added[entity.label] = 0
        self.result.matched[entity.label] = 0
        name = entry["data"]
        pk_name = model._meta.pk.name
        rows = []
        with self.zf.open(name) as fh:
            for line_no, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                self.result.counts[entity.label] += 1
                try:
                    row = json.loads(raw)
                except ValueError as exc:
                    self.error(name, line_no, "", _("not JSON: %(error)s") % {"error": exc})
                    continue
                bad = sorted(validator.iter_errors(row), key=lambda e: list(e.path))
                for err in bad[:5]:
                    self.error(name, line_no, ".".join(str(p) for p in err.path), err.message)
                if bad:
                    self.failed.setdefault(entity.label, set()).add(row.get(model._meta.pk.name)
                                                                    if isinstance(row, dict) else None)
                    continue
                unknown = [k for k in row if k not in fields and k not in m2m and k not in derived]
                for k in unknown:
                    self.error(name, line_no, k, _("this platform has no such field"))
                if unknown:
                    continue
                for k in derived:
                    row.pop(k, None)
                rows.append((line_no, row))
        if entity.select == TRAIL:
            self.trail_rows = getattr(self, "trail_rows", []) + [(entity, name, rows)]
            return
        for line_no, row in rows:
            self.import_row(entity, model, fields, m2m, pk_name, ids, name, line_no, row)

    def convert(self, entity, model, fields, name, line_no, row, new_id_for_pk):
        """{attname: value} for this installation, references translated; None if an error."""
        values = {}
        later = []
        ok = True
        for fname, value in row.items():
            if fname not in fields:
                continue
            f = fields[fname]
            if f.primary_key and not f.is_relation:
                continue
            try:
                if is_content_type(f):
                    if value is None:
                        values[f.attname] = None
                    else:
                        ct = self.content_type(value)
                        if ct is None:
                            raise ValidationError(_("unknown kind of record %(value)s") % {"value": value})
                        values[f.attname] = ct.pk
                elif f.is_relation:
                    target = f.related_model._meta.label
                    if value is None:
                        values[f.attname] = None
                    elif value in self.ids.get(target, {}):
                        values[f.attname] = self.ids[target][value]
                    elif value in self.failed.get(target, ()):
                        ok = False  # refers to a row refused above: that error is enough
                    elif target in self.ents and (f.null or target == entity.label) and not f.primary_key:
                        values[f.attname] = None
                        later.append((f.attname, target, value))
                    else:
                        raise ValidationError(_refers(target, value))
                elif is_file(f):
                    values[f.attname] = self.file_names.get(value, value) if value else value
                else:
                    values[f.attname] = f.to_python(value)
            except (ValidationError, ValueError, TypeError) as exc:
                msg = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                self.error(name, line_no, fname, msg)
                ok = False
        return (values, later) if ok else (None, None)

    def import_row(self, entity, model, fields, m2m, pk_name, ids, name, line_no, row):
        values, later = self.convert(entity, model, fields, name, line_no, row, None)
        if values is None:
            self.failed.setdefault(entity.label, set()).add(row.get(pk_name))
            return
        old_pk = row.get(pk_name)
        existing = self.find_existing(entity, model, fields, values)
        try:
            with transaction.atomic():
                if existing is not None:
                    obj = existing
                    if entity.select == REFERENCE:
                        for k, v in values.items():
                            setattr(obj, k, v)
                        obj.save_base(raw=True, force_update=True)
                    self.result.matched[entity.label] += 1
                else:
                    obj = model(**values)
                    if entity.label == "orgs.User":
                        obj.is_active = False
                        obj.set_unusable_password()
                    obj.save_base(raw=True, force_insert=True)
                    self.result.added[entity.label] += 1
        except (IntegrityError, DatabaseError, ValueError, TypeError) as exc:
            self.error(name, line_no, "", _("cannot be stored: %(error)s") % {"error": exc})
            self.failed.setdefault(entity.label, set()).add(row.get(pk_name))
            return
        ids[old_pk] = obj.pk
        for attname, target, value in later:
            self.deferred.append((model, obj.pk, attname, target, value, name, line_no))
        for ct_field, id_field in entity.generic:
            ct_label, target_id = row.get(ct_field), row.get(id_field)
            if ct_label and target_id not in (None, ""):
                target_model = self.content_type(ct_label).model_class() if self.content_type(ct_label) else None
                id_att = fields[id_field].attname
                self.generic.append((model, obj.pk, id_att, target_model._meta.label if target_model else "",
                                     target_id, name, line_no))
        for fname, f in m2m.items():
            if row.get(fname):
                self.m2m.append((model, f, obj.pk, f.related_model._meta.label, row[fname], name, line_no))

    def find_existing(self, entity, model, fields, values):
        if not entity.match:
            return None
        key = {}
        for fname in entity.match:
            f = fields[fname]
            key[f.attname] = values.get(f.attname)
        found = model._default_manager.filter(**key).exclude(pk__in=self.claimed_for(model)).order_by("pk").first()
        if found is not None:
            self.claimed.add((model._meta.label, found.pk))
        return found

    def claimed_for(self, model):
        return [pk for label, pk in self.claimed if label == model._meta.label]

    def fix_references(self):
        for model, pk, attname, target, value, name, line_no in self.deferred:
            new = self.ids.get(target, {}).get(value)
            if new is None:
                self.error(name, line_no, attname, _refers(target, value))
                continue
            model._default_manager.filter(pk=pk).update(**{attname: new})
        for model, pk, id_att, target, value, name, line_no in self.generic:
            key = _as_key(value)
            new = self.ids.get(target, {}).get(key)
            if new is None:
                self.error(name, line_no, id_att, _refers(target, value))
                continue
            model._default_manager.filter(pk=pk).update(**{id_att: str(new)})
        for model, f, pk, target, values, name, line_no in self.m2m:
            mapped = [self.ids.get(target, {}).get(v) for v in values]
            if None in mapped:
                self.error(name, line_no, f.name, _refers(target, values))
                continue
            getattr(model._default_manager.get(pk=pk), f.name).add(*mapped)
        for entity, name, rows in getattr(self, "trail_rows", []):
            self.append_trail(entity, name, rows)

    def append_trail(self, entity, name, rows):
        """The package's trail entries, appended to this installation's chain in their order."""
        from apps.core.audit import current_key_id, entry_digest
        from apps.core.models import AuditChainHead, AuditEntry

        label = entity.label
        self.result.counts.setdefault(label, len(rows))
        self.result.added[label] = 0
        key_id = current_key_id()
        head = AuditChainHead.objects.select_for_update().filter(pk=1).first() or AuditChainHead.objects.create(pk=1)
        fields = {f.name: f for f in AuditEntry._meta.concrete_fields}
        for line_no, row in sorted(rows, key=lambda r: (r[1].get("time") or "", r[1].get("id") or 0)):
            values, _later = self.convert(entity, AuditEntry, fields, name, line_no,
                                          {k: v for k, v in row.items() if k not in ("actor", "institution")}, None)
            if values is None:
                continue
            values["actor_id"] = self.ids.get("orgs.User", {}).get(row.get("actor"))
            values["institution_id"] = self.ids.get("ledger.Institution", {}).get(row.get("institution"))
            target_model = None
            if row.get("content_type"):
                ct = self.content_type(row["content_type"])
                target_model = ct.model_class() if ct else None
            if target_model is not None and row.get("object_id"):
                new = self.ids.get(target_model._meta.label, {}).get(_as_key(row["object_id"]))
                values["object_id"] = str(new) if new is not None else ""
            entry = AuditEntry(**values, request_id="", remote_addr="handover", prev_hash=head.last_hash,
                               key_id=key_id)
            entry.hash = entry_digest(entry)
            entry.save()
            head.last_hash, head.count = entry.hash, head.count + 1
            self.ids.setdefault(label, {})[row.get("id")] = entry.pk
            self.result.added[label] += 1
        head.save(update_fields=["last_hash", "count"])


def _refers(target, value):
    return _("refers to %(entity)s %(id)s, which is not in the package") % {"entity": target, "id": value}


def _as_key(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def open_package(source):
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise HandoverError(f"not a zip file: {exc}") from exc


def import_package(source, *, actor=None, dry_run=False) -> ImportResult:
    """Import the package at ``source`` (a path or a binary file). Raises :class:`ImportFailed`
    with the row-level errors, or :class:`HandoverError`; nothing is kept then."""
    zf = open_package(source)
    with zf:
        manifest = read_manifest(zf)
        errors = check_files(zf, manifest)
        if errors:
            raise ImportFailed(errors)
        importer = Importer(zf, manifest, actor)
        try:
            with transaction.atomic():
                importer.run()
                if importer.errors:
                    raise ImportFailed(importer.errors)
                from apps.core.audit import record

                record("handover.import", actor=actor, object_repr=f"{FORMAT} {manifest.get('created_at', '')}",
                       after={"created_at": manifest.get("created_at"), "created_by": manifest.get("created_by"),
                              "scope": manifest.get("scope"), "added": importer.result.added,
                              "matched": importer.result.matched, "files": importer.result.files})
                if dry_run:
                    raise _DryRun
        except _DryRun:
            importer.remove_files()
            return importer.result
        except BaseException:
            importer.remove_files()
            raise
    transaction.on_commit(_bump_caches)
    return importer.result


class _DryRun(Exception):
    pass


def _bump_caches():
    try:
        from .cache import bump_all_months

        bump_all_months()
    except Exception as exc:  # noqa: BLE001 - a cache that is down must not undo an import
        log.warning("handover import: cockpit caches not refreshed (they expire on their own): %s", exc)
