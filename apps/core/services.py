"""The one way a row is written: the services of every app call :func:`write` and :func:`remove`.

``write`` checks the policy (``user.can(action, target)``, and the field rules against the stored
row), validates (the model's ``full_clean``: the same validators whether the data came from a page
form or the API), saves with the trail (``acting_as``) and sets the many-to-many fields, all in one
transaction. Forms and serializers are adapters: :func:`from_form` and :func:`from_serializer`
turn their cleaned data into an unsaved object and its many-to-many values, without saving.
"""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from . import policy
from .audit import acting_as

STORED = object()  # the default target: the row as stored (for a change), nothing (for a new row)


def _stored(obj):
    return type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk else None


def check(user, action, target=None):
    """Raise ``PermissionDenied`` with the policy's reasons unless ``user`` may take ``action``."""
    reasons = policy.refusals(user, action, target)
    if reasons:
        raise PermissionDenied("；".join(str(r) for r in reasons))


def check_fields(user, obj, stored):
    """Refuse a change of a field the user's role may not change (a new row: any locked field set)."""
    model = type(obj)
    locked = policy.locked_fields(user, model)
    if not locked:
        return
    changed = []
    for name in locked:
        field = model._meta.get_field(name)
        attname = getattr(field, "attname", name)
        value = getattr(obj, attname)
        if stored is not None and getattr(stored, attname) != value:
            changed.append(name)
    refused = policy.field_refusals(user, model, changed)
    if refused:
        raise ValidationError(refused)


def write(user, action, obj, *, m2m=None, target=STORED, exclude=None):
    """Check, validate and save ``obj`` (new or changed) for ``user``; returns ``obj``.

    ``target`` is what the action is checked against: by default the stored row (never what a form
    or request set on ``obj``), or ``None`` for a new row; pass the parent for a row of a parent.
    """
    stored = _stored(obj)
    check(user, action, stored if target is STORED else target)
    check_fields(user, obj, stored)
    obj.full_clean(exclude=exclude)
    with transaction.atomic(), acting_as(user):
        obj.save()
        for name, values in (m2m or {}).items():
            getattr(obj, name).set(values)
    return obj


def remove(user, action, obj, *, target=STORED):
    """Check and delete ``obj`` (checked against the stored row by default), with the trail."""
    check(user, action, _stored(obj) if target is STORED else target)
    with transaction.atomic(), acting_as(user):
        obj.delete()


def m2m_of(model, data) -> dict:
    """The many-to-many values among ``data`` (cleaned or validated data)."""
    names = {f.name for f in model._meta.many_to_many}
    return {k: v for k, v in data.items() if k in names}


def from_form(form):
    """``(unsaved object, many-to-many values)`` of a valid ModelForm (nothing is saved)."""
    obj = form.save(commit=False)
    return obj, m2m_of(type(obj), form.cleaned_data)


def errors_to_form(form, exc):
    """Show a service's ``ValidationError`` on the page's form (under its field where the form has
    one), so the page answers the service's refusal as the API does, with the same words."""
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
    else:
        form.add_error(None, exc.messages)


def from_serializer(serializer, **extra):
    """``(unsaved object, many-to-many values)`` of a valid ModelSerializer (nothing is saved)."""
    model = serializer.Meta.model
    data = {**serializer.validated_data, **extra}
    m2m = m2m_of(model, data)
    obj = serializer.instance if serializer.instance is not None else model()
    for key, value in data.items():
        if key not in m2m:
            setattr(obj, key, value)
    return obj, m2m
