import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from apps.core.excel import Column
from apps.core.policy import can
from apps.core.views import ObjectDetailView, ObjectListView
from apps.ledger.models import Institution

from . import district, outcomes
from .filters import AssessmentFilter, FireIncidentFilter, InstitutionRiskFilter
from .forms import AccountabilityForm, AssessmentStartForm, AssessmentTextForm, FireIncidentForm
from .models import (
    Assessment,
    AssessmentAnswer,
    AssessmentQuestion,
    FireIncident,
    InstitutionRisk,
    RiskSnapshot,
)
from .risk import risk_of
from .services import add_accountability, record_incident, save_assessment, sign_assessment, start_assessment

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _errors(request, exc):
    for msgs in (exc.message_dict.values() if hasattr(exc, "error_dict") else [exc.messages]):
        for m in msgs:
            messages.error(request, m)


# ---------------------------------------------------------------- risk
class RiskListView(ObjectListView):
    model = InstitutionRisk
    filterset_class = InstitutionRiskFilter
    template_name = "assessment/risk_list.html"
    sort_fields = {"score": "score", "name": "institution__sort_name", "level": "level"}
    default_sort = "-score"
    export_filename = gettext_lazy("Risk levels")

    def base_queryset(self):
        return InstitutionRisk.objects.select_related("institution__township").defer("factors")

    @property
    def export_columns(self):
        return [Column(_("Institution"), "institution.name", width=30),
                Column(_("Township"), "institution.township.name"),
                Column(_("Level"), "get_level_display"), Column(_("Score"), lambda r: float(r.score))]


@login_required
def risk_detail(request, pk):
    institution = get_object_or_404(Institution.objects.visible_to(request.user).select_related("township"), pk=pk)
    result = risk_of(institution)
    since = timezone.localdate() - datetime.timedelta(days=365)
    history = list(RiskSnapshot.objects.filter(institution=institution, day__gte=since).order_by("day")
                   .values("day", "score", "level"))
    return render(request, "assessment/risk_detail.html", {
        "institution": institution, "risk": result,
        "history": history,
        "chart": {"days": [h["day"].isoformat() for h in history], "scores": [float(h["score"]) for h in history]},
    })


# ---------------------------------------------------------------- incidents
class IncidentListView(ObjectListView):
    model = FireIncident
    filterset_class = FireIncidentFilter
    template_name = "assessment/incident_list.html"
    sort_fields = {"time": "occurred_at", "deaths": "deaths", "loss": "direct_loss"}
    default_sort = "-time"
    export_filename = gettext_lazy("Fire incidents")

    def base_queryset(self):
        return FireIncident.objects.select_related("institution__township")

    @property
    def export_columns(self):
        return [Column(_("Time"), "occurred_at", width=20), Column(_("Institution"), "institution.name", width=30),
                Column(_("Township"), "institution.township.name"), Column(_("Place"), "place", width=24),
                Column(_("Cause"), "get_cause_display"), Column(_("Deaths"), "deaths"),
                Column(_("Injuries"), "injuries"), Column(_("Direct loss (yuan)"), lambda i: float(i.direct_loss)),
                Column(_("How it was handled"), "handling", width=40)]

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_record"] = can(self.request.user, "incident.record")
        return ctx


class IncidentDetailView(ObjectDetailView):
    model = FireIncident
    template_name = "assessment/incident_detail.html"

    def base_queryset(self):
        return FireIncident.objects.select_related("institution__township", "reported_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["actions"] = self.object.actions.all()
        ctx["can_account"] = can(self.request.user, "incident.accountability")
        ctx["can_edit"] = can(self.request.user, "incident.record")
        ctx["form"] = kwargs.get("form") or AccountabilityForm(user=self.request.user)
        return ctx

    def post(self, request, *args, **kwargs):
        self.object = self.get_object()
        if not can(request.user, "incident.accountability"):
            raise PermissionDenied(_("Your role may not do this."))
        form = AccountabilityForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                add_accountability(request.user, self.object, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Saved."))
                return HttpResponseRedirect(self.object.get_absolute_url() + "#accountability")
        return self.render_to_response(self.get_context_data(form=form))


@login_required
def incident_edit(request, pk=None):
    incident = get_object_or_404(FireIncident.objects.visible_to(request.user), pk=pk) if pk else None
    if not can(request.user, "incident.record"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {}
    if incident is None and request.GET.get("institution"):
        initial["institution"] = request.GET["institution"]
    form = FireIncidentForm(request.POST or None, instance=incident, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            obj = record_incident(request.user, form.save(commit=False))
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(obj.get_absolute_url())
    return render(request, "assessment/incident_form.html", {"form": form, "incident": incident})


@login_required
def outcome_figures(request):
    """W1: fires, deaths, injuries, losses and major hazards by month, in the user's scope."""
    months = max(3, min(36, int(request.GET.get("months") or 12))) if str(request.GET.get("months", "12")).isdigit() else 12
    data = outcomes.monthly_outcomes(request.user, timezone.localdate(), months)
    return render(request, "assessment/outcomes.html", {"rows": data, "months": months})


# ---------------------------------------------------------------- assessments
class AssessmentListView(ObjectListView):
    model = Assessment
    filterset_class = AssessmentFilter
    template_name = "assessment/assessment_list.html"
    sort_fields = {"date": "assessed_on", "score": "score", "name": "institution__sort_name"}
    default_sort = "-date"

    def base_queryset(self):
        return Assessment.objects.select_related("institution__township").defer("indicators")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_edit"] = can(self.request.user, "assessment.edit")
        return ctx


@login_required
def assessment_start(request):
    if not can(request.user, "assessment.edit"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {"period": str(timezone.localdate().year)}
    if request.GET.get("institution"):
        initial["institution"] = request.GET["institution"]
    if request.user.institution_id:
        initial["institution"] = request.user.institution_id
    form = AssessmentStartForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            obj = start_assessment(request.user, form.cleaned_data["institution"], form.cleaned_data["period"])
        except ValidationError as exc:
            _errors(request, exc)
        else:
            return HttpResponseRedirect(obj.get_absolute_url())
    return render(request, "assessment/assessment_start.html", {"form": form})


class AssessmentDetailView(ObjectDetailView):
    model = Assessment
    template_name = "assessment/assessment_detail.html"

    def base_queryset(self):
        return Assessment.objects.select_related("institution__township", "signed_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.object
        answers = {a.question_id: a for a in obj.answers.all()}
        ctx["questions"] = [(q, answers.get(q.pk)) for q in AssessmentQuestion.objects.filter(is_active=True)]
        ctx["answer_choices"] = AssessmentAnswer.Answer.choices
        ctx["can_edit"] = not obj.is_signed and can(self.request.user, "assessment.edit")
        ctx["can_sign"] = not obj.is_signed and can(self.request.user, "assessment.sign")
        ctx["text_form"] = kwargs.get("text_form") or AssessmentTextForm(user=self.request.user, initial={
            "problems": obj.problems, "weak_links": obj.weak_links, "countermeasures": obj.countermeasures})
        top = sorted((f for f in obj.indicators if f.get("contribution", 0) > 0), key=lambda f: -f["contribution"])
        ctx["top_indicators"] = top[:8]
        return ctx

    def post(self, request, *args, **kwargs):
        self.object = obj = self.get_object()
        if request.POST.get("action") == "sign":
            try:
                sign_assessment(request.user, obj)
            except PermissionDenied:
                raise
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Assessment signed."))
            return HttpResponseRedirect(obj.get_absolute_url())
        form = AssessmentTextForm(request.POST, user=request.user)
        answers = {}
        for key, value in request.POST.items():
            if key.startswith("q_") and value:
                try:
                    answers[int(key[2:])] = (value, request.POST.get(f"note_{key[2:]}", ""))
                except ValueError:
                    continue
        if form.is_valid():
            try:
                save_assessment(request.user, obj, answers=answers, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Saved."))
                return HttpResponseRedirect(obj.get_absolute_url())
        return self.render_to_response(self.get_context_data(text_form=form))


# ---------------------------------------------------------------- district report
@login_required
def district_report(request):
    if not can(request.user, "reports.view"):
        raise PermissionDenied(_("Your role may not do this."))
    report = district.high_risk_areas(request.user)
    if request.GET.get("format") == "docx":
        content = district.report_docx(report, request.user)
        response = HttpResponse(content, content_type=DOCX)
        response["Content-Disposition"] = f'attachment; filename="district-assessment-{timezone.localdate():%Y%m%d}.docx"'
        from apps.core.audit import record_download

        record_download(f"district-assessment-{timezone.localdate():%Y%m%d}.docx")
        return response
    return render(request, "assessment/district_report.html", {"report": report})


def _redirect_back(request, default):
    return HttpResponseRedirect(request.META.get("HTTP_REFERER") or reverse(default))


@require_POST
@login_required
def refresh_scope(request):
    """Recompute the risk of every institution in the user's scope (bulk, constant queries)."""
    from .risk import refresh_risk

    ids = list(Institution.objects.visible_to(request.user).values_list("pk", flat=True))
    refresh_risk(ids)
    messages.success(request, _("Risk recomputed for %(n)d institutions.") % {"n": len(ids)})
    return _redirect_back(request, "assessment:risk_list")


# ---------------------------------------------------------------- risk models by level


def _risk_in_force(rules, path):
    from apps.orgs.rules import effective

    from .models import RiskModel

    model = effective([r for r in rules if r.is_active], path, looser=RiskModel.looser)
    return {model.pk} if model is not None else set()


def _risk_model_spec():
    from apps.orgs.rulepages import RulePage

    from .forms import RiskModelForm
    from .models import RiskModel
    from .services import save_risk_model

    return RulePage(
        model=RiskModel, capability="riskmodel.override", save=save_risk_model, form=RiskModelForm,
        slug="risk-model", title=gettext_lazy("Risk models"), add_title=gettext_lazy("Add a risk model"),
        empty=gettext_lazy("No risk model is defined."), url_list="assessment:risk_model_list",
        url_create="assessment:risk_model_create", url_edit="assessment:risk_model_edit", in_force=_risk_in_force,
        order_by=("administration__path", "-is_active", "-created", "pk"),
        intro=gettext_lazy("A new model of an administration starts with the factors of the model in force there."),
        columns=[(gettext_lazy("Name"), lambda r: r.name), (gettext_lazy("Version"), lambda r: r.version),
                 (gettext_lazy("Major (red) from score"), lambda r: r.red_from),
                 (gettext_lazy("Large (orange) from score"), lambda r: r.orange_from),
                 (gettext_lazy("General (yellow) from score"), lambda r: r.yellow_from)])


def risk_model_list(request):
    """Risk models by level: the models the user sees, their source (来源), the one in force."""
    from apps.orgs.rulepages import rule_list

    return rule_list(_risk_model_spec())(request)


def risk_model_edit(request, pk=None):
    """Add a risk model at the user's own administration, or change one of its own."""
    from apps.orgs.rulepages import rule_edit

    return rule_edit(_risk_model_spec())(request, pk)
