from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from apps.core import scope
from apps.core.badinput import EARLIEST_DATE
from apps.core.filters import AREA_KINDS
from apps.core.scope import org_under_q
from apps.orgs.choices import OrgKind
from apps.orgs.models import Organization

from .cockpit import Cockpit


def _township(request):
    """An optional ?township= drill-down; a township outside the user's scope is a 404."""
    value = request.GET.get("township")
    if not value:
        return None
    if not value.isdigit():
        raise Http404
    user = request.user
    township = Organization.objects.filter(org_under_q(user, ""), kind="township", pk=value).first()
    if township is None:
        raise Http404
    if not scope.within_reach(user, "township_id", township.pk):
        raise Http404
    return township


def _area(request):
    """An optional ?area= drill-down (a city, district or township under the user's administration):
    (township, area). Outside the user's part of the tree, or not a number: 404."""
    value = request.GET.get("area")
    if not value:
        return _township(request), None
    if not value.isdigit() or len(value) > 18:
        raise Http404
    user = request.user
    org = Organization.objects.filter(org_under_q(user, ""), pk=value, kind__in=AREA_KINDS).first()
    if org is None:
        raise Http404
    if org.kind == OrgKind.TOWNSHIP:
        if not scope.within_reach(user, "township_id", org.pk):
            raise Http404
        return org, None
    if not scope.filters_by_township(user):  # a township office, a unit, an institution: their own only
        raise Http404
    return None, org


@login_required
def todo_home(request):
    """The home page after login (待办): what waits on this user or their unit, with counts and links."""
    from .todo import todo

    groups, changes = todo(request.user)
    return render(request, "dashboard/todo.html", {"groups": groups, "changes": changes})


@login_required
def cockpit(request):
    """The leaders' cockpit, in the user's scope."""
    township, area = _area(request)
    data = Cockpit.cached(request.user, township=township, area=area)
    # The picker for offices that look across townships (a township office sees only its own).
    townships = scope.township_choices(request.user).order_by("order", "sort_name") \
        if scope.acts_for_office(request.user) and not scope.home_township_id(request.user) else []
    if area is not None:
        townships = townships.filter(path__startswith=area.path)
    # The way back up: the administrations between the user's own and the one shown.
    place = area or township
    trail = []
    if place is not None:
        own = "" if request.user.is_superuser else request.user.administration_path
        ids = [int(i) for i in place.path.split(".") if i]
        names = dict(Organization.objects.filter(pk__in=ids, path__startswith=own).values_list("pk", "name"))
        trail = [(i, names[i]) for i in ids if i in names and i != place.pk]
    return render(request, "dashboard/cockpit.html", {"c": data, "chart": data.chart_data(), "township": township,
                                                      "area": area, "place": place, "trail": trail,
                                                      "townships": townships})


@login_required
def reports(request):
    """Monthly and quarterly reports for a chosen scope and period (.docx and Excel)."""
    from django.contrib import messages
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from apps.core.excel import xlsx_response
    from apps.core.policy import can

    from . import reports as r

    if not can(request.user, "reports.view"):
        raise PermissionDenied(_("Your role may not do this."))
    today = timezone.localdate()
    kind = request.GET.get("period", "month")
    default_n = today.month if kind == "month" else (today.month - 1) // 3 + 1
    report, error = None, None
    try:
        period = r.Period.parse(kind, request.GET.get("year") or today.year, request.GET.get("n") or default_n)
    except (ValueError, TypeError) as exc:
        error = str(exc) if str(exc) and not str(exc).startswith("invalid literal") else _("The period does not exist.")
        messages.error(request, error)
        period = r.Period("month", today.year, today.month)
    township = _township(request)
    if error is None:
        report = r.period_report(request.user, period, township)
        fmt = request.GET.get("format")
        name = f"report-{period.year}-{period.kind}{period.number}"
        if fmt == "docx":
            response = HttpResponse(r.report_docx(report, request.user), content_type=(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))
            response["Content-Disposition"] = f'attachment; filename="{name}.docx"'
            from apps.core.audit import record_download

            record_download(f"{name}.docx")
            return response
        if fmt == "xlsx":
            return xlsx_response(name, r.report_xlsx(report, request.user), request.user)
    townships = scope.township_choices(request.user).order_by("order", "sort_name")
    return render(request, "dashboard/reports.html", {
        "report": report, "period": period, "township": township, "townships": townships,
        "summary": r.summary_rows(report) if report else [],
        "township_table": r.township_table(report) if report else None, "years": range(today.year - 4, today.year + 1),
        "querystring": request.GET.urlencode()})


@login_required
def institution_file(request, pk):
    """一院一档: the printable file of one institution; outside the user's scope 404."""
    from apps.ledger.models import Institution

    from .institution_file import institution_file as build

    try:
        context = build(request.user, pk)
    except Institution.DoesNotExist:
        raise Http404
    return render(request, "dashboard/institution_file.html", context)


def _handover_period(request):
    """(since, until) from the query (either may be empty); ValueError with the reason."""
    import datetime

    from django.utils import timezone
    from django.utils.translation import gettext as _

    values = []
    for key in ("since", "until"):
        raw = (request.GET.get(key) or "").strip()
        if not raw:
            values.append(None)
            continue
        try:
            day = datetime.date.fromisoformat(raw)
        except ValueError:
            raise ValueError(_("Give dates as YYYY-MM-DD.")) from None
        if day < EARLIEST_DATE or day > timezone.localdate() + datetime.timedelta(days=366):
            raise ValueError(_("Give a date between %(first)s and next year.") % {"first": EARLIEST_DATE.isoformat()})
        values.append(day)
    since, until = values
    if since and until and since > until:
        raise ValueError(_("The first day comes after the last day."))
    return since, until


@login_required
def handover(request):
    """The handover package of what the user sees, for a period (a zip streamed from a temp file)."""
    from django.core.exceptions import PermissionDenied
    from django.http import FileResponse
    from django.utils.http import content_disposition_header
    from django.utils.translation import gettext as _

    from apps.core.audit import record
    from apps.core.policy import can

    from . import handover as h

    if not can(request.user, "handover.export"):
        raise PermissionDenied(_("Your role may not do this."))
    error = None
    wants_file = any(k in request.GET for k in ("since", "until", "download"))
    if wants_file:
        try:
            since, until = _handover_period(request)
        except ValueError as exc:
            error = str(exc)
        else:
            tmp, manifest = h.export_to_tempfile(request.user, since, until, created_by=request.user.get_username())
            name = h.package_filename(request.user, since, until)
            record("handover.export", actor=request.user, object_repr=name,
                   after={"scope": manifest["scope"],
                          "counts": {e["name"]: e["count"] for e in manifest["entities"] if e["count"]}})
            response = FileResponse(tmp, content_type="application/zip")
            response["Content-Disposition"] = content_disposition_header(True, name)
            return response
    return render(request, "dashboard/handover.html", {
        "error": error, "since": request.GET.get("since", ""), "until": request.GET.get("until", ""),
        "entities": [(e.label, *h.entity_names(e)) for e in h.entities()], "excluded": sorted(h.EXCLUDED.items()),
        "may_import": can(request.user, "handover.import")}, status=400 if error else 200)


@login_required
def handover_import(request):
    """Load a handover package into this installation (the administrator; all or nothing)."""
    from django.core.exceptions import PermissionDenied
    from django.utils.translation import gettext as _

    from apps.core.policy import can

    from .handover import HandoverError
    from .handover_import import ImportFailed, import_package

    if not can(request.user, "handover.import"):
        raise PermissionDenied(_("Your role may not do this."))
    context = {"result": None, "errors": [], "error": None, "checked": False}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("package")
        dry_run = bool(request.POST.get("check"))
        context["checked"] = dry_run
        if upload is None:
            context["error"] = _("Choose the package (.zip) to import.")
        else:
            try:
                result = import_package(upload, actor=request.user, dry_run=dry_run)
                context["result"] = [(label, n, result.added.get(label, 0), result.matched.get(label, 0))
                                     for label, n in result.counts.items() if n]
                context["files"] = result.files
            except ImportFailed as exc:
                context["error"] = _("The package was not imported: %(n)d error(s). Nothing was kept.") % {
                    "n": len(exc.errors)}
                context["errors"] = exc.errors
            except HandoverError as exc:
                context["error"] = _("This is not a handover package this platform can read (%(reason)s).") % {
                    "reason": exc}
        if context["error"]:
            status = 400
    return render(request, "dashboard/handover_import.html", context, status=status)
