from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class FireRole(models.TextChoices):
    RESPONSIBLE = "responsible", _("Fire-safety responsible person")
    MANAGER = "manager", _("Fire-safety manager")
    CONTROL_ROOM = "control_room", _("Control-room operator")
    MICRO_STATION = "micro_station", _("Micro-fire-station member")
    PATROLLER = "patroller", _("Patroller")


class SessionCategory(models.TextChoices):
    RESPONSIBLE_MANAGERS = "responsible_managers", _("Responsible persons and managers")
    HEADS = "heads", _("Institution heads")
    ALL_STAFF = "all_staff", _("All staff")
    ONBOARDING = "onboarding", _("Onboarding")
    CHANGE_OF_POST = "change_of_post", _("Change of post")
    CONTROL_ROOM = "control_room", _("Control-room operators")
    RESIDENTS = "residents", pgettext_lazy("training category", "Residents")


class OrganiserLevel(models.TextChoices):
    BUREAU = "bureau", _("Bureau")
    TOWNSHIP = "township", _("Township")
    INSTITUTION = "institution", _("Institution")


class ObligationKind(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding training")
    PERIODIC = "periodic", _("Periodic training")
    CHANGE_OF_POST = "change_of_post", _("Change-of-post training")
    SPECIAL = "special", _("Special training")
    CERTIFICATE = "certificate", _("Valid certificate")


class ObligationStatus(models.TextChoices):
    DONE = "done", _("Done")
    DUE = "due", _("Due")
    OVERDUE = "overdue", _("Overdue")


class DrillKind(models.TextChoices):
    EVACUATION = "evacuation", _("Evacuation drill")
    FIRE = "fire", _("Fire-fighting drill")
    COMBINED = "combined", _("Fire-fighting and evacuation drill")


class DrillScenario(models.TextChoices):
    DAY = "day", _("Daytime fire")
    NIGHT = "night", _("Night-time fire")
    BEDRIDDEN = "bedridden", _("Evacuating bedridden residents")
    KITCHEN = "kitchen", _("Kitchen fire")
    ELECTRICAL = "electrical", _("Electrical fire")
    OTHER = "other", _("Other")


class PublicitySetting(models.TextChoices):
    ENTERPRISES = "enterprises", _("Enterprises")
    VILLAGES = "villages", _("Villages")
    COMMUNITIES = "communities", _("Communities")
    SCHOOLS = "schools", _("Schools")
    FAMILIES = "families", _("Families")
    RESIDENTS = "residents", _("Resident education in institutions")
