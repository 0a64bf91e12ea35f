"""One filterset serves the ledger list page and the API."""
import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.filters import BaseFilterSet, area_filter
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
    area = area_filter(institution_path="")
    monitored = django_filters.BooleanFilter(method="filter_monitored", label=_("Monitoring devices in service"))

    class Meta:
        model = Institution
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(address__icontains=value) | Q(responsible_person__icontains=value)
            | Q(manager_name__icontains=value) | Q(credit_code__iexact=value)
        )

    def filter_monitored(self, queryset, name, value):
        """Institutions with at least one monitoring device in service (the cockpit's coverage)."""
        from django.apps import apps
        from django.db.models import Exists, OuterRef

        try:
            device = apps.get_model("monitoring.Device")
        except LookupError:
            return queryset.none() if value else queryset
        has = Exists(device.objects.filter(institution=OuterRef("pk"), is_active=True))
        return queryset.filter(has if value else ~has)

    def filter_section(self, queryset, name, value: Organization):
        return queryset.filter(kind__in=value.institution_kinds or [])


class BuildingFilter(BaseFilterSet):
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all())

    class Meta:
        model = Building
        fields = ["institution", "colour_steel", "safety_rating"]
