from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.views import ObjectDetailView, ObjectListView

from .models import Organization
from .throttle import is_locked_out


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password."),
        "locked": _("Too many failed logins. Try again in %(minutes)d minutes."),
    }

    def clean(self):
        from django.conf import settings

        username = self.cleaned_data.get("username") or ""
        addr = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        if is_locked_out(username, addr):
            raise ValidationError(self.error_messages["locked"], code="locked",
                                  params={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES})
        return super().clean()


class ThrottledLoginView(LoginView):
    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True


class OrganizationListView(ObjectListView):
    model = Organization
    template_name = "orgs/organization_list.html"
    paginate_by = 100

    def base_queryset(self):
        from django.db.models import Count

        return Organization.objects.select_related("parent").annotate(
            n_users=Count("users", distinct=True), n_institutions=Count("institutions", distinct=True)
        ).order_by("kind", "order", "name")


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
