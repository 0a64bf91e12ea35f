from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from apps.core.badinput import EARLIEST_DATE
from apps.core.scope import org_under_q
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
    if not user.sees_everything and user.role == "township" and user.organization_id != township.pk:
        raise Http404
    return township


@login_required
def cockpit(request):
    """The leaders' cockpit, in the user's scope."""
    township = _township(request)
    data = Cockpit.cached(request.user, township=township)
    townships = Organization.objects.filter(org_under_q(request.user, ""), kind="township").order_by(
        "order", "name") if request.user.is_office \
        and request.user.role != "township" else []
    return render(request, "dashboard/cockpit.html", {"c": data, "chart": data.chart_data(), "township": township,
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
    townships = Organization.objects.filter(org_under_q(request.user, ""), kind="township").order_by("order", "name")
    if request.user.role == "township":
        townships = townships.filter(pk=request.user.organization_id)
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


@login_required
def handover(request):
    """Download the handover package for a period (bureau only)."""
    import datetime

    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponse, HttpResponseBadRequest
    from django.utils.translation import gettext as _

    from apps.core.audit import record
    from apps.core.policy import can

    from .handover import HandoverError, export_package

    if not can(request.user, "handover.export"):
        raise PermissionDenied(_("Your role may not do this."))
    try:
        since = datetime.date.fromisoformat(request.GET.get("since", ""))
        until = datetime.date.fromisoformat(request.GET.get("until", ""))
        if since < EARLIEST_DATE:
            raise ValueError(since)
        data = export_package(since, until, generated_by=request.user.username)
    except (ValueError, HandoverError):
        return HttpResponseBadRequest(_("Give the period as since=YYYY-MM-DD and until=YYYY-MM-DD, since before until."))
    record("handover.export", actor=request.user, after={"since": since.isoformat(), "until": until.isoformat()},
           object_repr=f"handover {since}..{until}")
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="handover-{since}-{until}.zip"'
    return response
