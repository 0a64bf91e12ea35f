"""Base views that apply the data scope before anything else runs, plus platform pages."""
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import generic
from django.views.decorators.cache import never_cache

from . import health
from .models import AuditEntry, ExportJob


class ScopedMixin(LoginRequiredMixin):
    """Limits the queryset to the user's scope; out-of-scope objects are 404, like missing ones."""

    model = None
    queryset = None
    capability = None  # required capability (None: anyone who may see the rows)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.capability and not request.user.can(self.capability):
            # Scope answers first: an object outside the scope is a 404 whatever the role.
            if "pk" in kwargs and not self.get_queryset().filter(pk=kwargs["pk"]).exists():
                raise Http404
            raise PermissionDenied(_("Your role may not do this."))
        return super().dispatch(request, *args, **kwargs)

    def base_queryset(self):
        qs = self.queryset if self.queryset is not None else self.model._default_manager.all()
        return qs.all()

    def get_queryset(self):
        return self.base_queryset().visible_to(self.request.user)


class ObjectListView(ScopedMixin, generic.ListView):
    """A filtered, sortable, paginated list; ``?export=xlsx`` exports exactly the filtered rows."""

    filterset_class = None
    paginate_by = 50
    sort_fields: dict = {}  # public name -> ordering expression, or a tuple of them (e.g. own order, then pinyin)
    default_sort = None
    export_columns = None  # list of apps.core.excel.Column
    export_filename = "export"

    def get_queryset(self):
        qs = super().get_queryset()
        self.filterset = None
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(self.request.GET or None, queryset=qs, request=self.request)
            qs = self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else qs
        sort = self.request.GET.get("sort") or self.default_sort
        if sort:
            desc = sort.startswith("-")
            key = sort.lstrip("-")
            if key in self.sort_fields:
                exprs = self.sort_fields[key]
                exprs = (exprs,) if isinstance(exprs, str) else tuple(exprs)
                qs = qs.order_by(*(f"-{e}" if desc else e for e in exprs), "-pk" if desc else "pk")
        return qs

    def get(self, request, *args, **kwargs):
        fmt = request.GET.get("export")
        if fmt in ("xlsx", "csv") and self.export_columns:
            from .exports import export

            result = export(self, fmt)
            if isinstance(result, ExportJob):
                return HttpResponseRedirect(result.get_absolute_url())
            return result
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["filterset"] = self.filterset
        params = self.request.GET.copy()
        params.pop("page", None)
        ctx["querystring"] = params.urlencode()
        params.pop("sort", None)
        ctx["sort_querystring"] = params.urlencode()
        ctx["current_sort"] = self.request.GET.get("sort") or self.default_sort or ""
        return ctx


class ObjectDetailView(ScopedMixin, generic.DetailView):
    """A detail page with the object's history from the trail."""

    history_limit = 50

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        ctx["history"] = AuditEntry.objects.for_object(self.object).select_related("content_type")[: self.history_limit]
        return ctx


class ScopedFormMixin:
    """Pass the user to the form so its choices are limited to the user's scope."""

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Saved."))
        return response


class ObjectCreateView(ScopedMixin, ScopedFormMixin, generic.CreateView):
    pass


class ObjectUpdateView(ScopedMixin, ScopedFormMixin, generic.UpdateView):
    pass


class ObjectDeleteView(ScopedMixin, generic.DeleteView):
    def form_valid(self, form):
        messages.success(self.request, _("Deleted."))
        return super().form_valid(form)


@never_cache
def healthz(request):
    """Readiness: 200 ``{"status": "ok"}`` or 503 ``{"status": "error"}``.

    Anonymous callers (load balancers, monitors) learn nothing else; a logged-in superuser also
    gets each check's result. Failures are logged with their reason either way.
    """
    results = health.run_checks()
    ok = all(reason is None for reason in results.values())
    body = {"status": "ok" if ok else "error"}
    try:
        # Reading the session needs the database: when that is down, nobody gets details.
        show_details = results["database"] is None and request.user.is_superuser
    except Exception:  # noqa: BLE001 - a broken session store must not turn 503 into 500
        show_details = False
    if show_details:
        body["checks"] = {name: reason or "ok" for name, reason in results.items()}
    return JsonResponse(body, status=200 if ok else 503)


class AuditSearchView(ObjectListView):
    """The bureau-level search of the trail: by user, object, date and action."""

    model = AuditEntry
    capability = "audit.search"
    template_name = "core/audit_list.html"
    paginate_by = 100

    def base_queryset(self):
        return AuditEntry.objects.select_related("content_type")

    def get_queryset(self):
        from .filters import AuditEntryFilter

        self.filterset_class = AuditEntryFilter
        return super().get_queryset().order_by("-id")


def audit_entry_detail(request, pk):
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    entry = get_object_or_404(AuditEntry.objects.visible_to(request.user), pk=pk)
    return render(request, "core/audit_detail.html", {"entry": entry, "entries": [entry]})


def notifications_page(request):
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    qs = request.user.notifications.all()
    if request.method == "POST":
        qs.filter(read_at__isnull=True).update(read_at=timezone.now())
        return HttpResponseRedirect(request.path)
    from django.core.paginator import Paginator

    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/notifications.html", {"page_obj": page, "object_list": page.object_list})


def notification_open(request, pk):
    if not request.user.is_authenticated:
        return HttpResponseRedirect("/accounts/login/")
    note = get_object_or_404(request.user.notifications, pk=pk)
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
    return HttpResponseRedirect(note.url or "/notifications/")


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


def server_error(request):
    return HttpResponse(render(request, "500.html").content, status=500)


def _own_job(request, pk):
    """The user's own export job; anyone else's is a 404, exactly like a missing one."""
    return get_object_or_404(ExportJob.objects.select_related("owner"), pk=pk, owner=request.user)


def export_job_page(request, pk):
    """导出已排队: the job's state, progress (``static/js/export-job.js`` polls the status) and link."""
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    job = _own_job(request, pk)
    from .exports import retention_hours, status

    return render(request, "core/export_job.html", {"job": job, "status": status(job),
                                                    "retention_hours": retention_hours()})


@never_cache
def export_job_status(request, pk):
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("Log in first.")}, status=401)
    from .exports import status

    return JsonResponse(status(_own_job(request, pk)))


def export_job_download(request, pk):
    if not request.user.is_authenticated:
        return HttpResponseRedirect(f"/accounts/login/?next={request.path}")
    job = _own_job(request, pk)
    if job.state != ExportJob.State.DONE or not job.file:
        raise Http404
    from .audit import record_download
    from .files import serve_file

    response = serve_file(job.file, filename=job.filename, as_attachment=True)
    record_download(job.filename, rows=job.rows_done, job=job.pk)
    return response
