"""Rule sets as data: the documented file format, its validation, and loading it (versioned, in the trail).

A rule set file is JSON (format 1, see docs/hazards.md and the shipped files in ``rulesets/``) or an
Excel workbook with a sheet ``rule_set`` (field / value rows) and a sheet ``elements`` (one row per
element). ``read`` turns either into the same dict, ``validate`` checks it, ``load`` writes it: the
set is created or updated by its code, its elements by their codes, ``revision`` goes up when
anything changed, and an element that a recorded determination ticked is never deleted.
"""
import datetime
import hashlib
import json
from pathlib import Path

import jsonschema
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.core.audit import acting_as, record_action
from apps.ledger.choices import InstitutionKind

from .choices import ElementGroup, ElementKind, HazardTerm, PlaceType

SHIPPED = Path(__file__).resolve().parent / "rulesets"
COUNTING_PARAMS = ("crowded_evacuation_min", "crowded_comprehensive_min", "comprehensive_min")
SET_FIELDS = ("name", "version", "issuer", "number", "effective_from", "effective_until", "institution_kinds",
              "hazard_term", "situations_total", "source", "params", "notes")
ELEMENT_FIELDS = ("clause", "kind", "group", "text", "verified", "place_types")

_text = {"type": "string"}
_date = {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"}
SCHEMA = {
    "type": "object",
    "required": ["format", "code", "name", "effective_from", "hazard_term", "elements"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": 1},
        "code": {"type": "string", "minLength": 1, "maxLength": 40},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "version": {"type": "string", "maxLength": 20},
        "issuer": {"type": "string", "maxLength": 200},
        "number": {"type": "string", "maxLength": 60},
        "effective_from": {**_date, "type": "string"},
        "effective_until": _date,
        "institution_kinds": {"type": "array", "uniqueItems": True,
                              "items": {"enum": [k for k in InstitutionKind.values]}},
        "hazard_term": {"enum": list(HazardTerm.values)},
        "situations_total": {"type": ["integer", "null"], "minimum": 0},
        "source": {"type": "string", "maxLength": 300},
        "notes": _text,
        "params": {
            "type": "object", "additionalProperties": False,
            "properties": {
                **{k: {"type": "integer", "minimum": 1} for k in COUNTING_PARAMS},
                "crowded_evacuation_codes": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "verified": {"type": "boolean"},
            },
        },
        "renames": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 20}},
        "elements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["code", "kind", "text"],
                "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "minLength": 1, "maxLength": 20},
                    "clause": {"type": "string", "maxLength": 40},
                    "kind": {"enum": list(ElementKind.values)},
                    "group": {"enum": list(ElementGroup.values)},
                    "text": {"type": "string", "minLength": 1},
                    "verified": {"type": "boolean"},
                    "place_types": {"type": "array", "uniqueItems": True, "items": {"enum": list(PlaceType.values)}},
                },
            },
        },
    },
}


def _date_of(value):
    return datetime.date.fromisoformat(value) if value else None


def validate(data):
    """Check a rule set dict against the format; raise ``ValidationError`` with every problem in Chinese."""
    problems = []
    for error in sorted(jsonschema.Draft202012Validator(SCHEMA).iter_errors(data), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or _("(the file)")
        problems.append(_("%(where)s: %(message)s") % {"where": where, "message": error.message})
    if problems:
        raise ValidationError(problems)
    try:
        start, end = _date_of(data["effective_from"]), _date_of(data.get("effective_until"))
    except ValueError as exc:
        raise ValidationError(_("Invalid date: %(e)s") % {"e": exc}) from exc
    if end is not None and end < start:
        problems.append(_("The last day in force is before the first."))
    codes = [e["code"] for e in data["elements"]]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        problems.append(_("Element codes repeated: %(codes)s") % {"codes": "、".join(duplicates)})
    unknown = sorted(set((data.get("params") or {}).get("crowded_evacuation_codes", [])) - set(codes))
    if unknown:
        problems.append(_("Counting rule names elements that are not in the file: %(codes)s")
                        % {"codes": "、".join(unknown)})
    if problems:
        raise ValidationError(problems)
    return data


def read(uploaded, name=""):
    """Parse an uploaded/opened file (``.json`` or ``.xlsx``) into a rule set dict (not yet validated)."""
    name = (name or getattr(uploaded, "name", "") or "").lower()
    raw = uploaded.read() if hasattr(uploaded, "read") else uploaded
    if name.endswith(".xlsx"):
        return _read_workbook(raw)
    try:
        return json.loads(raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(_("The file is not valid JSON: %(e)s") % {"e": exc}) from exc


def _read_workbook(raw):
    import io

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for a file that is not a workbook
        raise ValidationError(_("The file is not an Excel workbook (.xlsx).")) from exc
    if "rule_set" not in book.sheetnames or "elements" not in book.sheetnames:
        raise ValidationError(_("The workbook needs the sheets “rule_set” and “elements”."))
    data = {"format": 1}
    for row in book["rule_set"].iter_rows(min_row=2, values_only=True):
        if not row or row[0] in (None, ""):
            continue
        key, value = str(row[0]).strip(), row[1] if len(row) > 1 else None
        if isinstance(value, datetime.datetime):
            value = value.date().isoformat()
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        if key in ("institution_kinds",):
            value = [v.strip() for v in str(value or "").split(",") if v.strip()]
        elif key in ("params", "renames"):
            try:
                value = json.loads(value) if value else {}
            except json.JSONDecodeError as exc:
                raise ValidationError(_("%(key)s is not valid JSON: %(e)s") % {"key": key, "e": exc}) from exc
        elif value is None:
            value = None if key in ("effective_until", "situations_total") else ""
        data[key] = value
    rows = book["elements"].iter_rows(values_only=True)
    header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
    elements = []
    for row in rows:
        if not any(v not in (None, "") for v in row):
            continue
        item = {k: v for k, v in zip(header, row, strict=False) if k and v is not None}
        item["code"] = str(item.get("code", ""))
        item["clause"] = str(item.get("clause", ""))
        if "verified" in item:
            item["verified"] = str(item["verified"]).strip().lower() in ("1", "true", "yes", "是", "已核实")
        if "place_types" in item:
            item["place_types"] = [v.strip() for v in str(item["place_types"]).split(",") if v.strip()]
        elements.append(item)
    data["elements"] = elements
    return data


def apply(data, RuleSet, RuleElement, Determination):
    """Write a validated dict with the given model classes (real or historical); returns (rule_set, changes).

    Usable from data migrations: no trail, no checks beyond keeping elements that decisions used.
    """
    values = {f: data.get(f) for f in SET_FIELDS if f in data}
    values["effective_from"] = _date_of(values.get("effective_from"))
    values["effective_until"] = _date_of(values.get("effective_until"))
    values.setdefault("params", {})
    values.setdefault("institution_kinds", [])
    rule_set = RuleSet.objects.filter(code=data["code"]).first()
    created = rule_set is None
    changes = []
    if created:
        rule_set = RuleSet.objects.create(code=data["code"], revision=1, is_active=True, **values)
        changes.append(f"+{data['code']}")
    else:
        for field, value in values.items():
            if getattr(rule_set, field) != value:
                setattr(rule_set, field, value)
                changes.append(field)
    used = set(Determination.elements.through.objects.filter(ruleelement__rule_set=rule_set)
               .values_list("ruleelement_id", flat=True)) if rule_set.pk else set()
    for old, new in (data.get("renames") or {}).items():
        element = RuleElement.objects.filter(rule_set=rule_set, code=old).first()
        if element is not None and not RuleElement.objects.filter(rule_set=rule_set, code=new).exists():
            element.code = new
            element.save()
            changes.append(f"{old}→{new}")
    existing = {e.code: e for e in RuleElement.objects.filter(rule_set=rule_set)}
    for order, item in enumerate(data["elements"]):
        fields = {"clause": item.get("clause", ""), "kind": item["kind"], "group": item.get("group", "other"),
                  "text": item["text"], "verified": bool(item.get("verified", False)),
                  "place_types": item.get("place_types", []), "order": order}
        element = existing.pop(item["code"], None)
        if element is None:
            RuleElement.objects.create(rule_set=rule_set, code=item["code"], **fields)
            changes.append(f"+{item['code']}")
        elif any(getattr(element, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(element, k, v)
            element.save()
            changes.append(item["code"])
    kept = sorted(code for code, e in existing.items() if e.pk in used)
    if kept:
        raise ValidationError(_("Elements used by recorded determinations cannot be removed: %(codes)s")
                              % {"codes": "、".join(kept)})
    for code, element in existing.items():
        element.delete()
        changes.append(f"-{code}")
    if changes and not created:
        rule_set.revision += 1
    rule_set.save()
    return rule_set, changes


def load(user, data, *, filename=""):
    """Validate and load a rule set dict as ``user`` (None for the command line): one transaction, one trail entry."""
    from .models import Determination, RuleElement, RuleSet

    validate(data)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    with transaction.atomic(), acting_as(user):
        rule_set, changes = apply(data, RuleSet, RuleElement, Determination)
        record_action(rule_set, "hazards.rule_set_load", actor=user, file=filename, sha256=digest,
                      revision=rule_set.revision, changes=changes)
    return rule_set, changes


def shipped(code_or_file):
    """The dict of a rule set file shipped with the platform (``rulesets/<name>.json``)."""
    return json.loads((SHIPPED / code_or_file).read_text(encoding="utf-8"))
