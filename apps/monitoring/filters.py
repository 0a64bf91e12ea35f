"""One filterset per list serves the page and the API (``township``/``institution`` for cockpit links)."""
import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.filters import BaseFilterSet, IdFilter, area_filter
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import AlarmState, DeviceKind, RuleChannel, Severity
from .models import Alarm, Device


class _TreeFilter(BaseFilterSet):
    township = django_filters.ModelChoiceFilter(
        queryset=Organization.objects.filter(kind=OrgKind.TOWNSHIP), field_name="institution__township",
        label=_("Township"))
    institution = django_filters.ModelChoiceFilter(queryset=Institution.objects.all(), label=_("Institution"))
    area = area_filter()


class DeviceFilter(_TreeFilter):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=DeviceKind.choices, label=_("Kind"))
    offline = django_filters.BooleanFilter(method="filter_offline", label=_("Offline"))

    class Meta:
        model = Device
        fields = []

    def search(self, queryset, name, value):
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value) | Q(location__icontains=value))

    def filter_offline(self, queryset, name, value):
        now = timezone.now()
        return queryset.offline(now) if value else queryset.online(now)


class AlarmFilter(_TreeFilter):
    state = django_filters.MultipleChoiceFilter(choices=AlarmState.choices, label=_("State"))
    severity = django_filters.MultipleChoiceFilter(choices=Severity.choices, label=_("Severity"))
    kind = django_filters.ChoiceFilter(choices=RuleChannel.choices, label=_("Type"))
    device = IdFilter(field_name="device_id", label=_("Device"))
    opened_from = django_filters.DateFilter(field_name="opened_at", lookup_expr="date__gte", label=_("From"),
                                            widget=django_filters.widgets.forms.DateInput(attrs={"type": "date"}))

    class Meta:
        model = Alarm
        fields = []
