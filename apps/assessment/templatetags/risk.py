from django import template

from ..choices import LEVEL_CSS, LEVEL_HEX

register = template.Library()


@register.simple_tag
def institution_risk(institution):
    """The fresh risk of ``institution`` (computed once per request and cached on the object)."""
    from ..risk import risk_of

    return risk_of(institution)


@register.filter
def level_css(level):
    return LEVEL_CSS.get(level, "secondary")


@register.filter
def level_hex(level):
    return LEVEL_HEX.get(level, "#6c757d")


@register.filter
def level_label(level):
    from ..choices import RiskLevel

    try:
        return RiskLevel(level).label
    except ValueError:
        return ""


@register.filter
def group_label(group):
    from ..choices import FactorGroup

    try:
        return FactorGroup(group).label
    except ValueError:
        return group
