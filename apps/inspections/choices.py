from django.db import models
from django.utils.translation import gettext_lazy as _


class ChecklistPurpose(models.TextChoices):
    PATROL = "patrol", _("Daily patrol")
    INSPECTION = "inspection", _("Monthly inspection")
    SELF_ASSESSMENT = "self_assessment", _("Winter self-assessment")
    ELECTRICAL = "electrical", _("Electrical special inspection")
    FESTIVAL = "festival", _("Festival security")
    MAJOR_HAZARD = "major_hazard", _("Major-hazard checklist")


class InspectionKind(models.TextChoices):
    SELF = "self", _("Self-inspection")
    OFFICE = "office", _("Inspection by township or bureau")
    JOINT = "joint", _("Joint inspection")
    NIGHT = "night", _("Night spot-check")


# Kinds run by an office: enforcement acts that appear in the office's enforcement log.
ENFORCEMENT_KINDS = (InspectionKind.OFFICE, InspectionKind.JOINT, InspectionKind.NIGHT)


class InspectionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class ItemResult(models.TextChoices):
    PENDING = "", _("Not checked")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NA = "na", _("Not applicable")
