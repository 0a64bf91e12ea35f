"""One filterset per list: the page and the API share it. All accept ?township= and ?institution=."""
import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.filters import BaseFilterSet, DateInput, IdFilter, area_filter
from apps.ledger.choices import InstitutionKind
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import AssessmentState, IncidentCause, RiskLevel
from .models import Assessment, FireIncident, InstitutionRisk


def _township():
    return django_filters.ModelChoiceFilter(queryset=Organization.objects.filter(kind=OrgKind.TOWNSHIP),
                                            field_name="institution__township", label=_("Township"))


def _institution():
    # A number, not a <select> of every institution (10^4 options at province scale); the list's
    # queryset is already scoped, so an id outside the scope simply matches nothing.
    return IdFilter(field_name="institution_id", label=_("Institution"),
                                       widget=forms.HiddenInput)


class InstitutionRiskFilter(BaseFilterSet):
    level = django_filters.ChoiceFilter(choices=RiskLevel.choices, label=_("Level"))
    township = _township()
    area = area_filter()
    institution = _institution()
    kind = django_filters.ChoiceFilter(choices=InstitutionKind.choices, field_name="institution__kind",
                                       label=_("Kind"))

    class Meta:
        model = InstitutionRisk
        fields = []


class FireIncidentFilter(BaseFilterSet):
    township = _township()
    area = area_filter()
    institution = _institution()
    cause = django_filters.ChoiceFilter(choices=IncidentCause.choices, label=_("Cause"))
    since = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label=_("From"),
                                      widget=DateInput)
    until = django_filters.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label=_("To"),
                                      widget=DateInput)
    with_deaths = django_filters.BooleanFilter(method="filter_deaths", label=_("With deaths"))

    class Meta:
        model = FireIncident
        fields = []

    def filter_deaths(self, queryset, name, value):
        return queryset.filter(deaths__gt=0) if value else queryset.filter(deaths=0)


class AssessmentFilter(BaseFilterSet):
    township = _township()
    institution = _institution()
    state = django_filters.ChoiceFilter(choices=AssessmentState.choices, label=_("State"))
    level = django_filters.ChoiceFilter(choices=RiskLevel.choices, label=_("Level"))
    period = django_filters.CharFilter(label=_("Period"))

    class Meta:
        model = Assessment
        fields = []
