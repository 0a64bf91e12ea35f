"""The handover package: everything a user may see, in a documented format another system can read.

One ``.zip`` (format ``firesafe-handover``, :data:`VERSION`), described in docs/handover.md:

- ``manifest.json``: format and version, when, by whom, the scope and period, per entity its
  files and row count, and the sha256 and size of every other file in the zip;
- ``schemas/<app>.<Model>.schema.json``: a JSON Schema (draft 2020-12) per entity, one property
  per field with its Chinese (``title``) and English (``description``) name;
- ``data/<app>.<Model>.jsonl``: the rows, one JSON object a line, keys = the schema's properties;
- ``csv/<app>.<Model>.csv``: the same rows for people (UTF-8 with BOM so Excel opens it, Chinese
  headers, choices and yes/no in words, local times);
- ``files/<storage name>``: the issued documents (.docx/.pdf), the document templates and the
  attached photos and evidence, byte for byte;
- ``settings.json``: the settings that give the records their meaning (site name, time zone).

The exporter is generic: it walks :data:`ENTITIES` and each model's ``_meta``, so a field added
to a model is in the next package without a change here. A model of the project apps that is in
neither :data:`ENTITIES` nor :data:`EXCLUDED` fails ``test_every_model_is_handed_over_or_excluded``.

The package holds only what its user may see (``Model.scope_q(user)``); rows an exported row
refers to (the township, the person who found a hazard, the rule set it was judged by) are
added when the user sees them or they are shared reference rows; otherwise the reference is
cut (set empty) and counted in the manifest.
"""
import csv
import datetime
import decimal
import hashlib
import io
import json
import os
import tempfile
import uuid
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.translation import gettext_lazy as _

FORMAT = "firesafe-handover"
VERSION = "2.0"  # major.minor: a reader of major 2 reads every 2.x; fields are only added within a major
SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
CHUNK = 1000


class HandoverError(Exception):
    """The package cannot be made, read or does not fit this installation."""


# --- what goes in -----------------------------------------------------------------------------

SCOPED = "scoped"  # the rows the user sees (Model.scope_q), within the period when one is given
CHILD = "child"  # the rows belonging to an exported row (through ``parent``)
REFERENCE = "reference"  # shared reference data: all rows (rule sets, number formats, thresholds …)
REFERENCED = "referenced"  # only the rows an exported row refers to (people)
ATTACHED = "attached"  # files attached to exported rows (through a content type and object id)
TRAIL = "trail"  # trail entries the user sees, in the period


@dataclass(frozen=True)
class Entity:
    label: str
    select: str
    period: str = ""  # a date/datetime field within the period, or a name from PERIOD_RULES
    parent: str = ""  # CHILD: the foreign key to the exported parent
    match: tuple = ()  # fields that identify an existing row on import (reuse it instead of adding)
    fields: tuple = ()  # only these fields (empty: every concrete field)
    generic: tuple = ()  # (content type field, object id field) pairs pointing at any exported row
    note: str = ""
    # Values the model derives instead of storing, kept in the package where they were once fields (a
    # major version only adds fields): (name, after this field, field type, queryset method that
    # provides them for a chunk of rows in its one query).
    derived: tuple = ()


def _derived_field(name, field):
    field.set_attributes_from_name(name)
    return field


USER_FIELDS = ("id", "username", "full_name", "first_name", "last_name", "role", "organization", "institution")

ENTITIES = [
    # organisations, people, the ledger
    Entity("orgs.Organization", SCOPED, match=("name",)),
    Entity("orgs.User", REFERENCED, match=("username",), fields=USER_FIELDS,
           note="names and roles of the people named in the records; no password, imported inactive"),
    Entity("ledger.Institution", SCOPED),
    Entity("ledger.Building", SCOPED),
    Entity("ledger.PersonChange", SCOPED),
    # the rules and settings that give the records their meaning
    Entity("hazards.RuleSet", SCOPED, match=("code",)),
    Entity("hazards.RuleElement", REFERENCE, match=("rule_set", "code")),
    Entity("hazards.LedgerRule", REFERENCE, match=("code",)),
    Entity("hazards.NumberFormat", SCOPED, match=("series", "administration")),
    Entity("hazards.NumberCounter", REFERENCE, match=("series", "year", "issuer")),
    Entity("hazards.DocumentTemplate", REFERENCE, match=("issuer", "kind")),
    Entity("inspections.ChecklistTemplate", REFERENCE, match=("code", "version")),
    Entity("inspections.ChecklistItem", REFERENCE, match=("template", "order")),
    Entity("inspections.FrequencyRule", SCOPED, match=("institution_kind", "administration", "version")),
    # Rules by level: the thresholds the user sees (the default, the levels above, their own and below).
    Entity("monitoring.ThresholdRule", SCOPED, match=("name", "device_kind", "channel", "administration", "version")),
    Entity("monitoring.PayloadProfile", REFERENCE, match=("code",)),
    Entity("training.ObligationRule", REFERENCE, match=("obligation", "institution_kind", "version")),
    Entity("training.DrillRule", REFERENCE, match=("institution_kind", "key_units", "version")),
    Entity("assessment.RiskModel", SCOPED, match=("version",)),
    Entity("assessment.RiskFactor", REFERENCE, match=("model", "key")),
    Entity("assessment.FacilityRequirement", REFERENCE, match=("facility", "source", "clause", "min_beds")),
    Entity("assessment.AssessmentQuestion", REFERENCE, match=("code",)),
    # hazards and their rectification
    Entity("hazards.Hazard", SCOPED, period="open", generic=(("source_type", "source_id"),)),
    Entity("hazards.HazardEvent", CHILD, parent="hazard"),
    Entity("hazards.Determination", CHILD, parent="hazard"),
    Entity("hazards.Supervision", CHILD, parent="hazard"),
    Entity("hazards.FollowUp", CHILD, parent="supervision"),
    Entity("hazards.DeadlineExtension", CHILD, parent="supervision"),
    Entity("hazards.OfficialDocument", SCOPED, period="issued_on"),
    Entity("hazards.HazardSuggestion", SCOPED, period="found_at"),
    # enforcement: inspections, patrols, campaigns, security periods
    Entity("inspections.Inspection", SCOPED, period="inspected_on"),
    Entity("inspections.InspectionItem", CHILD, parent="inspection"),
    Entity("inspections.Checkpoint", SCOPED),
    Entity("inspections.PatrolRound", SCOPED, period="started_at"),
    Entity("inspections.PatrolVisit", CHILD, parent="round"),
    Entity("inspections.Campaign", SCOPED, period="campaign"),
    Entity("inspections.CampaignStage", CHILD, parent="campaign"),
    Entity("inspections.CampaignResponsible", CHILD, parent="campaign"),
    Entity("inspections.CampaignTask", CHILD, parent="campaign"),
    Entity("inspections.SecurityPeriod", SCOPED, period="security"),
    Entity("inspections.InspectionSlot", CHILD, parent="period"),
    Entity("inspections.DutyShift", CHILD, parent="period"),
    # monitoring
    # The last values are read from the newest reading since migration monitoring 0016.
    Entity("monitoring.Device", SCOPED, derived=(
        ("last_values", "last_seen", _derived_field("last_values", models.JSONField(_("last values"), blank=True)),
         "with_last_values"),)),
    Entity("monitoring.DailyRollup", CHILD, parent="device", period="day"),
    Entity("monitoring.Alarm", SCOPED, period="alarm"),
    # training and drills
    Entity("training.StaffMember", SCOPED),
    Entity("training.TrainingBatch", SCOPED),
    Entity("training.TrainingSession", SCOPED, period="date"),
    Entity("training.Attendance", CHILD, parent="session"),
    Entity("training.Drill", SCOPED, period="date"),
    Entity("training.DrillProblem", CHILD, parent="drill"),
    Entity("training.PublicityActivity", SCOPED, period="date"),
    # risk, fires, self-assessments
    Entity("assessment.InstitutionRisk", SCOPED),
    Entity("assessment.RiskSnapshot", SCOPED, period="day"),
    Entity("assessment.FireIncident", SCOPED, period="occurred_at"),
    Entity("assessment.AccountabilityAction", CHILD, parent="incident"),
    Entity("assessment.Assessment", SCOPED, period="assessed_on"),
    Entity("assessment.AssessmentAnswer", CHILD, parent="assessment"),
    # files and the trail
    Entity("core.Attachment", ATTACHED, generic=(("content_type", "object_id"),)),
    Entity("core.AuditEntry", TRAIL, period="time", generic=(("content_type", "object_id"),),
           fields=("id", "time", "actor", "actor_name", "organization_name", "action", "content_type", "object_id",
                   "object_repr", "institution", "before", "after"),
           note="the trail of the period; imported as new entries of the receiving chain"),
]

# Models of the project apps deliberately left out, each with its reason (checked by a test).
EXCLUDED = {
    "core.AuditChainHead": _("state of this installation's trail chain; the import extends the receiving chain"),
    "core.Notification": _("personal inbox messages derived from the records, not records themselves"),
    "core.WebhookEndpoint": _("this installation's outbound endpoints and their secrets"),
    "core.Delivery": _("delivery log of notifications to this installation's endpoints"),
    "core.ExportJob": _("a user's pending or finished list export (a temporary file), not a record"),
    "orgs.TokenClient": _("API token names of this installation (credentials)"),
    "monitoring.Reading": _("raw sensor telemetry (millions of rows); the daily rollups carry the figures"),
    "monitoring.HourlyRollup": _("derived from readings; the daily rollups are in the package"),
    "monitoring.AreaHourlyRollup": _("derived per-township aggregate, rebuilt from the rollups"),
    "monitoring.DeadLetter": _("messages the transport rejected; not supervision records"),
    "monitoring.RollupMark": _("work queue of the hourly rollup job (hours still to roll up), not a record"),
}

# Referred-to rows of these entities go in even when the user's scope does not list them: the
# names of public authorities (the township, the operator unit) shown on every record's page.
SHARED = {"orgs.Organization"}

PROJECT_APPS = ("orgs", "ledger", "hazards", "inspections", "monitoring", "training", "assessment", "core")


def _period_q(entity, model, since, until):
    """The rows of ``entity`` in [since, until] (dates, both included); ``Q()`` when open-ended."""
    if not entity.period or (since is None and until is None):
        return Q()
    start = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min)) if since else None
    end = timezone.make_aware(datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time.min)) \
        if until else None

    def between(name):
        f = model._meta.get_field(name)
        q = Q()
        lo, hi = (since, until) if isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField) \
            else (start, end)
        if lo is not None:
            q &= Q(**{f"{name}__gte": lo})
        if hi is not None:
            q &= Q(**({f"{name}__lte": hi} if lo is since else {f"{name}__lt": hi}))
        return q

    def overlaps(first, last):  # something running at some time in the period
        q = Q()
        if end is not None:
            q &= Q(**{f"{first}__lt": end}) if _is_datetime(model, first) else Q(**{f"{first}__lte": until})
        if start is not None:
            q &= Q(**{f"{last}__isnull": True}) | (
                Q(**{f"{last}__gte": start}) if _is_datetime(model, last) else Q(**{f"{last}__gte": since}))
        return q

    rules = {
        "open": lambda: overlaps("found_at", "closed_at"),  # hazards open at some time in the period
        "campaign": lambda: overlaps("starts_on", "ends_on"),
        "security": lambda: overlaps("starts_at", "ends_at"),
        "alarm": lambda: overlaps("opened_at", "cleared_at"),
    }
    return rules[entity.period]() if entity.period in rules else between(entity.period)


def _is_datetime(model, name):
    return isinstance(model._meta.get_field(name), models.DateTimeField)


def entities():
    """The entities of this installation (an entity whose model is gone is skipped)."""
    out = []
    for e in ENTITIES:
        try:
            apps.get_model(e.label)
        except LookupError:
            continue
        out.append(e)
    return out


def entity_map():
    return {e.label: e for e in entities()}


def model_of(label):
    return apps.get_model(label)


# --- fields -----------------------------------------------------------------------------------

def export_fields(entity):
    """The model's fields in the package: concrete fields then many-to-many, in declaration order."""
    model = model_of(entity.label)
    out = [f for f in model._meta.concrete_fields if not entity.fields or f.name in entity.fields]
    for _name, after, derived, _method in entity.derived:
        at = next((i + 1 for i, f in enumerate(out) if f.name == after), len(out))
        out.insert(at, derived)
    if not entity.fields:
        out += [f for f in model._meta.many_to_many]
    return out


def is_content_type(f):
    return f.is_relation and f.related_model is ContentType


def is_file(f):
    return isinstance(f, models.FileField)


def _names(f):
    """(Chinese name, English name) of a field."""
    with translation.override("en"):
        en = force_str(f.verbose_name)
    with translation.override("zh-hans"):
        zh = force_str(f.verbose_name)
        if zh.isascii() and f.is_relation and f.related_model is not None:
            related = force_str(f.related_model._meta.verbose_name)
            if not related.isascii():
                zh = related if not is_content_type(f) else "对象类型"
    if zh.isascii():
        zh = PLAIN_NAMES.get(f.name, zh)
    return zh, en


# Chinese names of fields declared without a (translated) verbose name.
PLAIN_NAMES = {"id": "编号", "source_id": "来源对象编号", "object_id": "对象编号", "target_id": "对象编号",
               "content_type": "对象类型", "source_type": "来源对象类型", "request_id": "请求编号",
               "remote_addr": "来源地址", "count": "条数", "token": "令牌", "url": "链接", "ok": "成功",
               "detail": "详情", "time": "时间", "channel": "通道", "series": "系列", "year": "年份", "last": "当前号",
               "version": "版本", "code": "代码", "key": "键", "order": "顺序", "pdf": "PDF文件",
               "token_hash": "令牌哈希", "eval_state": "判定状态", "newest_reading": "最新读数时间",
               "min": "最小值", "max": "最大值", "sum": "合计", "day": "日期"}

# Chinese names of models declared without a translated verbose name.
PLAIN_TITLES = {"hazards.NumberCounter": "文号计数器"}


def csv_headers(fields):
    """Chinese column headers, unique within the file (a duplicate gets its field name added)."""
    names = [_names(f)[0] for f in fields]
    seen = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    return [n if seen[n] == 1 else f"{n}（{f.name}）" for n, f in zip(names, fields, strict=True)]


def _json_type(f):
    """(JSON Schema of one value, without null) for a field."""
    if f.many_to_many:
        return {"type": "array", "items": _json_type(f.related_model._meta.pk),
                "x-references": f.related_model._meta.label}
    if is_content_type(f):
        return {"type": "string", "pattern": r"^[a-z0-9_]+\.[a-z0-9_]+$", "x-references": "contenttypes.ContentType"}
    if f.is_relation:
        target = f.target_field
        return {**_json_type(target), "x-references": f.related_model._meta.label}
    if is_file(f):
        return {"type": "string", "maxLength": f.max_length, "x-file": True,
                "description": "storage name; the file is files/<name> in the package"}
    if isinstance(f, models.BooleanField):
        return {"type": "boolean"}
    if isinstance(f, models.AutoField | models.BigAutoField | models.IntegerField):
        t = {"type": "integer"}
        if isinstance(f, models.PositiveIntegerField | models.PositiveSmallIntegerField
                      | models.PositiveBigIntegerField):
            t["minimum"] = 0
        return t
    if isinstance(f, models.FloatField):
        return {"type": "number"}
    if isinstance(f, models.DecimalField):
        return {"type": "string", "pattern": r"^-?\d+(\.\d+)?$", "x-decimal": [f.max_digits, f.decimal_places]}
    if isinstance(f, models.DateTimeField):
        return {"type": "string", "format": "date-time"}
    if isinstance(f, models.DateField):
        return {"type": "string", "format": "date"}
    if isinstance(f, models.TimeField):
        return {"type": "string", "format": "time"}
    if isinstance(f, models.DurationField):
        return {"type": "number", "description": "seconds"}
    if isinstance(f, models.UUIDField):
        return {"type": "string", "format": "uuid"}
    if isinstance(f, models.JSONField):
        return {}
    if isinstance(f, models.CharField | models.TextField | models.GenericIPAddressField):
        t = {"type": "string"}
        if getattr(f, "max_length", None):
            t["maxLength"] = f.max_length
        return t
    return {"type": "string"}


def field_schema(f):
    t = _json_type(f)
    if f.choices and not f.is_relation:
        t["enum"] = [value for value, _label in f.flatchoices]
        if f.blank and isinstance(f, models.CharField | models.TextField) and "" not in t["enum"]:
            t["enum"].append("")  # a choice left empty
        with translation.override("zh-hans"):
            t["x-choices"] = {str(value): force_str(label) for value, label in f.flatchoices}
    if f.null and not f.many_to_many:
        if "type" in t:
            t["type"] = [t["type"], "null"]
        if "enum" in t:
            t["enum"] = t["enum"] + [None]
    zh, en = _names(f)
    return {"title": zh, "description": en if "description" not in t else f"{en} ({t.pop('description')})", **t}


def entity_names(entity):
    """(Chinese, English) name of an entity."""
    model = model_of(entity.label)
    with translation.override("zh-hans"):
        title = force_str(model._meta.verbose_name_plural)
    if title.isascii():
        title = PLAIN_TITLES.get(entity.label, title)
    with translation.override("en"):
        description = force_str(model._meta.verbose_name_plural)
    return title, description


def schema(entity):
    """The JSON Schema of one entity's rows."""
    model = model_of(entity.label)
    fields = export_fields(entity)
    props = OrderedDict((f.name, field_schema(f)) for f in fields)
    for ct_field, id_field in entity.generic:
        props[id_field]["x-object-type-field"] = ct_field  # the id of a row of the type named there
    required = [f.name for f in fields if not f.many_to_many]
    title, description = entity_names(entity)
    return {
        "$schema": SCHEMA_DRAFT,
        "$id": f"urn:firesafe:handover:{VERSION}:{entity.label}",
        "title": title,
        "description": description,
        "x-entity": entity.label,
        "x-format-version": VERSION,
        "x-selection": entity.select,
        "x-primary-key": model._meta.pk.name,
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": props,
    }


# --- values -----------------------------------------------------------------------------------

class _Encoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime):
            return _iso(o)
        if isinstance(o, datetime.date | datetime.time):
            return o.isoformat()
        if isinstance(o, decimal.Decimal | uuid.UUID):
            return str(o)
        if isinstance(o, datetime.timedelta):
            return o.total_seconds()
        return super().default(o)


def _iso(moment):
    if timezone.is_aware(moment):
        moment = moment.astimezone(datetime.UTC)
        return moment.replace(tzinfo=None).isoformat() + "Z"
    return moment.isoformat()


def json_value(f, value, ct_labels):
    """A field's stored value as the package writes it in JSON Lines."""
    if value is None:
        return None
    if is_content_type(f):
        return ct_labels.get(value)
    if is_file(f):
        return value.name or ""
    if isinstance(value, datetime.datetime):
        return _iso(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    return value


def csv_value(f, value, ct_labels):
    """The same value for people: choices and yes/no in words, local times, JSON as text."""
    if value is None:
        return ""
    if f.many_to_many:
        return ";".join(str(v) for v in value)
    if is_content_type(f):
        return ct_labels.get(value, "")
    if f.choices and not f.is_relation:
        return force_str(dict(f.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, cls=_Encoder)
    if is_file(f):
        return value.name or ""
    text = str(value)
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        text = ILLEGAL_CHARACTERS_RE.sub("", text)  # control characters a spreadsheet cannot show
        if text.startswith(("=", "+", "-", "@", "\t", "\r")):
            text = "'" + text  # a spreadsheet must not read it as a formula
    return text


# --- selection --------------------------------------------------------------------------------

@dataclass
class Selection:
    """label -> set of primary keys in the package, plus what had to be cut."""

    pks: dict = field(default_factory=OrderedDict)
    cut: dict = field(default_factory=dict)  # "label.field" -> references set empty (target not visible)

    def add(self, label, pks):
        before = len(self.pks.setdefault(label, set()))
        self.pks[label].update(pks)
        return len(self.pks[label]) != before


def _chunks(pks, size=CHUNK):
    pks = sorted(pks)
    for i in range(0, len(pks), size):
        yield pks[i:i + size]


def _visible_q(model, user):
    if user is None:
        return Q()  # the command line: the whole installation
    scope_q = getattr(model, "scope_q", None)
    return scope_q(user) if scope_q is not None else Q()


def _visible_pks(model, user, pks):
    out = set()
    for chunk in _chunks(pks):
        out.update(model._default_manager.filter(Q(pk__in=chunk) & _visible_q(model, user))
                   .values_list("pk", flat=True))
    return out


def select(user=None, since=None, until=None) -> Selection:
    """Which rows go into the package of ``user`` (None: everything) for the period."""
    ents = entities()
    sel = Selection()
    by_label = {e.label: e for e in ents}
    for e in ents:
        model = model_of(e.label)
        if e.select == SCOPED:
            q = _visible_q(model, user) & _period_q(e, model, since, until)
            sel.add(e.label, model._default_manager.filter(q).values_list("pk", flat=True))
        elif e.select == REFERENCE:
            sel.add(e.label, model._default_manager.values_list("pk", flat=True))
        elif e.select == TRAIL:
            qs = model._default_manager.all()
            if user is not None:
                qs = qs.visible_to(user)
            sel.add(e.label, qs.filter(_period_q(e, model, since, until)).values_list("pk", flat=True))
        else:
            sel.pks.setdefault(e.label, set())
    changed = True
    while changed:
        changed = False
        for e in ents:
            if e.select == CHILD:
                changed |= _add_children(sel, e, user, since, until)
        changed |= _close_references(sel, by_label, user)
    for e in ents:
        if e.select == ATTACHED:
            _add_attached(sel, e)
    while _close_references(sel, by_label, user):
        pass
    return sel


def _add_children(sel, e, user, since, until):
    model = model_of(e.label)
    parent = model._meta.get_field(e.parent)
    parents = sel.pks.get(parent.related_model._meta.label, set())
    found = set()
    for chunk in _chunks(parents):
        found.update(model._default_manager.filter(Q(**{f"{e.parent}__in": chunk})
                                                   & _period_q(e, model, since, until))
                     .values_list("pk", flat=True))
    return sel.add(e.label, found)


def _close_references(sel, by_label, user):
    """Add the rows exported rows refer to, when the user sees them (or they are shared rows)."""
    added = False
    for label in list(sel.pks):
        e = by_label[label]
        if e.select == TRAIL:
            continue  # the trail names rows, it does not need them
        model = model_of(label)
        for f in export_fields(e):
            if not f.is_relation or is_content_type(f):
                continue
            tlabel = f.related_model._meta.label
            target = by_label.get(tlabel)
            if target is None:
                continue
            ids = set()
            path = f.name if f.many_to_many else f.attname
            for chunk in _chunks(sel.pks[label]):
                ids.update(v for v in model._default_manager.filter(pk__in=chunk).values_list(path, flat=True)
                           if v is not None)
            missing = ids - sel.pks.get(tlabel, set())
            if not missing:
                continue
            if target.select in (REFERENCE, REFERENCED) or tlabel in SHARED:
                ok = missing
            else:
                ok = _visible_pks(f.related_model, user, missing)
            if ok:
                added |= sel.add(tlabel, ok)
    return added


def _add_attached(sel, e):
    model = model_of(e.label)
    ct_field, id_field = e.generic[0]
    found = set()
    for label, pks in sel.pks.items():
        if label == e.label or not pks:
            continue
        ct = ContentType.objects.get_for_model(model_of(label))
        for chunk in _chunks(pks):
            found.update(model._default_manager.filter(**{ct_field: ct, f"{id_field}__in": [str(p) for p in chunk]})
                         .values_list("pk", flat=True))
    sel.add(e.label, found)


# --- writing ----------------------------------------------------------------------------------

class _HashingWriter:
    """A write-only file object that counts and hashes what passes through it."""

    def __init__(self, fh):
        self.fh, self.sha, self.size = fh, hashlib.sha256(), 0

    def write(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sha.update(data)
        self.size += len(data)
        self.fh.write(data)
        return len(data)


def _content_type_labels():
    return {ct.pk: f"{ct.app_label}.{ct.model}" for ct in ContentType.objects.all()}


def _rows(entity, pks, fields):
    """(object, {field: raw value}) of the entity's rows, in primary-key order, chunk by chunk."""
    model = model_of(entity.label)
    concrete = [f for f in fields if not f.many_to_many]
    m2m = [f for f in fields if f.many_to_many]
    for chunk in _chunks(pks):
        qs = model._default_manager.filter(pk__in=chunk).order_by("pk")
        if entity.fields:
            qs = qs.only(*[f.name for f in concrete])
        for *_spec, method in entity.derived:
            qs = getattr(qs, method)()
        objs = list(qs)
        related = {}
        for f in m2m:
            through = f.remote_field.through
            src = f.m2m_field_name()
            dst = f.m2m_reverse_field_name()
            values = {}
            for a, b in through._default_manager.filter(**{f"{src}__in": chunk}).values_list(f"{src}_id", f"{dst}_id"):
                values.setdefault(a, []).append(b)
            related[f.name] = values
        for obj in objs:
            values = {}
            for f in concrete:
                values[f.name] = getattr(obj, f.name) if is_file(f) else getattr(obj, f.attname)
            for f in m2m:
                values[f.name] = sorted(related[f.name].get(obj.pk, []))
            yield obj, values


def _cut(sel, entity, fields, values):
    """Empty the references to rows not in the package (counted in the manifest)."""
    for f in fields:
        if not f.is_relation or is_content_type(f):
            continue
        tlabel = f.related_model._meta.label
        have = sel.pks.get(tlabel)
        if f.many_to_many:
            kept = [v for v in values[f.name] if have is not None and v in have]
            if len(kept) != len(values[f.name]):
                sel.cut[f"{entity.label}.{f.name}"] = sel.cut.get(f"{entity.label}.{f.name}", 0) + 1
            values[f.name] = kept
        elif values[f.name] is not None and (have is None or values[f.name] not in have):
            sel.cut[f"{entity.label}.{f.name}"] = sel.cut.get(f"{entity.label}.{f.name}", 0) + 1
            values[f.name] = None
    for ct_field, id_field in entity.generic:
        ct = values.get(ct_field)
        if ct is None:
            continue
        tlabel = _ct_model_label(ct)
        have = sel.pks.get(tlabel) if tlabel else None
        try:
            present = have is not None and int(values[id_field]) in have
        except (TypeError, ValueError):
            present = False
        if not present and entity.select != TRAIL:
            sel.cut[f"{entity.label}.{id_field}"] = sel.cut.get(f"{entity.label}.{id_field}", 0) + 1
            values[ct_field], values[id_field] = None, ""


_CT_MODELS = {}


def _ct_model_label(ct_id):
    if ct_id not in _CT_MODELS:
        ct = ContentType.objects.filter(pk=ct_id).first()
        model = ct.model_class() if ct else None
        _CT_MODELS[ct_id] = model._meta.label if model else None
    return _CT_MODELS[ct_id]


def export_package(out, user=None, since=None, until=None, *, created_by=""):
    """Write the package for ``user``'s scope (None: the whole installation) and the period to
    ``out`` (a path or a binary file object). Returns the manifest."""
    if since is not None and until is not None and since > until:
        raise HandoverError("since is after until")
    _CT_MODELS.clear()
    sel = select(user, since, until)
    ct_labels = _content_type_labels()
    files = {}  # storage name -> (entity label, field)
    manifest = OrderedDict(
        format=FORMAT, format_version=VERSION,
        created_at=_iso(timezone.now()), created_by=created_by or (user.get_username() if user else "manage.py"),
        scope=_scope(user, since, until), settings="settings.json", entities=[], files=[], cut_references={},
    )
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for e in entities():
            pks = sel.pks.get(e.label, set())
            fields = export_fields(e)
            names = {"schema": f"schemas/{e.label}.schema.json", "data": f"data/{e.label}.jsonl",
                     "csv": f"csv/{e.label}.csv"}
            entry = OrderedDict(name=e.label, title=schema(e)["title"], description=schema(e)["description"],
                                selection=e.select, count=0, **names)
            _write(zf, manifest, names["schema"],
                   json.dumps(schema(e), ensure_ascii=False, indent=1).encode())
            # JSON Lines straight into the zip; the CSV into a spooled file (memory up to 8 MB,
            # then disk) and copied after: a zip takes one open write handle at a time.
            with zf.open(names["data"], "w", force_zip64=True) as raw_data, \
                    tempfile.SpooledTemporaryFile(max_size=8 << 20, dir=_tmp_dir()) as spool:
                data_w = _HashingWriter(raw_data)
                text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
                writer = csv.writer(text)
                writer.writerow(csv_headers(fields))
                for _obj, values in _rows(e, pks, fields):
                    _cut(sel, e, fields, values)
                    for f in fields:
                        if is_file(f) and values[f.name]:
                            files.setdefault(values[f.name].name, e.label)
                    data_w.write(json.dumps({f.name: json_value(f, values[f.name], ct_labels) for f in fields},
                                            ensure_ascii=False, cls=_Encoder, separators=(",", ":")) + "\n")
                    writer.writerow([csv_value(f, values[f.name], ct_labels) for f in fields])
                    entry["count"] += 1
                text.flush()
                text.detach()
                raw_data.close()
                spool.seek(0)
                with zf.open(names["csv"], "w", force_zip64=True) as raw_csv:
                    csv_w = _HashingWriter(raw_csv)
                    for block in iter(lambda: spool.read(1 << 20), b""):  # noqa: B023
                        csv_w.write(block)
            manifest["files"].append({"path": names["data"], "sha256": data_w.sha.hexdigest(), "size": data_w.size})
            manifest["files"].append({"path": names["csv"], "sha256": csv_w.sha.hexdigest(), "size": csv_w.size})
            manifest["entities"].append(entry)
        missing = []
        for name in sorted(files):
            try:
                with default_storage.open(name, "rb") as src, zf.open(f"files/{name}", "w", force_zip64=True) as dst:
                    w = _HashingWriter(dst)
                    for block in iter(lambda: src.read(1 << 20), b""):  # noqa: B023
                        w.write(block)
            except FileNotFoundError:
                missing.append(name)
                continue
            manifest["files"].append({"path": f"files/{name}", "sha256": w.sha.hexdigest(), "size": w.size,
                                      "entity": files[name]})
        manifest["missing_files"] = missing
        manifest["cut_references"] = dict(sorted(sel.cut.items()))
        _write(zf, manifest, "settings.json", json.dumps(_settings(), ensure_ascii=False, indent=1).encode())
        with translation.override("en"):
            manifest["excluded"] = {label: force_str(reason) for label, reason in EXCLUDED.items()}
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    return manifest


def _write(zf, manifest, name, data):
    zf.writestr(name, data)
    manifest["files"].append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})


def _scope(user, since, until):
    return {"user": user.get_username() if user else None,
            "role": user.role if user else None,
            "organization": force_str(getattr(user, "org_label", "")) if user else "",
            "everything": user is None or bool(user.sees_everything),
            "since": since.isoformat() if since else None, "until": until.isoformat() if until else None}


def _settings():
    return {"site_name": settings.SITE_NAME, "time_zone": settings.TIME_ZONE, "language": settings.LANGUAGE_CODE,
            "times": "UTC, ISO 8601 with Z in data/*.jsonl; local time of time_zone in csv/*.csv",
            "format": FORMAT, "format_version": VERSION}


def export_to_tempfile(user=None, since=None, until=None, *, created_by=""):
    """Write the package into a temporary file (deleted on close) and return (file, manifest)."""
    tmp = tempfile.TemporaryFile(prefix="firesafe-handover-", dir=_tmp_dir())
    try:
        manifest = export_package(tmp, user, since, until, created_by=created_by)
    except BaseException:
        tmp.close()
        raise
    tmp.seek(0)
    return tmp, manifest


def _tmp_dir():
    path = os.path.join(settings.VAR_DIR, "tmp")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    return path


def package_filename(user, since, until):
    """移交数据包-<scope>-<since>至<until>.zip"""
    scope = force_str(getattr(user, "org_label", "")) if user is not None else ""
    if since and until:
        period = f"{since:%Y%m%d}至{until:%Y%m%d}"
    elif since or until:
        period = f"{since:%Y%m%d}起" if since else f"至{until:%Y%m%d}"
    else:
        period = f"全部-{timezone.localdate():%Y%m%d}"
    parts = ["移交数据包"] + ([scope] if scope else []) + [period]
    return "-".join(p.replace("/", "_") for p in parts) + ".zip"


# --- the field mapping in docs/handover.md ----------------------------------------------------

DOC_START = "<!-- handover-mapping:start (generated by `manage.py handover_doc`; do not edit) -->"
DOC_END = "<!-- handover-mapping:end -->"

SELECTION_TEXT = {
    SCOPED: "the rows the exporting user sees (within the period where a period applies)",
    CHILD: "the rows of exported parent rows",
    REFERENCE: "all rows (shared reference data); matched on import by the key fields",
    REFERENCED: "only the rows exported rows refer to",
    ATTACHED: "the files attached to exported rows",
    TRAIL: "the trail entries the user sees, in the period",
}


def _type_text(prop):
    t = prop.get("type", "any")
    t = "/".join(t) if isinstance(t, list) else t
    if prop.get("format"):
        t += f" ({prop['format']})"
    if prop.get("x-references"):
        t = f"→ `{prop['x-references']}`"
    if prop.get("x-object-type-field"):
        t += f" (id of the row named by `{prop['x-object-type-field']}`)"
    if prop.get("x-file"):
        t = "file → `files/<name>`"
    return t


def mapping_markdown():
    """Every entity and field of the package: file, Chinese and English names, type, values."""
    lines = []
    for e in entities():
        sch = schema(e)
        headers = csv_headers(export_fields(e))
        lines += [f"### `{e.label}` {sch['title']} ({sch['description']})", "",
                  f"`data/{e.label}.jsonl`, `csv/{e.label}.csv`, `schemas/{e.label}.schema.json`. "
                  f"Rows: {SELECTION_TEXT[e.select]}"
                  + (f" — period: `{e.period}`" if e.period else "")
                  + (f"; match key: {', '.join(f'`{m}`' for m in e.match)}" if e.match else "")
                  + (f"; {e.note}" if e.note else "") + ".", "",
                  "| field (JSON) | CSV header (中文) | English | type | values |", "| --- | --- | --- | --- | --- |"]
        for (name, prop), header in zip(sch["properties"].items(), headers, strict=True):
            values = "; ".join(f"`{k}` {v}" for k, v in prop.get("x-choices", {}).items())
            english = prop["description"].replace("|", "/")
            lines.append(f"| `{name}` | {header} | {english} | {_type_text(prop)} | {values} |")
        lines.append("")
    with translation.override("en"):
        lines += ["### Not in the package", "", "| model | reason |", "| --- | --- |"]
        lines += [f"| `{label}` | {force_str(reason)} |" for label, reason in EXCLUDED.items()]
    return "\n".join(lines)


def write_doc(text: str) -> str:
    block = f"{DOC_START}\n{mapping_markdown()}\n{DOC_END}"
    if DOC_START in text and DOC_END in text:
        before, rest = text.split(DOC_START, 1)
        return before + block + rest.split(DOC_END, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"
