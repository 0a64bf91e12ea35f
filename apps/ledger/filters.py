"""One filterset serves the ledger list page and the API."""
import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.filters import BaseFilterSet
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import InstitutionKind, OperatingNature
from .models import Building, Institution


class InstitutionFilter(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=InstitutionKind.choices, label=_("Kind"))
    township = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind=OrgKind.TOWNSHIP), label=_("Township"))
    section = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind=OrgKind.SECTION), method="filter_section", label=_("Section line"))
    nature = django_filters.ChoiceFilter(choices=OperatingNature.choices, label=_("Operating nature"))
    is_key_unit = django_filters.BooleanFilter(label=_("Key unit"))
    has_electrical_monitoring = django_filters.BooleanFilter(label=_("Electrical monitoring"))

    class Meta:
        model = Institution
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(address__icontains=value) | Q(responsible_person__icontains=value)
            | Q(manager_name__icontains=value) | Q(credit_code__iexact=value)
        )

    def filter_section(self, queryset, name, value: Organization):
        return queryset.filter(kind__in=value.institution_kinds or [])


class BuildingFilter(BaseFilterSet):
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all())

    class Meta:
        model = Building
        fields = ["institution", "colour_steel", "safety_rating"]
