from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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
    LEDGER = "ledger", _("Ledger facts")
    OTHER = "other", _("Other")


class HazardLevel(models.TextChoices):
    GENERAL = "general", _("General")
    MAJOR = "major", _("Major")


class HazardState(models.TextChoices):
    # With a context: "Closed" of an institution (停业) is not "Closed" of a hazard (销号).
    REGISTERED = "registered", pgettext_lazy("hazard state", "Registered")
    RECTIFYING = "rectifying", pgettext_lazy("hazard state", "Rectifying")
    AWAITING_VERIFICATION = "awaiting_verification", pgettext_lazy("hazard state", "Awaiting verification")
    CLOSED = "closed", pgettext_lazy("hazard state", "Closed")


OPEN_STATES = (HazardState.REGISTERED, HazardState.RECTIFYING, HazardState.AWAITING_VERIFICATION)


class HazardAction(models.TextChoices):
    """The steps of the closed loop (see ``rules.TRANSITIONS``)."""

    REPORT = "report", _("Reported")
    PLAN = "plan", _("Submit rectification plan")
    RECTIFY = "rectify", _("Submit rectification")
    VERIFY = "verify", _("Verify and close")
    SEND_BACK = "send_back", _("Send back")
    REOPEN = "reopen", _("Re-open (re-check)")
    NOTE = "note", _("Progress note")
    REQUIRE = "require", _("Set rectification requirements")
    DETERMINE = "determine", _("Major-hazard determination")


class SupervisionState(models.TextChoices):
    LISTED = "listed", _("Listed")
    DELISTED = "delisted", _("Delisted")


class SupervisionLevel(models.TextChoices):
    """The level of a listed supervision: the kind of the administration that listed it (督办层级)."""

    DISTRICT = "bureau", _("District level")
    CITY = "city", _("City level")
    PROVINCE = "province", _("Province level")


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class DocumentKind(models.TextChoices):
    SUGGESTION_LETTER = "suggestion_letter", _("Suggestion letter")
    SUPERVISION_ORDER = "supervision_order", _("Supervision order")
    RECTIFICATION_NOTICE = "rectification_notice", _("Rectification notice")


class NumberSeries(models.TextChoices):
    """Things numbered per year and issuer; the format of each is data (``NumberFormat``)."""

    SUPERVISION = "supervision", _("Listed supervision")
    SUGGESTION_LETTER = "suggestion_letter", _("Suggestion letter")
    SUPERVISION_ORDER = "supervision_order", _("Supervision order")
    RECTIFICATION_NOTICE = "rectification_notice", _("Rectification notice")


class ElementKind(models.TextChoices):
    DIRECT = "direct", _("Direct element")
    COMPREHENSIVE = "comprehensive", _("Comprehensive element")


class ElementGroup(models.TextChoices):
    EVACUATION = "evacuation", _("Evacuation")
    BUILDING = "building", _("Building")
    FACILITIES = "facilities", _("Fire facilities")
    ELECTRICAL = "electrical", _("Electrical and gas")
    MANAGEMENT = "management", _("Management")
    OTHER = "other", _("Other")


class HazardTerm(models.TextChoices):
    """What a rule set calls a major hazard: GB 35181 defines 重大火灾隐患, the civil-affairs standards 重大事故隐患."""

    FIRE = "fire", _("Major fire hazard")
    ACCIDENT = "accident", _("Major accident hazard")


class PlaceType(models.TextChoices):
    """The kind of place a GB 35181 element or counting rule is written for."""

    CROWDED = "crowded", _("Crowded place")
    UNDERGROUND_CROWDED = "underground_crowded", _("Underground crowded place")
    ENTERTAINMENT = "entertainment", _("Public entertainment venue")
    SHOP = "shop", _("Shop")
    OTHER = "other", _("Other place")


class LedgerFact(models.TextChoices):
    """The ledger facts a ledger rule can test (the test is code; which rule applies where is data)."""

    BUILDING_RATING = "building_rating", _("Building safety rating (C/D) while in use")
    COLOUR_STEEL = "colour_steel", _("Colour-steel panels with a combustible core")
    FACILITY_ABSENT = "facility_absent", _("Required fire facility absent")
    FACILITY_TEST_OVERDUE = "facility_test_overdue", _("Yearly full facility test overdue")
    MAINTENANCE_OVERDUE = "maintenance_overdue", _("Maintenance contract missing or expired")
    OPERATORS_UNCERTIFIED = "operators_uncertified", _("Control-room operators without a valid certificate")


class SuggestionState(models.TextChoices):
    OPEN = "open", _("Suggested")
    ACCEPTED = "accepted", _("Accepted (hazard registered)")
    DISMISSED = "dismissed", _("Dismissed")
    RESOLVED = "resolved", _("No longer in the ledger")
