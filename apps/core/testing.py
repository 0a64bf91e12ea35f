"""The fixed cast for tests: a small district with one user of every role.

``world`` (a pytest fixture in the root conftest) returns a ``World`` with:
- ``bureau``, sections ``sec_elderly`` (elderly_care, community_care) and ``sec_social`` (the rest),
  townships ``t1`` and ``t2``, unit ``unit``;
- institutions ``inst1`` (elderly care in t1), ``inst1b`` (child welfare in t1),
  ``inst2`` (elderly care in t2);
- users ``admin``, ``leader``, ``sec_elderly_user``, ``sec_social_user``, ``town1``, ``town2``,
  ``home1`` (manager of inst1), ``staff1`` (staff of inst1), ``home2`` (manager of inst2).

Scope expectations for an object of ``inst1``: seen by admin, leader, sec_elderly_user, town1,
home1, staff1; a 404 for sec_social_user, town2 and home2 (``world.insiders``/``world.outsiders``).
"""
from types import SimpleNamespace

from apps.ledger.choices import InstitutionKind
from apps.ledger.models import Institution
from apps.orgs.choices import OrgKind, Role
from apps.orgs.models import Organization, User

PASSWORD = "test-pass-2026"


def make_user(username, role, organization=None, institution=None, **extra):
    user = User(username=username, role=role, organization=organization, institution=institution,
                full_name=extra.pop("full_name", username), **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_institution(township, name, kind=InstitutionKind.ELDERLY_CARE, **fields):
    defaults = dict(nature="private", address=f"{township.name}测试路1号", beds=60, residents=50,
                    residents_disabled=10, residents_bedridden=5, staff_count=12, night_staff_count=3)
    defaults.update(fields)
    return Institution.objects.create(township=township, name=name, kind=kind, **defaults)


def make_world():
    w = SimpleNamespace()
    w.bureau = Organization.objects.create(name="测试区民政局", kind=OrgKind.BUREAU)
    w.sec_elderly = Organization.objects.create(
        name="养老慈善股", kind=OrgKind.SECTION, parent=w.bureau,
        institution_kinds=[InstitutionKind.ELDERLY_CARE, InstitutionKind.COMMUNITY_CARE])
    w.sec_social = Organization.objects.create(
        name="社会事务股", kind=OrgKind.SECTION, parent=w.bureau,
        institution_kinds=[InstitutionKind.CHILD_WELFARE, InstitutionKind.RELIEF_STATION, InstitutionKind.FUNERAL])
    w.unit = Organization.objects.create(name="区社会福利中心", kind=OrgKind.UNIT, parent=w.bureau)
    w.t1 = Organization.objects.create(name="一号街道", kind=OrgKind.TOWNSHIP, parent=w.bureau)
    w.t2 = Organization.objects.create(name="二号镇", kind=OrgKind.TOWNSHIP, parent=w.bureau)
    w.inst1 = make_institution(w.t1, "一号敬老院")
    w.inst1b = make_institution(w.t1, "一号儿童福利院", kind=InstitutionKind.CHILD_WELFARE, operator_unit=w.unit)
    w.inst2 = make_institution(w.t2, "二号养老院")
    w.admin = make_user("t_admin", Role.ADMIN, w.bureau, is_staff=True, is_superuser=True)
    w.leader = make_user("t_leader", Role.LEADER, w.bureau)
    w.sec_elderly_user = make_user("t_yanglao", Role.SECTION, w.sec_elderly)
    w.sec_social_user = make_user("t_shiwu", Role.SECTION, w.sec_social)
    w.unit_user = make_user("t_unit", Role.UNIT, w.unit)
    w.town1 = make_user("t_town1", Role.TOWNSHIP, w.t1)
    w.town2 = make_user("t_town2", Role.TOWNSHIP, w.t2)
    w.home1 = make_user("t_home1", Role.INSTITUTION_MANAGER, institution=w.inst1)
    w.staff1 = make_user("t_staff1", Role.INSTITUTION_STAFF, institution=w.inst1)
    w.home2 = make_user("t_home2", Role.INSTITUTION_MANAGER, institution=w.inst2)
    w.insiders = [w.admin, w.leader, w.sec_elderly_user, w.town1, w.home1, w.staff1]
    w.outsiders = [w.sec_social_user, w.unit_user, w.town2, w.home2]
    w.all_users = w.insiders + w.outsiders
    return w


def api_client(user):
    """A DRF test client authenticated with ``user``'s token, as an integrator would be."""
    from knox.models import AuthToken
    from rest_framework.test import APIClient

    client = APIClient()
    _instance, token = AuthToken.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def page_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def png_bytes(color=(200, 30, 30)) -> bytes:
    """A small real PNG (uploads are checked by content)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buf, format="PNG")
    return buf.getvalue()


def attach_test_photo(obj, user, name="现场照片.png"):
    """Attach a real PNG to ``obj`` through the one attachment path."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .attachments import attach

    return attach(obj, SimpleUploadedFile(name, png_bytes(), content_type="image/png"), user=user)


def xlsx_bytes(rows) -> bytes:
    """An .xlsx whose first sheet holds ``rows`` as given (for import tests)."""
    import io

    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
