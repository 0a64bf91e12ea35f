"""Background rebuild of the province-wide cockpit after a change (see cache.py)."""
from celery import shared_task


@shared_task(ignore_result=True)
def warm_province():
    from apps.core import scope
    from apps.orgs.models import User

    from .cockpit import Cockpit

    # Anyone who sees everything: they all share the province entry (cache.scope_key).
    user = User.objects.filter(scope.whole_district_q(), is_superuser=False).order_by("pk").first()
    if user is None:
        return False
    Cockpit.cached(user)
    return True
