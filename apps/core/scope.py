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


def institution_q(user, prefix: str) -> Q:
    """The Q that limits institutions reached through ``prefix`` to what ``user`` may see.

    ``prefix`` is a lookup path ending in ``__`` (or empty for Institution itself).
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.sees_everything:
        return Q()
    role = user.role
    org_id = user.organization_id
    from apps.orgs.choices import Role

    if role == Role.SECTION and user.organization is not None:
        kinds = list(user.organization.institution_kinds or [])
        return Q(**{f"{prefix}kind__in": kinds}) if kinds else NOTHING
    if role == Role.TOWNSHIP and org_id:
        return Q(**{f"{prefix}township_id": org_id})
    if role == Role.UNIT and org_id:
        return Q(**{f"{prefix}operator_unit_id": org_id})
    if role in (Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF) and user.institution_id:
        key = f"{prefix}id" if prefix else "id"
        return Q(**{key: user.institution_id})
    return NOTHING


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Rows of this model that ``user`` may see."""
        return self.filter(self.model.scope_q(user))


class ScopedManager(models.Manager.from_queryset(ScopedQuerySet)):
    pass


class ScopedModelMixin:
    """Mixin for models whose rows belong to an institution."""

    scope_field = "institution"

    @classmethod
    def scope_q(cls, user) -> Q:
        prefix = f"{cls.scope_field}__" if cls.scope_field else ""
        return institution_q(user, prefix)

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
