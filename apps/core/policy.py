"""The policy layer: who may do what, declared once, asked by pages, API, services and templates.

Every app declares its part in ``apps/<app>/policy.py`` by calling :func:`register`; the core
app imports those modules at ``ready()`` (``autodiscover_modules("policy")``), so the registry
is complete before the first request. Three kinds of declaration:

- **Actions** (:class:`Action`): which roles may take an action, plus object-level conditions
  (``(user, obj) -> reason | None``, e.g. "the rectifier may not verify"). One question answers
  them all: ``user.can("hazard.verify", hazard)`` (:func:`can`), with the reasons from
  :func:`refusals`. The same rules for everyone: an anonymous or inactive user may nothing; a
  superuser passes the role test (not the object conditions).
- **Fields** (:class:`FieldRule`): fields of a model only some roles may change (an institution
  edits its facts, not where it sits in the tree). Serializers refuse such a field with a 400
  naming it; forms disable it and refuse a posted change (:func:`field_refusals`).
- **Scope** (:func:`visible`, :func:`viewers`): what a user sees and who sees an object. Both
  directions come from one table in :mod:`apps.core.scope` (``REACH``: per role, which attribute
  of the institution matches which attribute of the user), so they cannot disagree.

Order of the checks everywhere: scope first (an object outside it is a 404, like a missing one),
then the action (403 with the reason), then the workflow state (409) and the input (400).
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


@dataclass(frozen=True)
class Action:
    name: str
    roles: frozenset
    label: object = ""
    conditions: tuple[Callable, ...] = ()  # (user, obj) -> reason | None; checked when an object is given
    app: str = ""


@dataclass(frozen=True)
class FieldRule:
    model: str  # "app_label.ModelName"
    fields: tuple
    roles: frozenset  # the roles that may change these fields
    app: str = ""


@dataclass
class Registry:
    actions: dict = field(default_factory=dict)
    field_rules: dict = field(default_factory=dict)  # model label -> [FieldRule]

    def add_action(self, action: Action):
        if action.name in self.actions and self.actions[action.name] != action:
            raise ValueError(f"policy action {action.name!r} is declared twice")
        self.actions[action.name] = action

    def add_fields(self, rule: FieldRule):
        rules = self.field_rules.setdefault(rule.model, [])
        if rule not in rules:
            rules.append(rule)

    def action(self, name) -> Action:
        try:
            return self.actions[name]
        except KeyError:
            raise LookupError(f"unknown policy action {name!r} (declare it in an app's policy.py)") from None


registry = Registry()


def action(name, roles, label="", *conditions) -> Action:
    return Action(name=name, roles=frozenset(roles), label=label, conditions=tuple(conditions))


def fields(model: str, names: Iterable[str], roles) -> FieldRule:
    return FieldRule(model=model, fields=tuple(names), roles=frozenset(roles))


def register(app: str, *, actions: Iterable[Action] = (), field_rules: Iterable[FieldRule] = ()):
    """Add an app's declarations to the registry (called from ``apps/<app>/policy.py``)."""
    for a in actions:
        registry.add_action(Action(a.name, a.roles, a.label, a.conditions, app))
    for r in field_rules:
        registry.add_fields(FieldRule(r.model, r.fields, r.roles, app))


# --- asking -----------------------------------------------------------------------------------

def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def role_allows(user, name) -> bool:
    """The role part of an action: active, and a superuser or in the action's roles."""
    act = registry.action(name)
    return _active(user) and (user.is_superuser or user.role in act.roles)


def refusals(user, name, obj=None) -> list:
    """Why ``user`` may not take action ``name`` (on ``obj``); an empty list when they may."""
    act = registry.action(name)
    if not _active(user):
        return [_("Log in first.")]
    if not (user.is_superuser or user.role in act.roles):
        label = act.label or name
        return [_("Your role (%(role)s) may not “%(action)s”.") % {
            "role": user.get_role_display() or "—", "action": label}]
    if obj is None:
        return []
    return [reason for reason in (check(user, obj) for check in act.conditions) if reason]


def can(user, name, obj=None) -> bool:
    return not refusals(user, name, obj)


# --- fields -----------------------------------------------------------------------------------

def _label(model) -> str:
    return model if isinstance(model, str) else model._meta.label


def locked_fields(user, model) -> set:
    """Fields of ``model`` that ``user`` may not change."""
    out = set()
    for rule in registry.field_rules.get(_label(model), ()):
        if not (_active(user) and (user.is_superuser or user.role in rule.roles)):
            out.update(rule.fields)
    return out


def field_refusals(user, model, changed: Iterable[str]) -> dict:
    """``{field: reason}`` for every changed field ``user`` may not change."""
    locked = locked_fields(user, model)
    return {name: _("Your role may not change this field.") for name in changed if name in locked}


# --- scope ------------------------------------------------------------------------------------

def visible(model, user):
    """The rows of ``model`` that ``user`` sees (the one predicate per model, ``Model.scope_q``)."""
    return model._default_manager.filter(model.scope_q(user))


def viewers(obj):
    """The users who see ``obj``: the other direction of the same definition."""
    from apps.orgs.models import User

    from .scope import viewers_by_definition_q

    reverse = getattr(type(obj), "viewers_q", None)
    return User.objects.filter(reverse(obj) if reverse else viewers_by_definition_q(obj))


def sees(user, obj) -> bool:
    return visible(type(obj), user).filter(pk=obj.pk).exists()


# --- the table shown to people ----------------------------------------------------------------

def table():
    """Rows for the policy page and the generated doc: (app, action, label, roles, has_conditions)."""
    from apps.orgs.choices import Role

    actions = [(a.app, a.name, str(a.label or a.name), [r for r in Role if r in a.roles], bool(a.conditions))
               for a in sorted(registry.actions.values(), key=lambda a: (a.app, a.name))]
    field_rows = [(r.app, r.model, list(r.fields), [x for x in Role if x in r.roles])
                  for rules in registry.field_rules.values() for r in rules]
    return actions, sorted(field_rows)


CONDITIONS_NOTE = gettext_lazy("and object conditions")

DOC_START = "<!-- policy-table:start (generated by `manage.py policy_table`; do not edit) -->"
DOC_END = "<!-- policy-table:end -->"


def markdown() -> str:
    """The registry as Markdown tables (English), for ``docs/architecture.md``."""
    from django.utils import translation

    from apps.orgs.choices import Role

    with translation.override("en"):
        roles = list(Role)
        actions, field_rows = table()
        head = "| action | " + " | ".join(r.value for r in roles) + " |"
        lines = [head, "|" + " --- |" * (len(roles) + 1)]
        for _app, name, _label, allowed, conditional in actions:
            mark = "✓*" if conditional else "✓"
            lines.append(f"| `{name}` | " + " | ".join(mark if r in allowed else "" for r in roles) + " |")
        lines += ["", "✓* : the role may, subject to conditions on the object.", "",
                  "| model | fields | roles that may change them |", "| --- | --- | --- |"]
        for _app, model, names, allowed in field_rows:
            lines.append(f"| `{model}` | {', '.join(names)} | {', '.join(r.value for r in allowed)} |")
    return "\n".join(lines)


def write_doc(text: str) -> str:
    """``text`` with the generated table between the markers (appended with them when missing)."""
    block = f"{DOC_START}\n{markdown()}\n{DOC_END}"
    if DOC_START in text and DOC_END in text:
        before, rest = text.split(DOC_START, 1)
        return before + block + rest.split(DOC_END, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"
