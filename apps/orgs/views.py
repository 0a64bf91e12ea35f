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


class OrganizationDetailView(ObjectDetailView):
    model = Organization
    template_name = "orgs/organization_detail.html"
