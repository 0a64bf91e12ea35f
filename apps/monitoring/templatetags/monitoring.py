from django import template

register = template.Library()


@register.simple_tag
def sensor_evidence(hazard):
    """The sensor evidence of a hazard opened by an alarm (see services.sensor_evidence)."""
    from apps.monitoring.services import sensor_evidence as evidence

    if hazard is None or not getattr(hazard, "requires_sensor_verification", False):
        return None
    ev = evidence(hazard)
    return ev if ev["alarms"] else None


@register.simple_tag
def institution_monitoring(institution):
    """Device and alarm figures of one institution (two queries)."""
    from django.utils import timezone

    from apps.monitoring.metrics import one_institution_stats

    return one_institution_stats(institution.pk, timezone.now())
