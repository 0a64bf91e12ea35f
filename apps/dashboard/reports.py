"""Monthly and quarterly reports for a scope and period, as .docx and Excel."""
import calendar
import datetime
import io
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.assessment.choices import RiskLevel
from apps.assessment.models import Assessment, FireIncident, InstitutionRisk
from apps.hazards.choices import OPEN_STATES, HazardCategory, HazardLevel, HazardState
from apps.hazards.metrics import rectification_rate
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


def hazard_figures(start, end_excl):
    """The hazard figures of a period, each defined here once: {key: (label, aggregate)}.

    Every one is a count, so township rows add up to the scope's total; the rectification rate is
    derived from two of them (``rectification_rate``) the same way the cockpit derives it."""
    found = Q(found_at__gte=start, found_at__lt=end_excl)
    closed_by_end = Q(state=HazardState.CLOSED, closed_at__lt=end_excl)
    open_at_end = Q(found_at__lt=end_excl) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end_excl))
    end_day = (end_excl - datetime.timedelta(days=1)).date()
    return {
        "found": (_("Hazards found"), Count("pk", filter=found)),
        "found_major": (_("of which major"), Count("pk", filter=found & Q(level=HazardLevel.MAJOR))),
        "found_closed": (_("of which closed by period end"), Count("pk", filter=found & closed_by_end)),
        "closed": (_("Hazards closed in the period"),
                   Count("pk", filter=Q(state=HazardState.CLOSED, closed_at__gte=start, closed_at__lt=end_excl))),
        "open_end": (_("Open hazards at period end"), Count("pk", filter=open_at_end)),
        "major_open_end": (_("Open major hazards at period end"),
                           Count("pk", filter=open_at_end & Q(level=HazardLevel.MAJOR))),
        "overdue_end": (_("Overdue at period end"), Count("pk", filter=open_at_end & Q(deadline__lte=end_day))),
    }


def period_report(user, period, township=None):
    """Figures of the period in the user's scope (optionally one township), the same per township."""
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
    figures = hazard_figures(start, end_excl)
    spec = {key: agg for key, (_label, agg) in figures.items()}
    h = hazards.aggregate(**spec)
    by_cat = dict(hazards.filter(found_at__gte=start, found_at__lt=end_excl).values("category")
                  .annotate(n=Count("pk")).values_list("category", "n").order_by())
    fires = incidents.filter(occurred_at__gte=start, occurred_at__lt=end_excl).aggregate(
        n=Count("pk"), deaths=Sum("deaths"), injuries=Sum("injuries"), loss=Sum("direct_loss"))
    levels = dict(risks.values("level").annotate(n=Count("pk")).values_list("level", "n").order_by())
    names = dict(Organization.objects.filter(kind="township").values_list("pk", "name"))
    counts = dict(institutions.values("township").annotate(n=Count("pk")).values_list("township", "n").order_by())
    town_rows = {r.pop("institution__township"): r
                 for r in hazards.values("institution__township").annotate(**spec).order_by()}
    townships = []
    for t in sorted(set(counts) | set(town_rows), key=lambda t: names.get(t, "")):
        row = town_rows.get(t) or dict.fromkeys(spec, 0)
        if not counts.get(t) and not any(row.values()):
            continue
        townships.append({"name": names.get(t, t), "institutions": counts.get(t, 0), **row,
                          "rate": rectification_rate(row["found"], row["found_closed"])})
    return {
        "period": period, "township": township, "institutions": institutions.count(),
        "hazards": h, "rate": rectification_rate(h["found"], h["found_closed"]),
        "labels": {key: label for key, (label, _agg) in figures.items()},
        "by_category": [(str(c.label), by_cat.get(c.value, 0)) for c in HazardCategory],
        "fires": {"n": fires["n"], "deaths": fires["deaths"] or 0, "injuries": fires["injuries"] or 0,
                  "loss": float(fires["loss"] or 0)},
        "levels": [(str(lv.label), levels.get(lv.value, 0)) for lv in LEVELS],
        "assessments_signed": assessments.filter(signed_at__gte=start, signed_at__lt=end_excl).count(),
        "townships": townships,
        "open_hazards_now": hazards.filter(state__in=OPEN_STATES).count(),
    }


TOWNSHIP_FIGURES = ["institutions", "found", "found_major", "found_closed", "closed", "open_end",
                    "major_open_end", "overdue_end"]


def township_table(report):
    """Head and rows of the per-township table: the summary's figures with the same labels."""
    labels = {"institutions": _("Institutions"), **report["labels"]}
    head = [_("Township")] + [labels[k] for k in TOWNSHIP_FIGURES] + [_("Rectification rate (%)")]
    rows = [[r["name"]] + [r[k] for k in TOWNSHIP_FIGURES] + [r["rate"]] for r in report["townships"]]
    return head, rows


def summary_rows(report):
    h, f, label = report["hazards"], report["fires"], report["labels"]
    return [
        (_("Institutions"), report["institutions"]),
        *[(label[k], h[k]) for k in ("found", "found_major", "found_closed")],
        (_("Rectification rate (%)"), report["rate"] if report["rate"] is not None else "—"),
        *[(label[k], h[k]) for k in ("closed", "open_end", "major_open_end", "overdue_end")],
        (_("Fires"), f["n"]), (_("Deaths"), f["deaths"]), (_("Injuries"), f["injuries"]),
        (_("Direct loss (yuan)"), f["loss"]), (_("Assessments signed"), report["assessments_signed"]),
    ]


def _title(report, user):
    scope = report["township"].name if report["township"] else (user.org_label or _("Platform"))
    return _("%(scope)s fire-safety report for %(period)s") % {"scope": scope, "period": report["period"].label}


def report_docx(report, user) -> bytes:
    """The report on A4 in the layout of official documents (``apps.core.officedoc``)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from apps.core import officedoc as od

    doc = od.new_document()
    od.paragraph(doc, _title(report, user), font=od.TITLE_FONT, size=od.SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER,
                 line_spacing=od.Pt(36))
    period = report["period"]
    od.paragraph(doc, _("Period: %(start)s to %(end)s") % {"start": od.cn_date(period.start),
                                                             "end": od.cn_date(period.end)},
                 font=od.KAI_FONT, align=WD_ALIGN_PARAGRAPH.CENTER)

    def table(number, title, head, rows, widths):
        od.paragraph(doc, f"{number}、{title}", font=od.HEI_FONT, keep_with_next=True, indent=True)
        t = od.table(doc, widths, [str(h) for h in head], size=od.Pt(10.5))
        for row in rows:
            od.add_row(t, row, widths, size=od.Pt(10.5))

    table("一", _("Summary"), [_("Figure"), _("Value")], summary_rows(report), [110, 46])
    table("二", _("Hazards found by category"), [_("Category"), _("Hazards found")], report["by_category"], [110, 46])
    table("三", _("Institutions by current risk level"), [_("Level"), _("Institutions")], report["levels"], [110, 46])
    head, rows = township_table(report)
    table("四", _("By township"), head, rows, [24] + [15] * len(TOWNSHIP_FIGURES) + [12])
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def report_xlsx(report, user) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    from apps.core.excel import print_setup, sheet_title, write_row

    ws = wb.active
    ws.title = sheet_title(_("Summary"))
    write_row(ws, [_title(report, user)])
    ws["A1"].font = Font(bold=True)
    for row in summary_rows(report):
        write_row(ws, [str(row[0]), row[1]])
    print_setup(ws, header_rows=0)
    sheets = [
        (_("By category"), [_("Category"), _("Hazards found")], report["by_category"]),
        (_("Risk levels"), [_("Level"), _("Institutions")], report["levels"]),
        (_("By township"), *township_table(report)),
    ]
    for title, head, rows in sheets:
        s = wb.create_sheet(sheet_title(title))
        write_row(s, head)
        for row in rows:
            write_row(s, row)
        s.freeze_panes = "A2"
        print_setup(s)
    ws.column_dimensions["A"].width = 30
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
