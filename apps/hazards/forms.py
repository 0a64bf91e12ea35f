"""Forms of the hazard pages; each action form's cleaned_data are the service's keyword arguments."""
from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.forms import ScopedForm, ScopedModelForm
from apps.ledger.models import Building, Institution
from apps.orgs.models import Organization

from .choices import DocumentKind, HazardCategory, HazardLevel, HazardSource
from .models import Hazard, NumberFormat, RuleElement, RuleSet, Supervision


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input; each is checked by ``attach`` when saved."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(PhotosField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ReportForm(ScopedForm):
    institution = forms.ModelChoiceField(Institution.objects.all(), label=_("Institution"))
    building = forms.ModelChoiceField(Building.objects.all(), label=_("Building"), required=False)
    location = forms.CharField(label=_("Place"), max_length=200, required=False)
    category = forms.ChoiceField(choices=HazardCategory.choices, label=_("Category"))
    description = forms.CharField(label=_("Description"), widget=forms.Textarea)
    source = forms.ChoiceField(choices=HazardSource.choices, label=_("Source"), initial=HazardSource.SELF_INSPECTION)
    level = forms.ChoiceField(choices=HazardLevel.choices, label=_("Level"), initial=HazardLevel.GENERAL)
    fixed_on_spot = forms.BooleanField(label=_("Fixed on the spot"), required=False)
    photos_before = PhotosField(label=_("Photos before"))
    photos_after = PhotosField(label=_("Photos after (when fixed on the spot)"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if user is not None and user.institution_id:
            self.fields["institution"].initial = user.institution_id

    def clean(self):
        data = super().clean()
        inst, building = data.get("institution"), data.get("building")
        if inst and building and building.institution_id != inst.pk:
            self.add_error("building", _("The building belongs to another institution."))
        from .services import spot_fix_evidence_errors

        for name, message in spot_fix_evidence_errors(data.get("fixed_on_spot"), data.get("photos_after")).items():
            self.add_error(name, message)
        return data


class PlanForm(ScopedForm):
    measures = forms.CharField(label=_("Rectification measures"), widget=forms.Textarea)
    responsible_department = forms.CharField(label=_("Responsible department"), max_length=100, required=False)
    responsible_person = forms.CharField(label=_("Responsible person"), max_length=50)
    responsible_phone = forms.CharField(label=_("Responsible person's phone"), max_length=30, required=False)
    funds = forms.DecimalField(label=_("Funds (yuan)"), max_digits=12, decimal_places=2, required=False)
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput)
    interim_safeguards = forms.CharField(label=_("Interim safeguards"), widget=forms.Textarea, required=False)
    emergency_plan = forms.CharField(label=_("Emergency plan (required for a major hazard)"), widget=forms.Textarea,
                                     required=False)


class RectifyForm(ScopedForm):
    report = forms.CharField(label=_("Rectification report"), widget=forms.Textarea)
    photos_after = PhotosField(label=_("Photos after"), required=True)


class VerifyForm(ScopedForm):
    note = forms.CharField(label=_("Verification note"), widget=forms.Textarea, required=False)


class SendBackForm(ScopedForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea)


class ReopenForm(ScopedForm):
    reason = forms.CharField(label=_("Reason for re-opening"), widget=forms.Textarea)
    deadline = forms.DateField(label=_("New deadline"), widget=forms.DateInput, required=False)


class NoteForm(ScopedForm):
    text = forms.CharField(label=_("Progress note"), widget=forms.Textarea)
    photos = PhotosField(label=_("Photos"))


class RequireForm(ScopedForm):
    requirements = forms.CharField(label=_("Rectification requirements"), widget=forms.Textarea)
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput)


ACTION_FORMS = {"require": RequireForm, "plan": PlanForm, "rectify": RectifyForm, "verify": VerifyForm, "send_back": SendBackForm,
                "reopen": ReopenForm, "note": NoteForm}


class DeterminationForm(ScopedForm):
    """Offers only the rule sets the finding falls under (its date, the institution's kind)."""

    rule_set = forms.ModelChoiceField(RuleSet.objects.none(), label=_("Rule set"))
    elements = forms.ModelMultipleChoiceField(RuleElement.objects.none(), required=False,
                                              widget=forms.CheckboxSelectMultiple, label=_("Elements present"))
    crowded_place = forms.BooleanField(label=_("Crowded place"), required=False, initial=True)
    underground = forms.BooleanField(label=_("Underground crowded place"), required=False)
    # Not required here: "show the suggestion" posts without them; the service requires them to decide.
    decided_level = forms.ChoiceField(choices=HazardLevel.choices, label=_("Decision"), required=False)
    basis = forms.CharField(label=_("Basis of the decision"), widget=forms.Textarea, required=False)

    def __init__(self, *args, hazard, **kwargs):
        from .supervision import applicable_rule_sets

        super().__init__(*args, **kwargs)
        self.rule_sets = applicable_rule_sets(hazard)
        self.fields["rule_set"].queryset = self.rule_sets
        self.fields["elements"].queryset = RuleElement.objects.filter(rule_set__in=self.rule_sets)

    def clean(self):
        data = super().clean()
        rule_set = data.get("rule_set")
        if rule_set and any(e.rule_set_id != rule_set.pk for e in data.get("elements") or []):
            self.add_error("elements", _("The elements must belong to the chosen rule set."))
        return data


class SupervisionForm(ScopedForm):
    supervising_department = forms.ModelChoiceField(Organization.objects.all(), label=_("Supervising department"))
    responsible_party = forms.CharField(label=_("Responsible party"), max_length=200, required=False)
    responsible_person = forms.CharField(label=_("Responsible person"), max_length=50)
    responsible_phone = forms.CharField(label=_("Responsible person's phone"), max_length=30, required=False)
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput)
    measures = forms.CharField(label=_("Rectification measures"), widget=forms.Textarea)
    responsibility = forms.CharField(label=_("Responsibility"), widget=forms.Textarea)
    funds = forms.DecimalField(label=_("Funds (yuan)"), max_digits=12, decimal_places=2, required=False)
    emergency_plan = forms.CharField(label=_("Emergency plan"), widget=forms.Textarea)


class FollowUpForm(ScopedForm):
    visited_on = forms.DateField(label=_("Visited on"), widget=forms.DateInput)
    people = forms.CharField(label=pgettext_lazy("follow-up visit", "People"), max_length=200)
    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea)
    photos = PhotosField(label=_("Photos"))


class ExtensionForm(ScopedForm):
    new_deadline = forms.DateField(label=_("Requested deadline"), widget=forms.DateInput)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea)


class DecisionForm(ScopedForm):
    approve = forms.TypedChoiceField(choices=(("1", _("Approve")), ("0", _("Refuse"))), coerce=lambda v: v == "1",
                                     label=_("Decision"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea)


class DelistForm(ScopedForm):
    note = forms.CharField(label=_("Delisting note"), widget=forms.Textarea)


class DocumentForm(ScopedForm):
    kind = forms.ChoiceField(choices=DocumentKind.choices, label=_("Document kind"))
    institution = forms.ModelChoiceField(Institution.objects.all(), label=_("Recipient"))
    hazards = forms.ModelMultipleChoiceField(Hazard.objects.open().select_related("institution"), required=False,
                                             label=_("Hazards concerned"))
    supervision = forms.ModelChoiceField(Supervision.objects.listed(), required=False, label=_("Supervision"))
    requirements = forms.CharField(label=_("Requirements"), widget=forms.Textarea)
    deadline = forms.DateField(label=_("Deadline"), widget=forms.DateInput, required=False)


class RuleSetFileForm(ScopedForm):
    file = forms.FileField(label=_("Rule set file (JSON or Excel)"),
                           help_text=_("The format is described in the documentation (docs/hazards.md)."))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".json", ".xlsx")):
            raise forms.ValidationError(_("Upload a .json or .xlsx file."))
        if upload.size > 2 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return upload


class DismissSuggestionForm(ScopedForm):
    reason = forms.CharField(label=_("Reason for dismissing"), widget=forms.Textarea(attrs={"rows": 2}))


class NumberFormatForm(ScopedModelForm):
    """An administration's number format of one series (its administration is set by the service)."""

    class Meta:
        model = NumberFormat
        fields = ["series", "pattern"]
