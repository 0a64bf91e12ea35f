from django import template
from django.utils import timezone

register = template.Library()


@register.simple_tag(takes_context=True)
def institution_training(context, institution):
    """Training and drill figures of one institution (a few grouped queries, via metrics)."""
    from apps.training.metrics import institution_compliance

    return institution_compliance([institution.pk], timezone.localdate())[institution.pk]


@register.simple_tag(takes_context=True)
def drills_for_hazard(context, hazard):
    from apps.training.models import Drill

    request = context.get("request")
    qs = Drill.objects.filter(major_hazard_id=hazard.pk)
    if request is not None and getattr(request, "user", None) is not None:
        qs = qs.visible_to(request.user)
    return list(qs.order_by("-date")[:50])


@register.filter
def url_of(obj):
    """``obj.get_absolute_url()``, or "" while the other app has no page for it yet."""
    from django.urls import NoReverseMatch

    try:
        return obj.get_absolute_url()
    except NoReverseMatch:
        return ""
