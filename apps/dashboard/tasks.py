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
    Cockpit.build_and_store(user)
    return True


@shared_task(ignore_result=True)
def rebuild_cockpit(user_id, township_id=None, area_id=None):
    """Build and store one scope's cockpit (queued by the first request of a new day, which was
    served the last figures with their time)."""
    from apps.orgs.models import Organization, User

    from .cockpit import Cockpit

    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return False
    orgs = Organization.objects.in_bulk([i for i in (township_id, area_id) if i])
    Cockpit.build_and_store(user, township=orgs.get(township_id), area=orgs.get(area_id))
    return True
