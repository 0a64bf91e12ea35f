"""One filterset per list serves the pages, the three lists, the Excel export and the API."""
import datetime

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.filters import BaseFilterSet, CappedSelect, DateInput, IdChoiceFilter, area_filter
from apps.ledger.choices import InstitutionKind
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .choices import (
    OPEN_STATES,
    DocumentKind,
    ExtensionState,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardState,
    SuggestionState,
    SupervisionLevel,
    SupervisionState,
)
from .models import DeadlineExtension, Hazard, HazardSuggestion, OfficialDocument, Supervision

YES_NO = (("1", _("Yes")), ("0", _("No")))


class InstitutionWidget(CappedSelect):
    """Kept for the hazard filters' declarations; the cap lives in ``apps.core.filters``."""


def _yes(value):
    return str(value).lower() in {"1", "true", "yes"}


class InstitutionScopeFilterSet(BaseFilterSet):
    """``township``, ``institution`` and ``kind`` through the row's path to its institution."""

    institution_path = "institution"
    township = IdChoiceFilter(queryset=Organization.objects.filter(kind=OrgKind.TOWNSHIP),
                              method="filter_township", label=_("Township"))
    institution = IdChoiceFilter(queryset=Institution.objects.all(), method="filter_institution",
                                 label=_("Institution"), widget=InstitutionWidget)
    kind = django_filters.ChoiceFilter(choices=InstitutionKind.choices, method="filter_kind",
                                       label=_("Institution kind"))
    area = area_filter(method="filter_area")

    def filter_area(self, qs, name, value):
        return qs.filter(**{f"{self.institution_path}__township__path__startswith": value.path})

    def filter_township(self, qs, name, value):
        return qs.filter(**{f"{self.institution_path}__township": value})

    def filter_institution(self, qs, name, value):
        return qs.filter(**{self.institution_path: value})

    def filter_kind(self, qs, name, value):
        return qs.filter(**{f"{self.institution_path}__kind": value})


class HazardFilter(InstitutionScopeFilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    level = django_filters.ChoiceFilter(choices=HazardLevel.choices, label=_("Level"))
    category = django_filters.ChoiceFilter(choices=HazardCategory.choices, label=_("Category"))
    state = django_filters.ChoiceFilter(choices=HazardState.choices, label=_("State"))
    open = django_filters.ChoiceFilter(choices=YES_NO, method="filter_open", label=_("Open"))
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_overdue", label=_("Overdue"))
    due_soon = django_filters.ChoiceFilter(choices=YES_NO, method="filter_due_soon", label=_("Due within 3 days"))
    required = django_filters.ChoiceFilter(choices=YES_NO, method="filter_required",
                                           label=_("Requirements set"))
    source = django_filters.ChoiceFilter(choices=HazardSource.choices, label=_("Source"))
    found_after = django_filters.DateFilter(field_name="found_at", lookup_expr="date__gte", label=_("Found from"),
                                            widget=DateInput)
    found_before = django_filters.DateFilter(field_name="found_at", lookup_expr="date__lte", label=_("Found until"),
                                             widget=DateInput)

    class Meta:
        model = Hazard
        fields = []

    def search(self, qs, name, value):
        return qs.filter(Q(description__icontains=value) | Q(location__icontains=value)
                         | Q(institution__name__icontains=value))

    def filter_open(self, qs, name, value):
        return qs.filter(state__in=OPEN_STATES) if _yes(value) else qs.exclude(state__in=OPEN_STATES)

    def filter_overdue(self, qs, name, value):
        today = timezone.localdate()
        overdue = Q(state__in=OPEN_STATES, deadline__lt=today)
        return qs.filter(overdue) if _yes(value) else qs.exclude(overdue)

    def filter_due_soon(self, qs, name, value):
        """Open, with a deadline from today up to 3 days ahead (not yet overdue)."""
        today = timezone.localdate()
        soon = Q(state__in=OPEN_STATES, deadline__gte=today, deadline__lte=today + datetime.timedelta(days=3))
        return qs.filter(soon) if _yes(value) else qs.exclude(soon)

    def filter_required(self, qs, name, value):
        return qs.exclude(requirements="") if _yes(value) else qs.filter(requirements="")


class ListFilter(HazardFilter):
    """The three lists: the same filters without the state ones (the list fixes the state)."""

    class Meta(HazardFilter.Meta):
        exclude = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in ("state", "open"):
            self.filters.pop(key, None)
            self.form.fields.pop(key, None)


class SupervisionFilter(InstitutionScopeFilterSet):
    institution_path = "hazard__institution"
    state = django_filters.ChoiceFilter(choices=SupervisionState.choices, label=_("State"))
    supervising_department = django_filters.ModelChoiceFilter(queryset=Organization.objects.all(),
                                                              label=_("Supervising department"))
    overdue = django_filters.ChoiceFilter(choices=YES_NO, method="filter_overdue", label=_("Overdue"))
    category = django_filters.ChoiceFilter(field_name="hazard__category", choices=HazardCategory.choices,
                                           label=_("Category"))
    level = django_filters.ChoiceFilter(field_name="administration__kind", choices=SupervisionLevel.choices,
                                        label=_("Supervision level"))
    extension_pending = django_filters.ChoiceFilter(choices=YES_NO, method="filter_extension_pending",
                                                    label=_("Extension requested"))
    decided_here = django_filters.ChoiceFilter(choices=YES_NO, method="filter_decided_here",
                                               label=_("Decided by my administration"))

    class Meta:
        model = Supervision
        fields = []

    def filter_extension_pending(self, qs, name, value):
        pending = DeadlineExtension.objects.filter(state=ExtensionState.PENDING).values("supervision_id")
        return qs.filter(pk__in=pending) if _yes(value) else qs.exclude(pk__in=pending)

    def filter_decided_here(self, qs, name, value):
        """Listings the user's administration decides on: listed by it or by an administration below it
        (a higher level's listing is decided there, the to-do of a district does not count it)."""
        user = getattr(self.request, "user", None)
        if user is None or user.is_superuser:
            return qs if _yes(value) else qs.none()
        area = user.administration_path
        here = Q(administration__path__startswith=area) if area else Q(pk__in=[])
        return qs.filter(here) if _yes(value) else qs.exclude(here)

    def filter_overdue(self, qs, name, value):
        overdue = Q(state=SupervisionState.LISTED, deadline__lt=timezone.localdate())
        return qs.filter(overdue) if _yes(value) else qs.exclude(overdue)


class DocumentFilter(InstitutionScopeFilterSet):
    doc_kind = django_filters.ChoiceFilter(field_name="kind", choices=DocumentKind.choices, label=_("Document kind"))
    acknowledged = django_filters.ChoiceFilter(choices=YES_NO, method="filter_ack", label=_("Acknowledged"))

    class Meta:
        model = OfficialDocument
        fields = []

    def filter_ack(self, qs, name, value):
        return qs.filter(acknowledged_at__isnull=not _yes(value))


class SuggestionFilter(InstitutionScopeFilterSet):
    suggestion_state = django_filters.ChoiceFilter(field_name="state", choices=SuggestionState.choices,
                                                   label=_("State"))

    class Meta:
        model = HazardSuggestion
        fields = []
