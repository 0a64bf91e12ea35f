"""The data handover package for the local emergency-management platform (W3.4).

A .zip with ``manifest.json``, one JSON file per model under ``data/`` (Django's JSON
serialisation with natural keys for users and content types), the attached files under
``files/``, and ``handover.xlsx`` (one readable sheet per model). See docs/handover.md.

What goes in for a period [since, until]: the whole ledger (organisations, institutions,
buildings, responsible-person changes); every hazard open at some time in the period with its
rectification, events, determinations, supervisions, follow-ups, extensions and documents;
the enforcement records (inspections) dated in the period with their items; fire incidents
with their accountability; the files attached to all of these; and every row they refer to
(rule sets, campaigns, checklists …) so the package loads into an empty database. People are
handed over as names and roles only: no password, inactive accounts.
"""
import datetime
import hashlib
import io
import json
import zipfile
from collections import OrderedDict

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

FORMAT = "firesafe-handover"
VERSION = 1
USER = "orgs.User"
USER_FIELDS = ["username", "full_name", "first_name", "last_name", "role", "organization", "institution"]


class HandoverError(Exception):
    """The package cannot be read or does not fit the database."""


def _aware(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _sections(since, until):
    """(model label, rows) chosen directly; referenced rows are added by the closure."""
    start, end = _aware(since), _aware(until + datetime.timedelta(days=1))
    yield "orgs.Organization", Q()
    yield "ledger.Institution", Q()
    yield "ledger.Building", Q()
    yield "ledger.PersonChange", Q()
    # Hazards open at some time in the period (found before its end, not closed before its start).
    yield "hazards.Hazard", Q(found_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=start))
    yield "inspections.Inspection", Q(inspected_on__gte=since, inspected_on__lte=until)
    # Patrols stationed by an office at key places are enforcement acts too.
    yield "inspections.PatrolRound", Q(office__isnull=False, started_at__gte=start, started_at__lt=end)
    yield "assessment.FireIncident", Q(occurred_at__gte=start, occurred_at__lt=end)


# Rows that belong to an exported row (selected by their foreign key to it).
CHILDREN = ["hazards.HazardEvent", "hazards.Determination", "hazards.Supervision", "hazards.FollowUp",
            "hazards.DeadlineExtension", "hazards.OfficialDocument", "inspections.InspectionItem",
            "inspections.PatrolVisit",
            "assessment.AccountabilityAction"]


def _model(label):
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _fk_fields(model):
    return [f for f in model._meta.concrete_fields if f.is_relation and (f.many_to_one or f.one_to_one)]


def collect(since, until):
    """label -> set of pks: the chosen rows plus everything they refer to."""
    chosen = OrderedDict()
    for label, q in _sections(since, until):
        model = _model(label)
        if model is not None:
            chosen[label] = set(model._default_manager.filter(q).values_list("pk", flat=True))
    changed = True
    while changed:
        changed = False
        for label in CHILDREN:
            model = _model(label)
            if model is None:
                continue
            q = Q(pk__in=[])
            for f in _fk_fields(model):
                target = f.related_model._meta.label
                if target in chosen and target not in ("orgs.Organization", USER) and label != target:
                    q |= Q(**{f"{f.name}__in": chosen[target]})
            pks = set(model._default_manager.filter(q).values_list("pk", flat=True))
            if not pks <= chosen.get(label, set()):
                chosen.setdefault(label, set()).update(pks)
                changed = True
        changed |= _close_references(chosen)
    _add_attachments(chosen)
    while _close_references(chosen):
        pass
    return chosen


def _close_references(chosen):
    """Add every row an exported row points to (foreign keys and many-to-many). True if any added."""
    added = False
    for label in list(chosen):
        model = _model(label)
        rows = model._default_manager.filter(pk__in=chosen[label])
        fields = [f for f in model._meta.concrete_fields if f.is_relation] + list(model._meta.many_to_many)
        for f in fields:
            target = f.related_model
            if target is ContentType:
                continue
            tlabel = target._meta.label
            if label == USER:
                continue
            path = f.name if f.many_to_many else f.attname
            ids = {v for v in rows.values_list(path, flat=True) if v is not None}
            missing = ids - chosen.get(tlabel, set())
            if missing:
                chosen.setdefault(tlabel, set()).update(missing)
                added = True
    return added


def _add_attachments(chosen):
    Attachment = _model("core.Attachment")
    q = Q(pk__in=[])
    for label, pks in chosen.items():
        if label in (USER, "orgs.Organization") or not pks:
            continue
        ct = ContentType.objects.get_for_model(_model(label))
        q |= Q(content_type=ct, object_id__in=[str(pk) for pk in pks])
    chosen.setdefault("core.Attachment", set()).update(Attachment.objects.filter(q).values_list("pk", flat=True))


class _ExactEncoder(DjangoJSONEncoder):
    """Django's encoder cuts datetimes and times to milliseconds, so a value with
    microseconds would not survive the round trip (and one with 0.000x s would even be
    written differently the second time). Keep them whole."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            r = o.isoformat()
            return r[:-6] + "Z" if r.endswith("+00:00") else r
        if isinstance(o, datetime.time):
            return o.isoformat()
        return super().default(o)


def _serialize(label, pks):
    model = _model(label)
    qs = model._default_manager.filter(pk__in=pks).order_by("pk")
    fields = USER_FIELDS if label == USER else None
    return serializers.serialize("json", qs, fields=fields, use_natural_foreign_keys=True, indent=1,
                                 cls=_ExactEncoder)


# Chinese headers for fields declared without a verbose name (every header of handover.xlsx is Chinese).
PLAIN_HEADERS = {"id": "编号", "source_id": "来源编号", "object_id": "对象编号", "target_id": "对象编号",
                 "request_id": "请求编号", "remote_addr": "来源地址", "prev_hash": "前一哈希", "hash": "哈希",
                 "last_hash": "最新哈希", "count": "条数", "token": "令牌", "url": "链接", "dedup_key": "去重键",
                 "ok": "成功", "detail": "详情", "time": "时间", "channel": "渠道", "series": "系列", "year": "年份", "last": "当前号"}


def _header(field):
    """The field's Chinese name: its verbose name, else (a relation) the related model's, else the table above."""
    text = str(field.verbose_name)
    if not text.isascii():
        return text
    if field.is_relation and field.related_model is not None:
        related = str(field.related_model._meta.verbose_name)
        if field.name.endswith("_type"):
            return related if not related.isascii() else "对象类型"
        if not related.isascii():
            return related
    return PLAIN_HEADERS.get(field.name, text)


def _sheet_rows(label, pks):
    model = _model(label)
    fields = [f for f in model._meta.concrete_fields if not (label == USER and f.name not in USER_FIELDS + ["id"])]
    related = [f.name for f in fields if f.is_relation and f.related_model is not ContentType]
    qs = model._default_manager.filter(pk__in=pks).select_related(*related).order_by("pk")
    head = [_header(f) for f in fields]
    rows = []
    for obj in qs.iterator(chunk_size=2000):
        row = []
        for f in fields:
            if f.is_relation:
                value = getattr(obj, f.name, None)
                row.append("" if value is None else str(value))
            elif f.choices:
                row.append(str(getattr(obj, f"get_{f.name}_display")()))
            else:
                value = getattr(obj, f.attname)
                if isinstance(value, datetime.datetime):
                    value = timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
                elif isinstance(value, (dict, list)):
                    value = json.dumps(value, ensure_ascii=False)
                elif hasattr(value, "name") and not isinstance(value, str):  # files
                    value = value.name
                row.append(value)
        rows.append(row)
    return head, rows


def _order(labels):
    """Parents first (for readers; the import defers constraints and does not need it)."""
    rank = {USER: 1, "orgs.Organization": 0, "ledger.Institution": 2}
    return sorted(labels, key=lambda label: (rank.get(label, 3), label))


def export_package(since, until, *, generated_by="") -> bytes:
    """The package for [since, until] as zip bytes. Data files are byte-identical for the same data."""
    if since > until:
        raise HandoverError("since is after until")
    chosen = collect(since, until)
    labels = _order([label for label, pks in chosen.items() if pks or label != "core.Attachment"])
    buf = io.BytesIO()
    manifest = {"format": FORMAT, "version": VERSION, "period": {"since": since.isoformat(), "until": until.isoformat()},
                "generated_at": timezone.now().isoformat(), "generated_by": generated_by, "sections": [], "files": []}
    from openpyxl import Workbook

    from apps.core.excel import sheet_title, write_row

    wb = Workbook()
    wb.remove(wb.active)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for label in labels:
            data = _serialize(label, chosen[label]).encode()
            name = f"data/{label}.json"
            zf.writestr(name, data)
            model = _model(label)
            manifest["sections"].append({"model": label, "name": str(model._meta.verbose_name_plural),
                                         "count": len(chosen[label]), "file": name,
                                         "sha256": hashlib.sha256(data).hexdigest()})
            head, rows = _sheet_rows(label, chosen[label])
            ws = wb.create_sheet(sheet_title(f"{len(wb.sheetnames) + 1:02d} {model._meta.verbose_name_plural}"))
            write_row(ws, head)
            for row in rows:
                write_row(ws, row)
        Attachment = _model("core.Attachment")
        for att in Attachment.objects.filter(pk__in=chosen.get("core.Attachment", ())).order_by("pk"):
            try:
                with default_storage.open(att.file.name, "rb") as fh:
                    content = fh.read()
            except FileNotFoundError:
                continue
            zf.writestr(f"files/{att.file.name}", content)
            manifest["files"].append({"name": att.file.name, "sha256": hashlib.sha256(content).hexdigest()})
        xbuf = io.BytesIO()
        wb.save(xbuf)
        zf.writestr("handover.xlsx", xbuf.getvalue())
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return buf.getvalue()


def read_manifest(zf):
    try:
        manifest = json.loads(zf.read("manifest.json"))
    except (KeyError, ValueError) as exc:
        raise HandoverError(f"manifest.json missing or unreadable: {exc}") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise HandoverError("not a FireSafe handover package of a known version")
    return manifest


@transaction.atomic
def import_package(data: bytes):
    """Load a package into this database (meant for an empty one). All or nothing.

    Users are created (inactive, no password) when their username is unknown. A row whose
    primary key already exists is refused: the package does not overwrite.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise HandoverError("not a zip file") from exc
    manifest = read_manifest(zf)
    counts = {}
    for section in manifest["sections"]:
        raw = zf.read(section["file"])
        if hashlib.sha256(raw).hexdigest() != section["sha256"]:
            raise HandoverError(f"{section['file']} does not match its checksum")
    User = _model(USER)
    users = next((s for s in manifest["sections"] if s["model"] == USER), None)
    if users:
        for row in json.loads(zf.read(users["file"])):
            fields = row["fields"]
            if User.objects.filter(username=fields["username"]).exists():
                continue
            user = User(pk=row["pk"], username=fields["username"], full_name=fields.get("full_name", ""),
                        first_name=fields.get("first_name", ""), last_name=fields.get("last_name", ""),
                        role=fields.get("role", ""), organization_id=fields.get("organization"),
                        institution_id=fields.get("institution"), is_active=False)
            user.set_unusable_password()
            user.save_base(raw=True)
        counts[USER] = users["count"]
    for section in manifest["sections"]:
        label = section["model"]
        if label == USER:
            continue
        model = _model(label)
        if model is None:
            raise HandoverError(f"this platform has no {label}")
        objects = list(serializers.deserialize("json", zf.read(section["file"]), ignorenonexistent=False))
        clash = model._default_manager.filter(pk__in=[o.object.pk for o in objects]).exists()
        if clash:
            raise HandoverError(f"{label} rows already exist here; import into an empty database")
        for obj in objects:
            obj.save()
        counts[label] = len(objects)
    for entry in manifest["files"]:
        content = zf.read(f"files/{entry['name']}")
        if not default_storage.exists(entry["name"]):
            default_storage.save(entry["name"], ContentFile(content))
    _reset_sequences([s["model"] for s in manifest["sections"]])
    return counts


def _reset_sequences(labels):
    from django.core.management.color import no_style
    from django.db import connection

    model_list = [m for m in (_model(label) for label in labels) if m is not None]
    statements = connection.ops.sequence_reset_sql(no_style(), model_list)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

