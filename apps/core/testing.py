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


def make_world(*, suffix="", parent=None):
    """The test district (see the module docstring). ``suffix`` names a second district of the same
    cast (``make_tiers``) under ``parent``, its administration above."""
    x = suffix
    w = SimpleNamespace()
    w.bureau = Organization.objects.create(name=f"测试区民政局{x}", kind=OrgKind.BUREAU, parent=parent)
    w.sec_elderly = Organization.objects.create(
        name=f"养老慈善股{x}", kind=OrgKind.SECTION, parent=w.bureau,
        institution_kinds=[InstitutionKind.ELDERLY_CARE, InstitutionKind.COMMUNITY_CARE])
    w.sec_social = Organization.objects.create(
        name=f"社会事务股{x}", kind=OrgKind.SECTION, parent=w.bureau,
        institution_kinds=[InstitutionKind.CHILD_WELFARE, InstitutionKind.RELIEF_STATION, InstitutionKind.FUNERAL])
    w.unit = Organization.objects.create(name=f"区社会福利中心{x}", kind=OrgKind.UNIT, parent=w.bureau)
    w.t1 = Organization.objects.create(name=f"一号街道{x}", kind=OrgKind.TOWNSHIP, parent=w.bureau)
    w.t2 = Organization.objects.create(name=f"二号镇{x}", kind=OrgKind.TOWNSHIP, parent=w.bureau)
    w.inst1 = make_institution(w.t1, f"一号敬老院{x}")
    w.inst1b = make_institution(w.t1, f"一号儿童福利院{x}", kind=InstitutionKind.CHILD_WELFARE, operator_unit=w.unit)
    w.inst2 = make_institution(w.t2, f"二号养老院{x}")
    u = f"t{x}_"
    w.admin = make_user(f"{u}admin", Role.ADMIN, w.bureau, is_staff=True, is_superuser=not x)
    w.leader = make_user(f"{u}leader", Role.LEADER, w.bureau)
    w.sec_elderly_user = make_user(f"{u}yanglao", Role.SECTION, w.sec_elderly)
    w.sec_social_user = make_user(f"{u}shiwu", Role.SECTION, w.sec_social)
    w.unit_user = make_user(f"{u}unit", Role.UNIT, w.unit)
    w.town1 = make_user(f"{u}town1", Role.TOWNSHIP, w.t1)
    w.town2 = make_user(f"{u}town2", Role.TOWNSHIP, w.t2)
    w.home1 = make_user(f"{u}home1", Role.INSTITUTION_MANAGER, institution=w.inst1)
    w.staff1 = make_user(f"{u}staff1", Role.INSTITUTION_STAFF, institution=w.inst1)
    w.home2 = make_user(f"{u}home2", Role.INSTITUTION_MANAGER, institution=w.inst2)
    w.insiders = [w.admin, w.leader, w.sec_elderly_user, w.town1, w.home1, w.staff1]
    w.outsiders = [w.sec_social_user, w.unit_user, w.town2, w.home2]
    w.all_users = w.insiders + w.outsiders
    return w


def make_tiers(depth=3):
    """Administrations above the test district and a second district beside it.

    ``depth`` 3: province → city → (``d1``, the ``make_world`` district; ``d2``, a second district
    with the same cast, suffixed "2", whose ``admin`` is a district administrator, not a superuser).
    Also ``province``/``city`` (organisations), ``province_leader``, ``city_leader``, ``city_section``
    (the city's elderly-care section). ``depth`` 1 is the district alone; each more adds a level above.
    """
    t = SimpleNamespace()
    above = {1: [], 2: [OrgKind.CITY], 3: [OrgKind.PROVINCE, OrgKind.CITY]}.get(
        depth, [OrgKind.PROVINCE] + [OrgKind.CITY] * (depth - 2))  # root first
    parent = None
    t.levels = []
    for i, kind in enumerate(above):
        parent = Organization.objects.create(name=f"测试{kind.label}{i}", kind=kind, parent=parent)
        t.levels.append(parent)
    t.d1 = make_world(parent=parent)
    t.d2 = make_world(suffix="2", parent=parent)
    if t.levels:
        t.top = t.levels[0]
        t.province = t.levels[0] if t.levels[0].kind == OrgKind.PROVINCE else None
        t.city = parent
        t.city_leader = make_user("t_city_leader", Role.LEADER, t.city)
        t.top_leader = make_user("t_top_leader", Role.LEADER, t.top)
        t.city_section = Organization.objects.create(
            name="测试市养老服务处", kind=OrgKind.SECTION, parent=t.city,
            institution_kinds=[InstitutionKind.ELDERLY_CARE])
        t.city_section_user = make_user("t_city_yanglao", Role.SECTION, t.city_section)
    return t


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
