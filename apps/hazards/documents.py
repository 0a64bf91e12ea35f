"""Official documents (建议函/督办单/责令整改通知书): numbered, generated as .docx, issued and
acknowledged. Issuing is an enforcement act and leaves a trail entry."""
import io

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core.audit import acting_as, record_action
from apps.core.notifications import notify

from .choices import DocumentKind
from .models import Hazard, OfficialDocument
from .services import TransitionRefused, _institution_people, _require
from .supervision import _in_scope, _refuse_unless, next_number

TITLES = {
    DocumentKind.SUGGESTION_LETTER: "消防安全工作建议函",
    DocumentKind.SUPERVISION_ORDER: "火灾隐患整改督办单",
    DocumentKind.RECTIFICATION_NOTICE: "责令整改通知书",
}


def render_docx(document):
    """The .docx bytes of ``document``, built from the records (recipient, hazards, requirements …)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "SimSun"
    style.font.size = Pt(12)
    heading = doc.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(document.issuer.name)
    run.bold = True
    run.font.size = Pt(18)
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(TITLES[document.kind])
    run.bold = True
    run.font.size = Pt(16)
    number = doc.add_paragraph(document.number)
    number.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(f"{document.institution.name}：")
    hazards = list(document.hazards.all())
    if document.supervision_id:
        doc.add_paragraph(f"你单位重大火灾隐患已于{document.supervision.listed_at:%Y年%m月%d日}挂牌督办"
                          f"（{document.supervision.number}）。")
    if hazards:
        doc.add_paragraph("经检查，你单位存在以下火灾隐患：")
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, ["序号", "类别", "等级", "隐患描述", "发现时间"], strict=True):
            cell.text = text
        for i, h in enumerate(hazards, start=1):
            row = table.add_row().cells
            row[0].text = str(i)
            row[1].text = str(h.get_category_display())
            row[2].text = str(h.get_level_display())
            row[3].text = (f"{h.location}：" if h.location else "") + h.description
            row[4].text = f"{timezone.localtime(h.found_at):%Y-%m-%d}"
    doc.add_paragraph("整改要求：")
    for line in document.requirements.splitlines():
        if line.strip():
            doc.add_paragraph(line.strip())
    if document.deadline:
        doc.add_paragraph(f"请于{document.deadline:%Y年%m月%d日}前完成整改，并将整改情况书面报送我单位。")
    doc.add_paragraph("")
    sign = doc.add_paragraph(document.issuer.name)
    sign.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    date = doc.add_paragraph(f"{document.issued_on:%Y年%m月%d日}")
    date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.add_paragraph("")
    doc.add_paragraph("签收人：____________    签收日期：____________")
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def issue_document(user, *, kind, institution, requirements, hazards=(), deadline=None, supervision=None):
    """Number, generate and record a document as issued by the user's organisation."""
    _refuse_unless(user, "document.issue")
    _require(requirements=requirements, kind=kind, institution=institution)
    issuer = user.organization
    if issuer is None:
        raise TransitionRefused(_("Your account belongs to no organisation that could issue a document."))
    hazards = list(hazards)
    if any(h.institution_id != institution.pk for h in hazards):
        raise TransitionRefused(_("Every hazard concerned must belong to the recipient."))
    if supervision is not None and supervision.hazard.institution_id != institution.pk:
        raise TransitionRefused(_("The supervision belongs to another institution."))
    with transaction.atomic(), acting_as(user):
        from apps.ledger.models import Institution

        _in_scope(Institution, user, institution)
        for h in hazards:
            _in_scope(Hazard, user, h)
        number, year, seq = next_number(kind, issuer=issuer)
        document = OfficialDocument.objects.create(
            kind=kind, number=number, year=year, seq=seq, issuer=issuer, institution=institution,
            supervision=supervision, requirements=requirements, deadline=deadline, issued_by=user)
        document.hazards.set(hazards)
        content = render_docx(document)
        document.file.save(f"{kind}-{year}-{seq}.docx", ContentFile(content), save=True)
        record_action(document, "document.issue", actor=user, kind=kind, number=number,
                      hazards=[h.pk for h in hazards])
        notify(_institution_people(institution), "hazard.document_issued",
               _("%(kind)s issued: %(n)s") % {"kind": document.get_kind_display(), "n": number},
               url=document.get_absolute_url(), target=document)
    return document


def acknowledge(user, document):
    """The recipient institution records receipt."""
    _refuse_unless(user, "document.acknowledge")
    with transaction.atomic(), acting_as(user):
        _in_scope(OfficialDocument, user, document)
        document = OfficialDocument.objects.select_for_update().get(pk=document.pk)
        if user.institution_id != document.institution_id:
            raise TransitionRefused(_("Only the recipient acknowledges receipt."))
        if document.acknowledged_at:
            raise TransitionRefused(_("Receipt has already been acknowledged."))
        document.acknowledged_at, document.acknowledged_by = timezone.now(), user
        document.save()
        record_action(document, "document.acknowledge", actor=user)
    return document
