from django import template

register = template.Library()


@register.simple_tag
def hazard_counts(institution):
    """Open, overdue and major-open hazard counts of one institution (one query)."""
    from apps.hazards.views import institution_counts

    return institution_counts(institution)


@register.simple_tag
def open_hazards(institution, limit=5):
    from apps.hazards.models import Hazard

    return list(Hazard.objects.filter(institution=institution).open().order_by("deadline", "-found_at")[:limit])


@register.filter
def state_badge(state):
    return {"registered": "text-bg-secondary", "rectifying": "text-bg-primary",
            "awaiting_verification": "text-bg-warning", "closed": "text-bg-success"}.get(state, "text-bg-light")
