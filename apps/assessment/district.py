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
    """The district assessment report as an editable Word document (A4, official layout)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    from apps.core import officedoc as od

    doc = od.new_document()
    od.paragraph(doc, _("District fire-safety assessment: high-risk areas"), font=od.TITLE_FONT, size=od.SIZE_2,
                 align=WD_ALIGN_PARAGRAPH.CENTER, line_spacing=od.Pt(36))
    od.paragraph(doc, _("%(scope)s, as of %(date)s") % {"scope": user.org_label or _("Platform"),
                                                       "date": od.cn_date(report["date"])},
                 font=od.KAI_FONT, align=WD_ALIGN_PARAGRAPH.CENTER)
    level_head = [str(RiskLevel(lv).label) for lv in LEVELS]
    small = od.Pt(10.5)

    def heading(number, title):
        od.paragraph(doc, f"{number}、{title}", font=od.HEI_FONT, keep_with_next=True, indent=True)

    def table(number, title, rows, name_head):
        heading(number, title)
        widths = [12, 34, 16, 16, 16, 16, 16, 16, 14]
        heads = [_("Rank"), name_head, _("Institutions"), *level_head, _("Open major hazards"), _("Average score")]
        t = od.table(doc, widths, [str(h) for h in heads], size=small)
        for i, r in enumerate(rows, 1):
            od.add_row(t, [i, r["name"], r["institutions"], *[r[lv.value] for lv in LEVELS], r["open_major"],
                           r["avg_score"]], widths, size=small)

    table("一", _("Townships ranked by risk"), report["townships"], _("Township"))
    table("二", _("Institution kinds ranked by risk"), report["kinds"], _("Kind"))
    heading("三", _("Institutions with the highest risk"))
    widths = [70, 36, 26, 24]
    t = od.table(doc, widths, [str(h) for h in (_("Institution"), _("Township"), _("Level"), _("Score"))],
                 size=small)
    for r in report["worst"]:
        od.add_row(t, [r.institution.name, r.institution.township.name, r.get_level_display(), r.score], widths,
                   size=small)
    heading("四", _("Weak links and targeted countermeasures"))
    for i, w in enumerate(report["weak"], 1):
        od.paragraph(doc, _("%(i)s. %(label)s (weight %(total)s): %(measure)s") % {
            "i": i, "label": w["label"], "total": w["total"], "measure": w["countermeasure"]}, indent=True)
    if not report["weak"]:
        od.paragraph(doc, _("No institution is at the major or large risk level."), indent=True)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def per_group_counts(rows):
    out = defaultdict(int)
    for r in rows:
        for lv in LEVELS:
            out[lv.value] += r[lv.value]
    return dict(out)
