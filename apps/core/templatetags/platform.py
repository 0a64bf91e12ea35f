from django import template
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

register = template.Library()


@register.inclusion_tag("core/_history.html")
def history_panel(entries):
    return {"entries": entries}


@register.simple_tag(takes_context=True)
def sort_link(context, key, label):
    """A column header that sorts by ``key`` and flips direction on a second click."""
    current = context.get("current_sort", "")
    base = context.get("sort_querystring", "")
    new = f"-{key}" if current == key else key
    arrow = " ▲" if current == key else (" ▼" if current == f"-{key}" else "")
    qs = (base + "&" if base else "") + urlencode({"sort": new})
    return format_html('<a href="?{}" class="text-reset text-decoration-none">{}{}</a>', qs, label, arrow)


@register.simple_tag(takes_context=True)
def page_url(context, number):
    base = context.get("querystring", "")
    return "?" + (base + "&" if base else "") + urlencode({"page": number})


@register.filter
def can(user, action):
    """``{% if user|can:"enforcement.act" %}``: the one template question of the policy layer
    (``apps.core.policy.can``), so a page shows only the actions the user may take."""
    from apps.core.policy import can as policy_can

    return policy_can(user, action)


@register.simple_tag
def may(user, action, obj=None):
    """``{% may user "campaign.run" campaign as can_edit %}``: the same question about one object."""
    from apps.core.policy import can as policy_can

    return policy_can(user, action, obj)


@register.filter
def sees_all(user):
    """``{% if user|sees_all %}``: the user sees everything under their administration (``apps.core.scope``)."""
    from apps.core import scope

    return scope.sees_all(user)


@register.filter
def own_institution(user):
    """``{% if user|own_institution %}``: the institution an institution user belongs to (else None)."""
    from apps.core import scope

    return scope.own_institution_id(user)


@register.filter
def home_township(user):
    """``{% if user|home_township %}``: the township a user is pinned to (a township office, an institution)."""
    from apps.core import scope

    return scope.home_township_id(user)


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def yesno_icon(value):
    if value:
        return mark_safe('<i class="bi bi-check-circle-fill text-success" title="✓"></i>')
    return mark_safe('<i class="bi bi-dash-circle text-secondary" title="—"></i>')


def _active_filters(context):
    """The list's active filters: ``[(name, label, shown value)]`` in the form's order."""
    import datetime

    from django.utils.translation import gettext as _

    filterset = context.get("filterset")
    if filterset is None:
        return []
    form = filterset.form
    if not form.is_bound or not form.is_valid():
        return []
    out = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", [], ()) or (hasattr(value, "exists") and not value.exists()):
            continue
        values = list(value) if isinstance(value, list | tuple) or hasattr(value, "model") else [value]
        labels = dict(getattr(field, "choices", ())) if not hasattr(field, "queryset") else {}
        shown = []
        for v in values:
            if v is True:
                shown.append(_("yes"))
            elif isinstance(v, datetime.date):
                shown.append(f"{v:%Y-%m-%d}")
            else:
                shown.append(str(labels.get(v, labels.get(str(v), v))))
        out.append((name, str(field.label), "、".join(shown)))
    return out


@register.simple_tag(takes_context=True)
def filter_summary(context):
    """The list's active filters in words ("等级：重大；乡镇（街道）：一号街道"), for the printed header."""
    return "；".join(f"{label}：{shown}" for _name, label, shown in _active_filters(context))


@register.simple_tag(takes_context=True)
def filter_chips(context):
    """The active filters as chips for the phone: ``[{label, value, remove}]``, ``remove`` being the
    list's address without that filter (and back on page one)."""
    request = context.get("request")
    if request is None:
        return []
    chips = []
    for name, label, shown in _active_filters(context):
        query = request.GET.copy()
        for key in list(query):
            if key == name or key.startswith(f"{name}_") or key == "page":
                query.pop(key)
        chips.append({"label": label, "value": shown, "remove": "?" + query.urlencode()})
    return chips
