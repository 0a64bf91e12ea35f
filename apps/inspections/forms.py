from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core import scope
from apps.core.forms import ScopedForm, ScopedModelForm
from apps.ledger.models import Institution

from .choices import InspectionKind
from .models import (
    Campaign,
    CampaignTask,
    ChecklistTemplate,
    Checkpoint,
    DutyShift,
    FrequencyRule,
    InspectionSlot,
    SecurityPeriod,
)


class StartInspectionForm(ScopedForm):
    institution = forms.ModelChoiceField(Institution.objects.all(), label=_("Institution"))
    template = forms.ModelChoiceField(ChecklistTemplate.objects.filter(is_active=True), label=_("Checklist"))
    kind = forms.ChoiceField(choices=[c for c in InspectionKind.choices if c[0] != InspectionKind.SELF],
                             label=_("Kind"), required=False)
    campaign = forms.ModelChoiceField(Campaign.objects.all(), label=_("Campaign"), required=False)
    inspected_on = forms.DateField(label=_("Inspection date"), widget=forms.DateInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if scope.own_institution_id(user):
            del self.fields["kind"]
            del self.fields["campaign"]
            self.fields["institution"].widget = forms.HiddenInput()


class CheckpointForm(ScopedModelForm):
    class Meta:
        model = Checkpoint
        fields = ["institution", "name", "location", "order", "is_active"]


class StartPatrolForm(ScopedForm):
    institution = forms.ModelChoiceField(Institution.objects.all(), label=_("Institution"))
    patroller_name = forms.CharField(label=_("Patroller"), max_length=50)
    supervisor_name = forms.CharField(label=_("Supervisor"), max_length=50, required=False)


class VisitForm(ScopedForm):
    ok = forms.TypedChoiceField(label=_("Result"), choices=[("1", _("Normal")), ("0", _("Problem found"))],
                                coerce=lambda v: v == "1", widget=forms.RadioSelect, initial="1")
    finding = forms.CharField(label=_("Finding"), max_length=300, required=False)
    open_hazard = forms.BooleanField(label=_("Register as a hazard"), required=False)
    photo = forms.ImageField(label=_("Photo"), required=False)


class CampaignForm(ScopedModelForm):
    class Meta:
        model = Campaign
        fields = ["name", "institution_kinds", "townships", "starts_on", "ends_on", "template", "roadmap",
                  "description"]
        widgets = {"townships": forms.CheckboxSelectMultiple}

    institution_kinds = forms.MultipleChoiceField(label=_("Institution kinds"), required=False,
                                                  widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from apps.ledger.choices import InstitutionKind

        self.fields["institution_kinds"].choices = InstitutionKind.choices
        user = self.user
        self.fields["townships"].queryset = scope.township_choices(user)
        # None ticked on a new campaign: every township offered (a city's campaign reaches every district).
        self.fields["townships"].required = False
        self.fields["townships"].help_text = _("None ticked: every township under your administration.")


class CampaignTaskForm(ScopedModelForm):
    class Meta:
        model = CampaignTask
        fields = ["title", "assignee_org", "assignee_institution", "assignee_name", "due_on", "done_on"]


class SecurityPeriodForm(ScopedModelForm):
    class Meta:
        model = SecurityPeriod
        fields = ["name", "event", "townships", "starts_at", "ends_at", "key_places", "readiness_template"]
        widgets = {"townships": forms.CheckboxSelectMultiple, "starts_at": forms.DateTimeInput,
                   "ends_at": forms.DateTimeInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)

        self.fields["townships"].queryset = scope.township_choices(self.user)
        self.fields["readiness_template"].queryset = ChecklistTemplate.objects.filter(is_active=True,
                                                                                      purpose="festival")
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The end is before the start."))
        return data


class DutyShiftForm(ScopedModelForm):
    class Meta:
        model = DutyShift
        fields = ["person", "phone", "place", "institution", "starts_at", "ends_at", "is_stationed_patrol"]
        widgets = {"starts_at": forms.DateTimeInput, "ends_at": forms.DateTimeInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]


class InspectionSlotForm(ScopedModelForm):
    class Meta:
        model = InspectionSlot
        fields = ["institution", "starts_at", "ends_at", "assignee_name"]
        widgets = {"starts_at": forms.DateTimeInput, "ends_at": forms.DateTimeInput}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("starts_at", "ends_at"):
            self.fields[name].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("The end is before the start."))
        return data


class FrequencyRuleForm(ScopedModelForm):
    """An administration's patrol/inspection frequency (its administration is set by the service)."""

    institution_kind = forms.ChoiceField(label=_("institution kind"), required=False)

    class Meta:
        model = FrequencyRule
        fields = ["institution_kind", "version", "daily_patrols", "night_interval_hours", "night_start", "night_end",
                  "inspection_interval_days", "self_assessment_interval_days", "basis", "overridable", "is_active"]
        widgets = {"night_start": forms.TimeInput(attrs={"type": "time"}),
                   "night_end": forms.TimeInput(attrs={"type": "time"})}

    def __init__(self, *args, **kwargs):
        from apps.ledger.choices import InstitutionKind

        super().__init__(*args, **kwargs)
        self.fields["institution_kind"].choices = [("", _("Every kind"))] + list(InstitutionKind.choices)
