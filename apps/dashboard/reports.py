"""Monthly and quarterly reports for a scope and period, as .docx and Excel."""
import calendar
import datetime
import io
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from apps.assessment.choices import RiskLevel
from apps.assessment.models import Assessment, FireIncident, InstitutionRisk
from apps.hazards.choices import OPEN_STATES, HazardCategory, HazardLevel, HazardState
from apps.hazards.models import Hazard
from apps.ledger.models import Institution
from apps.orgs.models import Organization

LEVELS = [RiskLevel.RED, RiskLevel.ORANGE, RiskLevel.YELLOW, RiskLevel.BLUE]


@dataclass
class Period:
    kind: str  # "month" | "quarter"
    year: int
    number: int

    @property
    def start(self):
        month = self.number if self.kind == "month" else 3 * (self.number - 1) + 1
        return datetime.date(self.year, month, 1)

    @property
    def end(self):
        """The last day of the period."""
        month = self.number if self.kind == "month" else 3 * self.number
        return datetime.date(self.year, month, calendar.monthrange(self.year, month)[1])

    @property
    def label(self):
        if self.kind == "month":
            return f"{self.year}年{self.number}月"
        return f"{self.year}年第{self.number}季度"

    @classmethod
    def parse(cls, kind, year, number):
        """A Period from request values, or ValueError with a reason."""
        if kind not in ("month", "quarter"):
            raise ValueError(_("Choose a month or a quarter."))
        year, number = int(year), int(number)
        if not 2000 <= year <= 2100 or not 1 <= number <= (12 if kind == "month" else 4):
            raise ValueError(_("The period does not exist."))
        return cls(kind, year, number)


def _aware(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def period_report(user, period, township=None):
    """Figures of the period in the user's scope (optionally one township)."""
    start, end_excl = _aware(period.start), _aware(period.end + datetime.timedelta(days=1))
    institutions = Institution.objects.visible_to(user)
    hazards = Hazard.objects.visible_to(user)
    incidents = FireIncident.objects.visible_to(user)
    risks = InstitutionRisk.objects.visible_to(user)
    assessments = Assessment.objects.visible_to(user)
    if township is not None:
        institutions = institutions.filter(township=township)
        hazards = hazards.filter(institution__township=township)
        incidents = incidents.filter(institution__township=township)
        risks = risks.filter(institution__township=township)
        assessments = assessments.filter(institution__township=township)
    open_at_end = Q(found_at__lt=end_excl) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end_excl))
    h = hazards.aggregate(
        found=Count("pk", filter=Q(found_at__gte=start, found_at__lt=end_excl)),
        found_major=Count("pk", filter=Q(found_at__gte=start, found_at__lt=end_excl, level=HazardLevel.MAJOR)),
        closed=Count("pk", filter=Q(state=HazardState.CLOSED, closed_at__gte=start, closed_at__lt=end_excl)),
        open_end=Count("pk", filter=open_at_end),
        major_open_end=Count("pk", filter=open_at_end & Q(level=HazardLevel.MAJOR)),
        overdue_end=Count("pk", filter=open_at_end & Q(deadline__lt=period.end + datetime.timedelta(days=1))),
    )
    by_cat = dict(hazards.filter(found_at__gte=start, found_at__lt=end_excl).values("category")
                  .annotate(n=Count("pk")).values_list("category", "n").order_by())
    fires = incidents.filter(occurred_at__gte=start, occurred_at__lt=end_excl).aggregate(
        n=Count("pk"), deaths=Sum("deaths"), injuries=Sum("injuries"), loss=Sum("direct_loss"))
    levels = dict(risks.values("level").annotate(n=Count("pk")).values_list("level", "n").order_by())
    names = dict(Organization.objects.filter(kind="township").values_list("pk", "name"))
    town_rows = {}
    for r in (hazards.filter(found_at__gte=start, found_at__lt=end_excl).values("institution__township")
              .annotate(found=Count("pk"), major=Count("pk", filter=Q(level=HazardLevel.MAJOR)),
                        closed=Count("pk", filter=Q(state=HazardState.CLOSED))).order_by()):
        town_rows[r["institution__township"]] = r
    townships = [{"name": names.get(t, t), "found": r["found"], "major": r["major"], "closed": r["closed"],
                  "rate": round(100 * r["closed"] / r["found"], 1) if r["found"] else None}
                 for t, r in sorted(town_rows.items(), key=lambda kv: names.get(kv[0], ""))]
    return {
        "period": period, "township": township, "institutions": institutions.count(),
        "hazards": h, "rate": round(100 * h["closed"] / h["found"], 1) if h["found"] else None,
        "by_category": [(str(c.label), by_cat.get(c.value, 0)) for c in HazardCategory],
        "fires": {"n": fires["n"], "deaths": fires["deaths"] or 0, "injuries": fires["injuries"] or 0,
                  "loss": float(fires["loss"] or 0)},
        "levels": [(str(lv.label), levels.get(lv.value, 0)) for lv in LEVELS],
        "assessments_signed": assessments.filter(signed_at__gte=start, signed_at__lt=end_excl).count(),
        "townships": townships,
        "open_hazards_now": hazards.filter(state__in=OPEN_STATES).count(),
    }


def summary_rows(report):
    h, f = report["hazards"], report["fires"]
    return [
        (_("Institutions"), report["institutions"]),
        (_("Hazards found"), h["found"]), (_("of which major"), h["found_major"]),
        (_("Hazards closed"), h["closed"]),
        (_("Rectification rate (%)"), report["rate"] if report["rate"] is not None else "—"),
        (_("Open hazards at period end"), h["open_end"]), (_("Open major hazards at period end"), h["major_open_end"]),
        (_("Overdue at period end"), h["overdue_end"]),
        (_("Fires"), f["n"]), (_("Deaths"), f["deaths"]), (_("Injuries"), f["injuries"]),
        (_("Direct loss (yuan)"), f["loss"]), (_("Assessments signed"), report["assessments_signed"]),
    ]


def _title(report, user):
    scope = report["township"].name if report["township"] else (user.org_label or _("Platform"))
    return f"{scope} {report['period'].label} {_('fire-safety report')}"


def report_docx(report, user) -> bytes:
    from docx import Document

    doc = Document()
    doc.add_heading(_title(report, user), level=0)
    doc.add_paragraph(f"{_('Period')}: {report['period'].start:%Y-%m-%d} — {report['period'].end:%Y-%m-%d}")

    def table(title, head, rows):
        doc.add_heading(title, level=1)
        t = doc.add_table(rows=1, cols=len(head))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, head, strict=True):
            cell.text = str(text)
        for row in rows:
            for cell, v in zip(t.add_row().cells, row, strict=True):
                cell.text = "—" if v is None else str(v)

    table(_("Summary"), [_("Figure"), _("Value")], summary_rows(report))
    table(_("Hazards found by category"), [_("Category"), _("Found")], report["by_category"])
    table(_("Institutions by current risk level"), [_("Level"), _("Institutions")], report["levels"])
    table(_("By township"), [_("Township"), _("Hazards found"), _("of which major"), pgettext("hazard state", "Closed"),
                              _("Rectification rate (%)")],
          [(r["name"], r["found"], r["major"], r["closed"], r["rate"]) for r in report["townships"]])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def report_xlsx(report, user) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = str(_("Summary"))
    ws.append([_title(report, user)])
    ws["A1"].font = Font(bold=True)
    for row in summary_rows(report):
        ws.append([str(row[0]), row[1]])
    sheets = [
        (_("By category"), [_("Category"), _("Found")], report["by_category"]),
        (_("Risk levels"), [_("Level"), _("Institutions")], report["levels"]),
        (_("By township"), [_("Township"), _("Hazards found"), _("of which major"), pgettext("hazard state", "Closed"),
                            _("Rectification rate (%)")],
         [(r["name"], r["found"], r["major"], r["closed"], r["rate"]) for r in report["townships"]]),
    ]
    for title, head, rows in sheets:
        s = wb.create_sheet(str(title))
        s.append([str(h) for h in head])
        for row in rows:
            s.append(list(row))
    ws.column_dimensions["A"].width = 30
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
