"""Pages: checklists, inspections (phone-friendly fill-in), enforcement log, checkpoints with QR
labels, patrols and missed patrols, compliance, campaigns and festival security."""
import datetime
import io
import json
import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from apps.core import policy, scope
from apps.core.excel import Column, build_workbook, xlsx_response
from apps.core.services import from_form
from apps.core.views import ObjectDetailView, ObjectListView
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from . import services
from .choices import ChecklistPurpose, ItemResult
from .compliance import compliance, missed_patrols
from .filters import (
    CampaignFilter,
    CheckpointFilter,
    EnforcementFilter,
    InspectionFilter,
    PatrolFilter,
    TemplateFilter,
)
from .forms import (
    CampaignForm,
    CampaignTaskForm,
    CheckpointForm,
    DutyShiftForm,
    InspectionSlotForm,
    SecurityPeriodForm,
    StartInspectionForm,
    StartPatrolForm,
    VisitForm,
)
from .models import (
    Campaign,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    Inspection,
    InspectionItem,
    PatrolRound,
    PatrolVisit,
    SecurityPeriod,
)
from .progress import campaign_progress, period_status, progress_area


def _error_text(exc):
    if hasattr(exc, "message_dict"):
        return "；".join(str(m) for msgs in exc.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in exc.messages)


# --- checklists -------------------------------------------------------------------------------

class TemplateListView(ObjectListView):
    model = ChecklistTemplate
    filterset_class = TemplateFilter
    template_name = "inspections/template_list.html"

    def base_queryset(self):
        return ChecklistTemplate.objects.annotate(item_count=Count("items")).order_by("purpose", "code", "-version")


class TemplateDetailView(ObjectDetailView):
    model = ChecklistTemplate
    template_name = "inspections/template_detail.html"


# --- inspections ------------------------------------------------------------------------------

INSPECTION_COLUMNS = [
    Column(gettext_lazy("Date"), "inspected_on", width=12),
    Column(gettext_lazy("Institution"), "institution.name", width=28),
    Column(gettext_lazy("Township"), "institution.township.name"),
    Column(gettext_lazy("Kind"), lambda o: o.get_kind_display()),
    Column(gettext_lazy("Inspecting office"), lambda o: o.office.name if o.office else ""),
    Column(gettext_lazy("Checklist"), "template.name", width=28),
    Column(gettext_lazy("Inspector"), "inspector_name"),
    Column(gettext_lazy("Responsible person"), "responsible_name"),
    Column(gettext_lazy("Failed items"), "failed_count", width=10),
    Column(pgettext_lazy("count", "Hazards"), "hazard_count", width=10),
    Column(gettext_lazy("State"), lambda o: o.get_state_display()),
]


class InspectionListView(ObjectListView):
    model = Inspection
    filterset_class = InspectionFilter
    template_name = "inspections/inspection_list.html"
    sort_fields = {"date": "inspected_on", "institution": "institution__sort_name", "kind": "kind"}
    default_sort = "-date"
    export_columns = INSPECTION_COLUMNS
    export_filename = gettext_lazy("Inspections")

    def base_queryset(self):
        return Inspection.objects.select_related("institution__township", "office", "template").annotate(
            failed_count=Count("items", filter=Q(items__result=ItemResult.FAIL)),
            hazard_count=Count("items", filter=Q(items__hazard__isnull=False)))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_start"] = self.request.user.can("inspection.record")
        return ctx


class EnforcementLogView(ObjectListView):
    """An office's enforcement acts (its inspections), filterable by office and date, exportable."""

    model = Inspection
    filterset_class = EnforcementFilter
    template_name = "inspections/enforcement_log.html"
    sort_fields = {"date": "inspected_on", "institution": "institution__sort_name", "office": "office__name"}
    default_sort = "-date"
    export_columns = INSPECTION_COLUMNS
    export_filename = gettext_lazy("Enforcement log")

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not scope.acts_for_office(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def base_queryset(self):
        return Inspection.objects.enforcement().select_related("institution__township", "office", "template").annotate(
            failed_count=Count("items", filter=Q(items__result=ItemResult.FAIL)),
            hazard_count=Count("items", filter=Q(items__hazard__isnull=False)))

    def office_patrols(self):
        """The other enforcement acts of this app: patrols run by offices (stationed patrols), same filters."""
        qs = (PatrolRound.objects.visible_to(self.request.user).filter(office__isnull=False)
              .select_related("institution__township", "office")
              .annotate(problem_count=Count("visits", filter=Q(visits__ok=False))).order_by("-started_at", "-id"))
        data = self.filterset.form.cleaned_data if self.filterset is not None and self.filterset.is_bound \
            and self.filterset.is_valid() else {}
        if data.get("office"):
            qs = qs.filter(office=data["office"])
        if data.get("township"):
            qs = qs.filter(institution__township=data["township"])
        if data.get("institution"):
            qs = qs.filter(institution=data["institution"])
        if data.get("since"):
            qs = qs.filter(started_at__date__gte=data["since"])
        if data.get("until"):
            qs = qs.filter(started_at__date__lte=data["until"])
        return qs

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx":
            inspections = list(self.get_queryset())
            acts = [(i.inspected_on, i.get_kind_display(), i.institution, i.office, i.inspector_name,
                     _("%(failed)d failed items, %(hazards)d hazards") % {"failed": i.failed_count,
                                                                            "hazards": i.hazard_count})
                    for i in inspections]
            acts += [(timezone.localdate(p.started_at), _("Stationed patrol"), p.institution, p.office,
                      p.patroller_name, _("%(n)d problems") % {"n": p.problem_count})
                     for p in self.office_patrols()[:5000]]
            acts.sort(key=lambda a: a[0], reverse=True)
            cols = [Column(_("Date"), lambda a: a[0], width=12), Column(_("Act"), lambda a: a[1]),
                    Column(_("Institution"), lambda a: a[2].name, width=28),
                    Column(_("Township"), lambda a: a[2].township.name),
                    Column(_("Inspecting office"), lambda a: a[3].name), Column(_("Inspector"), lambda a: a[4]),
                    Column(_("Result"), lambda a: a[5], width=24)]
            return xlsx_response(_("Enforcement log"), build_workbook(_("Enforcement log"), cols, acts),
                                 request.user)
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["office_patrols"] = self.office_patrols()[:50]
        return ctx


@login_required
def inspection_start(request):
    user = request.user
    if not user.can("inspection.record"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {"inspected_on": timezone.localdate()}
    if scope.own_institution_id(user):
        initial["institution"] = scope.own_institution_id(user)
    elif request.GET.get("institution"):
        initial["institution"] = request.GET["institution"]
    if request.GET.get("campaign"):
        initial["campaign"] = request.GET["campaign"]
    form = StartInspectionForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inspection = services.start_inspection(
                user, data["institution"], data["template"], kind=data.get("kind") or None,
                inspected_on=data["inspected_on"], campaign=data.get("campaign"))
        except ValidationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            return HttpResponseRedirect(reverse("inspections:inspection_fill", args=[inspection.pk]))
    return render(request, "inspections/inspection_start.html", {"form": form})


def _items(inspection):
    return list(inspection.items.select_related("hazard"))


class InspectionDetailView(ObjectDetailView):
    model = Inspection
    template_name = "inspections/inspection_detail.html"

    def base_queryset(self):
        return Inspection.objects.select_related("institution__township", "office", "template", "campaign")

    def get_context_data(self, **kwargs):
        from apps.core.models import Attachment

        ctx = super().get_context_data(**kwargs)
        items = _items(self.object)
        photos = {}
        from django.contrib.contenttypes.models import ContentType

        ct = ContentType.objects.get_for_model(InspectionItem)
        for a in Attachment.objects.filter(content_type=ct, object_id__in=[str(i.pk) for i in items]):
            photos.setdefault(a.object_id, []).append(a)
        for item in items:
            item.photos = photos.get(str(item.pk), [])
        ctx["items"] = items
        ctx["can_fill"] = not self.object.is_submitted and self.request.user.can("inspection.submit", self.object)
        return ctx


@login_required
def inspection_fill(request, pk):
    """The one-column, phone-friendly form: a result per item, note, photo, fixed-on-spot; then both sign."""
    inspection = get_object_or_404(Inspection.objects.visible_to(request.user).select_related(
        "institution", "template"), pk=pk)
    user = request.user
    if not user.can("inspection.submit", inspection):
        raise PermissionDenied("；".join(str(r) for r in policy.refusals(user, "inspection.submit", inspection)))
    if inspection.is_submitted:
        return HttpResponseRedirect(inspection.get_absolute_url())
    items = _items(inspection)
    errors = {}
    values = {}
    kept = {}
    if request.method == "POST":
        results = {}
        for item in items:
            kept[item.pk] = _kept_names(user, request.POST.getlist(f"kept-{item.pk}"))
            results[item.pk] = {
                "result": request.POST.get(f"result-{item.pk}", ""),
                "note": request.POST.get(f"note-{item.pk}", ""),
                "fixed_on_spot": request.POST.get(f"fixed-{item.pk}") == "on",
                "level": request.POST.get(f"level-{item.pk}") or "general",
                "photos": [_kept_file(n) for n in kept[item.pk]] + request.FILES.getlist(f"photo-{item.pk}"),
            }
        values = results
        try:
            services.submit_inspection(
                user, inspection, results, inspector_name=request.POST.get("inspector_name", ""),
                responsible_name=request.POST.get("responsible_name", ""), summary=request.POST.get("summary", ""))
        except PermissionDenied:
            raise
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                errors = {k: "；".join(str(m) for m in v) for k, v in exc.message_dict.items()}
            else:
                errors = {"__all__": "；".join(str(m) for m in exc.messages)}
            messages.error(request, _("Nothing was saved: complete the marked items."))
            for item in items:  # the photos that were fine stay for the next try (a file input cannot)
                kept[item.pk] = kept[item.pk] + _keep_valid(user, request.FILES.getlist(f"photo-{item.pk}"))
        else:
            _drop_kept(name for names in kept.values() for name in names)
            # Every failed item registers a hazard; one fixed on the spot is registered and closed at once.
            failed = [r for r in results.values() if r["result"] == ItemResult.FAIL]
            spot = sum(1 for r in failed if r["fixed_on_spot"])
            if spot:
                messages.success(request, _("Inspection submitted; %(n)d hazards registered (%(spot)d fixed on the "
                                            "spot and closed).") % {"n": len(failed), "spot": spot})
            else:
                messages.success(request, _("Inspection submitted; %(n)d hazards registered.") % {"n": len(failed)})
            return HttpResponseRedirect(inspection.get_absolute_url())
    for n, item in enumerate(items, start=1):
        item.number = n
        item.error = errors.get(f"item-{item.pk}")
        item.value = values.get(item.pk, {})
        item.kept = [(name, os.path.basename(name)) for name in kept.get(item.pk, [])]
    return render(request, "inspections/inspection_fill.html", {
        "inspection": inspection, "items": items, "errors": errors, "post": request.POST,
        "general_error": errors.get("__all__"), "marked": [i for i in items if i.error],
    }, status=400 if errors else 200)


# Photos of a submission refused for another reason wait here (never served by any URL) until the
# next try, so a bad photo never costs the good ones; the name carries the user, checked on use.
KEPT_DIR = "pending-uploads"


def _keep_valid(user, files):
    import uuid

    from django.core.files.storage import default_storage

    from apps.core.uploads import validate_image

    names = []
    for f in files:
        try:
            validate_image(f)
        except ValidationError:
            continue
        f.seek(0)
        base = os.path.basename(f.name or "photo")[-80:] or "photo"
        names.append(default_storage.save(f"{KEPT_DIR}/{user.pk}/{uuid.uuid4().hex}/{base}", f))
    return names


def _kept_names(user, names):
    """The kept photos named in a form that are this user's (anything else is ignored)."""
    from django.core.files.storage import default_storage

    prefix = f"{KEPT_DIR}/{user.pk}/"
    return [n for n in names if n.startswith(prefix) and ".." not in n and default_storage.exists(n)]


def _kept_file(name):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    with default_storage.open(name, "rb") as fh:
        return ContentFile(fh.read(), name=os.path.basename(name))


def _drop_kept(names):
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


# --- checkpoints and patrols ------------------------------------------------------------------

class CheckpointListView(ObjectListView):
    model = Checkpoint
    filterset_class = CheckpointFilter
    template_name = "inspections/checkpoint_list.html"

    def base_queryset(self):
        return Checkpoint.objects.select_related("institution__township").order_by("institution__order", "institution__sort_name", "order", "id")


@login_required
def checkpoint_create(request):
    user = request.user
    if not user.can("inspection.record"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {"institution": scope.own_institution_id(user)} if scope.own_institution_id(user) else {}
    form = CheckpointForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.create_checkpoint(user, data["institution"], name=data["name"], location=data["location"],
                                   order=data["order"] or 0)
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(reverse("inspections:checkpoint_list"))
    return render(request, "inspections/simple_form.html", {"form": form, "title": _("New checkpoint")})


def _checkpoint_url(request, checkpoint):
    return request.build_absolute_uri(reverse("inspections:checkpoint_detail", args=[checkpoint.pk]))


def _qr_svg(url):
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    return buf.getvalue().decode()


@login_required
def checkpoint_qr(request, pk):
    checkpoint = get_object_or_404(Checkpoint.objects.visible_to(request.user), pk=pk)
    return HttpResponse(_qr_svg(_checkpoint_url(request, checkpoint)), content_type="image/svg+xml")


@login_required
def checkpoint_labels(request):
    """Printable QR labels of an institution's checkpoints."""
    qs = Checkpoint.objects.visible_to(request.user).filter(is_active=True).select_related("institution")
    institution_id = request.GET.get("institution") or request.user.institution_id
    if not institution_id:
        raise Http404
    qs = qs.filter(institution_id=institution_id)
    labels = [(c, _qr_svg(_checkpoint_url(request, c))) for c in qs]
    if not labels and not Institution.objects.visible_to(request.user).filter(pk=institution_id).exists():
        raise Http404
    return render(request, "inspections/checkpoint_labels.html", {"labels": labels})


@login_required
def checkpoint_detail(request, pk):
    """What the QR label opens on a phone: record passing this checkpoint in the current round."""
    checkpoint = get_object_or_404(Checkpoint.objects.visible_to(request.user).select_related("institution"), pk=pk)
    user = request.user
    now = timezone.now()
    current = (PatrolRound.objects.filter(institution=checkpoint.institution, patroller=user,
                                          started_at__gte=now - datetime.timedelta(hours=2))
               .order_by("-started_at").first())
    form = VisitForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                patrol = current or services.start_patrol(user, checkpoint.institution)
                services.record_visit(user, patrol, checkpoint, ok=data["ok"], finding=data["finding"],
                                      photo=data.get("photo"), open_hazard=data["open_hazard"])
            except ValidationError as exc:
                form.add_error(None, _error_text(exc))
            else:
                messages.success(request, _("Checkpoint recorded at %(t)s.") % {
                    "t": timezone.localtime(now).strftime("%H:%M")})
                return HttpResponseRedirect(patrol.get_absolute_url())
    recent = checkpoint.visits.select_related("round").order_by("-visited_at")[:10]
    return render(request, "inspections/checkpoint_detail.html", {
        "checkpoint": checkpoint, "form": form, "current": current, "recent": recent,
        "can_patrol": user.can("inspection.record")})


class PatrolListView(ObjectListView):
    model = PatrolRound
    filterset_class = PatrolFilter
    template_name = "inspections/patrol_list.html"
    sort_fields = {"started": "started_at", "institution": "institution__sort_name"}
    default_sort = "-started"
    export_filename = gettext_lazy("Patrols")
    export_columns = [
        Column(gettext_lazy("Started at"), "started_at", width=18),
        Column(gettext_lazy("Institution"), "institution.name", width=28),
        Column(gettext_lazy("Patroller"), "patroller_name"),
        Column(gettext_lazy("Checkpoints"), "visit_count"),
        Column(gettext_lazy("Problems"), "problem_count"),
    ]

    def base_queryset(self):
        return PatrolRound.objects.select_related("institution__township").annotate(
            visit_count=Count("visits"), problem_count=Count("visits", filter=Q(visits__ok=False)))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_patrol"] = self.request.user.can("inspection.record")
        return ctx


class PatrolDetailView(ObjectDetailView):
    model = PatrolRound
    template_name = "inspections/patrol_detail.html"

    def base_queryset(self):
        return PatrolRound.objects.select_related("institution")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["visits"] = self.object.visits.select_related("checkpoint", "hazard")
        ctx["checkpoints"] = self.object.institution.checkpoints.filter(is_active=True)
        return ctx


@login_required
def patrol_start(request):
    user = request.user
    if not user.can("inspection.record"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {"patroller_name": user.display_name}
    if scope.own_institution_id(user):
        initial["institution"] = scope.own_institution_id(user)
    form = StartPatrolForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        patrol = services.start_patrol(user, data["institution"], patroller_name=data["patroller_name"],
                                       supervisor_name=data["supervisor_name"])
        return HttpResponseRedirect(patrol.get_absolute_url())
    return render(request, "inspections/simple_form.html", {"form": form, "title": _("Start a patrol round")})


def _scoped_institutions(request):
    qs = Institution.objects.visible_to(request.user).filter(is_active=True).select_related("township")
    township = request.GET.get("township")
    if township and township.isdigit():
        qs = qs.filter(township_id=township)
    inst = request.GET.get("institution")
    if inst and inst.isdigit():
        qs = qs.filter(pk=inst)
    return qs


@login_required
def missed_patrol_list(request):
    """Missed patrols over the last 30 days (or ?since=), derived from the patrol records alone."""
    today = timezone.localdate()
    try:
        since = datetime.date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        since = today - datetime.timedelta(days=30)
    since = max(since, today - datetime.timedelta(days=92))
    institutions = list(_scoped_institutions(request))
    found = missed_patrols(institutions, since, today)
    by_id = {i.pk: i for i in institutions}
    rows = sorted((m for misses in found.values() for m in misses), key=lambda m: (m.day, m.institution_id),
                  reverse=True)
    for m in rows:
        m.institution = by_id[m.institution_id]
    if request.GET.get("export") == "xlsx":
        cols = [
            Column(_("Date"), lambda m: m.day),
            Column(_("Institution"), lambda m: m.institution.name, width=28),
            Column(_("Township"), lambda m: m.institution.township.name),
            Column(_("What is missing"), _missed_text, width=40),
        ]
        return xlsx_response(_("Missed patrols"), build_workbook(_("Missed patrols"), cols, rows), request.user)
    from django.core.paginator import Paginator

    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(request, "inspections/missed_patrols.html", {
        "rows": page.object_list, "page_obj": page, "paginator": page.paginator, "total": len(rows),
        "since": since, "today": today, "querystring": params.urlencode(),
        "townships": Organization.objects.visible_to(request.user).filter(kind=OrgKind.TOWNSHIP)})


def _missed_text(m):
    if m.kind == "night":
        return _("Night patrol gap %(a)s – %(b)s (%(h)s h)") % {
            "a": timezone.localtime(m.gap_from).strftime("%m-%d %H:%M"),
            "b": timezone.localtime(m.gap_to).strftime("%m-%d %H:%M"), "h": m.gap_hours}
    return _("Too few patrol rounds this day (%(n)s)") % {"n": m.rounds}


@login_required
def compliance_page(request):
    """Per institution (of a township or the district): patrols, inspections and self-assessments up to date?"""
    today = timezone.localdate()
    institutions = list(_scoped_institutions(request).order_by("township__order", "township__sort_name", "order", "sort_name"))
    data = compliance(institutions, today)
    rows = [(inst, data[inst.pk]) for inst in institutions]
    summary = {}
    for inst, row in rows:
        s = summary.setdefault(inst.township, {"n": 0, "patrol": 0, "inspection": 0, "self": 0})
        s["n"] += 1
        s["patrol"] += not row["patrol_ok"]
        s["inspection"] += not row["inspection_ok"]
        s["self"] += not row["self_assessment_ok"]
    if request.GET.get("export") == "xlsx":
        cols = [
            Column(_("Institution"), lambda r: r[0].name, width=28),
            Column(_("Township"), lambda r: r[0].township.name),
            Column(_("Patrols up to date"), lambda r: _("Yes") if r[1]["patrol_ok"] else _("No")),
            Column(_("Missed patrols (30 days)"), lambda r: r[1]["missed_patrols_30d"]),
            Column(_("Last inspection"), lambda r: r[1]["last_inspection"]),
            Column(_("Inspection up to date"), lambda r: _("Yes") if r[1]["inspection_ok"] else _("No")),
            Column(_("Last self-assessment"), lambda r: r[1]["last_self_assessment"]),
            Column(_("Self-assessment up to date"), lambda r: _("Yes") if r[1]["self_assessment_ok"] else _("No")),
        ]
        return xlsx_response(_("Frequency compliance"), build_workbook(_("Frequency compliance"), cols, rows),
                             request.user)
    return render(request, "inspections/compliance.html", {
        "rows": rows, "summary": summary, "today": today,
        "townships": Organization.objects.visible_to(request.user).filter(kind=OrgKind.TOWNSHIP),
        "querystring": request.GET.urlencode()})


# --- campaigns --------------------------------------------------------------------------------

class CampaignListView(ObjectListView):
    model = Campaign
    filterset_class = CampaignFilter
    template_name = "inspections/campaign_list.html"

    def base_queryset(self):
        return Campaign.objects.select_related("owner_org").prefetch_related("townships")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_create"] = self.request.user.can("campaign.run")
        ctx["today"] = timezone.localdate()
        return ctx


def _campaign(request, pk):
    return get_object_or_404(Campaign.objects.visible_to(request.user).select_related("owner_org", "template"), pk=pk)


def _progress_area(request):
    """``?area=<id>``: the part of the tree (a district, a township) the progress is narrowed to; 404
    for one the user does not see."""
    try:
        return progress_area(request.user, request.GET.get("area"))
    except LookupError:
        raise Http404 from None


class CampaignDetailView(ObjectDetailView):
    model = Campaign
    template_name = "inspections/campaign_detail.html"

    def base_queryset(self):
        return Campaign.objects.select_related("owner_org", "template").prefetch_related("townships")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        today = timezone.localdate()
        ctx["progress"] = campaign_progress(self.object, self.request.user, today,
                                            _progress_area(self.request))
        ctx["stages"] = self.object.stages.all()
        ctx["tasks"] = self.object.tasks.visible_to(self.request.user).select_related(
            "assignee_org", "assignee_institution")
        ctx["today"] = today
        ctx["can_edit"] = self.request.user.can("campaign.run", self.object)
        ctx["task_form"] = CampaignTaskForm(user=self.request.user) if ctx["can_edit"] else None
        return ctx


@login_required
def campaign_report(request, pk):
    """The campaign's progress per unit as an Excel workbook."""
    campaign = _campaign(request, pk)
    progress = campaign_progress(campaign, request.user, timezone.localdate(), _progress_area(request))
    cols = [
        Column(_("Institution"), lambda r: r["institution"].name, width=28),
        Column(_("Township"), lambda r: r["institution"].township.name),
        Column(_("Person in charge"), lambda r: r["responsible"]),
        Column(_("Inspected"), lambda r: _("Yes") if r["inspected"] else _("No")),
        Column(_("Hazards found"), lambda r: r["found"]),
        Column(_("Rectified"), lambda r: r["rectified"]),
        Column(pgettext("hazard state", "Closed"), lambda r: r["closed"]),
        Column(_("Overdue"), lambda r: r["overdue"]),
    ]
    return xlsx_response(campaign.name, build_workbook(campaign.name, cols, progress["rows"]), request.user)


@login_required
def campaign_create(request):
    user = request.user
    if not user.can("campaign.run"):
        raise PermissionDenied(_("Your role may not do this."))
    form = CampaignForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        campaign = services.save_drive(user, *from_form(form))
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(campaign.get_absolute_url())
    return render(request, "inspections/simple_form.html", {"form": form, "title": _("New campaign")})


@login_required
def campaign_task_add(request, pk):
    campaign = _campaign(request, pk)
    user = request.user
    if not user.can("campaign.run", campaign):
        raise PermissionDenied(_("Your role may not do this."))
    form = CampaignTaskForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        task = form.save(commit=False)
        task.campaign = campaign
        services.save_drive_row(user, task)
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(campaign.get_absolute_url() + "#tasks")
    return render(request, "inspections/simple_form.html", {"form": form, "title": _("New task")},
                  status=400 if request.method == "POST" else 200)


# --- festival security ------------------------------------------------------------------------

class PeriodListView(ObjectListView):
    model = SecurityPeriod
    template_name = "inspections/period_list.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_create"] = self.request.user.can("campaign.run")
        return ctx

    def base_queryset(self):
        return SecurityPeriod.objects.select_related("owner_org").annotate(
            slot_count=Count("slots", distinct=True), shift_count=Count("shifts", distinct=True)).order_by("-starts_at", "-id")


class PeriodDetailView(ObjectDetailView):
    """The status board of a security period: slots done or missed, who is on duty now."""

    model = SecurityPeriod
    template_name = "inspections/period_detail.html"

    def base_queryset(self):
        return SecurityPeriod.objects.select_related("owner_org", "readiness_template").prefetch_related(
            Prefetch("key_places", queryset=Institution.objects.select_related("township")))

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx.update(period_status(self.object, self.request.user, timezone.now()))
        # Board rows inherit the scope: the key places shown are those the user may open.
        visible = set(Institution.objects.visible_to(self.request.user).values_list("pk", flat=True))
        ctx["key_places"] = [p for p in self.object.key_places.all() if p.pk in visible]
        user = self.request.user
        ctx["can_edit"] = user.can("campaign.run", self.object)
        return ctx


@login_required
def visit_redirect(request, pk):
    visit = get_object_or_404(PatrolVisit.objects.visible_to(request.user), pk=pk)
    return HttpResponseRedirect(visit.get_absolute_url())


def _owner_check(user, obj):
    if not user.can("campaign.run", obj):
        raise PermissionDenied(_("Your role may not do this."))


@login_required
def period_create(request):
    user = request.user
    if not user.can("campaign.run"):
        raise PermissionDenied(_("Your role may not do this."))
    form = SecurityPeriodForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        period = services.save_drive(user, *from_form(form))
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(period.get_absolute_url())
    return render(request, "inspections/simple_form.html", {"form": form, "title": _("New security period")},
                  status=400 if request.method == "POST" else 200)


def _period_child_add(request, pk, form_class, title):
    period = get_object_or_404(SecurityPeriod.objects.visible_to(request.user), pk=pk)
    _owner_check(request.user, period)
    form = form_class(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        row, m2m = from_form(form)
        row.period = period
        services.save_drive_row(request.user, row, m2m)
        messages.success(request, _("Saved."))
        return HttpResponseRedirect(period.get_absolute_url())
    return render(request, "inspections/simple_form.html", {"form": form, "title": title},
                  status=400 if request.method == "POST" else 200)


@login_required
def period_shift_add(request, pk):
    return _period_child_add(request, pk, DutyShiftForm, _("New duty shift"))


@login_required
def period_slot_add(request, pk):
    return _period_child_add(request, pk, InspectionSlotForm, _("New inspection slot"))


# --- patrols without signal: an installable page that records offline and sends later ----------

OFFLINE_INSTITUTIONS_MAX = 50


def _offline_data(user):
    """What the phone needs to patrol and inspect without signal: the institutions this user patrols, with
    their checkpoints in order (an institution user: their own; an office: what it sees), and the
    checklists in use (the day's patrol checklist, the self-inspection checklists) with their items."""
    institutions = Institution.objects.visible_to(user).filter(is_active=True)
    own = scope.own_institution_id(user)
    if own:  # their own, with or without checkpoints (the checklist needs none)
        institutions = institutions.filter(pk=own)
    else:
        institutions = institutions.filter(checkpoints__is_active=True).distinct()
    institutions = institutions.order_by("order", "sort_name").prefetch_related(
        Prefetch("checkpoints", Checkpoint.objects.filter(is_active=True).order_by("order", "id")))
    # The day's patrol checklist and the checklists of a self-inspection (or an office's inspection):
    # every checklist in use, each marked with its purpose.
    checklists = list(ChecklistTemplate.objects.filter(is_active=True)
                      .prefetch_related(Prefetch("items", ChecklistItem.objects.order_by("order", "id")))
                      .order_by("code", "-version"))
    rows = []
    for inst in institutions[:OFFLINE_INSTITUTIONS_MAX]:
        if not user.can("inspection.record", inst):
            continue
        rows.append({"id": inst.pk, "name": inst.name, "checkpoints": [
            {"id": c.pk, "name": c.name, "location": c.location} for c in inst.checkpoints.all()],
            "checklists": [t.pk for t in checklists if not t.institution_kinds or inst.kind in t.institution_kinds]})
    return {
        "institutions": rows,
        "checklists": [{"id": t.pk, "name": t.name, "patrol": t.purpose == ChecklistPurpose.PATROL, "items": [
            {"id": i.pk, "text": i.text, "category": i.get_category_display(), "guidance": i.guidance}
            for i in t.items.all()]} for t in checklists],
        "today": timezone.localdate().isoformat(),
        "inspection_url": reverse("inspection-offline"),
        "own_institution": scope.own_institution_id(user),
        "patroller": user.display_name,
        "user": user.pk,
        "loaded_at": timezone.now().isoformat(),
        "round_url": reverse("patrol-offline-round"),
        "visit_url": reverse("patrol-offline-visit"),
    }


@login_required
def patrol_offline(request):
    """The offline patrol app: works from the phone's cache, keeps records in IndexedDB, sends them in order."""
    if not request.user.can("inspection.record"):
        raise PermissionDenied(_("Your role may not do this."))
    response = render(request, "inspections/patrol_offline.html", {"offline_data": _offline_data(request.user)})
    response["Cache-Control"] = "no-cache, private"
    return response


@login_required
def patrol_offline_worker(request):
    """The service worker of the offline patrol app (its scope is the app's own path)."""
    from django.templatetags.static import static

    assets = [static(p) for p in (
        "vendor/bootstrap/bootstrap.min.css", "vendor/bootstrap-icons/bootstrap-icons.min.css",
        "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2", "vendor/bootstrap-icons/fonts/bootstrap-icons.woff",
        "css/app.css", "vendor/bootstrap/bootstrap.bundle.min.js", "vendor/htmx/htmx.min.js", "js/app.js",
        "js/offline-patrol.js", "img/favicon.svg", "img/app-192.png", "img/app-512.png")]
    response = render(request, "inspections/patrol_offline_sw.js", {
        "assets_json": json.dumps(assets), "page_json": json.dumps(reverse("inspections:patrol_offline")),
        "version": _asset_version(assets)}, content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response


def _asset_version(assets):
    import hashlib

    from django.contrib.staticfiles import finders
    from django.contrib.staticfiles.storage import staticfiles_storage

    digest = hashlib.sha256()
    for url in assets:
        digest.update(url.encode())
    path = finders.find("js/offline-patrol.js") or staticfiles_storage.path("js/offline-patrol.js")
    with open(path, "rb") as fh:
        digest.update(fh.read())
    return digest.hexdigest()[:12]


@login_required
def patrol_offline_manifest(request):
    from django.http import JsonResponse
    from django.templatetags.static import static

    page = reverse("inspections:patrol_offline")
    return JsonResponse({
        "name": _("Patrol without signal"), "short_name": _("Patrol"), "start_url": page, "scope": page,
        "display": "standalone", "background_color": "#f5f6f8", "theme_color": "#8e1b16", "lang": "zh-CN",
        "icons": [{"src": static("img/app-192.png"), "sizes": "192x192", "type": "image/png"},
                  {"src": static("img/app-512.png"), "sizes": "512x512", "type": "image/png"}],
    }, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})


# ---------------------------------------------------------------- frequencies by level


def _frequency_in_force(rules, path):
    """The frequency rules in force at ``path``: per institution kind (and for every kind)."""
    from apps.orgs.rules import effective

    from .models import FrequencyRule

    active = [r for r in rules if r.is_active]
    found = set()
    for kind in {r.institution_kind for r in active} | {""}:
        rule = effective([r for r in active if r.institution_kind in ("", kind)], path, looser=FrequencyRule.looser,
                         order=lambda r: (1 if r.institution_kind else 0, r.version))
        if rule is not None:
            found.add(rule.pk)
    return found


def _hours(value):
    return _("every %(n)s h") % {"n": value} if value else "—"


def _frequency_spec():
    from apps.ledger.choices import InstitutionKind
    from apps.orgs.rulepages import RulePage

    from .forms import FrequencyRuleForm
    from .models import FrequencyRule

    kinds = dict(InstitutionKind.choices)
    return RulePage(
        model=FrequencyRule, capability="frequency.override", save=services.save_frequency_rule,
        form=FrequencyRuleForm, slug="frequency", title=gettext_lazy("Inspection frequencies"),
        add_title=gettext_lazy("Add an inspection frequency"), empty=gettext_lazy("No frequency rule is defined."),
        url_list="inspections:frequency_list", url_create="inspections:frequency_create",
        url_edit="inspections:frequency_edit", in_force=_frequency_in_force,
        order_by=("institution_kind", "administration__path", "-version", "pk"),
        columns=[(gettext_lazy("Institution kind"), lambda r: kinds.get(r.institution_kind) or _("Every kind")),
                 (gettext_lazy("Version"), lambda r: r.version),
                 (gettext_lazy("Patrol rounds per day"), lambda r: r.daily_patrols),
                 (gettext_lazy("Night patrol"), lambda r: _hours(r.night_interval_hours)),
                 (gettext_lazy("Inspection at least every (days)"), lambda r: r.inspection_interval_days),
                 (gettext_lazy("Self-assessment at least every (days)"), lambda r: r.self_assessment_interval_days),
                 (gettext_lazy("Basis"), lambda r: r.basis)])


def frequency_list(request):
    """Inspection frequencies by level: the rules the user sees, their source (来源), those in force."""
    from apps.orgs.rulepages import rule_list

    return rule_list(_frequency_spec())(request)


def frequency_edit(request, pk=None):
    """Add an inspection frequency at the user's own administration, or change one of its own."""
    from apps.orgs.rulepages import rule_edit

    return rule_edit(_frequency_spec())(request, pk)
