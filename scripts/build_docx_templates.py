"""Build the shipped docxtpl templates of the official documents (GB/T 9704-2012 layout).

    .venv/bin/python scripts/build_docx_templates.py

writes ``apps/hazards/templates/hazards/docx/<kind>.docx``.  The layout comes from
``apps.core.officedoc``; the wording and the Jinja tags (docxtpl) are here.  A bureau that wants
other wording downloads one of these, edits it in Word and uploads it per issuer in admin
(Document templates); the upload is refused unless it renders with a sample context.

Context (see ``apps.hazards.documents.context``): administration (the issuing administration, 发文机关:
masthead, signature, seal), office (the office that drafted it; also ``issuer``), office_differs,
number, title, recipient, date,
deadline, requirements (lines), hazards (i, category, level, text, found_on), supervision
(number, listed_on, department, responsible, deadline) or None, legal_basis, remedy.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING  # noqa: E402
from docx.shared import Mm  # noqa: E402

from apps.core import officedoc as od  # noqa: E402

OUT = ROOT / "apps" / "hazards" / "templates" / "hazards" / "docx"
HAZARD_COLUMNS = [("序号", 14), ("类别", 26), ("等级", 16), ("隐患部位及情况", 68), ("发现日期", 32)]
BODY = dict(indent=True)


def tag(doc, text):
    """A paragraph holding only a docxtpl paragraph tag ({%p … %}); docxtpl removes it."""
    od.paragraph(doc, text)


def requirements(doc, keep_last=True):
    """整改要求 lines; the last one kept with what follows."""
    tag(doc, "{%p for line in requirements[:-1] %}")
    od.paragraph(doc, "{{ line }}", **BODY)
    tag(doc, "{%p endfor %}")
    tag(doc, "{%p if requirements %}")
    od.paragraph(doc, "{{ requirements[-1] }}", keep_with_next=keep_last, **BODY)
    tag(doc, "{%p endif %}")


def attachment_note(doc):
    """附件说明: one line under the body, two characters in."""
    tag(doc, "{%p if hazards %}")
    od.paragraph(doc, keep_with_next=True)
    od.paragraph(doc, "附件：火灾隐患清单", keep_with_next=True, **BODY)
    tag(doc, "{%p endif %}")


def hazard_attachment(doc):
    """附件 on its own page: 附件 in 黑体 top left, the title, the hazard table with fitting widths."""
    tag(doc, "{%p if hazards %}")
    od.paragraph(doc, "附件", font=od.HEI_FONT, page_break_before=True)
    od.paragraph(doc, "火灾隐患清单", font=od.TITLE_FONT, size=od.SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER,
                 line_spacing=Mm(13), space_after=Mm(4))
    widths = [w for _h, w in HAZARD_COLUMNS]
    t = od.table(doc, widths, [h for h, _w in HAZARD_COLUMNS])
    od.add_row(t, ["{%tr for h in hazards %}", "", "", "", ""], widths)
    od.add_row(t, ["{{ h.i }}", "{{ h.category }}", "{{ h.level }}", "{{ h.text }}", "{{ h.found_on }}"], widths)
    od.add_row(t, ["{%tr endfor %}", "", "", "", ""], widths)
    tag(doc, "{%p endif %}")


def receipt(doc):
    """送达回执 on its own page, to be signed by the recipient and returned."""
    od.paragraph(doc, "送达回执", font=od.TITLE_FONT, size=od.SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER,
                 page_break_before=True, line_spacing=Mm(13), space_after=Mm(6))
    widths = [44, 112]
    t = od.table(doc, widths)
    rows = [("文书名称", "{{ title }}"), ("文书编号", "{{ number }}"), ("送达单位", "{{ administration }}{% if office_differs %}（{{ office }}）{% endif %}"),
            ("受送达单位", "{{ recipient }}"), ("送达日期", "{{ date }}"), ("签收人（签名）", ""),
            ("签收日期", "        年    月    日"), ("备注", "")]
    for label, value in rows:
        row = od.add_row(t, [label, value], widths, size=od.SIZE_3)
        row.height = Mm(16)
    od.paragraph(doc)
    od.paragraph(doc, "请受送达单位签收后将本回执交回{{ administration }}{% if office_differs %}（{{ office }}）{% endif %}。", font=od.KAI_FONT, **BODY)


def letter(kind_title, opening, closing, *, notice=False):
    doc = od.new_document()
    od.masthead(doc, "{{ administration }}", "{{ number }}")
    od.title(doc, kind_title)
    od.paragraph(doc, "{{ recipient }}：")
    tag(doc, "{%p if supervision %}")
    od.paragraph(doc, "你单位重大火灾隐患已于{{ supervision.listed_on }}挂牌督办（{{ supervision.number }}）。", **BODY)
    tag(doc, "{%p endif %}")
    for text in opening:
        od.paragraph(doc, text, **BODY)
    requirements(doc)
    if not notice:
        tag(doc, "{%p if deadline %}")
        od.paragraph(doc, "请于{{ deadline }}前完成整改，并将整改情况书面报送我单位。", keep_with_next=True, **BODY)
        tag(doc, "{%p endif %}")
    else:
        od.paragraph(doc, "整改期间，你单位应当采取措施，确保消防安全。逾期不改正的，我单位将依法处理。",
                     keep_with_next=True, **BODY)
        od.paragraph(doc, "{{ remedy }}", keep_with_next=True, **BODY)
    od.paragraph(doc, closing, keep_with_next=True, **BODY)
    attachment_note(doc)
    od.signature(doc, "{{ administration }}", "{{ date }}")
    hazard_attachment(doc)
    receipt(doc)
    return doc


def supervision_order():
    """督办单 as the form officers use: one table, the issuer's opinion and seal in its last row."""
    doc = od.new_document()
    od.masthead(doc, "{{ administration }}", "{{ number }}")
    od.title(doc, "火灾隐患整改督办单")
    widths = [42, 114]
    t = od.table(doc, widths)
    od.add_row(t, ["被督办单位", "{{ recipient }}"], widths, size=od.SIZE_3)
    od.add_row(t, ["挂牌督办编号", "{{ supervision.number if supervision else '—' }}"], widths, size=od.SIZE_3)
    od.add_row(t, ["督办部门", "{{ supervision.department if supervision else office }}"], widths, size=od.SIZE_3)
    row = od.add_row(t, ["隐患情况", "{%p for h in hazards %}"], widths, size=od.SIZE_3)
    cell = row.cells[1]
    cell.add_paragraph("{{ h.i }}. {{ h.category }}（{{ h.level }}）{{ h.text }}")
    cell.add_paragraph("{%p endfor %}")
    od.add_row(t, ["整改责任人", "{{ supervision.responsible if supervision else '' }}"], widths, size=od.SIZE_3)
    od.add_row(t, ["整改期限", "{{ deadline or '—' }}"], widths, size=od.SIZE_3)
    row = od.add_row(t, ["整改要求", "{%p for line in requirements %}"], widths, size=od.SIZE_3)
    row.cells[1].add_paragraph("{{ line }}")
    row.cells[1].add_paragraph("{%p endfor %}")
    row = od.add_row(t, ["督办意见", "请你单位按上述要求落实整改，并于整改期限届满前将整改情况书面报送我单位。"],
                     widths, size=od.SIZE_3)
    cell = row.cells[1]
    for text in ("", "", "{{ administration }}（盖章）", "{{ date }}"):
        p = cell.add_paragraph(text)
        if text:
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row in t.rows:
        for cell in row.cells:
            for p in cell.paragraphs:
                p.paragraph_format.line_spacing = Mm(9)
                p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.AT_LEAST
                for run in p.runs:
                    od.set_fonts(run, od.BODY_FONT)
                    run.font.size = od.SIZE_3
    receipt(doc)
    return doc


def build():
    OUT.mkdir(parents=True, exist_ok=True)
    docs = {
        "suggestion_letter": letter(
            "消防安全工作建议函",
            ["{% if hazards %}经检查，你单位存在火灾隐患{{ hazards|length }}项（见附件）。{% else %}"
             "为做好你单位消防安全工作，{% endif %}现提出如下建议："], "特此函告。"),
        "rectification_notice": letter(
            "责令整改通知书",
            ["{% if hazards %}经检查，你单位存在火灾隐患{{ hazards|length }}项（见附件）。{% endif %}"
             "根据{{ legal_basis }}，现责令你单位{% if deadline %}于{{ deadline }}前{% endif %}"
             "改正，整改要求如下："], "特此通知。", notice=True),
        "supervision_order": supervision_order(),
    }
    for kind, doc in docs.items():
        path = OUT / f"{kind}.docx"
        doc.save(path)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    build()
