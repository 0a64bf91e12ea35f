import copy

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .badinput import INT64
from .models import AuditEntry

SELECT_LIMIT = 300


class CappedSelect(forms.Select):
    """A select of the user's rows; past ``SELECT_LIMIT`` of them, an id box instead.

    A district-wide user would otherwise download 10⁴ ``<option>``s with every list page.
    """

    def render(self, name, value, attrs=None, renderer=None):
        qs = getattr(self.choices, "queryset", None)
        if qs is not None and qs[: SELECT_LIMIT + 1].count() > SELECT_LIMIT:
            box = forms.NumberInput(attrs={**self.attrs, "class": "form-control form-control-sm",
                                           "placeholder": "ID"})
            return box.render(name, value, attrs, renderer)
        return super().render(name, value, attrs, renderer)


@extend_schema_field(OpenApiTypes.INT)
class IdChoiceFilter(django_filters.ModelChoiceFilter):
    """A model choice applied by a filter method: in the API it is the row's id (an integer)."""


class IdField(forms.IntegerField):
    """A whole-number id the database can hold; anything else is the form's error (400), not a 500."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", INT64[1])
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """Filter by a row id (``?device=12``): ``-4.3e87`` or 2**70 is a 400 with the reason."""

    field_class = IdField


class _OwnFields(dict):
    """``base_fields`` of a form class made for one FilterSet instance from that instance's own (fresh)
    filter fields: the form may use them as they are instead of deep-copying them again."""

    def __deepcopy__(self, memo):
        return dict(self)


def _own_copy(filter_):
    """A filter of a FilterSet instance: the class's filter copied without its built field (made again,
    for this instance), its ``extra`` (which a queryset filter writes) and its method bound to the copy.
    ``copy.deepcopy`` of every filter did the same at several times the cost."""
    new = copy.copy(filter_)
    new.__dict__.pop("_field", None)
    new.extra = dict(filter_.extra)
    if filter_.method is not None:
        new.method = filter_.method  # a FilterMethod bound to the copy, not to the class's filter
    return new


class BaseFilterSet(django_filters.FilterSet):
    """FilterSet that knows the request's user so choice fields can be scoped.

    Every model-choice field is limited to the user's scope and rendered with ``CappedSelect``.
    Filters and form fields are copied once per instance, shallowly where nothing is shared (a list
    request builds one of these; the deep copies were most of its cost).
    """

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        base_filters = type(self).base_filters
        self.base_filters = {}  # the parent's deep copy of nothing; the filters are copied below
        super().__init__(data=data, queryset=queryset, request=request, prefix=prefix)
        del self.base_filters
        self.filters = {name: _own_copy(f) for name, f in base_filters.items()}
        for filter_ in self.filters.values():
            filter_.model = self.queryset.model
            filter_.parent = self
        user = getattr(request, "user", None)
        for f in self.filters.values():
            qs = getattr(f, "queryset", None)
            if qs is not None and hasattr(qs, "visible_to") and not callable(qs):
                f.queryset = qs.visible_to(user)
        for field in self.form.fields.values():
            if isinstance(field, forms.ModelChoiceField) and type(field.widget) is forms.Select:
                capped = CappedSelect(attrs=field.widget.attrs)
                capped.choices = field.widget.choices
                field.widget = capped
            widget = field.widget
            if isinstance(widget, forms.Select | forms.SelectMultiple):
                widget.attrs.setdefault("class", "form-select form-select-sm")
            elif not isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-control form-control-sm")

    def get_form_class(self):
        form_class = super().get_form_class()
        form_class.base_fields = _OwnFields(form_class.base_fields)
        return form_class


def area_filter(institution_path="institution", method=None):
    """``?area=<organisation id>``: the rows of the institutions in that part of the tree (a province,
    city, district or township: the cockpit's links by level). The choice is limited to the
    organisations the user sees (``BaseFilterSet``), so another administration's id is refused (400),
    and the rows are the list's own (already scoped) rows under that path."""
    from apps.orgs.models import Organization

    lookup = f"{institution_path}__township__path__startswith" if institution_path else "township__path__startswith"

    def apply(queryset, name, value):
        return queryset.filter(**{lookup: value.path})

    return IdChoiceFilter(queryset=Organization.objects.filter(kind__in=AREA_KINDS), method=method or apply,
                          label=_("Area"), widget=forms.HiddenInput)


AREA_KINDS = ("province", "city", "bureau", "township")


class DateInput(forms.DateInput):
    input_type = "date"


class AuditEntryFilter(BaseFilterSet):
    user = django_filters.CharFilter(field_name="actor_name", lookup_expr="icontains", label=_("User"))
    object = django_filters.CharFilter(method="filter_object", label=_("Object"))
    action = django_filters.CharFilter(field_name="action", lookup_expr="istartswith", label=_("Action"))
    since = django_filters.DateFilter(field_name="time", lookup_expr="date__gte", label=_("From"),
                                      widget=DateInput)
    until = django_filters.DateFilter(field_name="time", lookup_expr="date__lte", label=_("To"), widget=DateInput)

    class Meta:
        model = AuditEntry
        fields = []

    def filter_object(self, queryset, name, value):
        return queryset.filter(Q(object_repr__icontains=value) | Q(object_id=value))


class FilterBackend(DjangoFilterBackend):
    """``DjangoFilterBackend`` that builds no FilterSet for a request that names no filter.

    Opening a list (``?page=3``, ``?ordering=…``) is the commonest request; building the FilterSet
    deep-copies every filter and its form's fields and scopes every choice queryset, about a third of a
    lean list page's Python time, to apply nothing: an empty value is skipped by every filter. Any other
    parameter (a filter, a misspelt one, a range suffix) takes the full path, as do FilterSets that
    override ``filter_queryset``."""

    PASSIVE = frozenset({"page", "page_size", "ordering", "format", "cursor"})

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if (filterset_class is not None and self.PASSIVE.issuperset(request.query_params.keys())
                and filterset_class.filter_queryset is django_filters.FilterSet.filter_queryset):
            return queryset
        return super().filter_queryset(request, queryset, view)
