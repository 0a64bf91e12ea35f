"""Pages of the hazard module: register, detail with the loop's actions, the three lists,
listed supervision, determination and official documents. Views are thin: services act."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.core import policy
from apps.core.attachments import attachments_of
from apps.core.excel import Column
from apps.core.files import serve_file
from apps.core.models import Attachment
from apps.core.services import errors_to_form
from apps.core.views import ObjectDetailView, ObjectListView

from . import documents as docs
from . import forms as f
from . import rules, services
from . import supervision as sup
from .choices import OPEN_STATES, HazardState, SupervisionState
from .filters import DocumentFilter, HazardFilter, ListFilter, SuggestionFilter, SupervisionFilter
from .models import DeadlineExtension, Hazard, HazardSuggestion, OfficialDocument, RuleSet, Supervision

LISTED = Supervision.objects.filter(state=SupervisionState.LISTED).select_related("supervising_department",
                                                                                  "administration")


def _overdue(state, deadline):
    """``Hazard.is_overdue`` from the two fields (the export reads plain values, not objects)."""
    return state in OPEN_STATES and deadline is not None and deadline < timezone.localdate()


def hazard_columns():
    return [
        Column(gettext_lazy("ID"), "pk", width=8),
        Column(gettext_lazy("Institution"), "institution.name", width=28),
        Column(gettext_lazy("Township"), "institution.township.name", width=16),
        Column(gettext_lazy("Category"), "get_category_display"),
        Column(gettext_lazy("Level"), "get_level_display", width=8),
        Column(gettext_lazy("Description"), "description", width=40),
        Column(gettext_lazy("Place"), "location"),
        Column(gettext_lazy("Source"), "get_source_display"),
        Column(gettext_lazy("Found at"), "found_at"),
        Column(gettext_lazy("State"), "get_state_display"),
        Column(gettext_lazy("Responsible person"), "responsible_person"),
        Column(gettext_lazy("Deadline"), "deadline"),
        Column(gettext_lazy("Overdue"), "is_overdue", width=8, values=("state", "deadline"), compute=_overdue),
        Column(gettext_lazy("Closed at"), "closed_at"),
    ]


def _supervision_of(h):
    listed = getattr(h, "listed", None)
    return listed[0] if listed else None


def responsibility_columns():
    return [
        Column(gettext_lazy("ID"), "pk", width=8),
        Column(gettext_lazy("Institution (responsible unit)"), "institution.name", width=28),
        Column(gettext_lazy("Township"), "institution.township.name", width=16),
        Column(gettext_lazy("Description"), "description", width=40),
        Column(gettext_lazy("Level"), "get_level_display", width=8),
        Column(gettext_lazy("Responsible person"), lambda h: h.responsible_person or h.institution.responsible_person),
        Column(gettext_lazy("Supervising department"), lambda h: str(
            _supervision_of(h).supervising_department if _supervision_of(h) else h.institution.township.name)),
        Column(gettext_lazy("Supervision number"), lambda h: _supervision_of(h).number if _supervision_of(h) else ""),
        Column(gettext_lazy("Supervision level"),
               lambda h: str(_supervision_of(h).get_level_display()) if _supervision_of(h) else ""),
        Column(gettext_lazy("Deadline"), "deadline"),
        Column(gettext_lazy("Overdue"), "is_overdue", width=8),
    ]


class HazardListView(ObjectListView):
    """The register: every hazard in the user's scope, filtered, sortable, exportable."""

    model = Hazard
    filterset_class = HazardFilter
    template_name = "hazards/hazard_list.html"
    sort_fields = {"found": "found_at", "deadline": "deadline", "institution": "institution__sort_name",
                   "state": "state", "level": "level"}
    default_sort = "-found"
    export_filename = gettext_lazy("Hazard register")
    title = gettext_lazy("Hazard register")
    list_kind = "register"

    @property
    def export_columns(self):
        return hazard_columns()

    def base_queryset(self):
        return Hazard.objects.select_related("institution__township")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["title"] = self.title
        ctx["list_kind"] = self.list_kind
        ctx["can_report"] = self.request.user.can("hazard.report")
        ctx["today"] = timezone.localdate()
        return ctx


class OpenListView(HazardListView):
    """问题隐患清单: the open hazards."""

    filterset_class = ListFilter
    title = gettext_lazy("Problem and hazard list")
    list_kind = "open"
    export_filename = gettext_lazy("Problem and hazard list")

    def base_queryset(self):
        return super().base_queryset().filter(state__in=OPEN_STATES)


class ClosedListView(HazardListView):
    """整改销号清单: the rectified and closed hazards."""

    filterset_class = ListFilter
    title = gettext_lazy("Rectified and closed list")
    list_kind = "closed"
    export_filename = gettext_lazy("Rectified and closed list")
    default_sort = "-found"

    def base_queryset(self):
        return super().base_queryset().filter(state=HazardState.CLOSED)


class ResponsibilityListView(HazardListView):
    """责任清单: each open hazard with its responsible unit, person, supervising department, deadline."""

    filterset_class = ListFilter
    title = gettext_lazy("Responsibility list")
    list_kind = "responsibility"
    export_filename = gettext_lazy("Responsibility list")
    template_name = "hazards/responsibility_list.html"
    default_sort = "deadline"

    @property
    def export_columns(self):
        return responsibility_columns()

    def base_queryset(self):
        # Open hazards, and closed ones still under listed supervision (not yet delisted).
        still_listed = Exists(Supervision.objects.filter(hazard=OuterRef("pk"), state=SupervisionState.LISTED))
        return (super().base_queryset().filter(Q(state__in=OPEN_STATES) | still_listed)
                .prefetch_related(Prefetch("supervisions", queryset=LISTED, to_attr="listed")))


class HazardDetailView(ObjectDetailView):
    model = Hazard
    template_name = "hazards/hazard_detail.html"

    def base_queryset(self):
        return Hazard.objects.select_related("institution__township", "building", "found_by", "rectified_by",
                                             "verified_by", "source_type")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        h, user = self.object, self.request.user
        photos = list(attachments_of(h))
        ctx["photos_before"] = [p for p in photos if p.kind == Attachment.Kind.BEFORE]
        ctx["photos_after"] = [p for p in photos if p.kind == Attachment.Kind.AFTER]
        events = list(h.events.all())
        by_event = {}
        if events:
            from django.contrib.contenttypes.models import ContentType

            ct = ContentType.objects.get_for_model(events[0].__class__)
            for a in Attachment.objects.filter(content_type=ct, object_id__in=[str(e.pk) for e in events]):
                by_event.setdefault(a.object_id, []).append(a)
        for e in events:
            e.photos = by_event.get(str(e.pk), [])
        ctx["events"] = events
        ctx["actions"] = rules.allowed_actions(h, user)
        ctx["blocked"] = [] if h.state != HazardState.AWAITING_VERIFICATION else [
            (t, rules.refusals(h, t.action, user)) for t in rules.TRANSITIONS.values()
            if t.action == "verify" and policy.role_allows(user, t.policy_action) and rules.refusals(h, t.action, user)]
        source = None
        if h.source_type_id and h.source_id:
            try:
                source = h.source_object
            except Exception:  # noqa: BLE001 - a removed source type or row leaves only the text
                source = None
        ctx["source"] = source
        ctx["source_url"] = getattr(source, "get_absolute_url", lambda: "")() if source is not None else ""
        ctx["supervisions"] = h.supervisions.select_related("supervising_department", "administration")
        ctx["determinations"] = h.determinations.select_related("rule_set").prefetch_related("elements")
        ctx["documents"] = h.documents.select_related("issuer")
        ctx["can_determine"] = user.can("hazard.determine") and h.state != HazardState.CLOSED
        ctx["can_list"] = (user.can("supervision.list") and sup.may_be_listed(h) and h.is_open
                           and not any(s.is_listed for s in ctx["supervisions"]))
        ctx["can_issue"] = user.can("document.issue")
        ctx["hazard"] = h
        return ctx


def _posted(request):
    """The POST data on a POST (even an empty one, which must fail validation), else unbound."""
    return request.POST if request.method == "POST" else None


def _files(request):
    return request.FILES if request.method == "POST" else None


def _hazard_for(request, pk):
    return get_object_or_404(Hazard.objects.visible_to(request.user).select_related("institution"), pk=pk)


def _error_text(exc):
    if hasattr(exc, "error_dict"):
        return "；".join(str(m) for msgs in exc.message_dict.values() for m in msgs)
    return "；".join(str(m) for m in exc.messages)


@login_required
def report(request):
    """The report form: register a hazard (with photos before; fixed on the spot closes it at once)."""
    if not request.user.can("hazard.report"):
        raise PermissionDenied(_("Your role may not do this."))
    form = f.ReportForm(_posted(request), _files(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            hazard = services.report_hazard(request.user, data.pop("institution"), **data)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("The hazard is registered."))
            return HttpResponseRedirect(hazard.get_absolute_url())
    return render(request, "hazards/form.html", {"form": form, "title": _("Report a hazard"), "multipart": True},
                  status=400 if form.errors else 200)


@login_required
def hazard_action(request, pk, action):
    """A step of the loop: its form (GET) and the service call (POST); a refusal changes nothing."""
    hazard = _hazard_for(request, pk)
    transition = rules.TRANSITIONS.get(action)
    if transition is None:
        raise Http404
    reasons = rules.refusals(hazard, action, request.user)
    form_class = f.ACTION_FORMS[action]
    form = form_class(_posted(request), _files(request), user=request.user)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.TRANSITION_FUNCTIONS[action](request.user, hazard, **form.cleaned_data)
            except services.TransitionRefused as exc:
                messages.error(request, _error_text(exc))
                return HttpResponseRedirect(hazard.get_absolute_url())
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("Done: %(a)s.") % {"a": transition.label})
                return HttpResponseRedirect(hazard.get_absolute_url())
    elif reasons:
        messages.error(request, "；".join(str(r) for r in reasons))
        return HttpResponseRedirect(hazard.get_absolute_url())
    if action == "plan" and request.method == "GET":
        form.initial.update({k: getattr(hazard, k) for k in services.PLAN_FIELDS if getattr(hazard, k)})
    return render(request, "hazards/form.html", {
        "form": form, "title": transition.label, "object": hazard, "hazard": hazard, "multipart": True,
    }, status=400 if form.errors else 200)


@login_required
def determine(request, pk):
    """Tick the elements present; the platform suggests, the person decides with a basis."""
    hazard = _hazard_for(request, pk)
    if not request.user.can("hazard.determine"):
        raise PermissionDenied(_("Your role may not do this."))
    form = f.DeterminationForm(_posted(request), user=request.user, hazard=hazard)
    rule_sets = list(form.rule_sets.prefetch_related("elements"))
    if rule_sets:
        form.initial["rule_set"] = rule_sets[0].pk
    suggestion = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        level, reasons = sup.evaluate(data["rule_set"], data["elements"], data["crowded_place"], data["underground"],
                                      hazard.fixed_on_spot)
        suggestion = {"level": level, "reasons": reasons, "term": data["rule_set"].get_hazard_term_display()}
        if request.POST.get("decide"):
            try:
                sup.determine(request.user, hazard, **data)
            except ValidationError as exc:
                errors_to_form(form, exc)
            else:
                messages.success(request, _("The determination is recorded."))
                return HttpResponseRedirect(hazard.get_absolute_url())
    return render(request, "hazards/determination_form.html", {
        "form": form, "hazard": hazard, "object": hazard, "rule_sets": rule_sets, "suggestion": suggestion,
        "found_on": timezone.localdate(hazard.found_at),
    }, status=400 if form.errors else 200)


# --- rule sets -----------------------------------------------------------------------------------

@login_required
def rule_sets(request):
    """The rule sets as the law has them (issuer, number, period, kinds, verification); the bureau loads text."""
    from . import rulebook

    may_load = request.user.can("rule_set.load")
    if request.method == "POST" and not may_load:
        raise PermissionDenied(_("Your role may not do this."))
    form = f.RuleSetFileForm(_posted(request), _files(request), user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            rule_set, changes = rulebook.load(request.user, rulebook.read(upload), filename=upload.name)
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            messages.success(request, _("%(name)s loaded: revision %(r)d, %(n)d changes.") % {
                "name": rule_set.name, "r": rule_set.revision, "n": len(changes)})
            return HttpResponseRedirect(reverse("hazards:rule_sets"))
    sets = RuleSet.objects.visible_to(request.user).select_related("administration").annotate(
        n_elements=Count("elements"), n_verified=Count("elements", filter=Q(elements__verified=True)))
    return render(request, "hazards/rule_sets.html", {
        "rule_sets": sets.prefetch_related("elements"), "form": form if may_load else None,
        "today": timezone.localdate(),
    }, status=400 if form.errors else 200)


# --- ledger → suggested hazards -----------------------------------------------------------------

class SuggestionListView(ObjectListView):
    """Hazards the ledger shows, with the rule cited: the township accepts (registers) or dismisses them."""

    model = HazardSuggestion
    filterset_class = SuggestionFilter
    template_name = "hazards/suggestion_list.html"
    sort_fields = {"found": "found_at"}
    default_sort = "-found"
    export_filename = "suggested-hazards"

    @property
    def export_columns(self):
        return [Column(gettext_lazy("Institution"), "institution.name", width=28),
                Column(gettext_lazy("Building"), "building.name"),
                Column(gettext_lazy("Description"), "description", width=40),
                Column(gettext_lazy("Rule cited"), "rule.citation", width=50),
                Column(gettext_lazy("Level"), "rule.get_level_display"),
                Column(gettext_lazy("State"), "get_state_display"), Column(gettext_lazy("Reason"), "reason")]

    def base_queryset(self):
        return HazardSuggestion.objects.select_related("institution__township", "building", "rule", "hazard",
                                                       "decided_by")

    def get_queryset(self):
        qs = super().get_queryset()
        if not self.request.GET.get("suggestion_state"):
            qs = qs.filter(state="open")
        return qs

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_decide"] = self.request.user.can("suggestion.decide")
        return ctx


def _suggestion_for(request, pk):
    suggestion = get_object_or_404(HazardSuggestion.objects.visible_to(request.user), pk=pk)
    if request.method != "POST":
        return suggestion, HttpResponseRedirect(suggestion.get_absolute_url())
    if not request.user.can("suggestion.decide"):
        raise PermissionDenied(_("Your role may not do this."))
    return suggestion, None


@login_required
def suggestion_accept(request, pk):
    from . import ledger_rules

    suggestion, early = _suggestion_for(request, pk)
    if early:
        return early
    try:
        hazard = ledger_rules.accept(request.user, suggestion)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return HttpResponseRedirect(suggestion.get_absolute_url())
    messages.success(request, _("The hazard is registered."))
    return HttpResponseRedirect(hazard.get_absolute_url())


@login_required
def suggestion_dismiss(request, pk):
    from . import ledger_rules

    suggestion, early = _suggestion_for(request, pk)
    if early:
        return early
    form = f.DismissSuggestionForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            ledger_rules.dismiss(request.user, suggestion, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, _("The suggestion is dismissed."))
        return HttpResponseRedirect(reverse("hazards:suggestion_list"))
    return render(request, "hazards/form.html", {"form": form, "title": _("Dismiss the suggestion"),
                                                 "object": suggestion}, status=400)


@login_required
def suggestion_scan(request):
    """Run the ledger rules now over the institutions in the user's scope."""
    from apps.ledger.models import Institution

    from . import ledger_rules

    if request.method != "POST":
        return HttpResponseRedirect(reverse("hazards:suggestion_list"))
    if not request.user.can("suggestion.decide"):
        raise PermissionDenied(_("Your role may not do this."))
    opened = ledger_rules.scan(list(Institution.objects.visible_to(request.user)))
    messages.success(request, _("The ledger rules ran: %(n)d new suggestions.") % {"n": opened})
    return HttpResponseRedirect(reverse("hazards:suggestion_list"))


# --- listed supervision -------------------------------------------------------------------------

def supervision_columns():
    return [
        Column(gettext_lazy("Number"), "number"),
        Column(gettext_lazy("Institution"), "hazard.institution.name", width=28),
        Column(gettext_lazy("Hazard"), "hazard.description", width=40),
        Column(gettext_lazy("Responsible party"), "responsible_party"),
        Column(gettext_lazy("Responsible person"), "responsible_person"),
        Column(gettext_lazy("Supervision level"), "get_level_display"),
        Column(gettext_lazy("Listed by"), "administration.name"),
        Column(gettext_lazy("Supervising department"), "supervising_department.name"),
        Column(gettext_lazy("Deadline"), "deadline"),
        Column(gettext_lazy("State"), "get_state_display"),
    ]


class SupervisionListView(ObjectListView):
    model = Supervision
    filterset_class = SupervisionFilter
    template_name = "hazards/supervision_list.html"
    sort_fields = {"listed": "listed_at", "deadline": "deadline", "number": "seq"}
    default_sort = "-listed"
    export_filename = gettext_lazy("Listed supervision")

    @property
    def export_columns(self):
        return supervision_columns()

    def base_queryset(self):
        return Supervision.objects.select_related("hazard__institution__township", "supervising_department",
                                                  "administration")


class SupervisionDetailView(ObjectDetailView):
    model = Supervision
    template_name = "hazards/supervision_detail.html"

    def base_queryset(self):
        return Supervision.objects.select_related("hazard__institution__township", "supervising_department",
                                                  "administration", "listed_by", "delisted_by")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        s, user = self.object, self.request.user
        follow_ups = list(s.follow_ups.select_related("recorded_by"))
        if follow_ups:
            from django.contrib.contenttypes.models import ContentType

            ct = ContentType.objects.get_for_model(follow_ups[0].__class__)
            photos = {}
            for a in Attachment.objects.filter(content_type=ct, object_id__in=[str(x.pk) for x in follow_ups]):
                photos.setdefault(a.object_id, []).append(a)
            for x in follow_ups:
                x.photos = photos.get(str(x.pk), [])
        ctx["follow_ups"] = follow_ups
        ctx["extensions"] = s.extensions.select_related("requested_by", "decided_by")
        # Who may decide on the listing: its administration or one above (a district may not delist a city's).
        ctx["level_refusal"] = ""
        if s.is_listed and policy.role_allows(user, "supervision.delist"):
            ctx["level_refusal"] = "；".join(str(r) for r in policy.refusals(user, "supervision.delist", s))
        ctx["documents"] = s.documents.select_related("issuer")
        ctx["hazard"] = s.hazard
        listed = s.is_listed
        ctx["can_follow_up"] = listed and user.can("supervision.follow_up")
        ctx["can_request"] = listed and user.can("supervision.request_extension")
        ctx["can_decide"] = user.can("supervision.decide_extension", s)
        ctx["can_delist"] = listed and user.can("supervision.delist", s) and s.hazard.state == HazardState.CLOSED
        ctx["can_issue"] = user.can("document.issue")
        return ctx


def _supervision_for(request, pk):
    return get_object_or_404(Supervision.objects.visible_to(request.user).select_related("hazard__institution",
                                                                                         "administration"), pk=pk)


def _act(request, obj, capability, form, call, title, redirect_to, extra=None, target=None):
    """The shared shape of a supervision or document act: check the role (and the conditions on
    ``target``, e.g. the listing administration), validate, call, report."""
    if not request.user.can(capability):
        raise PermissionDenied(_("Your role may not do this."))
    if target is not None and not request.user.can(capability, target):
        raise PermissionDenied("；".join(str(r) for r in policy.refusals(request.user, capability, target)))
    if request.method == "POST" and form.is_valid():
        try:
            call(form.cleaned_data)
        except sup.TransitionRefused as exc:
            messages.error(request, _error_text(exc))
            return HttpResponseRedirect(redirect_to)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(redirect_to)
    ctx = {"form": form, "title": title, "object": obj, "multipart": True}
    ctx.update(extra or {})
    return render(request, "hazards/form.html", ctx, status=400 if form.errors else 200)


@login_required
def supervise(request, pk):
    hazard = _hazard_for(request, pk)
    initial = {"responsible_party": hazard.institution.name,
               "responsible_person": hazard.responsible_person or hazard.institution.responsible_person,
               "responsible_phone": hazard.responsible_phone, "deadline": hazard.deadline,
               "measures": hazard.measures, "funds": hazard.funds, "emergency_plan": hazard.emergency_plan,
               "supervising_department": request.user.organization_id}
    form = f.SupervisionForm(_posted(request), user=request.user, initial=initial)
    holder = {}

    def call(data):
        holder["s"] = sup.list_supervision(request.user, hazard, **data)

    response = _act(request, hazard, "supervision.list", form, call, _("List for supervision"),
                    hazard.get_absolute_url())
    if "s" in holder:
        return HttpResponseRedirect(holder["s"].get_absolute_url())
    return response


@login_required
def follow_up(request, pk):
    s = _supervision_for(request, pk)
    form = f.FollowUpForm(_posted(request), _files(request), user=request.user,
                          initial={"visited_on": timezone.localdate()})
    return _act(request, s, "supervision.follow_up", form, lambda d: sup.add_follow_up(request.user, s, **d),
                _("Follow-up visit"), s.get_absolute_url())


@login_required
def request_extension(request, pk):
    s = _supervision_for(request, pk)
    form = f.ExtensionForm(_posted(request), user=request.user)
    return _act(request, s, "supervision.request_extension", form,
                lambda d: sup.request_extension(request.user, s, **d), _("Request a deadline extension"),
                s.get_absolute_url())


@login_required
def decide_extension(request, pk):
    ext = get_object_or_404(DeadlineExtension.objects.visible_to(request.user)
                            .select_related("supervision__administration"), pk=pk)
    form = f.DecisionForm(_posted(request), user=request.user)
    return _act(request, ext.supervision, "supervision.decide_extension", form,
                lambda d: sup.decide_extension(request.user, ext, **d), _("Decide the extension"),
                ext.supervision.get_absolute_url(), {"extension": ext}, target=ext)


@login_required
def delist(request, pk):
    s = _supervision_for(request, pk)
    form = f.DelistForm(_posted(request), user=request.user)
    return _act(request, s, "supervision.delist", form, lambda d: sup.delist(request.user, s, **d),
                _("Delist"), s.get_absolute_url(), target=s)


# --- official documents -------------------------------------------------------------------------

class DocumentListView(ObjectListView):
    model = OfficialDocument
    filterset_class = DocumentFilter
    template_name = "hazards/document_list.html"
    sort_fields = {"issued": "issued_on"}
    default_sort = "-issued"
    export_filename = gettext_lazy("Official documents")

    @property
    def export_columns(self):
        return [Column(gettext_lazy("Number"), "number"), Column(gettext_lazy("Kind"), "get_kind_display"),
                Column(gettext_lazy("Recipient"), "institution.name", width=28),
                Column(gettext_lazy("Issuer"), "issuer.name"), Column(gettext_lazy("Issued on"), "issued_on"),
                Column(gettext_lazy("Deadline"), "deadline"), Column(gettext_lazy("Acknowledged at"), "acknowledged_at")]

    def base_queryset(self):
        return OfficialDocument.objects.select_related("institution", "issuer")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["can_issue"] = self.request.user.can("document.issue")
        return ctx


class DocumentDetailView(ObjectDetailView):
    model = OfficialDocument
    template_name = "hazards/document_detail.html"

    def base_queryset(self):
        return OfficialDocument.objects.select_related("institution", "issuer", "issued_by", "acknowledged_by",
                                                       "supervision")

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        doc, user = self.object, self.request.user
        ctx["hazards"] = doc.hazards.all()
        ctx["can_acknowledge"] = (not doc.acknowledged_at and user.can("document.acknowledge")
                                  and user.institution_id == doc.institution_id)
        return ctx


@login_required
def document_create(request):
    if not request.user.can("document.issue"):
        raise PermissionDenied(_("Your role may not do this."))
    initial = {}
    hazard_ids = request.GET.getlist("hazard")
    supervision_id = request.GET.get("supervision")
    if supervision_id:
        s = _supervision_for(request, supervision_id)
        initial.update(supervision=s.pk, institution=s.hazard.institution_id, hazards=[s.hazard_id],
                       kind="supervision_order", deadline=s.deadline)
    elif hazard_ids:
        hazards = list(Hazard.objects.visible_to(request.user).filter(pk__in=hazard_ids))
        if hazards:
            initial.update(hazards=[h.pk for h in hazards], institution=hazards[0].institution_id,
                           deadline=hazards[0].deadline)
    if request.GET.get("institution"):
        initial["institution"] = request.GET["institution"]
    form = f.DocumentForm(_posted(request), user=request.user, initial=initial)
    holder = {}

    def call(data):
        holder["d"] = docs.issue_document(request.user, **data)

    response = _act(request, None, "document.issue", form, call, _("Issue a document"), reverse("hazards:document_list"))
    if "d" in holder:
        return HttpResponseRedirect(holder["d"].get_absolute_url())
    return response


@login_required
def document_download(request, pk):
    """The .docx, or with ``?format=pdf`` its PDF (404 where none was made)."""
    doc = get_object_or_404(OfficialDocument.objects.visible_to(request.user), pk=pk)
    stored, ext = (doc.pdf, "pdf") if request.GET.get("format") == "pdf" else (doc.file, "docx")
    return serve_file(stored, filename=f"{doc.number}.{ext}", as_attachment=True, record=doc)


@login_required
def document_acknowledge(request, pk):
    doc = get_object_or_404(OfficialDocument.objects.visible_to(request.user), pk=pk)
    if request.method != "POST":
        return HttpResponseRedirect(doc.get_absolute_url())
    if not request.user.can("document.acknowledge"):
        raise PermissionDenied(_("Your role may not do this."))
    try:
        docs.acknowledge(request.user, doc)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Receipt acknowledged."))
    return HttpResponseRedirect(doc.get_absolute_url())


def institution_counts(institution):
    """Open / overdue / major-open counts of one institution in one query (for the ledger page)."""
    today = timezone.localdate()
    return Hazard.objects.filter(institution=institution).aggregate(
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        overdue=Count("id", filter=Q(state__in=OPEN_STATES, deadline__lt=today)),
        major=Count("id", filter=Q(state__in=OPEN_STATES, level="major")),
        total=Count("id"),
    )




# ---------------------------------------------------------------- number formats by level


def _number_formats_in_force(rules, path):
    from apps.orgs.rules import effective

    found = set()
    for series in {r.series for r in rules}:
        rule = effective([r for r in rules if r.series == series], path)
        if rule is not None:
            found.add(rule.pk)
    return found


def _number_example(fmt):
    from .models import number_pattern_error

    if number_pattern_error(fmt.pattern or ""):
        return "—"
    admin = fmt.administration if fmt.administration_id else None
    issuer = (admin.short_name or admin.name) if admin is not None else ""
    return fmt.pattern.format(year=timezone.localdate().year, n=1, issuer=issuer)


def _number_format_spec():
    from apps.orgs.rulepages import RulePage

    from .models import NumberFormat

    return RulePage(
        model=NumberFormat, capability="numberformat.override", save=services.save_number_format,
        form=f.NumberFormatForm, slug="number-format", title=gettext_lazy("Number formats"),
        add_title=gettext_lazy("Add a number format"), empty=gettext_lazy("No number format is defined."),
        url_list="hazards:number_format_list", url_create="hazards:number_format_create",
        url_edit="hazards:number_format_edit", in_force=_number_formats_in_force, lockable=False,
        order_by=("series", "administration__path", "pk"),
        columns=[(gettext_lazy("Series"), lambda r: r.get_series_display()),
                 (gettext_lazy("Pattern"), lambda r: r.pattern),
                 (gettext_lazy("Example"), _number_example)])


def number_format_list(request):
    """Number formats by level: the formats the user sees, their source (来源), those in force."""
    from apps.orgs.rulepages import rule_list

    return rule_list(_number_format_spec())(request)


def number_format_edit(request, pk=None):
    """Add a number format at the user's own administration, or change one of its own."""
    from apps.orgs.rulepages import rule_edit

    return rule_edit(_number_format_spec())(request, pk)
