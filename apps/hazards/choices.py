from django.db import models
from django.utils.translation import gettext_lazy as _


class HazardCategory(models.TextChoices):
    BUILDING = "building", _("Building")
    EVACUATION = "evacuation", _("Evacuation")
    FACILITIES = "facilities", _("Fire facilities")
    ELECTRICAL = "electrical", _("Electrical")
    IGNITION = "ignition", _("Ignition sources")
    GAS = "gas", _("Gas")
    MANAGEMENT = "management", _("Management")
    OTHER = "other", _("Other")


class HazardSource(models.TextChoices):
    SELF_INSPECTION = "self_inspection", _("Self-inspection")
    INSPECTION = "inspection", _("Inspection by others")
    PATROL = "patrol", _("Patrol")
    SENSOR = "sensor", _("Sensor alarm")
    DRILL = "drill", _("Drill")
    PUBLIC_REPORT = "public_report", _("Public report")
    OTHER = "other", _("Other")


class HazardLevel(models.TextChoices):
    GENERAL = "general", _("General")
    MAJOR = "major", _("Major")


class HazardState(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    RECTIFYING = "rectifying", _("Rectifying")
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting verification")
    CLOSED = "closed", _("Closed")


OPEN_STATES = (HazardState.REGISTERED, HazardState.RECTIFYING, HazardState.AWAITING_VERIFICATION)
