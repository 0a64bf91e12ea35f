"""Data scope: who may see which rows (mechanism 1).

Every scoped model says how it reaches an institution through ``scope_field`` (e.g.
``"institution"`` or ``"hazard__institution"``; ``""`` for Institution itself). A model whose
rows belong to an organisation rather than an institution overrides ``scope_q``. Base views
and viewsets call ``Model.objects.visible_to(user)``, so no view can forget the scope, and an
out-of-scope object answers 404 exactly like a missing one.
"""
from django.db import models
from django.db.models import Q

NOTHING = Q(pk__in=[])


# How each role reaches an institution: (attribute of the institution, attribute of the user).
# A section's attribute is a list (the institution kinds of its line of business). Both
# directions of the scope are read from this one table: ``institution_q`` (what a user sees)
# and ``institution_viewers_q`` (who sees an institution). Bureau roles see everything.
REACH = {
    "section": ("kind", "organization__institution_kinds"),
    "township": ("township_id", "organization_id"),
    "unit": ("operator_unit_id", "organization_id"),
    "inst_manager": ("id", "institution_id"),
    "inst_staff": ("id", "institution_id"),
}


def _user_value(user, path):
    value = user
    for part in path.split("__"):
        value = getattr(value, part, None)
        if value is None:
            return None
    return value


def institution_q(user, prefix: str) -> Q:
    """The Q that limits institutions reached through ``prefix`` to what ``user`` may see.

    ``prefix`` is a lookup path ending in ``__`` (or empty for Institution itself).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.sees_everything:
        return Q()
    reach = REACH.get(user.role)
    if reach is None:
        return NOTHING
    inst_attr, user_attr = reach
    value = _user_value(user, user_attr)
    if not value:
        return NOTHING
    key = f"{prefix}{inst_attr}"
    if isinstance(value, list | tuple):
        return Q(**{f"{key}__in": list(value)})
    return Q(**{key: value})


def institution_viewers_q(institution) -> Q:
    """The Q over users who see ``institution`` (the other direction of ``institution_q``)."""
    from apps.orgs.choices import BUREAU_ROLES
    from apps.orgs.models import Organization

    active = Q(is_active=True)
    q = Q(is_superuser=True) | Q(role__in=list(BUREAU_ROLES))
    if institution is None:
        return active & q
    for role, (inst_attr, user_attr) in REACH.items():
        value = getattr(institution, inst_attr, None)
        if value is None:
            continue
        if user_attr.endswith("institution_kinds"):
            orgs = [o.pk for o in Organization.objects.only("pk", "institution_kinds")
                    if value in (o.institution_kinds or [])]
            q |= Q(role=role, organization_id__in=orgs)
        else:
            q |= Q(role=role, **{user_attr: value})
    return active & q


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rows of this model that ``user`` may see."""
        return self.filter(self.model.scope_q(user))


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass


class ReferenceData:
    """Mixin (before ``AuditedModel``) for rows every logged-in user may read and no institution
    owns: rule sets, number formats, risk models, facility requirements, questionnaires."""

    @classmethod
    def scope_q(cls, user) -> Q:
        return Q() if user is not None and user.is_authenticated else NOTHING

    @property
    def scope_institution_id(self):
        return None


class ScopedModelMixin:
    """Mixin for models whose rows belong to an institution."""

    scope_field = "institution"

    @classmethod
    def scope_q(cls, user) -> Q:
        prefix = f"{cls.scope_field}__" if cls.scope_field else ""
        return institution_q(user, prefix)

    @classmethod
    def viewers_q(cls, obj) -> Q:
        """The users who see ``obj`` (the same definition as ``scope_q``, read the other way)."""
        from apps.ledger.models import Institution

        inst_id = obj.scope_institution_id
        institution = Institution.objects.filter(pk=inst_id).first() if inst_id else None
        if institution is None:
            return Q(is_active=True) & Q(is_superuser=True)
        return institution_viewers_q(institution)

    @property
    def scope_institution_id(self):
        """The id of the institution this row belongs to, for the trail and notifications."""
        if not self.scope_field:
            return self.pk
        obj = self
        parts = self.scope_field.split("__")
        for part in parts[:-1]:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return getattr(obj, f"{parts[-1]}_id", None)
