"""Every hazard page and endpoint about an object of inst1: outsiders get 404."""
from apps.core.scopecases import INSIDERS, ScopeCase

OFFICE_READERS = ("admin", "town1")


def _hazard(w):
    from apps.hazards.models import Hazard

    hazard = Hazard.objects.filter(institution=w.inst1, description="范围测试隐患").first()
    if hazard is None:
        from apps.hazards.services import report_hazard

        hazard = report_hazard(w.home1, w.inst1, category="electrical", description="范围测试隐患",
                               level="major")
    return hazard


def _supervision(w):
    from apps.hazards.models import Supervision

    s = Supervision.objects.filter(hazard=_hazard(w)).first()
    if s is None:
        from .helpers import listed

        s = listed(w, _hazard(w))
    return s


def _extension(w):
    from apps.hazards.models import DeadlineExtension

    s = _supervision(w)
    ext = DeadlineExtension.objects.filter(supervision=s).first()
    if ext is None:
        from apps.hazards.supervision import request_extension

        from .helpers import in_days

        ext = request_extension(w.home1, s, new_deadline=in_days(90), reason="范围测试")
    return ext


def _document(w):
    from apps.hazards.models import OfficialDocument

    doc = OfficialDocument.objects.filter(institution=w.inst1).first()
    if doc is None:
        from apps.hazards.documents import issue_document

        doc = issue_document(w.town1, kind="suggestion_letter", institution=w.inst1, requirements="范围测试",
                             hazards=[_hazard(w)])
    return doc


def _suggestion(w):
    from apps.hazards.ledger_rules import scan
    from apps.hazards.models import HazardSuggestion
    from apps.ledger.models import Building

    suggestion = HazardSuggestion.objects.filter(institution=w.inst1).first()
    if suggestion is None:
        Building.objects.create(institution=w.inst1, name="范围测试楼", colour_steel="combustible")
        scan([w.inst1])
        suggestion = HazardSuggestion.objects.filter(institution=w.inst1).first()
    return suggestion


def _document_with_pdf(w):
    """The document with a stored PDF (the tests do not run LibreOffice here)."""
    from django.core.files.base import ContentFile

    doc = _document(w)
    if not doc.pdf:
        doc.pdf.save(f"scope-{doc.pk}.pdf", ContentFile(b"%PDF-1.4 scope"), save=True)
    return doc


def _step_url(pattern):
    return lambda w: pattern.format(pk=_hazard(w).pk)


CASES = [
    ScopeCase("hazard-page", lambda w: f"/hazards/{_hazard(w).pk}/"),
    ScopeCase("hazard-note-form", lambda w: f"/hazards/{_hazard(w).pk}/note/"),
    ScopeCase("hazard-plan-form", lambda w: f"/hazards/{_hazard(w).pk}/plan/", readers=("home1", "staff1")),
    ScopeCase("hazard-verify-post", lambda w: f"/hazards/{_hazard(w).pk}/verify/", method="post",
              data=lambda w: {"note": ""}, readers=INSIDERS, ok=(302,)),
    ScopeCase("hazard-determine-page", lambda w: f"/hazards/{_hazard(w).pk}/determine/",
              readers=("admin", "leader", "sec_elderly_user", "town1")),
    ScopeCase("hazard-supervise-page", lambda w: f"/hazards/{_hazard(w).pk}/supervise/",
              readers=("admin", "leader", "sec_elderly_user", "town1")),
    ScopeCase("supervision-page", lambda w: f"/hazards/supervisions/{_supervision(w).pk}/"),
    ScopeCase("supervision-follow-up-form", lambda w: f"/hazards/supervisions/{_supervision(w).pk}/follow-up/",
              readers=OFFICE_READERS),
    ScopeCase("supervision-extension-form", lambda w: f"/hazards/supervisions/{_supervision(w).pk}/extension/",
              readers=("admin", "home1")),
    ScopeCase("supervision-delist-form", lambda w: f"/hazards/supervisions/{_supervision(w).pk}/delist/",
              readers=OFFICE_READERS),
    ScopeCase("extension-decide-form", lambda w: f"/hazards/extensions/{_extension(w).pk}/decide/",
              readers=OFFICE_READERS),
    ScopeCase("document-page", lambda w: f"/hazards/documents/{_document(w).pk}/"),
    ScopeCase("document-download", lambda w: f"/hazards/documents/{_document(w).pk}/download/"),
    ScopeCase("document-new-for-supervision", lambda w: f"/hazards/documents/new/?supervision={_supervision(w).pk}",
              readers=OFFICE_READERS, outsiders=("town2",)),
    ScopeCase("hazard-api", lambda w: f"/api/v1/hazards/{_hazard(w).pk}/", api=True),
    ScopeCase("hazard-api-note", lambda w: f"/api/v1/hazards/{_hazard(w).pk}/note/", method="post",
              data=lambda w: {"text": "范围测试"}, api=True),
    ScopeCase("hazard-api-verify", lambda w: f"/api/v1/hazards/{_hazard(w).pk}/verify/", method="post",
              data=lambda w: {}, api=True, readers=INSIDERS, ok=(409, 403)),  # 403: a role that may not verify
    ScopeCase("hazard-api-photos", lambda w: f"/api/v1/hazards/{_hazard(w).pk}/photos/", method="post",
              data=lambda w: {"kind": "before"}, api=True, ok=(400,)),
    ScopeCase("hazard-api-determine", lambda w: f"/api/v1/hazards/{_hazard(w).pk}/determine/", method="post",
              data=lambda w: {}, api=True, readers=("town1",), ok=(400,)),
    ScopeCase("supervision-api", lambda w: f"/api/v1/supervisions/{_supervision(w).pk}/", api=True),
    ScopeCase("supervision-api-delist", lambda w: f"/api/v1/supervisions/{_supervision(w).pk}/delist/",
              method="post", data=lambda w: {"note": "x"}, api=True, readers=("town1",), ok=(409,)),
    ScopeCase("supervision-api-follow-up", lambda w: f"/api/v1/supervisions/{_supervision(w).pk}/follow-ups/",
              method="post", data=lambda w: {}, api=True, readers=("town1",), ok=(400,)),
    ScopeCase("extension-api", lambda w: f"/api/v1/supervision-extensions/{_extension(w).pk}/", api=True),
    ScopeCase("document-api", lambda w: f"/api/v1/official-documents/{_document(w).pk}/", api=True),
    ScopeCase("document-api-download", lambda w: f"/api/v1/official-documents/{_document(w).pk}/download/",
              api=True),
    ScopeCase("document-pdf", lambda w: f"/hazards/documents/{_document_with_pdf(w).pk}/download/?format=pdf"),
    ScopeCase("document-api-pdf", lambda w: f"/api/v1/official-documents/{_document_with_pdf(w).pk}/pdf/", api=True),
    # Every other step and act: outsiders get 404 before any rule is looked at.
    *[ScopeCase(f"hazard-{a}-form", _step_url("/hazards/{pk}/%s/" % a), readers=(),
                outsiders=("sec_social_user", "town2", "home2")) for a in ("rectify", "send_back", "reopen")],
    *[ScopeCase(f"hazard-api-{a}", _step_url("/api/v1/hazards/{pk}/%s/" % a), method="post",
                data=lambda w: {}, api=True, readers=()) for a in ("plan", "rectify", "send-back", "reopen")],
    # 下达整改要求: outsiders 404; inside, the (major) demo hazard is refused or the empty form is a 400.
    ScopeCase("hazard-require-form", _step_url("/hazards/{pk}/require/"), readers=(),
              outsiders=("sec_social_user", "town2", "home2")),
    ScopeCase("hazard-api-require", _step_url("/api/v1/hazards/{pk}/require/"), method="post",
              data=lambda w: {}, api=True, readers=("town1",), ok=(400,)),
    ScopeCase("hazard-supervise-post", lambda w: f"/hazards/{_hazard(w).pk}/supervise/", method="post",
              data=lambda w: {}, readers=("town1",), ok=(400,)),
    ScopeCase("extension-decide-post", lambda w: f"/hazards/extensions/{_extension(w).pk}/decide/", method="post",
              data=lambda w: {}, readers=("town1",), ok=(400,)),
    ScopeCase("supervision-api-extension", lambda w: f"/api/v1/supervisions/{_supervision(w).pk}/extensions/",
              method="post", data=lambda w: {}, api=True, readers=("home1",), ok=(400,)),
    ScopeCase("extension-api-decide", lambda w: f"/api/v1/supervision-extensions/{_extension(w).pk}/decide/",
              method="post", data=lambda w: {}, api=True, readers=("town1",), ok=(400,)),
    ScopeCase("document-acknowledge-post", lambda w: f"/hazards/documents/{_document(w).pk}/acknowledge/",
              method="post", data=lambda w: {}, readers=("home1",), ok=(302,)),
    ScopeCase("document-api-acknowledge", lambda w: f"/api/v1/official-documents/{_document(w).pk}/acknowledge/",
              method="post", data=lambda w: {}, api=True, readers=("home1",), ok=(200, 409)),
    ScopeCase("suggestion-dismiss-post", lambda w: f"/hazards/suggestions/{_suggestion(w).pk}/dismiss/",
              method="post", data=lambda w: {"reason": ""}, readers=("town1",), ok=(400,)),
    ScopeCase("suggestion-accept-post", lambda w: f"/hazards/suggestions/{_suggestion(w).pk}/accept/",
              method="post", data=lambda w: {}, readers=("town1",), ok=(302,)),
    ScopeCase("suggestion-api", lambda w: f"/api/v1/hazard-suggestions/{_suggestion(w).pk}/", api=True),
    ScopeCase("suggestion-api-dismiss", lambda w: f"/api/v1/hazard-suggestions/{_suggestion(w).pk}/dismiss/",
              method="post", data=lambda w: {"reason": ""}, api=True, readers=("town1",), ok=(400, 409)),
    ScopeCase("suggestion-api-accept", lambda w: f"/api/v1/hazard-suggestions/{_suggestion(w).pk}/accept/",
              method="post", data=lambda w: {}, api=True, readers=("town1",), ok=(200, 409)),
]


# Number formats by level: a district's format is seen by everyone under it (it applies to them) and by
# the levels above; the other district's whole cast gets 404 (``other_district``, test_scope_matrix).
def _number_format(w):
    from apps.hazards.models import NumberFormat

    return NumberFormat.objects.get_or_create(series="suggestion_letter", administration=w.bureau,
                                              defaults={"pattern": "范围测试{n}"})[0]


_EVERYONE = ("admin", "leader", "sec_elderly_user", "town1", "home1", "staff1", "sec_social_user", "unit_user",
             "town2", "home2")
CASES += [
    ScopeCase("number-format-list", lambda w: "/hazards/number-formats/", readers=_EVERYONE, outsiders=()),
    ScopeCase("number-format-api", lambda w: f"/api/v1/number-formats/{_number_format(w).pk}/", api=True,
              readers=_EVERYONE, outsiders=(), extra={"other_district": _EVERYONE[1:]}),
    ScopeCase("number-format-edit-page", lambda w: f"/hazards/number-formats/{_number_format(w).pk}/edit/",
              readers=("admin",), outsiders=(), extra={"other_district": _EVERYONE[1:]}),
]
