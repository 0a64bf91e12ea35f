"""Rules by level: which rule applies where, in one place.

A rule-bearing model (monitoring thresholds, patrol/inspection frequencies, risk models, number
formats) has an optional ``administration`` (a province, city or district bureau; ``None`` is the
installation default, applying everywhere) and ``overridable``. The rule that applies to a node of
the tree (an institution's township, a user's organisation, an administration) is the one defined
at the *nearest* administration on the path from that node up to the root, else the default.

A rule marked not overridable (a legal minimum: a national standard, a threshold set by law) still
lets a lower level be *stricter*, never looser: ``looser(new, held)`` (given by each model) says
whether ``new`` loosens ``held``; such an override is refused when saved (:func:`refusal`) and, were
one stored anyway (the parent locked later), skipped when resolved (:func:`effective`).

Resolution reads no row: callers load the candidate rules once (``select_related("administration")``)
and resolve a whole set of paths in memory (:func:`resolve`), so a list page or an ingest batch
costs one query for the rules whatever the number of institutions.
"""
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db.models import Q
from django.utils.translation import gettext as _

from apps.core.scope import NOTHING, area_q

from .tree import ADMINISTRATION_KINDS, ancestor_paths  # noqa: F401  (ancestor_paths re-exported)


def rule_path(rule) -> str:
    """The tree path of the administration defining ``rule`` ("" for the installation default)."""
    if not rule.administration_id:
        return ""
    return rule.administration.path


def depth(path: str) -> int:
    return path.count(".")


def chain(rules: Iterable, path: str, *, order: Callable | None = None) -> list:
    """The rules that reach ``path`` (defined at the default or at an administration at or above it),
    root first, nearest last; ``order(rule)`` breaks ties within one level (the later wins)."""
    prefixes = set(ancestor_paths(path))
    reach = [r for r in rules if (p := rule_path(r)) == "" or p in prefixes]
    return sorted(reach, key=lambda r: (depth(rule_path(r)), order(r) if order else 0))


def effective(rules: Iterable, path: str, *, looser: Callable | None = None, order: Callable | None = None):
    """The rule that applies at ``path`` among ``rules`` (all of one key): the nearest one, unless a
    non-overridable rule above it holds and the nearer one loosens it (``looser(new, held)``; without
    ``looser`` a non-overridable rule cannot be replaced at all)."""
    current, locks = None, []
    for rule in chain(rules, path, order=order):
        if any(looser is None or looser(rule, held) for held in locks if rule_path(held) != rule_path(rule)):
            continue
        current = rule
        if not rule.overridable:
            locks.append(rule)
    return current


def resolve(rules: Iterable, paths: Iterable[str], key: Callable, *, looser=None, order=None) -> dict:
    """{path: {key: effective rule}} for every path of ``paths``, from rules loaded once."""
    by_key = defaultdict(list)
    for rule in rules:
        by_key[key(rule)].append(rule)
    out = {}
    for path in set(paths):
        found = {}
        for k, group in by_key.items():
            rule = effective(group, path, looser=looser, order=order)
            if rule is not None:
                found[k] = rule
        out[path] = found
    return out


def refusal(new, rules: Iterable, *, looser: Callable | None = None, same=None) -> str | None:
    """Why ``new`` may not be saved at its administration, or None: a non-overridable rule of the same
    key (``same(a, b)``) defined *above* that administration which ``new`` would loosen."""
    path = rule_path(new)
    if not path:
        return None
    prefixes = set(ancestor_paths(path)) - {path}
    for held in rules:
        if held.pk == new.pk or held.overridable:
            continue
        held_path = rule_path(held)
        if held_path and held_path not in prefixes:
            continue
        if same is not None and not same(new, held):
            continue
        if looser is None or looser(new, held):
            return _("%(rule)s is set by %(source)s and may not be loosened below it.") % {
                "rule": held, "source": source_label(held)}
    return None


def check(rule, *, looser: Callable | None = None, same=None):
    """For a model's ``clean``: raise ``ValidationError`` with the reason when ``rule`` loosens a
    non-overridable rule of a higher level (one query: the model's rules with their administration)."""
    from django.core.exceptions import ValidationError

    if not rule.administration_id:
        return
    held = type(rule)._default_manager.filter(overridable=False, is_active=True).select_related("administration")
    reason = refusal(rule, held, looser=looser, same=same)
    if reason:
        raise ValidationError(reason)


def source_label(rule) -> str:
    """The "来源" column: the administration defining ``rule``, or the platform default."""
    if not rule.administration_id:
        return _("Platform default")
    return rule.administration.name


def visible_q(user, lookup: str = "administration") -> Q:
    """The rules ``user`` may see: the default, those of the administrations above their own node
    (which apply to them), and for bureau roles those of the administrations under theirs."""
    if user is None or not user.is_authenticated or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return Q()
    q = Q(**{f"{lookup}__isnull": True})
    above = ancestor_paths(user.org_path)
    if above:
        q |= Q(**{f"{lookup}__path__in": above})
    return q | area_q(user, lookup)


def own_administration_refusal(user, rule) -> str | None:
    """Policy condition: a rule is set by a user of the administration it belongs to (a superuser
    also for the installation default and any administration)."""
    if rule is None or user.is_superuser:
        return None
    admin = getattr(user, "administration", None)
    if rule.administration_id is None or admin is None or admin.pk != rule.administration_id:
        return _("Only the administration a rule belongs to may set it.")
    return None


def administration_choices_q() -> Q:
    return Q(kind__in=ADMINISTRATION_KINDS)


def path_of_institutions(institutions) -> dict:
    """{institution id: its township's path} of institutions loaded with ``township``."""
    return {i.pk: (i.township.path if i.township_id else "") for i in institutions}
