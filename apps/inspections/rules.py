"""Who may do what in this app (kept here rather than in the shared CAPABILITIES table)."""
from apps.orgs.choices import Role

# Bureau staff edit checklist templates and frequency rules (also in the admin).
EDIT_RULES = {Role.ADMIN}
# Offices that run campaigns and festival security periods.
RUN_CAMPAIGNS = {Role.ADMIN, Role.SECTION, Role.TOWNSHIP}


def can_inspect(user, institution=None):
    """Institution users self-inspect their own institution; offices inspect what they see."""
    return user.is_authenticated and (user.can("institution.self_manage") or user.can("enforcement.act"))


def can_run_campaigns(user):
    return user.is_authenticated and (user.is_superuser or user.role in RUN_CAMPAIGNS)
