"""Official documents laid out to GB/T 9704-2012 (党政机关公文格式), and their PDF.

The layout lives here once: the page (A4, type area 156×225 mm, top margin 37 mm, left 28 mm),
the fonts the standard names with the fallbacks Word and LibreOffice find on stock Windows and
Linux, the red 发文机关标志 and separator line, page numbers "— 1 —" on the outside, the
signature block that never stands alone on a page.  ``scripts/build_docx_templates.py`` builds
the shipped docxtpl templates with these helpers, the reports use them directly.
"""
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

log = logging.getLogger(__name__)

# Fonts as GB/T 9704 names them; the fallbacks are declared in the font table (Windows) and in
# FONTCONFIG (LibreOffice on Linux), see ``FONT_FALLBACKS``.
TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEI_FONT = "黑体"
KAI_FONT = "楷体_GB2312"
LATIN_FONT = "Times New Roman"
PAGE_NUMBER_FONT = "宋体"
FONT_FALLBACKS = {  # standard name: (Windows fallback, stock-Linux fallback)
    TITLE_FONT: ("宋体", "Noto Serif CJK SC"),
    BODY_FONT: ("仿宋", "Noto Serif CJK SC"),
    HEI_FONT: ("黑体", "Noto Sans CJK SC"),
    KAI_FONT: ("楷体", "Noto Serif CJK SC"),
    PAGE_NUMBER_FONT: ("宋体", "Noto Serif CJK SC"),
}
FONTCONFIG = Path(__file__).resolve().parent / "fonts" / "fonts.conf"

RED = RGBColor(0xFF, 0x00, 0x00)
# Font sizes by their Chinese names (号).
SIZE_2 = Pt(22)
SIZE_3 = Pt(16)
SIZE_4 = Pt(14)
# 22 lines of 28 characters fill the 225 mm type area: an exact line pitch of 225 mm / 22.
LINE_PITCH = Pt(28.95)
CHAR = SIZE_3.pt  # one character of body text, in points

# Page and type area (mm).
PAGE_W, PAGE_H = 210, 297
TYPE_W, TYPE_H = 156, 225
MARGIN_TOP, MARGIN_LEFT = 37, 28
MARGIN_BOTTOM = PAGE_H - MARGIN_TOP - TYPE_H  # 35
MARGIN_RIGHT = PAGE_W - MARGIN_LEFT - TYPE_W  # 26


def cn_date(day):
    """成文日期 as the standard writes it: Arabic numerals without leading zeros (2027年1月5日)."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def set_fonts(run_or_style, east_asian, latin=LATIN_FONT):
    """Name the East-Asian and Latin fonts of a run or style (python-docx sets only the Latin one)."""
    font = run_or_style.font
    font.name = latin
    rpr = run_or_style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr, value in (("w:ascii", latin), ("w:hAnsi", latin), ("w:eastAsia", east_asian), ("w:cs", latin)):
        fonts.set(qn(attr), value)


def _ind(paragraph, **attrs):
    ppr = paragraph._p.get_or_add_pPr()
    ind = ppr.find(qn("w:ind"))
    if ind is None:
        ind = OxmlElement("w:ind")
        ppr.append(ind)
    for k, v in attrs.items():
        ind.set(qn(f"w:{k}"), str(v))


def first_line_indent(paragraph, chars=2):
    """Indent the first line by ``chars`` characters (GB/T 9704: 首行缩进二字)."""
    _ind(paragraph, firstLineChars=chars * 100, firstLine=int(chars * CHAR * 20))


def bottom_border(paragraph, color="FF0000", eighths=12, space_pt=11):
    """A line under the paragraph across the type area (the red separator)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("val", "single"), ("sz", eighths), ("space", space_pt), ("color", color)):
        bottom.set(qn(f"w:{k}"), str(v))
    borders.append(bottom)
    ppr.append(borders)


def _field(paragraph, instr):
    """A Word field (e.g. PAGE) in its complex form, which Word and LibreOffice both update."""
    for kind, text in (("begin", None), (None, instr), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            fld = OxmlElement("w:fldChar")
            fld.set(qn("w:fldCharType"), kind)
            run._r.append(fld)
        elif text == instr:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instr} "
            run._r.append(el)
        else:
            run.text = text
        set_fonts(run, PAGE_NUMBER_FONT)
        run.font.size = SIZE_4


def _page_number(footer, align):
    """"— 1 —" in 4号 宋体, one character in from the outside edge."""
    p = footer.paragraphs[0]
    p.alignment = align
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        _ind(p, right=int(SIZE_4.pt * 20))
    else:
        _ind(p, left=int(SIZE_4.pt * 20))
    for part in ("— ", None, " —"):
        if part is None:
            _field(p, "PAGE")
        else:
            run = p.add_run(part)
            set_fonts(run, PAGE_NUMBER_FONT)
            run.font.size = SIZE_4


def _font_table(doc):
    """Declare the standard's fonts with a Windows fallback (``w:altName``) and the CJK charset."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree

    part = doc.part.part_related_by(RT.FONT_TABLE)
    root = etree.fromstring(part.blob)
    ns = root.nsmap.get("w") or "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    w = f"{{{ns}}}"
    for name, (windows, _linux) in FONT_FALLBACKS.items():
        font = etree.SubElement(root, w + "font", {w + "name": name})
        etree.SubElement(font, w + "altName", {w + "val": windows})
        etree.SubElement(font, w + "charset", {w + "val": "86"})  # GB2312
        family = "swiss" if name == HEI_FONT else "roman"
        etree.SubElement(font, w + "family", {w + "val": family})
        etree.SubElement(font, w + "pitch", {w + "val": "variable"})
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def new_document(*, landscape=False):
    """An empty document on A4 with the standard's margins, fonts, line pitch and page numbers."""
    doc = Document()
    section = doc.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(PAGE_H), Mm(PAGE_W)
        section.left_margin, section.right_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
        section.top_margin, section.bottom_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    else:
        section.page_width, section.page_height = Mm(PAGE_W), Mm(PAGE_H)
        section.top_margin, section.bottom_margin = Mm(MARGIN_TOP), Mm(MARGIN_BOTTOM)
        section.left_margin, section.right_margin = Mm(MARGIN_LEFT), Mm(MARGIN_RIGHT)
    section.header_distance = Mm(15)
    # The page number's dash sits 7 mm under the type area.
    section.footer_distance = Mm(MARGIN_BOTTOM - 7 - 6)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    normal = doc.styles["Normal"]
    set_fonts(normal, BODY_FONT)
    normal.font.size = SIZE_3
    lang = OxmlElement("w:lang")
    lang.set(qn("w:val"), "zh-CN")
    lang.set(qn("w:eastAsia"), "zh-CN")
    normal.element.get_or_add_rPr().append(lang)
    fmt = normal.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.widow_control = True
    _font_table(doc)
    # Drop the one empty paragraph python-docx's default document starts with.
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    return doc


def paragraph(doc_or_cell, text="", *, font=None, size=None, bold=False, color=None, align=None,
              indent=False, keep_with_next=False, page_break_before=False, space_before=None,
              space_after=None, line_spacing=None):
    """One paragraph of a single run with the given font (body font by default)."""
    p = doc_or_cell.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        first_line_indent(p)
    fmt = p.paragraph_format
    fmt.keep_with_next = keep_with_next or None
    if page_break_before:
        fmt.page_break_before = True
    if space_before is not None:
        fmt.space_before = space_before
    if space_after is not None:
        fmt.space_after = space_after
    if line_spacing is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = line_spacing
    if text:
        run = p.add_run(text)
        set_fonts(run, font or BODY_FONT)
        if size is not None:
            run.font.size = size
        run.bold = bold or None
        if color is not None:
            run.font.color.rgb = color
    return p


def masthead(doc, issuer_name, number):
    """Red 发文机关标志, 发文字号 centred under it, the red separator line under the number."""
    paragraph(doc, issuer_name, font=TITLE_FONT, size=Pt(36), color=RED, align=WD_ALIGN_PARAGRAPH.CENTER,
              space_before=Mm(32), line_spacing=Pt(48), keep_with_next=True)
    paragraph(doc, keep_with_next=True)
    p = paragraph(doc, number, align=WD_ALIGN_PARAGRAPH.CENTER, keep_with_next=True)
    bottom_border(p)


def title(doc, text):
    """The title in 2号 小标宋, centred, two lines under the separator."""
    paragraph(doc, keep_with_next=True)
    paragraph(doc, text, font=TITLE_FONT, size=SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, keep_with_next=True,
              line_spacing=Pt(36))
    paragraph(doc, keep_with_next=True)


def signature(doc, issuer_name, date_text):
    """发文机关署名 and 成文日期, centred on each other, the date four characters in from the right,
    with room above for the seal; kept with the paragraph before (never alone on a page)."""
    for _i in range(2):
        paragraph(doc, keep_with_next=True)
    for text, keep in ((issuer_name, True), (date_text, False)):
        p = paragraph(doc, text, align=WD_ALIGN_PARAGRAPH.CENTER, keep_with_next=keep)
        _ind(p, left=int(Mm(70).twips), right=int(4 * CHAR * 20))


def page_break(doc):
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def table(doc_or_cell, widths_mm, header=None, *, size=SIZE_4):
    """A fixed-layout table with the given column widths (mm), header row repeated on every page."""
    t = doc_or_cell.add_table(rows=1 if header else 0, cols=len(widths_mm))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    t.autofit = False
    tblpr = t._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tblpr.append(layout)
    grid = t._tbl.tblGrid
    for col, width in zip(grid.iterchildren(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    if header:
        row = t.rows[0]
        trpr = row._tr.get_or_add_trPr()
        for tag in ("w:tblHeader", "w:cantSplit"):
            trpr.append(OxmlElement(tag))
        for cell, text in zip(row.cells, header, strict=True):
            cell_text(cell, text, font=HEI_FONT, size=size, align=WD_ALIGN_PARAGRAPH.CENTER)
    set_widths(t, widths_mm)
    return t


def set_widths(t, widths_mm):
    for row in t.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)


def add_row(t, values, widths_mm, *, size=SIZE_4, font=BODY_FONT):
    row = t.add_row()
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for cell, value, width in zip(row.cells, values, widths_mm, strict=True):
        cell.width = Mm(width)
        cell_text(cell, "—" if value is None else str(value), font=font, size=size)
    return row


def cell_text(cell, text, *, font=BODY_FONT, size=SIZE_4, align=None):
    """Put ``text`` in a table cell (single-spaced lines of the given size)."""
    p = cell.paragraphs[0]
    p.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    if align is not None:
        p.alignment = align
    run = p.add_run(text)
    set_fonts(run, font)
    run.font.size = size
    return p


def soffice():
    """The LibreOffice binary, or None where it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(content: bytes, timeout=120):
    """The PDF of a .docx (LibreOffice, with the standard's fonts mapped by ``FONTCONFIG``),
    or None when LibreOffice is absent or fails (the .docx is the document; the PDF a convenience)."""
    binary = soffice()
    if binary is None:
        return None
    with tempfile.TemporaryDirectory(prefix="firesafe-pdf-") as tmp:
        source = Path(tmp) / "document.docx"
        source.write_bytes(content)
        converted = convert_to_pdf([source], Path(tmp), timeout=timeout, binary=binary)
        return converted[0].read_bytes() if converted else None


def convert_to_pdf(sources, outdir, *, timeout=120, binary=None):
    """Convert several .docx files in one LibreOffice run; the PDFs written (empty on failure)."""
    binary = binary or soffice()
    outdir = Path(outdir)
    profile = Path(tempfile.mkdtemp(prefix="firesafe-lo-"))
    env = {**os.environ, "FONTCONFIG_FILE": str(FONTCONFIG), "HOME": str(profile)}
    try:
        subprocess.run(
            [binary, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
             "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(outdir), *map(str, sources)],
            check=True, capture_output=True, timeout=timeout, env=env)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("PDF conversion failed: %s", exc)
        return []
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    pdfs = [outdir / (Path(s).stem + ".pdf") for s in sources]
    return [p for p in pdfs if p.exists()]
