from django.db import models
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    PROVINCE = "province", _("Provincial civil affairs department")
    CITY = "city", _("Municipal civil affairs bureau")
    BUREAU = "bureau", _("District / county civil affairs bureau")
    SECTION = "section", _("Section")
    UNIT = "unit", _("Unit directly under the bureau")
    TOWNSHIP = "township", _("Township / street office")
    EXTERNAL = "external", _("Outside authority")


class Role(models.TextChoices):
    ADMIN = "admin", _("Bureau administrator")
    LEADER = "leader", _("Bureau leader")
    SECTION = "section", _("Section staff")
    UNIT = "unit", _("Directly-run unit staff")
    TOWNSHIP = "township", _("Township officer")
    INSTITUTION_MANAGER = "inst_manager", _("Institution manager")
    INSTITUTION_STAFF = "inst_staff", _("Institution staff")


BUREAU_ROLES = {Role.ADMIN, Role.LEADER}
OFFICE_ROLES = {Role.ADMIN, Role.LEADER, Role.SECTION, Role.UNIT, Role.TOWNSHIP}
INSTITUTION_ROLES = {Role.INSTITUTION_MANAGER, Role.INSTITUTION_STAFF}

# The kinds that are an administration: each has its own sections, units, townships and users, and
# its bureau roles see everything under it (``apps.orgs.tree``).
ADMINISTRATION_KINDS = (OrgKind.PROVINCE, OrgKind.CITY, OrgKind.BUREAU)
