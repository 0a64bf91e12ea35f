"""Official documents (建议函/督办单/责令整改通知书): numbered, generated as .docx, issued and
acknowledged. Issuing is an enforcement act and leaves a trail entry."""
import io
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.core import officedoc
from apps.core.audit import acting_as, record_action
from apps.core.notifications import notify
from apps.core.officedoc import cn_date

from .choices import DocumentKind
from .models import Hazard, OfficialDocument
from .services import TransitionRefused, _institution_people, _require
from .supervision import _in_scope, _refuse_unless, next_number

TITLES = {
    DocumentKind.SUGGESTION_LETTER: "消防安全工作建议函",
    DocumentKind.SUPERVISION_ORDER: "火灾隐患整改督办单",
    DocumentKind.RECTIFICATION_NOTICE: "责令整改通知书",
}
# The shipped templates, built by scripts/build_docx_templates.py (GB/T 9704-2012 layout).
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates" / "hazards" / "docx"
# The wording of the legal basis and of the remedy in the 责令整改通知书; an issuer who needs other
# wording uploads its own template.
LEGAL_BASIS = "《中华人民共和国消防法》第十六条和《养老机构管理办法》的有关规定"
REMEDY = ("如对本通知不服，可以在收到本通知书之日起六十日内依法申请行政复议，"
          "或者在六个月内依法向人民法院提起行政诉讼。")


def _administration_of(issuer, supervision):
    """What ``OfficialDocument.issuing_administration`` answers for a document not yet made."""
    if supervision is not None and supervision.administration_id:
        return supervision.administration
    return issuer.administration


def issuing_administration(document):
    """The administration a document is issued in the name of (发文机关; ``None`` for an office under
    no administration): see ``OfficialDocument.issuing_administration``."""
    return document.issuing_administration


def context(document):
    """What a template may use: the record of ``document`` in the words and dates it prints."""
    hazards = [
        {"i": i, "category": str(h.get_category_display()), "level": str(h.get_level_display()),
         "text": (f"{h.location}：" if h.location else "") + h.description,
         "found_on": cn_date(timezone.localtime(h.found_at).date())}
        for i, h in enumerate(document.hazards.order_by("found_at", "pk"), start=1)]
    s = document.supervision
    supervision = s and {
        "number": s.number, "listed_on": cn_date(timezone.localtime(s.listed_at).date()),
        "department": str(s.supervising_department), "responsible": s.responsible_person,
        "deadline": cn_date(s.deadline)}
    admin = issuing_administration(document)
    office = document.issuer.name
    administration = admin.name if admin is not None else office
    return {
        # ``issuer``: the office that drafted it (kept for the templates uploaded before); the shipped
        # templates head and sign in the name of ``administration`` and name the ``office`` beside it.
        "issuer": office, "office": office, "administration": administration,
        "office_differs": office != administration, "number": document.number, "title": TITLES[document.kind],
        "recipient": document.institution.name, "date": cn_date(document.issued_on),
        "deadline": cn_date(document.deadline),
        "requirements": [line.strip() for line in document.requirements.splitlines() if line.strip()],
        "hazards": hazards, "supervision": supervision, "legal_basis": LEGAL_BASIS, "remedy": REMEDY}


def sample_context(kind):
    """A context with every field filled, to check an uploaded template before it is used."""
    return {
        "issuer": "某某区民政局养老服务股", "office": "某某区民政局养老服务股", "administration": "某某区民政局",
        "office_differs": True, "number": "某民督〔2027〕1号", "title": TITLES[kind], "recipient": "某某养老院",
        "date": "2027年1月5日", "deadline": "2027年2月5日", "requirements": ["一、立即整改。", "二、落实值守。"],
        "hazards": [{"i": 1, "category": "电气", "level": "重大", "text": "配电室：线路老化", "found_on": "2027年1月4日"}],
        "supervision": {"number": "〔2027〕第1号", "listed_on": "2027年1月4日", "department": "某某街道",
                        "responsible": "王院长", "deadline": "2027年2月5日"},
        "legal_basis": LEGAL_BASIS, "remedy": REMEDY}


def template_for(kind, issuer):
    """The issuer's own template of ``kind`` (a file object) or the shipped one (a path)."""
    from .models import DocumentTemplate

    own = DocumentTemplate.objects.filter(kind=kind, issuer=issuer).first()
    if own is not None and own.file:
        with own.file.open("rb") as f:
            return io.BytesIO(f.read())
    return TEMPLATE_DIR / f"{kind}.docx"


def render_template(template, ctx) -> bytes:
    """Render a docxtpl template (path or file) with ``ctx``; the .docx bytes."""
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(template)
    tpl.render(ctx, autoescape=True)
    buf = io.BytesIO()
    tpl.save(buf)
    return buf.getvalue()


def template_error(upload, kind):
    """Why an uploaded template cannot be used (a message), or None when it renders a sample."""
    try:
        upload.seek(0)
        content = render_template(io.BytesIO(upload.read()), sample_context(kind))
        from docx import Document

        Document(io.BytesIO(content))
    except Exception as exc:  # any failure of a foreign file is a reason to refuse it, shown to the admin
        return _("The template does not render a document: %(error)s") % {"error": exc}
    finally:
        upload.seek(0)
    return None


def render_docx(document):
    """The .docx bytes of ``document``, its issuer's template filled with its record."""
    return render_template(template_for(document.kind, document.issuer), context(document))


def attach_pdf(document):
    """Store the PDF of the document's .docx next to it, where LibreOffice is installed."""
    if not document.file or not settings.DOCUMENT_PDF:
        return document
    with document.file.open("rb") as f:
        pdf = officedoc.to_pdf(f.read())
    if pdf:
        document.pdf.save(f"{document.kind}-{document.year}-{document.seq}.pdf", ContentFile(pdf), save=False)
        document.save(update_fields=["pdf"])
    return document


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
        # Numbered in the series of the administration it is issued in the name of (发文机关: the listing's
        # for a listed supervision, else the issuing office's), so one administration's documents of a kind
        # run 1, 2, 3 whichever of its offices drafts them; an office under no administration keeps its own.
        owner = _administration_of(issuer, supervision) or issuer
        number, year, seq = next_number(kind, issuer=owner)
        while OfficialDocument.objects.filter(issuer=issuer, kind=kind, number=number).exists():
            # A number this office already holds from its own series (before the series were by
            # administration) under a pattern without {issuer}: take the next one rather than fail.
            number, year, seq = next_number(kind, issuer=owner)
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
    # Outside the transaction above: LibreOffice takes seconds, the number counter is not held meanwhile.
    return attach_pdf(document)


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
