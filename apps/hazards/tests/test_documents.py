"""Official documents to GB/T 9704-2012: layout checked in the .docx XML and in LibreOffice's PDF;
number patterns and per-issuer templates checked when saved."""
import datetime
import io
import os
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from apps.core import officedoc
from apps.core.testing import api_client, page_client
from apps.hazards import documents as docs
from apps.hazards.admin import DocumentTemplateForm
from apps.hazards.choices import DocumentKind
from apps.hazards.models import DocumentTemplate, NumberCounter, NumberFormat, OfficialDocument

from .helpers import general, in_days, listed

MM = 72 / 25.4  # PDF points per millimetre
# Skipped only on a machine without LibreOffice; CI installs it (`make office`) and must run these.
needs_soffice = pytest.mark.skipif(not officedoc.soffice() and not os.environ.get("CI"),
                                   reason="LibreOffice (soffice) is not installed here; CI installs it")


def test_the_date_of_a_document_has_no_leading_zeros():
    assert officedoc.cn_date(datetime.date(2027, 1, 5)) == "2027年1月5日"
    assert officedoc.cn_date(datetime.date(2027, 11, 25)) == "2027年11月25日"


@pytest.mark.django_db
def test_a_bad_number_pattern_is_refused_with_the_allowed_placeholders():
    fmt = NumberFormat.objects.get(series="supervision_order")
    for bad in ("{issuer}建〔{year}〕{num}号", "〔{year}〕号", "〔{year}〕{n!r}号", "〔{year}〕{n号"):
        fmt.pattern = bad
        with pytest.raises(ValidationError) as exc:
            fmt.full_clean()
        assert "{year}" in str(exc.value) and "{n}" in str(exc.value) and "{issuer}" in str(exc.value), bad
    fmt.pattern = "{issuer}督〔{year}〕{n}号"
    fmt.full_clean()


def test_the_admin_refuses_a_bad_pattern(world):
    fmt = NumberFormat.objects.get(series="supervision_order")
    response = page_client(world.admin).post(f"/admin/hazards/numberformat/{fmt.pk}/change/", {
        "series": "supervision_order", "pattern": "{issuer}建〔{year}〕{num}号"})
    assert response.status_code == 200 and "{num}" in response.content.decode()
    fmt.refresh_from_db()
    assert "{num}" not in fmt.pattern


def test_a_bad_pattern_saved_earlier_refuses_issuing_with_a_reason_and_takes_no_number(world):
    NumberFormat.objects.filter(series="supervision_order").update(pattern="{issuer}建〔{year}〕{num}号")
    hazard = general(world)
    response = page_client(world.town1).post("/hazards/documents/new/", {
        "kind": "supervision_order", "institution": world.inst1.pk, "hazards": [hazard.pk],
        "requirements": "立即整改"}, follow=True)
    assert response.status_code == 200
    assert "{num}" in response.content.decode() and "{issuer}" in response.content.decode()
    assert not OfficialDocument.objects.exists() and not NumberCounter.objects.exists()


def _docx_with(text):
    """A minimal .docx whose body is ``text`` (for template uploads)."""
    from docx import Document

    d = Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return SimpleUploadedFile("t.docx", buf.getvalue())


def test_an_issuer_template_is_checked_on_upload_and_then_used(world):
    bad = DocumentTemplateForm(data={"issuer": world.t1.pk, "kind": "suggestion_letter"},
                               files={"file": _docx_with("{{ recipient }：{% if %}")})
    assert not bad.is_valid() and "file" in bad.errors
    not_docx = DocumentTemplateForm(data={"issuer": world.t1.pk, "kind": "suggestion_letter"},
                                    files={"file": SimpleUploadedFile("t.docx", b"not a zip")})
    assert not not_docx.is_valid()
    good = DocumentTemplateForm(data={"issuer": world.t1.pk, "kind": "suggestion_letter"},
                                files={"file": _docx_with("致{{ recipient }}：本街道专用建议函 {{ number }}")})
    assert good.is_valid(), good.errors
    good.save()
    document = docs.issue_document(world.town1, kind="suggestion_letter", institution=world.inst1,
                                   requirements="加强巡查")
    from docx import Document

    with document.file.open("rb") as f:
        text = "\n".join(p.text for p in Document(f).paragraphs)
    assert f"致{world.inst1.name}：本街道专用建议函 {document.number}" in text
    # another issuer keeps the shipped template
    other = docs.issue_document(world.admin, kind="suggestion_letter", institution=world.inst1, requirements="x")
    with other.file.open("rb") as f:
        assert "本街道专用" not in "\n".join(p.text for p in Document(f).paragraphs)
    assert DocumentTemplate.objects.count() == 1


@pytest.mark.parametrize("kind", DocumentKind.values)
def test_the_shipped_templates_name_the_standard_fonts_and_page(kind):
    content = docs.render_template(docs.TEMPLATE_DIR / f"{kind}.docx", docs.sample_context(kind))
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        document, styles, fonts = (z.read(f"word/{n}.xml").decode() for n in ("document", "styles", "fontTable"))
        settings_xml = z.read("word/settings.xml").decode()
    assert 'w:w="11906"' in document and 'w:h="16838"' in document  # A4 in twips
    assert 'w:top="2098"' in document and 'w:left="1587"' in document  # 37 mm, 28 mm
    assert 'w:right="1474"' in document and 'w:bottom="1984"' in document  # type area 156 × 225 mm
    assert 'w:eastAsia="仿宋_GB2312"' in styles and 'w:eastAsia="方正小标宋简体"' in document
    assert 'w:eastAsia="楷体_GB2312"' in document and "黑体" in fonts
    assert '<w:altName w:val="仿宋"/>' in fonts  # what Word on Windows falls back to
    assert 'w:color w:val="FF0000"' in document and 'w:bottom w:val="single"' in document
    footers = z_footer(content)  # "— 1 —" outside: right on odd pages, left on even ones
    assert "evenAndOddHeaders" in settings_xml and "PAGE" in footers
    assert '<w:jc w:val="right"/>' in footers and '<w:jc w:val="left"/>' in footers
    assert "{{" not in document and "{%" not in document
    assert 'w:firstLineChars="200"' in document


def z_footer(content):
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return "".join(z.read(n).decode() for n in z.namelist() if n.startswith("word/footer"))


# --- rendered by LibreOffice -------------------------------------------------------------------


def _words(pdf_path, page=1):
    """(text, xMin, yMin, xMax, yMax) of each word on a page, in points from the top left (poppler)."""
    import re

    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-bbox", str(pdf_path), "-"],
                         check=True, capture_output=True, text=True).stdout
    return [(m[4], float(m[0]), float(m[1]), float(m[2]), float(m[3])) for m in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]


def _red_rows(pdf_path, page=1, dpi=50):
    """Rows (in PDF points from the top) of red pixels on a page and, per row, how wide the red is (pt)."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", str(pdf_path),
                        f"{tmp}/p"], check=True)
        image = Image.open(next(Path(tmp).glob("p*.png"))).convert("RGB")
    scale = 72 / dpi
    rows = {}
    px = image.load()
    for y in range(image.height):
        red = sum(1 for x in range(image.width) if px[x, y][0] > 180 and px[x, y][1] < 90 and px[x, y][2] < 90)
        if red:
            rows[y * scale] = red * scale
    return rows


def _render_pdfs(contexts, tmp, kind):
    sources = []
    for i, ctx in enumerate(contexts):
        path = Path(tmp) / f"{kind}-{i:02d}.docx"
        path.write_bytes(docs.render_template(docs.TEMPLATE_DIR / f"{kind}.docx", ctx))
        sources.append(path)
    pdfs = officedoc.convert_to_pdf(sources, tmp, timeout=300)
    assert len(pdfs) == len(sources), "LibreOffice did not convert every document"
    return pdfs


@needs_soffice
@override_settings(DOCUMENT_PDF=True)
@pytest.mark.parametrize("kind", DocumentKind.values)
def test_each_issued_document_renders_to_a_pdf_to_the_standard(world, kind):
    from pypdf import PdfReader

    s = listed(world)
    document = docs.issue_document(world.town1, kind=kind, institution=world.inst1, hazards=[s.hazard],
                                   supervision=s, requirements="一、立即增设安全出口。\n二、整改期间落实夜间值守。",
                                   deadline=in_days(30))
    assert document.pdf, "no PDF beside the .docx"
    for client, url in ((page_client(world.home1), f"/hazards/documents/{document.pk}/download/?format=pdf"),
                        (api_client(world.home1), f"/api/v1/official-documents/{document.pk}/pdf/")):
        response = client.get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content).startswith(b"%PDF")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.pdf"
        with document.pdf.open("rb") as f:
            path.write_bytes(f.read())
        reader = PdfReader(path)
        first = reader.pages[0]
        width, height = float(first.mediabox.width), float(first.mediabox.height)
        assert abs(width - 210 * MM) < 1 and abs(height - 297 * MM) < 1  # A4
        words = _words(path)
        body = [w for w in words if w[4] < height - 35 * MM]  # the page number sits under the type area
        # margins: text starts 28 mm from the left, under 37 mm from the top, inside the 156 mm type area
        left = min(w[1] for w in body)  # a letter's text, or a form's cells (2 mm padding)
        assert 28 * MM - 1 < left < 30 * MM, sorted(body, key=lambda w: w[1])[:3]
        assert max(w[3] for w in body) < (28 + 156) * MM + 1
        assert min(w[2] for w in body) > 37 * MM
        # the red 发文机关标志, then the 发文字号 centred, then the red line across the type area
        red = _red_rows(path)
        line = [y for y, w in red.items() if w > 140 * MM]
        assert line, "no red separator line"
        issuer = docs.issuing_administration(document).name  # 发文机关: the listing's district bureau
        assert issuer == world.bureau.name
        mark = [w for w in words if w[0] == issuer]
        assert mark and any(mark[0][2] <= y <= mark[0][4] for y in red), "the 发文机关标志 is not red"
        number = [w for w in words if w[2] > mark[0][4] and w[4] < min(line)]
        assert "".join(w[0] for w in number) == document.number, "the number is not between the mark and the line"
        centre = (min(w[1] for w in number) + max(w[3] for w in number)) / 2
        assert abs(centre - width / 2) < 3 * MM, "the number is not centred"
        assert min(line) - max(w[4] for w in number) < 8 * MM
        page_text = first.extract_text()
        assert issuer in page_text and document.number.replace(" ", "") in page_text.replace(" ", "")
        # page numbers "— 1 —"; the receipt is the last page
        assert "— 1 —" in page_text or "—1—" in page_text.replace(" ", "")
        assert "送达回执" in reader.pages[-1].extract_text()
        date = officedoc.cn_date(document.issued_on)
        assert date in "".join(p.extract_text().replace(" ", "").replace("\n", "") for p in reader.pages)


@needs_soffice
@pytest.mark.parametrize("kind", ["rectification_notice", "suggestion_letter"])
def test_the_signature_never_stands_alone_on_a_page(kind):
    """Bodies of 1 … 24 lines move the end of the text across a whole page: on every one the page
    with the 发文机关署名 and 成文日期 also holds the text above them."""
    from pypdf import PdfReader

    contexts = []
    for n in range(1, 25):
        ctx = docs.sample_context(kind)
        ctx.update(issuer="清河区民政局", administration="清河区民政局", office_differs=False, date="2027年1月5日",
                   hazards=[],
                   requirements=[f"{i}、落实第{i}项整改。" for i in range(1, n + 1)])
        contexts.append(ctx)
    with tempfile.TemporaryDirectory() as tmp:
        for n, pdf in enumerate(_render_pdfs(contexts, tmp, kind), start=1):
            pages = [p.extract_text().replace(" ", "") for p in PdfReader(pdf).pages]
            signed = next(i for i, text in enumerate(pages) if "2027年1月5日" in text and "送达回执" not in text)
            lines = [ln for ln in pages[signed].splitlines() if ln.strip()]
            other = [ln for ln in lines if "清河区民政局" not in ln and "2027年1月5日" not in ln
                     and not ln.startswith("—")]
            assert any("。" in ln for ln in other), f"{n} lines: the signature page holds only {lines}"
