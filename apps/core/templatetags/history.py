from django import template

register = template.Library()


@register.simple_tag
def readable_history(entries):
    """``{% readable_history entries as rows %}``: [(entry, [Row(label, before, after)])] in words."""
    from apps.core.history import readable

    return readable(entries or [])
