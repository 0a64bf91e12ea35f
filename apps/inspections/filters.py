"""One filterset per list serves the page and the API (``?township=`` and ``?institution=`` everywhere)."""
import django_filters
from django.utils.translation import gettext_lazy as _

from apps.core.filters import BaseFilterSet, DateInput
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import ChecklistPurpose, InspectionKind, InspectionState
from .models import Campaign, ChecklistTemplate, Checkpoint, DutyShift, Inspection, PatrolRound


def _townships():
    return Organization.objects.filter(kind=OrgKind.TOWNSHIP)


class InspectionFilter(BaseFilterSet):
    township = django_filters.ModelChoiceFilter(field_name="institution__township", queryset=_townships(),
                                                label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    kind = django_filters.ChoiceFilter(choices=InspectionKind.choices, label=_("Kind"))
    state = django_filters.ChoiceFilter(choices=InspectionState.choices, label=_("State"))
    office = django_filters.ModelChoiceFilter(queryset=Organization.objects.exclude(kind=OrgKind.EXTERNAL),
                                              label=_("Inspecting office"))
    campaign = django_filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label=_("Campaign"))
    since = django_filters.DateFilter(field_name="inspected_on", lookup_expr="gte", label=_("From"), widget=DateInput)
    until = django_filters.DateFilter(field_name="inspected_on", lookup_expr="lte", label=_("To"), widget=DateInput)

    class Meta:
        model = Inspection
        fields = []


class EnforcementFilter(BaseFilterSet):
    office = django_filters.ModelChoiceFilter(queryset=Organization.objects.exclude(kind=OrgKind.EXTERNAL),
                                              label=_("Inspecting office"))
    township = django_filters.ModelChoiceFilter(field_name="institution__township", queryset=_townships(),
                                                label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    since = django_filters.DateFilter(field_name="inspected_on", lookup_expr="gte", label=_("From"), widget=DateInput)
    until = django_filters.DateFilter(field_name="inspected_on", lookup_expr="lte", label=_("To"), widget=DateInput)

    class Meta:
        model = Inspection
        fields = []


class TemplateFilter(BaseFilterSet):
    purpose = django_filters.ChoiceFilter(choices=ChecklistPurpose.choices, label=_("Purpose"))

    class Meta:
        model = ChecklistTemplate
        fields = ["purpose", "is_active"]


class PatrolFilter(BaseFilterSet):
    township = django_filters.ModelChoiceFilter(field_name="institution__township", queryset=_townships(),
                                                label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    since = django_filters.DateFilter(field_name="started_at", lookup_expr="date__gte", label=_("From"),
                                      widget=DateInput)
    until = django_filters.DateFilter(field_name="started_at", lookup_expr="date__lte", label=_("To"),
                                      widget=DateInput)

    class Meta:
        model = PatrolRound
        fields = []


class CheckpointFilter(BaseFilterSet):
    township = django_filters.ModelChoiceFilter(field_name="institution__township", queryset=_townships(),
                                                label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))

    class Meta:
        model = Checkpoint
        fields = []


class CampaignFilter(BaseFilterSet):
    township = django_filters.ModelChoiceFilter(field_name="townships", queryset=_townships(), label=_("Township"))
    active_on = django_filters.DateFilter(method="filter_active", label=_("Running on"), widget=DateInput)

    class Meta:
        model = Campaign
        fields = []

    def filter_active(self, queryset, name, value):
        return queryset.filter(starts_on__lte=value, ends_on__gte=value)


class DutyShiftFilter(BaseFilterSet):
    on_duty_at = django_filters.IsoDateTimeFilter(method="filter_on_duty", label=_("On duty at"))

    class Meta:
        model = DutyShift
        fields = ["period", "institution"]

    def filter_on_duty(self, queryset, name, value):
        return queryset.filter(starts_at__lte=value, ends_at__gt=value)
