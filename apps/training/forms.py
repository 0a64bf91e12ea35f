from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core import scope
from apps.core.forms import ScopedForm, ScopedModelForm
from apps.core.imports import ImportForm  # noqa: F401 - one upload form for every import
from apps.ledger.models import Institution

from .choices import FireRole, OrganiserLevel, PublicitySetting
from .models import Drill, PublicityActivity, StaffMember, TrainingBatch, TrainingSession


class InstitutionFixedMixin:
    """An institution user records for their own institution only."""

    def _fix_institution(self, user):
        own = scope.own_institution_id(user)
        if "institution" in self.fields and own:
            self.fields["institution"].initial = own
            if self.instance is None or not getattr(self.instance, "institution_id", None):
                self.initial["institution"] = own
            self.fields["institution"].disabled = True
            self.fields["institution"].required = True


class StaffForm(InstitutionFixedMixin, ScopedModelForm):
    roles = forms.MultipleChoiceField(label=_("Fire-safety roles"), choices=FireRole.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
    role_changed_on = forms.DateField(label=_("Date the responsible person or manager changed"), required=False,
                                      widget=forms.DateInput())

    class Meta:
        model = StaffMember
        fields = ["institution", "name", "post", "phone", "hired_on", "post_changed_on", "left_on", "roles",
                  "certificate_no", "certificate_expires"]
        widgets = {"hired_on": forms.DateInput(), "post_changed_on": forms.DateInput(),
                   "left_on": forms.DateInput(), "certificate_expires": forms.DateInput()}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self._fix_institution(user)
        self._style()


class SessionForm(InstitutionFixedMixin, ScopedModelForm):
    class Meta:
        model = TrainingSession
        fields = ["organiser_level", "institution", "batch", "category", "topic", "date", "hours", "trainer",
                  "place", "notes"]
        widgets = {"date": forms.DateInput()}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self.fields["institution"].required = False
        if scope.own_institution_id(user):
            self.fields["organiser_level"].choices = [(OrganiserLevel.INSTITUTION, OrganiserLevel.INSTITUTION.label)]
            self.fields["organiser_level"].initial = OrganiserLevel.INSTITUTION
            self.fields["batch"].disabled = True
        elif scope.reaches_through(user, "township_id"):  # a township office organises at its level
            self.fields["organiser_level"].choices = [
                (v, label) for v, label in OrganiserLevel.choices if v != OrganiserLevel.BUREAU]
        self._fix_institution(user)
        self._style()


class AttendanceForm(ScopedForm):
    staff = forms.ModelMultipleChoiceField(label=_("Attended"), queryset=StaffMember.objects.all(),
                                           widget=forms.CheckboxSelectMultiple)


class DrillForm(InstitutionFixedMixin, ScopedModelForm):
    class Meta:
        model = Drill
        fields = ["institution", "date", "kind", "scenario", "scenario_detail", "participants",
                  "residents_evacuated", "bedridden_evacuated", "evacuation_seconds", "summary", "major_hazard"]
        widgets = {"date": forms.DateInput(), "scenario_detail": forms.Textarea(attrs={"rows": 2}),
                   "summary": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self._fix_institution(user)
        self._style()

    def clean(self):
        data = super().clean()
        hazard, inst = data.get("major_hazard"), data.get("institution")
        if hazard and inst and hazard.institution_id != inst.pk:
            self.add_error("major_hazard", _("The hazard belongs to another institution."))
        return data


class DrillProblemForm(ScopedForm):
    description = forms.CharField(label=_("Problem found"), widget=forms.Textarea(attrs={"rows": 2}))
    to_hazard = forms.BooleanField(label=_("Register it as a hazard"), required=False, initial=True)
    category = forms.ChoiceField(label=_("Hazard category"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from apps.hazards.choices import HazardCategory

        self.fields["category"].choices = HazardCategory.choices
        self.fields["category"].initial = HazardCategory.MANAGEMENT


class PublicityForm(InstitutionFixedMixin, ScopedModelForm):
    class Meta:
        model = PublicityActivity
        fields = ["setting", "township", "institution", "date", "place", "theme", "audience", "notes"]
        widgets = {"date": forms.DateInput()}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if scope.own_institution_id(user):
            self.fields["setting"].initial = PublicitySetting.RESIDENTS
        self.fields["township"].queryset = scope.township_choices(user)
        self._fix_institution(user)
        self._style()


class BatchForm(ScopedModelForm):
    institutions = forms.ModelMultipleChoiceField(label=_("Institutions"), queryset=Institution.objects.all(),
                                                  widget=forms.SelectMultiple(attrs={"size": 12}))
    invited_roles = forms.MultipleChoiceField(
        label=_("Invited roles"), choices=[(FireRole.RESPONSIBLE, FireRole.RESPONSIBLE.label),
                                           (FireRole.MANAGER, FireRole.MANAGER.label),
                                           (FireRole.CONTROL_ROOM, FireRole.CONTROL_ROOM.label)],
        initial=[FireRole.RESPONSIBLE, FireRole.MANAGER], widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = TrainingBatch
        fields = ["name", "category", "institutions", "invited_roles", "deadline", "notes"]
        widgets = {"deadline": forms.DateInput()}

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        self._style()


class MaterialForm(ScopedForm):
    file = forms.FileField(label=_("File"))




class SignInForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50,
                           widget=forms.TextInput(attrs={"class": "form-control form-control-lg"}))
    phone = forms.CharField(label=_("Phone"), max_length=30,
                            widget=forms.TextInput(attrs={"class": "form-control form-control-lg",
                                                          "inputmode": "tel"}))
