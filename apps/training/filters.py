"""One filterset per list serves the page and the API; ``township`` and ``institution`` everywhere."""
import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from apps.core.filters import BaseFilterSet, DateInput, IdChoiceFilter
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import DrillScenario, FireRole, PublicitySetting, SessionCategory
from .models import Drill, PublicityActivity, StaffMember, TrainingSession


def _townships():
    return Organization.objects.filter(kind=OrgKind.TOWNSHIP)


class StaffFilter(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    township = django_filters.ModelChoiceFilter(queryset=_townships(), field_name="institution__township",
                                                label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    role = django_filters.ChoiceFilter(choices=FireRole.choices, method="filter_role", label=_("Fire-safety role"))
    current = django_filters.BooleanFilter(method="filter_current", label=_("Still employed"))

    class Meta:
        model = StaffMember
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(post__icontains=value) | Q(phone__icontains=value))

    def filter_role(self, queryset, name, value):
        # Role codes are not substrings of one another, so a text match on the JSON list is exact.
        return queryset.filter(roles__icontains=value)

    def filter_current(self, queryset, name, value):
        current = Q(left_on__isnull=True)
        return queryset.filter(current) if value else queryset.exclude(current)


class SessionFilter(BaseFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    category = django_filters.ChoiceFilter(choices=SessionCategory.choices, label=_("Category"))
    township = IdChoiceFilter(queryset=_townships(), method="filter_township", label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    since = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"), widget=DateInput)
    until = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"), widget=DateInput)

    class Meta:
        model = TrainingSession
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(topic__icontains=value) | Q(trainer__icontains=value) | Q(place__icontains=value))

    def filter_township(self, queryset, name, value):
        return queryset.filter(Q(institution__township=value) | Q(institution__isnull=True, organizer_org=value))


class DrillFilter(BaseFilterSet):
    township = django_filters.ModelChoiceFilter(queryset=_townships(), field_name="institution__township",
                                                label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    scenario = django_filters.ChoiceFilter(choices=DrillScenario.choices, label=_("Scenario"))
    since = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"), widget=DateInput)
    until = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"), widget=DateInput)

    class Meta:
        model = Drill
        fields = []


class PublicityFilter(BaseFilterSet):
    setting = django_filters.ChoiceFilter(choices=PublicitySetting.choices, label=_("Setting"))
    township = django_filters.ModelChoiceFilter(queryset=_townships(), label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    since = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("From"), widget=DateInput)
    until = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("To"), widget=DateInput)

    class Meta:
        model = PublicityActivity
        fields = []
