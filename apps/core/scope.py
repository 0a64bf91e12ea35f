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


# --- Questions about a user's reach --------------------------------------------------------------
# The one place outside the policy modules that reads roles: views, forms, serializers and services
# ask these (or ``user.can``) instead of comparing roles themselves.

def is_active_user(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def sees_all(user) -> bool:
    """Whether ``user`` sees everything under their administration (bureau roles of a district, a city
    or a province, and superusers): their reach is not pinned to a township, a kind or an institution.
    What lies under the administration is ``institution_q`` / ``area_q`` / ``org_under_q``."""
    return is_active_user(user) and user.sees_everything


def reach_limit(user, inst_attr):
    """The values of the institution attribute ``inst_attr`` that ``user``'s reach pins down.

    ``None`` when the user's reach does not run through that attribute (any value is theirs to
    choose, within the rest of their scope); otherwise the list of allowed values (empty: none).
    E.g. a township officer's ``reach_limit(user, "township_id")`` is ``[own township]``, an
    institution user's ``reach_limit(user, "id")`` is ``[own institution]``.
    """
    if not is_active_user(user):
        return []
    if user.sees_everything:
        return None
    reach = REACH.get(user.role)
    if reach is None or reach[0] != inst_attr:
        return None
    value = _user_value(user, reach[1])
    if not value:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def whole_district_q() -> Q:
    """The Q over active users whose scope is the whole district (``sees_all``)."""
    from apps.orgs.choices import BUREAU_ROLES

    return Q(is_active=True) & (Q(is_superuser=True) | Q(role__in=list(BUREAU_ROLES)))


def reaches_through(user, inst_attr) -> bool:
    """Whether ``user``'s reach is pinned by the institution attribute ``inst_attr``."""
    return is_active_user(user) and reach_limit(user, inst_attr) is not None


def within_reach(user, inst_attr, value) -> bool:
    """Whether an institution whose ``inst_attr`` is ``value`` may be placed there by ``user``."""
    limit = reach_limit(user, inst_attr)
    return limit is None or value in limit


def own_institution_id(user):
    """The institution an institution user belongs to (``None`` for everybody else)."""
    limit = reach_limit(user, "id")
    return limit[0] if limit else None


def acts_for_office(user) -> bool:
    """Whether ``user`` works in an office (the bureau, a section, a unit, a township office)."""
    return is_active_user(user) and user.is_office


def office_id(user):
    """The office (organisation) a user acts for: ``None`` for institution users."""
    if not is_active_user(user) or reaches_through(user, "id") or not user.is_office:
        return None
    return user.organization_id


def home_township_id(user):
    """The township a user is pinned to: a township office's own, an institution's township."""
    limit = reach_limit(user, "township_id")
    if limit is not None:
        return limit[0] if limit else None
    if own_institution_id(user):
        return user.institution.township_id
    return None


def township_choices(user):
    """The townships ``user`` may choose (as a place of an institution, a drive, an activity)."""
    from apps.orgs.models import Organization

    townships = Organization.objects.filter(kind="township")
    if user is None:  # a form built without a user (a command, a test of the form alone)
        return townships
    if not is_active_user(user):
        return townships.none()
    pinned = home_township_id(user)
    if pinned or reaches_through(user, "township_id") or reaches_through(user, "id"):
        return townships.filter(pk=pinned)
    return townships.filter(org_under_q(user, ""))  # the townships under the user's administration


def unit_choices(user):
    """The directly-run units ``user`` may name as an institution's operator: the units under the
    user's administration, or a unit officer's own unit (the same rule for the form's choices and
    for the check of every save, ``apps.ledger.services.check_placement``)."""
    from apps.orgs.models import Organization

    units = Organization.objects.filter(kind="unit")
    if user is None:
        return units
    if not is_active_user(user):
        return units.none()
    own = reach_limit(user, "operator_unit_id")
    if own is not None:
        return units.filter(pk__in=own)
    return units.filter(org_under_q(user, ""))


def kind_choices(user, choices):
    """``choices`` (of the institution kind) limited to the kinds ``user``'s reach covers."""
    limit = None if user is None else reach_limit(user, "kind")
    return [c for c in choices if limit is None or not c[0] or c[0] in limit]


def spans_townships(user) -> bool:
    """Whether ``user``'s scope is a line of business across townships (a section, a directly-run
    unit): such users also see the bureau's own drives."""
    return is_active_user(user) and any(reaches_through(user, attr) for attr in ("kind", "operator_unit_id"))


def filters_by_township(user) -> bool:
    """Whether ``user`` sees every township to filter their lists by (the bureau, a section)."""
    return sees_all(user) or reaches_through(user, "kind")


def reached_through_q(inst_attr, values) -> Q:
    """The Q over active users whose reach runs through ``inst_attr`` with one of ``values``
    (e.g. the township officers of some townships, the people of some institutions)."""
    q = NOTHING
    for role, (attr, user_attr) in REACH.items():
        if attr == inst_attr and not user_attr.endswith("institution_kinds"):
            q |= Q(role=role, **{f"{user_attr}__in": list(values)})
    return Q(is_active=True) & q


def supervisors_q(institution, *, include_bureau=False) -> Q:
    """The Q over active office users whose scope covers ``institution`` (``institution_viewers_q``
    without the institution's own people, and without the bureau unless asked)."""
    from apps.orgs.choices import BUREAU_ROLES

    q = institution_viewers_q(institution) & ~Q(is_superuser=True, role="")
    q &= ~reached_through_q("id", [institution.pk])
    if not include_bureau:
        q &= ~Q(role__in=list(BUREAU_ROLES)) & ~Q(is_superuser=True)
    return q


def own_scope_q(model) -> bool:
    """Whether ``model`` defines its own ``scope_q`` (not the institution-reached one)."""
    method = getattr(model, "scope_q", None)
    return method is not None and getattr(method, "__func__", None) is not ScopedModelMixin.scope_q.__func__


def viewers_by_definition_q(obj) -> Q:
    """The Q over users who see ``obj``, read from the model's own ``scope_q`` one user at a time:
    for models whose scope is not a plain institution reach (drives, sessions, organisations), so
    the reverse direction can never disagree with the forward one."""
    from apps.orgs.models import User

    model = type(obj)
    users = User.objects.filter(is_active=True).select_related("organization", "institution")
    ids = [u.pk for u in users if model._default_manager.filter(model.scope_q(u), pk=obj.pk).exists()]
    return Q(pk__in=ids)


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

        if own_scope_q(cls):  # a model with its own predicate: read it, not the institution's
            return viewers_by_definition_q(obj)

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
