"""Pages and API of the rules by level (``apps.orgs.rules``), one shape for every rule-bearing model.

Each app describes its rule with a :class:`RulePage` (model, policy capability, service, form,
columns, and what is "in force" for a user's node) and gets a list page and an add/edit page:

- the list shows the rules the user may see (``rules.visible_q``), their source (来源: the platform
  default or the administration's name), and marks those in force for the user's own node;
- an administration's leader or administrator adds and edits its own administration's rules (the
  app's ``….override`` capability, ``own_administration_refusal``); anybody else's rule or the default
  is 403, a rule outside the user's scope 404;
- the app's service refuses, with the reason, an override loosening a rule a higher level set by law.

:class:`RuleViewSet` and :class:`RuleSerializerMixin` give the API the same shape.
"""
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _


@dataclass
class RulePage:
    model: type
    capability: str  # policy action: add/edit one's own administration's rules
    save: Callable  # service: save(user, rule) -> rule
    form: type  # a ScopedModelForm without ``administration``
    title: str  # the list page's heading (lazy)
    add_title: str  # "Add …" (lazy)
    empty: str  # "No … is defined." (lazy)
    url_list: str
    url_create: str
    url_edit: str
    slug: str  # ids in the page: "<slug>-table", "<slug>-add"…
    columns: list = field(default_factory=list)  # [(heading, rule -> value)]
    in_force: Callable | None = None  # (rules, path) -> set of pks in force at ``path``
    order_by: tuple = ("administration__path", "pk")
    intro: str = ""
    lockable: bool = True  # the model has ``overridable`` (a number format has not)

    def queryset(self, user):
        return self.model.objects.visible_to(user).select_related("administration")


def _login(request):
    return HttpResponseRedirect(f"/accounts/login/?next={request.path}")


def rule_list(spec: RulePage):
    def view(request):
        if not request.user.is_authenticated:
            return _login(request)
        rules = list(spec.queryset(request.user).order_by(*spec.order_by))
        in_force = spec.in_force(rules, request.user.org_path or "") if spec.in_force else set()
        rows = [(r, [fn(r) for _label, fn in spec.columns]) for r in rules]
        return render(request, "orgs/rule_list.html", {
            "spec": spec, "rows": rows, "in_force": in_force, "headings": [label for label, _fn in spec.columns],
            "may_override": request.user.can(spec.capability), "administration": request.user.administration})
    view.__name__ = f"{spec.slug}_list"
    view.__doc__ = f"{spec.model.__name__} by level: the rules the user sees, their source, those in force."
    return view


def rule_edit(spec: RulePage):
    def view(request, pk=None):
        if not request.user.is_authenticated:
            return _login(request)
        rule = get_object_or_404(spec.queryset(request.user), pk=pk) if pk else None
        if not request.user.can(spec.capability, rule):
            raise PermissionDenied(_("Your role may not do this."))
        initial = {}
        copy = request.GET.get("from", "")
        if rule is None and copy.isdigit():
            base = spec.queryset(request.user).filter(pk=copy).first()
            if base is not None:
                initial = {f: getattr(base, f) for f in spec.form._meta.fields}
        form = spec.form(request.POST or None, instance=rule, initial=initial, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                spec.save(request.user, form.save(commit=False))
            except ValidationError as exc:
                from apps.core.services import errors_to_form

                errors_to_form(form, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc) or _("Your role may not do this."))
            else:
                messages.success(request, _("Saved."))
                return HttpResponseRedirect(reverse(spec.url_list))
        return render(request, "orgs/rule_form.html", {
            "spec": spec, "form": form, "rule": rule, "administration": request.user.administration},
            status=400 if request.method == "POST" else 200)
    view.__name__ = f"{spec.slug}_edit"
    view.__doc__ = f"Add a {spec.model.__name__} at the user's own administration, or change one of its own."
    return view


def save_rule(user, capability, rule, *, held=(), looser=None, same=None, before_write=None, after_write=None):
    """The service shape of every rule by level: a new rule belongs to the user's own administration
    (a superuser without one may add a platform default); refused with the reason when it loosens a
    rule a higher level marked not overridable (``held``: the candidate rules, with administration)."""
    from django.db import transaction

    from apps.core.services import write
    from apps.orgs.rules import refusal

    model = type(rule)
    if rule.pk is None and rule.administration_id is None:
        rule.administration = user.administration
    target = rule if rule.pk is None else model.objects.select_related("administration").get(pk=rule.pk)
    if looser is not None:
        reason = refusal(rule, held, looser=looser, same=same)
        if reason:
            raise ValidationError(reason)
    with transaction.atomic():
        if before_write is not None:
            before_write(rule)
        created = rule.pk is None
        write(user, capability, rule, target=target)
        if after_write is not None:
            after_write(rule, created)
    return rule


# ---------------------------------------------------------------- API


class RuleSerializerMixin:
    """``administration`` (read only: set to the caller's own) and ``administration_name`` (来源)."""

    def get_administration_name(self, obj) -> str:
        from apps.orgs.rules import source_label

        return source_label(obj)


def rule_viewset(base):
    """A viewset class for a rule by level on ``base`` (``ScopedModelViewSet``): list/read within
    ``visible_q``, create/update through the service named by ``service`` (400 with the reason)."""

    class RuleViewSet(base):
        http_method_names = ["get", "post", "put", "patch", "head", "options"]
        service = None

        def get_queryset(self):
            return super().get_queryset().select_related("administration")

        def _save(self, serializer):
            from apps.core.api import run_service

            rule = serializer.instance or self.queryset.model()
            for key, value in serializer.validated_data.items():
                setattr(rule, key, value)
            serializer.instance = run_service(type(self).service, self.request.user, rule)

        perform_create = perform_update = _save

    return RuleViewSet
