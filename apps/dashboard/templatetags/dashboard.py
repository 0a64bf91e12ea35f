from django import template
from django.db.models import Count, Q

register = template.Library()


@register.simple_tag
def home_summary(user):
    """A compact cockpit summary for the home page (two grouped queries)."""
    from apps.assessment.choices import LEVEL_HEX, RiskLevel
    from apps.assessment.models import InstitutionRisk
    from apps.hazards.choices import OPEN_STATES, HazardLevel
    from apps.hazards.models import Hazard

    from ..cockpit import HAZARD_LIST, LEVELS, RISK_LIST, Tile, link

    if not getattr(user, "is_authenticated", False):
        return None
    levels = dict(InstitutionRisk.objects.visible_to(user).values("level").annotate(n=Count("pk"))
                  .values_list("level", "n").order_by())
    from django.utils import timezone

    agg = Hazard.objects.visible_to(user).filter(state__in=OPEN_STATES).aggregate(
        open=Count("pk"), major=Count("pk", filter=Q(level=HazardLevel.MAJOR)),
        overdue=Count("pk", filter=Q(deadline__lt=timezone.localdate())))
    return {
        "risk": [Tile(lv.value, str(RiskLevel(lv).label), levels.get(lv.value, 0), link(RISK_LIST, level=lv.value),
                      LEVEL_HEX[lv]) for lv in LEVELS],
        "open": Tile("open", "", agg["open"], link(HAZARD_LIST, open=1)),
        "major": Tile("major", "", agg["major"], link(HAZARD_LIST, open=1, level="major")),
        "overdue": Tile("overdue", "", agg["overdue"], link(HAZARD_LIST, overdue=1)),
    }
