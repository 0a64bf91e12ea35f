from django import template

register = template.Library()


@register.simple_tag
def home_summary(user):
    """A compact cockpit summary for the home page (from the cached cockpit of the user's scope)."""
    if not getattr(user, "is_authenticated", False):
        return None
    from ..cockpit import Cockpit

    c = Cockpit.cached(user)
    tiles = {t.key: t for t in c.hazard_tiles}
    return {"risk": c.risk_tiles, "open": tiles["open"], "major": tiles["open_major"], "overdue": tiles["overdue"]}
