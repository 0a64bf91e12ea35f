from django.db import models
from django.utils.translation import gettext_lazy as _


class InstitutionKind(models.TextChoices):
    ELDERLY_CARE = "elderly_care", _("Elderly-care institution")
    CHILD_WELFARE = "child_welfare", _("Child-welfare institution")
    MINOR_PROTECTION = "minor_protection", _("Minor rescue and protection institution")
    RELIEF_STATION = "relief_station", _("Relief station")
    MENTAL_WELFARE = "mental_welfare", _("Mental-health welfare institution")
    FUNERAL = "funeral", _("Funeral service institution")
    DESTITUTE_SUPPORT = "destitute_support", _("Destitute-support institution")
    COMMUNITY_CARE = "community_care", _("Community elderly-care facility")
    OTHER = "other", _("Other")


# Kinds whose residents sleep on site: crowded places with night-patrol and half-yearly rules.
RESIDENTIAL_KINDS = {
    InstitutionKind.ELDERLY_CARE, InstitutionKind.CHILD_WELFARE, InstitutionKind.MINOR_PROTECTION,
    InstitutionKind.MENTAL_WELFARE, InstitutionKind.DESTITUTE_SUPPORT, InstitutionKind.RELIEF_STATION,
}


class OperatingNature(models.TextChoices):
    PUBLIC = "public", _("Public")
    PRIVATE = "private", _("Private")
    PUBLIC_PRIVATE = "public_private", _("Publicly built, privately run")


class StructureType(models.TextChoices):
    REINFORCED_CONCRETE = "rc", _("Reinforced concrete")
    BRICK_CONCRETE = "brick_concrete", _("Brick and concrete")
    STEEL = "steel", _("Steel")
    BRICK_WOOD = "brick_wood", _("Brick and wood")
    TIMBER = "timber", _("Timber")
    OTHER = "other", _("Other")


class FireResistance(models.TextChoices):
    GRADE_1 = "1", _("Grade I")
    GRADE_2 = "2", _("Grade II")
    GRADE_3 = "3", _("Grade III")
    GRADE_4 = "4", _("Grade IV")
    UNKNOWN = "", _("Unknown")


class ColourSteel(models.TextChoices):
    NONE = "none", _("None")
    NON_COMBUSTIBLE = "class_a", _("Present, class A (non-combustible) core")
    COMBUSTIBLE = "combustible", _("Present, combustible core")


class SafetyRating(models.TextChoices):
    A = "A", _("A (safe)")
    B = "B", _("B")
    C = "C", _("C (partly dangerous)")
    D = "D", _("D (dangerous)")
    UNRATED = "", _("Not rated")


class PersonRole(models.TextChoices):
    RESPONSIBLE = "responsible", _("Fire-safety responsible person")
    MANAGER = "manager", _("Fire-safety manager")
