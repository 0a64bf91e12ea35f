from django.db import models
from django.utils.translation import gettext_lazy as _


class RiskLevel(models.TextChoices):
    """The four risk levels and colours (domain §7): 重大 red, 较大 orange, 一般 yellow, 低 blue."""

    RED = "red", _("Major risk")
    ORANGE = "orange", _("Large risk")
    YELLOW = "yellow", _("General risk")
    BLUE = "blue", _("Low risk")


LEVEL_ORDER = [RiskLevel.BLUE, RiskLevel.YELLOW, RiskLevel.ORANGE, RiskLevel.RED]
LEVEL_RANK = {level: i for i, level in enumerate(LEVEL_ORDER)}
# Bootstrap colour classes of the levels (blue is "primary").
LEVEL_CSS = {RiskLevel.RED: "danger", RiskLevel.ORANGE: "orange", RiskLevel.YELLOW: "warning",
             RiskLevel.BLUE: "primary"}
LEVEL_HEX = {RiskLevel.RED: "#dc3545", RiskLevel.ORANGE: "#fd7e14", RiskLevel.YELLOW: "#ffc107",
             RiskLevel.BLUE: "#0d6efd"}


class FactorGroup(models.TextChoices):
    BUILDING = "building", _("Building")
    PEOPLE = "people", _("People")
    MANAGEMENT = "management", _("Management")
    HAZARDS = "hazards", _("Hazards")
    SENSORS = "sensors", _("Sensors")


class RequiredFacility(models.TextChoices):
    SPRINKLERS = "sprinklers", _("Automatic sprinkler system")
    AUTO_ALARM = "auto_alarm", _("Automatic fire alarm system")


class IncidentCause(models.TextChoices):
    ELECTRICAL = "electrical", _("Electrical")
    SMOKING = "smoking", _("Smoking")
    COOKING = "cooking", _("Cooking / gas")
    OPEN_FLAME = "open_flame", _("Open flame / hot work")
    ARSON = "arson", _("Arson")
    SPONTANEOUS = "spontaneous", _("Spontaneous combustion")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Under investigation")


class AccountabilityTarget(models.TextChoices):
    UNIT = "unit", _("Unit")
    PERSON = "person", _("Person")


class AssessmentState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed")
