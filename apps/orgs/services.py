"""Who is concerned with an institution: for notifications and assignments."""
from django.db.models import Q

from .choices import BUREAU_ROLES, Role
from .models import User


def institution_users(institution, roles=(Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF)):
    """Active users of the institution itself (its manager and staff by default)."""
    return list(User.objects.filter(institution=institution, role__in=roles, is_active=True))


def supervisors_of(institution, *, include_bureau=False):
    """Active office users whose scope covers the institution: its township officers, the
    section staff of its kind, the staff of the unit that runs it, and optionally bureau roles."""
    q = Q(role=Role.TOWNSHIP, organization_id=institution.township_id)
    q |= Q(role=Role.SECTION, organization__institution_kinds__contains=[institution.kind]) if _json_contains() else Q(pk__in=[])
    if institution.operator_unit_id:
        q |= Q(role=Role.UNIT, organization_id=institution.operator_unit_id)
    if include_bureau:
        q |= Q(role__in=BUREAU_ROLES)
    users = list(User.objects.filter(q, is_active=True).select_related("organization"))
    if not _json_contains():
        sections = User.objects.filter(role=Role.SECTION, is_active=True).select_related("organization")
        users += [u for u in sections if institution.kind in (u.organization.institution_kinds or [])]
    return users


def _json_contains():
    """JSON ``contains`` lookups exist on PostgreSQL but not on SQLite."""
    from django.db import connection

    return connection.vendor == "postgresql"
