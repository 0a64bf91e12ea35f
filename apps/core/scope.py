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
# and ``institution_viewers_q`` (who sees an institution). Bureau roles see everything under
# their administration, and a section its line of business under its administration: one
# prefix match on the township's materialised path (``apps.orgs.tree``), whatever the depth.
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
    if user.is_superuser:
        return Q()
    under = f"{prefix}{UNDER}"
    if user.sees_everything:
        area = user.administration_path
        return Q(**{under: area}) if area else NOTHING
    reach = REACH.get(user.role)
    if reach is None:
        return NOTHING
    inst_attr, user_attr = reach
    value = _user_value(user, user_attr)
    if not value:
        return NOTHING
    key = f"{prefix}{inst_attr}"
    if isinstance(value, list | tuple):
        area = user.administration_path
        return Q(**{f"{key}__in": list(value), under: area}) if area else NOTHING
    return Q(**{key: value})


# The lookup (from an institution) of "under a path": its township's path starts with it.
UNDER = "township__path__startswith"


def area_q(user, org_lookup: str, *, null_ok: bool = False) -> Q:
    """For a user who sees everything under their administration: the rows whose organisation
    (``org_lookup``, a foreign key to Organization) is in that administration's subtree. Q() for a
    superuser; NOTHING for anyone else. ``null_ok`` also admits rows with no organisation.
    """
    if user is None or not user.is_authenticated or not user.is_active or not user.sees_everything:
        return NOTHING
    if user.is_superuser:
        return Q()
    area = user.administration_path
    q = Q(**{_path(org_lookup): area}) if area else NOTHING
    if null_ok:
        q |= Q(**{f"{org_lookup}__isnull": True})
    return q


def org_under_q(user, org_lookup: str) -> Q:
    """Rows whose organisation is in the subtree of the user's administration, for anyone (not only
    bureau roles): e.g. the townships a section may filter by. Q() for a superuser."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return Q()
    area = user.administration_path
    return Q(**{_path(org_lookup): area}) if area else NOTHING


def _path(org_lookup: str) -> str:
    return f"{org_lookup}__path__startswith" if org_lookup else "path__startswith"


def institution_viewers_q(institution) -> Q:
    """The Q over users who see ``institution`` (the other direction of ``institution_q``)."""
    from apps.orgs.choices import BUREAU_ROLES
    from apps.orgs.models import Organization
    from apps.orgs.tree import ancestor_paths

    active = Q(is_active=True)
    q = Q(is_superuser=True)
    if institution is None:
        return active & (q | Q(role__in=list(BUREAU_ROLES)))
    township = Organization.objects.filter(pk=institution.township_id).values_list("path", flat=True).first()
    above = ancestor_paths(township or "")  # the administrations this institution is under
    q |= Q(role__in=list(BUREAU_ROLES), organization__admin_path__in=above)
    for role, (inst_attr, user_attr) in REACH.items():
        value = getattr(institution, inst_attr, None)
        if value is None:
            continue
        if user_attr.endswith("institution_kinds"):
            orgs = [o.pk for o in Organization.objects.filter(admin_path__in=above).only("pk", "institution_kinds")
                    if value in (o.institution_kinds or [])]
            q |= Q(role=role, organization_id__in=orgs)
        else:
            q |= Q(role=role, **{user_attr: value})
    return active & q


def sees_whole_platform(user) -> bool:
    """Whether ``user`` sees every row of the installation: a superuser, or a bureau role of the one
    administration at the root (today's single district, or the province). Shortcuts that read
    installation-wide figures (the province cockpit's month cache) ask this; one query."""
    if user is None or not user.is_authenticated or not user.is_active or not user.sees_everything:
        return False
    if user.is_superuser:
        return True
    from apps.orgs.models import Organization

    roots = list(Organization.objects.filter(parent__isnull=True).exclude(kind="external")
                 .values_list("path", flat=True)[:2])
    return roots == [user.administration_path]


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
