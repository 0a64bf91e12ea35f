from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.forms import ScopedForm, ScopedModelForm
from apps.ledger.models import Institution

from .choices import InspectionKind
from .models import Campaign, CampaignTask, ChecklistTemplate, Checkpoint


class StartInspectionForm(ScopedForm):
    institution = forms.ModelChoiceField(Institution.objects.all(), label=_("Institution"))
    template = forms.ModelChoiceField(ChecklistTemplate.objects.filter(is_active=True), label=_("Checklist"))
    kind = forms.ChoiceField(choices=[c for c in InspectionKind.choices if c[0] != InspectionKind.SELF],
                             label=_("Kind"), required=False)
    campaign = forms.ModelChoiceField(Campaign.objects.all(), label=_("Campaign"), required=False)
    inspected_on = forms.DateField(label=_("Inspection date"), widget=forms.DateInput)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        if user is not None and user.is_institution_user:
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
        from apps.orgs.models import Organization

        self.fields["institution_kinds"].choices = InstitutionKind.choices
        user = self.user
        townships = Organization.objects.filter(kind="township")
        if user is not None and user.role == "township":
            townships = townships.filter(pk=user.organization_id)
        self.fields["townships"].queryset = townships


class CampaignTaskForm(ScopedModelForm):
    class Meta:
        model = CampaignTask
        fields = ["title", "assignee_org", "assignee_institution", "assignee_name", "due_on", "done_on"]
