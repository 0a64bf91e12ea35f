from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core import scope
from apps.core.forms import ScopedModelForm
from apps.core.imports import ImportForm  # noqa: F401 - one upload form for every import
from apps.ledger.services import placement_choices

from .models import Building, Institution

INSTITUTION_FIELDS = [
    "name", "credit_code", "kind", "nature", "township", "operator_unit", "address", "latitude", "longitude",
    "licence_no", "is_key_unit", "is_active", "order",
    "beds", "residents", "residents_disabled", "residents_bedridden", "staff_count", "night_staff_count",
    "has_sprinklers", "has_auto_alarm", "has_smoke_alarms", "has_hydrants", "extinguisher_count",
    "has_emergency_lighting", "has_smoke_control", "has_control_room", "has_micro_station",
    "has_electrical_monitoring",
    "responsible_person", "responsible_phone", "manager_name", "manager_phone",
    "maintenance_contractor", "maintenance_contract_until", "last_facility_test", "notes",
]

FIELD_GROUPS = [
    (_("Identity"), ["name", "credit_code", "kind", "nature", "township", "operator_unit", "address", "latitude",
                     "longitude", "licence_no", "is_key_unit", "is_active", "order"]),
    (_("Capacity and people"), ["beds", "residents", "residents_disabled", "residents_bedridden", "staff_count",
                                "night_staff_count"]),
    (_("Fire facilities"), ["has_sprinklers", "has_auto_alarm", "has_smoke_alarms", "has_hydrants",
                            "extinguisher_count", "has_emergency_lighting", "has_smoke_control", "has_control_room",
                            "has_micro_station", "has_electrical_monitoring", "maintenance_contractor",
                            "maintenance_contract_until", "last_facility_test"]),
    (_("Named people"), ["responsible_person", "responsible_phone", "manager_name", "manager_phone", "notes"]),
]


class InstitutionForm(ScopedModelForm):
    person_changed_on = forms.DateField(
        label=_("Date the responsible person or manager changed"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Needed when the responsible person or manager changes; defaults to today."),
    )

    class Meta:
        model = Institution
        fields = INSTITUTION_FIELDS
        widgets = {
            "maintenance_contract_until": forms.DateInput(),
            "last_facility_test": forms.DateInput(),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        # Townships and units are organisation-tree choices, limited to what the user may reach.
        for name, queryset in placement_choices(user).items():
            self.fields[name].queryset = queryset
        self.fields["kind"].choices = scope.kind_choices(user, self.fields["kind"].choices)
        # The bureau's own order (offices only, see policy.py): left empty it is 0, i.e. pinyin order alone.
        self.fields["order"].required = False
        self.groups = [(label, [self[name] for name in names]) for label, names in FIELD_GROUPS]
        self.groups[-1][1].append(self["person_changed_on"])


    def clean_order(self):
        value = self.cleaned_data.get("order")
        return 0 if value is None else value


class BuildingForm(ScopedModelForm):
    class Meta:
        model = Building
        exclude = ["institution"]


