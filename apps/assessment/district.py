"""The district assessment report: high-risk areas (townships and kinds) ranked, as a page and .docx."""
import io
from collections import Counter, defaultdict

from django.db.models import Avg, Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.hazards.choices import OPEN_STATES, HazardLevel
from apps.hazards.models import Hazard
from apps.ledger.choices import InstitutionKind
from apps.ledger.models import Institution

from .choices import RiskLevel
from .models import InstitutionRisk

LEVELS = [RiskLevel.RED, RiskLevel.ORANGE, RiskLevel.YELLOW, RiskLevel.BLUE]


def _rank(rows):
    return sorted(rows, key=lambda r: (-(r["red"] + r["orange"]), -r["open_major"], -r["avg_score"], r["name"]))


def _group(user, key, names):
    risks = (InstitutionRisk.objects.visible_to(user).values(key).annotate(
        institutions=Count("pk"), avg_score=Avg("score"),
        **{lv.value: Count("pk", filter=Q(level=lv)) for lv in LEVELS}))
    hazard_key = key.replace("institution__", "institution__", 1)
    hazards = {r[hazard_key]: r for r in Hazard.objects.visible_to(user).filter(state__in=OPEN_STATES)
               .values(hazard_key).annotate(open=Count("pk"), open_major=Count("pk", filter=Q(level=HazardLevel.MAJOR)))}
    rows = []
    for r in risks:
        h = hazards.get(r[key], {})
        rows.append({"id": r[key], "name": names.get(r[key], r[key]), "institutions": r["institutions"],
                     "avg_score": round(float(r["avg_score"] or 0), 1), "open": h.get("open", 0),
                     "open_major": h.get("open_major", 0), **{lv.value: r[lv.value] for lv in LEVELS}})
    return _rank(rows)


def high_risk_areas(user, top=10):
    """Townships and institution kinds ranked by risk and by open major hazards, plus the top institutions."""
    from apps.orgs.models import Organization

    names = dict(Organization.objects.filter(kind="township").values_list("pk", "name"))
    townships = _group(user, "institution__township", names)
    kinds = _group(user, "institution__kind", dict(InstitutionKind.choices))
    worst = list(InstitutionRisk.objects.visible_to(user).select_related("institution__township")
                 .order_by("-score")[:top])
    # The factors that weigh most across the red and orange institutions: the district's weak links.
    weights, measures = Counter(), {}
    for factors in InstitutionRisk.objects.visible_to(user).filter(
            level__in=[RiskLevel.RED, RiskLevel.ORANGE]).values_list("factors", flat=True):
        for f in factors or []:
            if f.get("contribution", 0) > 0:
                weights[f["label"]] += f["contribution"]
                measures[f["label"]] = f.get("countermeasure", "")
    weak = [{"label": label, "total": round(total, 1), "countermeasure": measures[label]}
            for label, total in weights.most_common(8)]
    missing = Institution.objects.visible_to(user).filter(risk__isnull=True).count()
    return {"townships": townships, "kinds": kinds, "worst": worst, "weak": weak, "unscored": missing,
            "date": timezone.localdate()}


def report_docx(report, user) -> bytes:
    """The district assessment report as an editable Word document."""
    from docx import Document

    doc = Document()
    doc.add_heading(_("District fire-safety assessment: high-risk areas"), level=0)
    doc.add_paragraph(f"{_('Date')}: {report['date']:%Y-%m-%d}　{_('Scope')}: {user.org_label or _('Platform')}")
    level_head = [str(RiskLevel(lv).label) for lv in LEVELS]

    def table(title, rows, name_head):
        doc.add_heading(title, level=1)
        t = doc.add_table(rows=1, cols=9)
        t.style = "Table Grid"
        heads = [_("Rank"), name_head, _("Institutions"), *level_head, _("Open major hazards"), _("Average score")]
        for cell, text in zip(t.rows[0].cells, heads, strict=True):
            cell.text = str(text)
        for i, r in enumerate(rows, 1):
            values = [i, r["name"], r["institutions"], *[r[lv.value] for lv in LEVELS], r["open_major"], r["avg_score"]]
            for cell, v in zip(t.add_row().cells, values, strict=True):
                cell.text = str(v)

    table(_("Townships ranked by risk"), report["townships"], _("Township"))
    table(_("Institution kinds ranked by risk"), report["kinds"], _("Kind"))
    doc.add_heading(_("Institutions with the highest risk"), level=1)
    t = doc.add_table(rows=1, cols=4)
    t.style = "Table Grid"
    for cell, text in zip(t.rows[0].cells, [_("Institution"), _("Township"), _("Level"), _("Score")], strict=True):
        cell.text = str(text)
    for r in report["worst"]:
        for cell, v in zip(t.add_row().cells, [r.institution.name, r.institution.township.name,
                                               r.get_level_display(), r.score], strict=True):
            cell.text = str(v)
    doc.add_heading(_("Weak links and targeted countermeasures"), level=1)
    for w in report["weak"]:
        doc.add_paragraph(f"{w['label']}（{w['total']}）：{w['countermeasure']}", style="List Number")
    if not report["weak"]:
        doc.add_paragraph(_("No institution is at the major or large risk level."))
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def per_group_counts(rows):
    out = defaultdict(int)
    for r in rows:
        for lv in LEVELS:
            out[lv.value] += r[lv.value]
    return dict(out)
