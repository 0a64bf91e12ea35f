from django import template
from django.urls import NoReverseMatch

register = template.Library()


@register.filter
def url_or_empty(obj):
    """The object's page, or "" while the app that owns it has no page yet."""
    try:
        return obj.get_absolute_url() if obj is not None else ""
    except NoReverseMatch:
        return ""


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
