"""Background rebuild of the province-wide cockpit after a change (see cache.py)."""
from celery import shared_task


@shared_task(ignore_result=True)
def warm_province():
    from apps.orgs.models import User

    from .cockpit import Cockpit

    user = User.objects.filter(is_active=True, is_superuser=False, role__in=_bureau_roles()).order_by("pk").first()
    if user is None:
        return False
    Cockpit.cached(user)
    return True


def _bureau_roles():
    from apps.orgs.choices import BUREAU_ROLES

    return list(BUREAU_ROLES)
