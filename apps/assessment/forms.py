from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.forms import ScopedForm, ScopedModelForm
from apps.ledger.models import Institution

from .choices import AccountabilityTarget
from .models import FireIncident, RiskModel


class FireIncidentForm(ScopedModelForm):
    class Meta:
        model = FireIncident
        fields = ["institution", "occurred_at", "place", "cause", "cause_detail", "deaths", "injuries", "direct_loss",
                  "discovery", "handling"]
        widgets = {"occurred_at": forms.DateTimeInput()}


class AccountabilityForm(ScopedForm):
    target = forms.ChoiceField(label=_("Held to account"), choices=AccountabilityTarget.choices)
    name = forms.CharField(label=_("Unit or person"), max_length=100)
    measure = forms.CharField(label=_("Measure"), widget=forms.Textarea)
    decided_on = forms.DateField(label=_("Decided on"), widget=forms.DateInput)


class AssessmentStartForm(ScopedForm):
    institution = forms.ModelChoiceField(label=_("Institution"), queryset=Institution.objects.all())
    period = forms.CharField(label=_("Period"), max_length=20, help_text=_("e.g. 2026 or 2026-H2"))


class AssessmentTextForm(ScopedForm):
    problems = forms.CharField(label=_("Prominent problems"), widget=forms.Textarea, required=False)
    weak_links = forms.CharField(label=_("Weak links"), widget=forms.Textarea, required=False)
    countermeasures = forms.CharField(label=_("Countermeasures"), widget=forms.Textarea, required=False)


class RiskModelForm(ScopedModelForm):
    """An administration's risk model: its bands (its administration is set by the service)."""

    class Meta:
        model = RiskModel
        fields = ["name", "version", "red_from", "orange_from", "yellow_from", "notes", "overridable", "is_active"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}
