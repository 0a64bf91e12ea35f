from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.forms import ScopedModelForm

from .models import Device, ThresholdRule


class AcknowledgeForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=300, required=False,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))


class ClearForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300,
                             widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}))
    still_over_confirmed = forms.BooleanField(label=_("The reading is still over the threshold: clear anyway"),
                                              required=False)




class DeviceForm(ScopedModelForm):
    channels = forms.MultipleChoiceField(
        label=_("Channels"), required=False, widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=_("The channels the device reports; only these are evaluated against the alarm rules. "
                    "None ticked: the usual channels of its kind."))

    class Meta:
        model = Device
        fields = ["institution", "building", "code", "name", "model", "kind", "location", "circuit", "installed_on",
                  "offline_after_minutes", "channels", "thresholds", "is_active"]
        widgets = {"installed_on": forms.DateInput(), "thresholds": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .choices import CHANNEL_LABELS, CHANNEL_NAMES

        self.fields["channels"].choices = [(c, CHANNEL_LABELS[c]) for c in CHANNEL_NAMES]
        if self.instance.pk and not self.is_bound:
            self.initial["channels"] = list(self.instance.channels or [])

    def clean_channels(self):
        from .choices import CHANNEL_NAMES

        chosen = set(self.cleaned_data.get("channels") or [])
        return [c for c in CHANNEL_NAMES if c in chosen]  # in the platform's order

    def clean_thresholds(self):
        from .choices import RuleChannel

        value = self.cleaned_data.get("thresholds") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Enter an object such as {\"residual_ma\": 400}."))
        for key, number in value.items():
            if key not in RuleChannel.values or isinstance(number, bool) or not isinstance(number, int | float):
                raise forms.ValidationError(_("Unknown channel or non-numeric threshold: %(key)s") % {"key": key})
        return value

    def clean(self):
        data = super().clean()
        building, institution = data.get("building"), data.get("institution")
        if building is not None and institution is not None and building.institution_id != institution.pk:
            self.add_error("building", _("The building belongs to another institution."))
        return data


class ThresholdRuleForm(ScopedModelForm):
    """An administration's alarm threshold (its administration is set by the service)."""

    class Meta:
        model = ThresholdRule
        fields = ["name", "device_kind", "channel", "threshold", "consecutive", "severity", "clear_after_minutes",
                  "hazard_after_minutes", "hazard_after_repeats", "verify_days", "overridable", "is_active"]
