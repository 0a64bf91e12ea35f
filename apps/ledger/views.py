from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from apps.core.excel import build_workbook, xlsx_response
from apps.core.imports import import_page
from apps.core.services import errors_to_form
from apps.core.views import ObjectCreateView, ObjectDetailView, ObjectListView, ObjectUpdateView, ScopedMixin

from . import excel
from .filters import InstitutionFilter
from .forms import BuildingForm, ImportForm, InstitutionForm
from .models import Building, Institution
from .services import save_building, save_institution


class InstitutionListView(ObjectListView):
    model = Institution
    filterset_class = InstitutionFilter
    template_name = "ledger/institution_list.html"
    sort_fields = {"name": ("order", "sort_name"), "kind": "kind",
                   "township": ("township__order", "township__sort_name", "order", "sort_name"), "beds": "beds",
                   "residents": "residents", "updated": "updated"}
    default_sort = "name"
    export_filename = gettext_lazy("Institution ledger")

    @property
    def export_columns(self):
        return excel.columns()

    def base_queryset(self):
        return Institution.objects.select_related("township")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_create"] = self.request.user.can("ledger.create")
        ctx["can_import"] = self.request.user.can("ledger.import")
        return ctx


class InstitutionDetailView(ObjectDetailView):
    model = Institution
    template_name = "ledger/institution_detail.html"

    def base_queryset(self):
        return Institution.objects.select_related("township", "operator_unit")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        obj = self.object
        ctx["buildings"] = obj.buildings.all()
        ctx["person_changes"] = obj.person_changes.select_related("recorded_by")[:20]
        ctx["can_edit"] = self.request.user.can("ledger.edit")
        return ctx


class InstitutionSaveMixin:
    model = Institution
    form_class = InstitutionForm
    template_name = "ledger/institution_form.html"

    def form_valid(self, form):
        try:
            self.object = save_institution(form.save(commit=False), self.request.user,
                                           changed_on=form.cleaned_data.get("person_changed_on"))
        except ValidationError as exc:
            errors_to_form(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, _("Saved."))
        return HttpResponseRedirect(self.object.get_absolute_url())


class InstitutionCreateView(InstitutionSaveMixin, ObjectCreateView):
    capability = "ledger.create"


class InstitutionUpdateView(InstitutionSaveMixin, ObjectUpdateView):
    capability = "ledger.edit"


def _institution_for_edit(request, pk):
    institution = get_object_or_404(Institution.objects.visible_to(request.user), pk=pk)
    if not request.user.can("ledger.edit"):
        raise PermissionDenied(_("Your role may not do this."))
    return institution


def building_edit(request, pk, building_pk=None):
    if not request.user.is_authenticated:
        return HttpResponseRedirect(reverse("login") + f"?next={request.path}")
    institution = _institution_for_edit(request, pk)
    building = get_object_or_404(Building, pk=building_pk, institution=institution) if building_pk else None
    form = BuildingForm(request.POST or None, instance=building, user=request.user)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        obj.institution = institution
        save_building(request.user, obj)
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(institution.get_absolute_url() + "#buildings")
    return render(request, "ledger/building_form.html", {"form": form, "institution": institution,
                                                         "building": building})


class ImportView(ScopedMixin, View):
    """Upload an .xlsx; nothing is saved unless every row is valid."""

    model = Institution
    capability = "ledger.import"
    template_name = "ledger/institution_import.html"

    def get(self, request, *args, **kwargs):
        if request.GET.get("template"):
            content = build_workbook(_("Institutions"), excel.columns(), [], template=True)
            return xlsx_response(_("Institution import template"), content)
        return render(request, self.template_name, {"form": ImportForm(user=request.user)})

    def post(self, request, *args, **kwargs):
        return import_page(request, run=excel.import_institutions, template=self.template_name, context={},
                           success_url=reverse("ledger:institution_list"),
                           success_message=_("Imported %(n)d institutions."))


def township_summary(queryset):
    """Institutions per township in a queryset (for headers and the cockpit)."""
    return queryset.values("township__name").annotate(n=Count("id")).order_by("township__name")
