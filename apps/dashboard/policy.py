"""Who sees what on the dashboard pages."""
from django.utils.translation import gettext_lazy as _

from apps.core.policy import action, register
from apps.orgs.choices import Role

register("dashboard", actions=[
    action("home.changes", {Role.ADMIN, Role.LEADER}, _("See the figures changed since yesterday")),
])
