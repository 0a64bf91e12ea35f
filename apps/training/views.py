import io
from collections import Counter, OrderedDict

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_protect

from apps.core import scope
from apps.core.attachments import attach, attachments_of
from apps.core.audit import acting_as
from apps.core.excel import Column, build_workbook, xlsx_response
from apps.core.imports import import_page
from apps.core.models import Attachment
from apps.core.policy import can
from apps.core.services import from_form
from apps.core.views import ObjectDetailView, ObjectListView, ScopedMixin
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from . import excel, services
from .choices import FireRole, ObligationStatus, PublicitySetting
from .filters import DrillFilter, PublicityFilter, SessionFilter, StaffFilter
from .forms import (
    BatchForm,
    DrillForm,
    DrillProblemForm,
    ImportForm,
    MaterialForm,
    PublicityForm,
    SessionForm,
    SignInForm,
    StaffForm,
)
from .models import Attendance, Drill, PublicityActivity, StaffMember, TrainingBatch, TrainingSession
from .obligations import evaluate


class CapabilityMixin:
    """A training capability (see training/policy.py); scope is checked first, so outsiders get 404."""

    training_capability = None

    def check_capability(self, obj=None):
        if self.training_capability and not can(self.request.user, self.training_capability):
            raise PermissionDenied(_("Your role may not do this."))


def _login_required(request):
    if not request.user.is_authenticated:
        return HttpResponseRedirect(reverse("login") + f"?next={request.path}")
    return None


# --- Staff register --------------------------------------------------------------------------


class StaffListView(ObjectListView):
    model = StaffMember
    filterset_class = StaffFilter
    template_name = "training/staff_list.html"
    sort_fields = {"name": ("sort_name", "institution__order", "institution__sort_name"),
                   "institution": ("institution__order", "institution__sort_name", "sort_name"),
                   "post": "post", "hired_on": "hired_on"}
    default_sort = "institution"
    export_filename = gettext_lazy("Staff register")

    @property
    def export_columns(self):
        return excel.staff_columns()

    def base_queryset(self):
        return StaffMember.objects.select_related("institution").annotate(inst_kind=F("institution__kind"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        ctx["people"] = {p.staff.pk: p for p in evaluate(ctx["object_list"], today)}
        ctx["can_edit"] = can(self.request.user, "training.staff_edit")
        ctx["can_import"] = can(self.request.user, "training.staff_import")
        return ctx


class StaffDetailView(ObjectDetailView):
    model = StaffMember
    template_name = "training/staff_detail.html"

    def base_queryset(self):
        return StaffMember.objects.select_related("institution")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["person"] = evaluate([self.object], timezone.localdate())[0]
        ctx["attendances"] = self.object.attendances.select_related("session").order_by("-session__date")
        ctx["can_edit"] = can(self.request.user, "training.staff_edit")
        return ctx


def staff_edit(request, pk=None):
    if (r := _login_required(request)) is not None:
        return r
    staff = get_object_or_404(StaffMember.objects.visible_to(request.user), pk=pk) if pk else None
    if not can(request.user, "training.staff_edit"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {"institution": request.GET.get("institution")} if not staff else None
    form = StaffForm(request.POST or None, instance=staff, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        old_roles = set(staff.roles or []) if staff else set()
        obj = services.save_staff(form.save(commit=False), request.user,
                                  changed_on=form.cleaned_data.get("role_changed_on"), old_roles=old_roles)
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(obj.get_absolute_url())
    return render(request, "training/staff_form.html", {"form": form, "object": staff})


class StaffImportView(ScopedMixin, View):
    model = StaffMember

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not can(request.user, "training.staff_import"):
            raise PermissionDenied(_("Your role may not do this."))
        return super().dispatch(request, *args, **kwargs)

    def get(self, request):
        if request.GET.get("template"):
            content = build_workbook(_("Staff"), excel.staff_columns(request.user), [], template=True)
            return xlsx_response(_("Staff import template"), content)
        return render(request, "training/staff_import.html", {"form": ImportForm(user=request.user)})

    def post(self, request):
        return import_page(request, run=excel.import_staff, template="training/staff_import.html", context={},
                           success_url=reverse("training:staff_list"),
                           success_message=_("Imported %(n)d staff members."))


# --- Compliance ------------------------------------------------------------------------------


def _current_staff(user, today):
    return (StaffMember.objects.visible_to(user).filter(hired_on__lte=today)
            .filter(Q(left_on__isnull=True) | Q(left_on__gt=today))
            .select_related("institution__township").annotate(inst_kind=F("institution__kind")))


def _summarise(people, key, name):
    rows = OrderedDict()
    for p in people:
        k = key(p)
        row = rows.setdefault(k, {"id": k, "name": name(p), "staff": 0, "done": 0, "due": 0, "overdue": 0})
        row["staff"] += 1
        row[{"done": "done", "due": "due", "overdue": "overdue"}[p.status]] += 1
    for row in rows.values():
        row["rate"] = round(100 * row["done"] / row["staff"], 1) if row["staff"] else 0
    from apps.core.pinyin import sort_key

    return sorted(rows.values(), key=lambda r: sort_key(r["name"]))


def compliance(request, level="district", pk=None):
    """Training compliance of the district (by township), a township (by institution) or an institution."""
    if (r := _login_required(request)) is not None:
        return r
    today = timezone.localdate()
    staff = _current_staff(request.user, today)
    township = institution = None
    if level == "township":
        township = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk, kind=OrgKind.TOWNSHIP)
        if not Institution.objects.visible_to(request.user).filter(township=township).exists():
            raise Http404
        staff = staff.filter(institution__township=township)
    elif level == "institution":
        institution = get_object_or_404(Institution.objects.visible_to(request.user).select_related("township"),
                                        pk=pk)
        staff = staff.filter(institution=institution)
    status = request.GET.get("status")
    people = evaluate(staff.order_by("institution__order", "institution__sort_name", "sort_name"), today)
    if level == "district":
        rows = _summarise(people, lambda p: p.staff.institution.township_id,
                          lambda p: p.staff.institution.township.name)
        label = _("Township")
    elif level == "township":
        rows = _summarise(people, lambda p: p.staff.institution_id, lambda p: p.staff.institution.name)
        label = _("Institution")
    else:
        rows, label = None, None
    totals = Counter(p.status for p in people)
    if status in ObligationStatus.values:
        people = [p for p in people if p.status == status]
    if request.GET.get("export") == "xlsx":
        if rows is not None and not request.GET.get("people"):
            content = build_workbook(_("Training compliance"), excel.summary_columns(label), rows)
        else:
            content = build_workbook(_("Training compliance"), excel.person_columns(), people)
        return xlsx_response(_("Training compliance"), content, request.user)
    # The heading names the part of the tree the figures cover: never "the district" to a home or a township.
    if institution is not None:
        scope_label = institution.name
    elif township is not None:
        scope_label = township.name
    elif request.user.institution_id:
        scope_label = request.user.institution.name
    elif scope.sees_all(request.user):
        scope_label = _("District")
    else:
        scope_label = request.user.org_label or _("District")
    return render(request, "training/compliance.html", {
        "scope_label": scope_label,
        "level": level, "township": township, "institution": institution, "rows": rows, "people": people,
        "totals": totals, "status": status, "row_label": label, "today": today,
        "statuses": ObligationStatus.choices,
    })


# --- Training sessions -----------------------------------------------------------------------


class SessionListView(ObjectListView):
    model = TrainingSession
    filterset_class = SessionFilter
    template_name = "training/session_list.html"
    sort_fields = {"date": "date", "topic": "topic", "category": "category"}
    default_sort = "-date"
    export_filename = gettext_lazy("Training sessions")
    export_columns = [
        Column(gettext_lazy("ID"), "pk", width=8), Column(gettext_lazy("Date"), "date"), Column(gettext_lazy("Category"), "get_category_display"),
        Column(gettext_lazy("Topic"), "topic", width=30), Column(gettext_lazy("Organised by"), "get_organiser_level_display"),
        Column(gettext_lazy("Institution"), "institution.name", width=24), Column(gettext_lazy("Hours"), lambda s: float(s.hours)),
        Column(gettext_lazy("Trainer"), "trainer"), Column(gettext_lazy("Place"), "place", width=24),
        Column(gettext_lazy("Attendance"), lambda s: s.n_attended),
    ]

    def base_queryset(self):
        return TrainingSession.objects.select_related("institution", "organizer_org").annotate(
            n_attended=Count("attendances"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_record"] = can(self.request.user, "training.record")
        return ctx


def _session(request, pk):
    return get_object_or_404(TrainingSession.objects.visible_to(request.user).select_related(
        "institution", "organizer_org", "batch"), pk=pk)


_may_manage_session = services.may_manage_session


def session_detail(request, pk):
    if (r := _login_required(request)) is not None:
        return r
    session = _session(request, pk)
    manage = _may_manage_session(request.user, session)
    attended = list(session.attendances.visible_to(request.user).select_related("staff__institution")
                    .order_by("staff__institution__order", "staff__institution__sort_name", "staff__sort_name"))
    attended_ids = {a.staff_id for a in attended}
    candidates = []
    if manage:
        candidates = [s for s in services.attendable_staff(session).visible_to(request.user)
                      .select_related("institution").order_by("institution__order", "institution__sort_name", "sort_name")[:1000]
                      if s.pk not in attended_ids]
    from apps.core.models import AuditEntry

    sign_url = request.build_absolute_uri(reverse("training:sign_in", args=[services.sign_token(session)]))
    return render(request, "training/session_detail.html", {
        "object": session, "attended": attended, "candidates": candidates, "manage": manage,
        "materials": attachments_of(session), "sign_url": sign_url,
        "history": AuditEntry.objects.for_object(session).select_related("content_type")[:50],
        "material_form": MaterialForm(user=request.user),
    })


def session_edit(request, pk=None):
    if (r := _login_required(request)) is not None:
        return r
    session = _session(request, pk) if pk else None
    if session is not None and not _may_manage_session(request.user, session):
        raise PermissionDenied(_("Your role may not do this."))
    if not can(request.user, "training.record"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = None
    if session is None:
        initial = {"institution": request.GET.get("institution"), "batch": request.GET.get("batch")}
    form = SessionForm(request.POST or None, instance=session, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        obj = services.save_session(request.user, *from_form(form))
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(obj.get_absolute_url())
    return render(request, "training/session_form.html", {"form": form, "object": session})


def session_attendance(request, pk):
    """Record attendance for many people in one request (a constant number of queries)."""
    if (r := _login_required(request)) is not None:
        return r
    session = _session(request, pk)
    if request.method != "POST":
        return HttpResponseRedirect(session.get_absolute_url())
    if not _may_manage_session(request.user, session):
        raise PermissionDenied(_("Your role may not do this."))
    remove = request.POST.get("remove")
    if remove:
        services.remove_attendance(session, remove, request.user)
        messages.success(request, _("Removed."))
        return HttpResponseRedirect(session.get_absolute_url())
    ids = [i for i in request.POST.getlist("staff") if str(i).isdigit()]
    if not ids:
        messages.error(request, _("Tick the people who attended."))
        return HttpResponseRedirect(session.get_absolute_url())
    try:
        n = services.record_attendance(session, ids, request.user)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return HttpResponseRedirect(session.get_absolute_url())
    messages.success(request, _("%(n)d people recorded as present.") % {"n": n})
    return HttpResponseRedirect(session.get_absolute_url())


def session_material(request, pk):
    if (r := _login_required(request)) is not None:
        return r
    session = _session(request, pk)
    if request.method != "POST":
        return HttpResponseRedirect(session.get_absolute_url())
    if not _may_manage_session(request.user, session):
        raise PermissionDenied(_("Your role may not do this."))
    form = MaterialForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        try:
            with acting_as(request.user):
                attach(session, form.cleaned_data["file"], kind=Attachment.Kind.MATERIAL, user=request.user,
                       images_only=False)
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, _("Choose a file."))
    return HttpResponseRedirect(session.get_absolute_url())


def session_qr(request, pk):
    """The session's sign-in QR code as a PNG (open it on the projector)."""
    if (r := _login_required(request)) is not None:
        return r
    session = _session(request, pk)
    import qrcode

    url = request.build_absolute_uri(reverse("training:sign_in", args=[services.sign_token(session)]))
    buf = io.BytesIO()
    qrcode.make(url).save(buf, format="PNG")
    return HttpResponse(buf.getvalue(), content_type="image/png")


@csrf_protect
def sign_in(request, token):
    """The phone page behind the QR code: no login; the person gives name and phone."""
    session = services.session_for_token(token)
    if session is None:
        raise Http404
    form = SignInForm(request.POST or None)
    result = None
    ok = False
    if request.method == "POST" and form.is_valid():
        staff, result = services.sign_in(session, form.cleaned_data["name"], form.cleaned_data["phone"])
        ok = staff is not None
    return render(request, "training/sign_in.html", {"session": session, "form": form, "result": result,
                                                       "ok": ok, "open": services.sign_in_open(session)},
                  status=200 if ok or result is None else 400)


# --- Batches ---------------------------------------------------------------------------------


class BatchListView(ObjectListView):
    model = TrainingBatch
    template_name = "training/batch_list.html"

    def base_queryset(self):
        return TrainingBatch.objects.select_related("organizer_org").annotate(
            n_institutions=Count("institutions", distinct=True), n_sessions=Count("sessions", distinct=True)
        ).order_by("-created", "-id")  # an aggregate drops Meta.ordering: pages must stay stable

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_batch"] = can(self.request.user, "training.batch")
        return ctx


def batch_invitees(batch, user):
    """(invited staff, attended ids) for a batch, limited to what the user may see."""
    roles = batch.invited_roles or [FireRole.RESPONSIBLE, FireRole.MANAGER]
    role_q = Q()
    for r in roles:
        role_q |= Q(roles__icontains=r)
    invited = list(StaffMember.objects.visible_to(user).filter(institution__in=batch.institutions.values("pk"))
                   .filter(Q(left_on__isnull=True)).filter(role_q).select_related("institution")
                   .order_by("institution__order", "institution__sort_name", "sort_name"))
    attended = set(Attendance.objects.filter(session__batch=batch, staff__in=[s.pk for s in invited])
                   .values_list("staff_id", flat=True))
    return invited, attended


def batch_detail(request, pk):
    if (r := _login_required(request)) is not None:
        return r
    batch = get_object_or_404(TrainingBatch.objects.visible_to(request.user).select_related("organizer_org"), pk=pk)
    invited, attended = batch_invitees(batch, request.user)
    missing = [s for s in invited if s.pk not in attended]
    if request.GET.get("export") == "xlsx":
        cols = [Column(_("Institution"), "institution.name", width=28), Column(_("Name"), "name"),
                Column(_("Post"), "post"), Column(_("Phone"), "phone"),
                Column(_("Fire-safety roles"), excel._roles_text, width=30)]
        return xlsx_response(_("Not yet attended"), build_workbook(_("Not yet attended"), cols, missing),
                             request.user)
    return render(request, "training/batch_detail.html", {
        "object": batch, "invited": invited, "attended": attended, "missing": missing,
        "sessions": batch.sessions.visible_to(request.user).annotate(n=Count("attendances")),
        "institutions": batch.institutions.visible_to(request.user),
        "can_batch": can(request.user, "training.batch"),
    })


def batch_create(request):
    if (r := _login_required(request)) is not None:
        return r
    if not can(request.user, "training.batch"):
        raise PermissionDenied(_("Your role may not do this."))
    form = BatchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        batch = services.save_batch(request.user, *from_form(form))
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(batch.get_absolute_url())
    return render(request, "training/batch_form.html", {"form": form})


# --- Drills ----------------------------------------------------------------------------------


class DrillListView(ObjectListView):
    model = Drill
    filterset_class = DrillFilter
    template_name = "training/drill_list.html"
    sort_fields = {"date": "date", "institution": "institution__name", "scenario": "scenario"}
    default_sort = "-date"
    export_filename = gettext_lazy("Drills")
    export_columns = [
        Column(gettext_lazy("ID"), "pk", width=8), Column(gettext_lazy("Date"), "date"), Column(gettext_lazy("Institution"), "institution.name", width=28),
        Column(gettext_lazy("Kind"), "get_kind_display"), Column(gettext_lazy("Scenario"), "get_scenario_display"),
        Column(gettext_lazy("Participants"), "participants"), Column(gettext_lazy("Residents evacuated"), "residents_evacuated"),
        Column(gettext_lazy("Bedridden residents evacuated"), "bedridden_evacuated"),
        Column(gettext_lazy("Evacuation time (seconds)"), "evacuation_seconds"), Column(gettext_lazy("Problems"), lambda d: d.n_problems),
    ]

    def base_queryset(self):
        return Drill.objects.select_related("institution").annotate(n_problems=Count("problems"))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_record"] = can(self.request.user, "training.record")
        return ctx


class DrillDetailView(ObjectDetailView):
    model = Drill
    template_name = "training/drill_detail.html"

    def base_queryset(self):
        return Drill.objects.select_related("institution", "major_hazard")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["problems"] = self.object.problems.select_related("hazard")
        ctx["photos"] = attachments_of(self.object)
        ctx["can_record"] = can(self.request.user, "training.record")
        ctx["problem_form"] = DrillProblemForm(user=self.request.user)
        return ctx


def drill_edit(request, pk=None):
    if (r := _login_required(request)) is not None:
        return r
    drill = get_object_or_404(Drill.objects.visible_to(request.user), pk=pk) if pk else None
    if not can(request.user, "training.record"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = None if drill else {"institution": request.GET.get("institution"),
                                  "major_hazard": request.GET.get("hazard")}
    form = DrillForm(request.POST or None, instance=drill, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        photos = [(f, Attachment.Kind.EVIDENCE, True) for f in request.FILES.getlist("photos")]
        try:
            obj = services.save_record(request.user, "training.record", *from_form(form), attachments=photos)
        except ValidationError as exc:
            form.add_error(None, "；".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(obj.get_absolute_url())
    return render(request, "training/drill_form.html", {"form": form, "object": drill})


def drill_problem(request, pk):
    if (r := _login_required(request)) is not None:
        return r
    drill = get_object_or_404(Drill.objects.visible_to(request.user).select_related("institution"), pk=pk)
    if request.method != "POST":
        return HttpResponseRedirect(drill.get_absolute_url())
    if not can(request.user, "training.record"):
        raise PermissionDenied(_("Your role may not do this."))
    form = DrillProblemForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.add_drill_problem(drill, request.user, form.cleaned_data["description"],
                                       to_hazard=form.cleaned_data["to_hazard"],
                                       category=form.cleaned_data["category"] or "management")
            messages.success(request, _("Saved."))
        except ValidationError as exc:
            messages.error(request, "；".join(exc.messages))
    else:
        messages.error(request, _("Describe the problem."))
    return HttpResponseRedirect(drill.get_absolute_url())


# --- Publicity -------------------------------------------------------------------------------


class PublicityListView(ObjectListView):
    model = PublicityActivity
    filterset_class = PublicityFilter
    template_name = "training/publicity_list.html"
    sort_fields = {"date": "date", "setting": "setting", "audience": "audience"}
    default_sort = "-date"
    export_filename = gettext_lazy("Publicity")
    export_columns = [
        Column(gettext_lazy("ID"), "pk", width=8), Column(gettext_lazy("Date"), "date"), Column(gettext_lazy("Setting"), "get_setting_display"),
        Column(gettext_lazy("Township"), "township.name"), Column(gettext_lazy("Institution"), "institution.name", width=24),
        Column(gettext_lazy("Place"), "place", width=24), Column(gettext_lazy("Theme"), "theme", width=30),
        Column(gettext_lazy("Audience size"), "audience"),
    ]

    def base_queryset(self):
        return PublicityActivity.objects.select_related("township", "institution")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_record"] = can(self.request.user, "training.record")
        return ctx


class PublicityDetailView(ObjectDetailView):
    model = PublicityActivity
    template_name = "training/publicity_detail.html"

    def base_queryset(self):
        return PublicityActivity.objects.select_related("township", "institution", "organizer_org")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["files"] = attachments_of(self.object)
        ctx["can_record"] = can(self.request.user, "training.record")
        return ctx


def publicity_edit(request, pk=None):
    if (r := _login_required(request)) is not None:
        return r
    obj = get_object_or_404(PublicityActivity.objects.visible_to(request.user), pk=pk) if pk else None
    if not can(request.user, "training.record"):
        raise PermissionDenied(_("Your role may not do this."))
    form = PublicityForm(request.POST or None, instance=obj, user=request.user)
    if request.method == "POST" and form.is_valid():
        item, m2m = from_form(form)
        if obj is None and request.user.organization_id and not item.institution_id:
            item.organizer_org_id = request.user.organization_id
        files = [(f, Attachment.Kind.EVIDENCE, True) for f in request.FILES.getlist("photos")]
        files += [(f, Attachment.Kind.MATERIAL, False) for f in request.FILES.getlist("materials")]
        try:
            item = services.save_record(request.user, "training.record", item, m2m, attachments=files)
        except ValidationError as exc:
            form.add_error(None, "；".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(item.get_absolute_url())
    return render(request, "training/publicity_form.html", {"form": form, "object": obj})


def publicity_stats(request):
    """Counts of publicity by setting, township and month (table and chart)."""
    if (r := _login_required(request)) is not None:
        return r
    base = PublicityActivity.objects.visible_to(request.user)
    filterset = PublicityFilter(request.GET or None, queryset=base, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else base
    settings_ = dict(PublicitySetting.choices)
    by_setting = list(qs.values("setting").annotate(n=Count("id")).order_by("setting"))
    for row in by_setting:
        row["label"] = str(settings_.get(row["setting"], row["setting"]))
    by_township = list(qs.values("township__name").annotate(n=Count("id")).order_by("township__name"))
    months = list(qs.annotate(month=TruncMonth("date")).values("month", "setting").annotate(n=Count("id"))
                  .order_by("month"))
    month_keys = sorted({m["month"].strftime("%Y-%m") for m in months if m["month"]})
    series = []
    for code, label in PublicitySetting.choices:
        counts = {m["month"].strftime("%Y-%m"): m["n"] for m in months if m["setting"] == code and m["month"]}
        series.append({"name": str(label), "data": [counts.get(k, 0) for k in month_keys]})
    table = [{"month": k, "counts": [s["data"][i] for s in series], "total": sum(s["data"][i] for s in series)}
             for i, k in enumerate(month_keys)]
    return render(request, "training/publicity_stats.html", {
        "filterset": filterset, "by_setting": by_setting, "by_township": by_township,
        "chart": {"months": month_keys, "series": series}, "table": table,
        "setting_labels": [str(label) for _c, label in PublicitySetting.choices],
    })
