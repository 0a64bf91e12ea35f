from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from apps.core.views import ObjectDetailView, ObjectListView

from .models import Organization


class LoginForm(AuthenticationForm):
    """The login form; the lockout is checked inside ``authenticate`` by django-axes (``apps.orgs.auth``)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password."),
    }


class FireSafeLoginView(LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's own API tokens (account menu): when each was issued, until when, and revoke."""
    from apps.core.api import client_name, own_tokens
    from apps.core.audit import record

    if request.method == "POST":
        token = get_object_or_404(own_tokens(request.user), token_key=request.POST.get("token_key", ""))
        record("token_revoked", request.user, actor=request.user, institution_id=request.user.institution_id,
               object_repr=request.user.get_username(),
               after={"token": token.token_key, "client": client_name(token)})
        token.delete()
        messages.success(request, _("The token was revoked."))
        return redirect("api_tokens")
    return render(request, "orgs/api_tokens.html", {"tokens": list(own_tokens(request.user))})


class OrganizationListView(ObjectListView):
    model = Organization
    template_name = "orgs/organization_list.html"
    paginate_by = 100

    def base_queryset(self):
        from django.db.models import Count

        return Organization.objects.select_related("parent").annotate(
            n_users=Count("users", distinct=True), n_institutions=Count("institutions", distinct=True)
        ).order_by("kind", "order", "sort_name")


def policy_page(request):
    """The policy for the bureau administrator: per role, every action and field, from the registry."""
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import render

    from apps.core import policy

    from .choices import Role

    if not request.user.can("orgs.manage"):
        raise PermissionDenied(_("Your role may not do this."))
    actions, field_rows = policy.table()
    roles = list(Role)
    rows = [{"name": name, "label": label, "conditional": conditional, "cells": [r in allowed for r in roles]}
            for _app, name, label, allowed, conditional in actions]
    fields = [{"model": model, "fields": names, "cells": [r in allowed for r in roles]}
              for _app, model, names, allowed in field_rows]
    return render(request, "orgs/policy.html", {"roles": roles, "rows": rows, "fields": fields})


class OrganizationDetailView(ObjectDetailView):
    model = Organization
    template_name = "orgs/organization_detail.html"
