"""Who is concerned with an institution: for notifications and assignments."""

from apps.core import scope

from .models import User


def institution_users(institution):
    """Active users of the institution itself (its manager and staff)."""
    return list(User.objects.filter(scope.reached_through_q("id", [institution.pk])))


def supervisors_of(institution, *, include_bureau=False):
    """Active office users whose scope covers the institution: its township officers, the
    section staff of its kind, the staff of the unit that runs it, and optionally bureau roles
    (the reverse direction of the scope, ``apps.core.scope.supervisors_q``)."""
    return list(User.objects.filter(scope.supervisors_q(institution, include_bureau=include_bureau))
                .select_related("organization"))

