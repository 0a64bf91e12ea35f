"""The lean read path of the list API: rows from ``.values()``, one fast encoder, no model objects.

A list endpoint keeps its serializer for the schema, for writes and for the detail route; its
``GET`` list answers from the columns the serializer names, fetched with ``QuerySet.values()``
and encoded with msgspec. The JSON is the serializer's, field by field (tests compare both).

How the columns are found: every serializer field whose source is a model column (or a column
across a foreign key, ``institution.name``) becomes a ``values()`` path; a field with another
source (a property, a method, ``get_absolute_url``) must be given in the view's ``lean_fields``
as a :class:`Computed` (paths it needs and a function of the row) or a :class:`UrlTemplate`. A
serializer the columns cannot describe (nested lists, many-to-many) is refused when the view
class is first used, so nothing falls back silently.

Counts (``apps.core.pagination.LeanPaginator``): exact while cheap; above
``API_EXACT_COUNT_LIMIT`` rows the planner's estimate, and the page says ``count_exact: false``.
"""
from dataclasses import dataclass, field

import msgspec
from django.db import models
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import empty

_encoder = msgspec.json.Encoder(decimal_format="string")


def encode(data) -> bytes:
    return _encoder.encode(data)


@dataclass(frozen=True)
class Computed:
    """A field computed from the row: ``fn(row)`` with ``row`` holding ``paths`` (``values()`` names)."""

    paths: tuple
    fn: object

    def __call__(self, row):
        return self.fn(row)


class UrlTemplate:
    """The URL of ``viewname`` for the row's ``id`` (``reverse`` once, then ``str.format`` per row)."""

    _MARK = 987654321987

    def __init__(self, viewname, path="id", suffix=""):
        self.viewname, self.path, self.suffix = viewname, path, suffix
        self.paths = (path,)
        self._template = None

    def __call__(self, row):
        if self._template is None:
            from django.urls import reverse

            url = reverse(self.viewname, args=[self._MARK]).replace("{", "{{").replace("}", "}}")
            self._template = url.replace(str(self._MARK), "{0}") + self.suffix.replace("{id}", "{0}")
        return self._template.format(row[self.path])


# Serializer fields whose representation of a database value is the value itself.
_PASS = (serializers.CharField, serializers.IntegerField, serializers.BooleanField, serializers.ChoiceField,
         serializers.PrimaryKeyRelatedField, serializers.DateField, serializers.JSONField, serializers.FloatField,
         serializers.UUIDField)


def _datetime(value, tz):
    text = value.astimezone(tz).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


@dataclass
class LeanSpec:
    """The columns of one serializer: ``values()`` paths and how each output field is made."""

    paths: list = field(default_factory=list)
    columns: list = field(default_factory=list)  # (name, kind, arg, default)

    def rows(self, values_rows):
        tz = timezone.get_current_timezone()
        out = []
        for row in values_rows:
            item = {}
            for name, kind, arg, default in self.columns:
                if kind == "path":
                    value = row[arg]
                    item[name] = default if value is None and default is not empty else value
                elif kind == "datetime":
                    value = row[arg]
                    item[name] = None if value is None else _datetime(value, tz)
                elif kind == "field":  # the serializer field's own conversion (decimals, files, durations)
                    path, fld = arg
                    value = row[path]
                    item[name] = None if value is None else fld.to_representation(value)
                else:  # computed
                    item[name] = arg(row)
            out.append(item)
        return out


class _NestedPlaceholder:
    """Keeps a nested field's place in the field order until its rows are added."""

    paths = ()

    def __call__(self, row):
        return None


def _model_path(model, source):
    """``institution.name`` -> ``institution__name`` when every step is a column or a forward relation."""
    parts = source.split(".")
    current = model
    for i, part in enumerate(parts):
        try:
            f = current._meta.get_field(part)
        except Exception:
            return None, None
        if not getattr(f, "concrete", False) or f.many_to_many or f.one_to_many:
            return None, None
        if f.is_relation:
            if i == len(parts) - 1:
                return "__".join(parts), f  # values("institution") is the key
            current = f.related_model
        elif i != len(parts) - 1:
            return None, None
        else:
            return "__".join(parts), f
    return None, None


def build_spec(serializer_class, lean_fields=None, annotations=(), nested=()):
    """The :class:`LeanSpec` of ``serializer_class``; ``ValueError`` naming a field it cannot describe."""
    lean_fields = lean_fields or {}
    ser = serializer_class(context={})
    model = ser.Meta.model
    spec = LeanSpec()
    paths = []
    for name, fld in ser.fields.items():
        if fld.write_only:
            continue
        if name in nested:  # filled in afterwards by LeanListMixin._add_nested
            spec.columns.append((name, "computed", _NestedPlaceholder(), empty))
            continue
        if name in lean_fields:
            extra = lean_fields[name]
            paths.extend(extra.paths)
            spec.columns.append((name, "computed", extra, empty))
            continue
        source = fld.source
        if source in annotations:
            paths.append(source)
            spec.columns.append((name, "path", source, empty))
            continue
        if isinstance(fld, serializers.SerializerMethodField | serializers.ListSerializer
                      | serializers.ManyRelatedField | serializers.BaseSerializer) or source == "*":
            raise ValueError(f"{serializer_class.__name__}.{name}: give it in lean_fields")
        path, model_field = _model_path(model, source)
        if path is None:
            raise ValueError(f"{serializer_class.__name__}.{name} ({source}): give it in lean_fields")
        paths.append(path)
        default = fld.default if "__" in path else empty
        if isinstance(fld, serializers.DateTimeField):
            spec.columns.append((name, "datetime", path, empty))
        elif isinstance(fld, _PASS) and not isinstance(model_field, models.DecimalField | models.FileField
                                                       | models.DurationField):
            spec.columns.append((name, "path", path, default))
        else:
            spec.columns.append((name, "field", (path, fld), empty))
    spec.paths = list(dict.fromkeys(paths))
    return spec


class LeanListMixin:
    """``GET`` list from ``.values()`` rows through msgspec; set ``lean_fields`` for computed fields.

    Use with :class:`apps.core.pagination.Pagination` (the default): the page is the same as
    DRF's plus ``count_exact``. The browsable API (``?format=api``) keeps the serializer path.
    """

    lean_enabled = True  # False: the serializer path (the tests compare both)
    lean_fields = {}
    lean_annotations = ()
    lean_serializer_class = None
    # {"items": ("inspection", "order", "id")}: a nested list field answered by one more query over the
    # page's ids, the child serializer's columns, grouped by the foreign key named first.
    lean_nested = {}

    @classmethod
    def lean_spec(cls):
        spec = cls.__dict__.get("_lean_spec_cache")
        if spec is None:
            spec = build_spec(cls.lean_serializer_class or cls.serializer_class, cls.lean_fields,
                              cls.lean_annotations, tuple(cls.lean_nested))
            cls._lean_spec_cache = spec
        return spec

    @classmethod
    def _nested_specs(cls):
        specs = cls.__dict__.get("_lean_nested_cache")
        if specs is None:
            fields = (cls.lean_serializer_class or cls.serializer_class)(context={}).fields
            specs = {}
            for name, (fk, *ordering) in cls.lean_nested.items():
                child = fields[name].child
                spec = build_spec(type(child))
                specs[name] = (child.Meta.model, fk, ordering, spec)
            cls._lean_nested_cache = specs
        return specs

    def _add_nested(self, rows):
        ids = [r["id"] for r in rows]
        for name, (model, fk, ordering, spec) in self._nested_specs().items():
            groups = {pk: [] for pk in ids}
            values = model.objects.filter(**{f"{fk}__in": ids}).order_by(*ordering).values(fk, *spec.paths)
            for key, item in zip((v[fk] for v in values), spec.rows(values), strict=True):
                groups[key].append(item)
            for r in rows:
                r[name] = groups[r["id"]]
        return rows

    def lean_rows(self, queryset):
        """The serialised rows of ``queryset`` (a page: already sliced or small)."""
        spec = self.lean_spec()
        return spec.rows(queryset.values(*spec.paths))

    def lean_queryset(self, queryset):
        """Drop what ``values()`` does not need (prefetches of the object path)."""
        return queryset.prefetch_related(None)

    def list(self, request, *args, **kwargs):
        renderer = getattr(request, "accepted_renderer", None)
        if not self.lean_enabled or (renderer is not None and renderer.format != "json"):
            return super().list(request, *args, **kwargs)
        spec = self.lean_spec()
        qs = self.lean_queryset(self.filter_queryset(self.get_queryset())).values(*spec.paths)
        page = self.paginate_queryset(qs)
        rows = spec.rows(qs if page is None else page)
        if self.lean_nested:
            rows = self._add_nested(rows)
        body = rows if page is None else self.paginator.get_lean_page(rows)
        return HttpResponse(encode(body), content_type="application/json")

