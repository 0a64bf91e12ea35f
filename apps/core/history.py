"""The trail in words a person reads: field labels, choice labels, names instead of ids, local times.

The trail stores raw values (``verified_by_id: 5``, ``state: awaiting_verification``, UTC ISO
times); this module turns entries into rows ``(label, before, after)`` for the history cards and
the audit search. Names behind ids are fetched once per related model for all entries shown
(a constant number of queries per page, whatever the number of entries).
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

EMPTY = "—"
# Keys of recorded acts (``record_action(..., **data)``) that are not model fields.
ACT_KEYS = {
    "text": lambda: _("Text"), "reason": lambda: _("Reason"), "note": lambda: _("Note"),
    "level": lambda: _("Level"), "fixed_on_spot": lambda: _("Fixed on the spot"),
    "file": lambda: _("File"), "path": lambda: _("Page"), "still_over": lambda: _("Last reading"),
    "threshold": lambda: _("Threshold"),
}
HIDDEN = {"id", "token_hash", "eval_state", "sort_name", "password", "hash", "prev_hash"}


@dataclass
class Row:
    label: str
    before: str
    after: str


def _field_map(model):
    """attname or name -> field, for the concrete fields of ``model``."""
    out = {}
    if model is None:
        return out
    for f in model._meta.concrete_fields:
        out[f.attname] = f
        out[f.name] = f
    return out


def _state_field(model):
    fields = _field_map(model)
    return fields.get("state")


def _local_time(value):
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value) if len(value) == 10 else None
            return formats.date_format(day, "Y-m-d") if day else value
        value = parsed
    if isinstance(value, datetime.datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
        return formats.date_format(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "Y-m-d")
    return str(value)


class Reader:
    """Turns many entries into rows, resolving every id to a name with one query per related model."""

    def __init__(self, entries):
        self.entries = list(entries)
        self.names = {}  # (model, pk as str) -> name
        wanted = defaultdict(set)
        for entry in self.entries:
            fields = _field_map(self._model(entry))
            for data in (entry.before, entry.after):
                if not isinstance(data, dict):
                    continue
                for key, value in data.items():
                    f = fields.get(key)
                    if f is not None and f.is_relation and f.related_model is not None and value not in (None, ""):
                        wanted[f.related_model].add(str(value))
        for model, ids in wanted.items():
            pk = model._meta.pk
            try:
                clean = [pk.to_python(i) for i in ids]
            except Exception:  # noqa: BLE001 - a malformed id in old data is shown as it is
                continue
            for obj in model._default_manager.filter(pk__in=clean):
                self.names[(model, str(obj.pk))] = _name_of(obj)

    @staticmethod
    def _model(entry):
        ct = entry.content_type if entry.content_type_id else None
        return ct.model_class() if ct is not None else None

    def value(self, field, value):
        if value is None or value == "" or value == []:
            return EMPTY
        if field is None:
            if isinstance(value, bool):
                return _("Yes") if value else _("No")
            if isinstance(value, str) and len(value) >= 19 and parse_datetime(value) is not None:
                return _local_time(value)
            return str(value)
        if field.is_relation and field.related_model is not None:
            return self.names.get((field.related_model, str(value)), f"#{value}")
        if field.choices:
            labels = {str(k): str(v) for k, v in field.flatchoices}
            if isinstance(value, list):
                return "、".join(labels.get(str(v), str(v)) for v in value) or EMPTY
            return labels.get(str(value), str(value))
        if isinstance(field, models.BooleanField):
            return _("Yes") if value else _("No")
        if isinstance(field, models.DateTimeField | models.DateField):
            return _local_time(value)
        if isinstance(value, list):
            return "、".join(str(v) for v in value) or EMPTY
        if isinstance(value, dict):
            return "；".join(f"{k}: {v}" for k, v in value.items()) or EMPTY
        return str(value)

    def label(self, field, key):
        if field is not None:
            return capfirst(str(field.verbose_name))
        if key in ACT_KEYS:
            return str(ACT_KEYS[key]())
        return key

    def rows(self, entry):
        model = self._model(entry)
        fields = _field_map(model)
        before = entry.before if isinstance(entry.before, dict) else {}
        after = entry.after if isinstance(entry.after, dict) else {}
        out = []
        if entry.action == "update":
            auto = {f.attname for f in (model._meta.concrete_fields if model else ())
                    if getattr(f, "auto_now", False)}
            for key in sorted(set(before) | set(after), key=lambda k: _order(model, k)):
                if key in HIDDEN or key in auto or before.get(key) == after.get(key):
                    continue
                f = fields.get(key)
                out.append(Row(self.label(f, key), self.value(f, before.get(key)), self.value(f, after.get(key))))
            return out
        if entry.action in ("create", "delete"):
            return out
        # A named act: its data, with from_state/to_state as one row of the state field.
        data = dict(after)
        if "from_state" in data or "to_state" in data:
            state = _state_field(model)
            out.append(Row(self.label(state, "state") if state else _("State"),
                           self.value(state, data.pop("from_state", None)),
                           self.value(state, data.pop("to_state", None))))
        for key, value in data.items():
            if key in HIDDEN:
                continue
            f = fields.get(key)
            out.append(Row(self.label(f, key), "", self.value(f, value)))
        return out


def _order(model, key):
    if model is None:
        return (1, key)
    names = [f.attname for f in model._meta.concrete_fields]
    return (0, names.index(key)) if key in names else (1, key)


def _name_of(obj):
    for attr in ("display_name", "name"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)
    return str(obj)


def readable(entries):
    """[(entry, [Row, ...]), ...] for ``entries`` (a page of the trail)."""
    reader = Reader(entries)
    return [(e, reader.rows(e)) for e in reader.entries]


def before_label():
    return pgettext("audit", "Before")


def after_label():
    return pgettext("audit", "After")
