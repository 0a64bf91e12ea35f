"""The basic-information ledger (基础信息台账): institutions, their buildings and named people."""
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core.models import AuditedModel
from apps.core.validators import validate_phone

from .choices import (
    ColourSteel,
    FireResistance,
    InstitutionKind,
    OperatingNature,
    PersonRole,
    SafetyRating,
    StructureType,
)

phone_validator = validate_phone  # the edit form, the API and the import all use it


class Institution(AuditedModel):
    """A civil-affairs service institution the bureau supervises, with its fire-safety facts."""

    scope_field = ""

    # Identity
    name = models.CharField(_("name"), max_length=100)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, blank=True,
        validators=[RegexValidator(r"^[0-9A-Z]{18}$", _("The code has 18 digits or capital letters."))],
    )
    kind = models.CharField(_("kind"), max_length=32, choices=InstitutionKind.choices, db_index=True)
    nature = models.CharField(_("operating nature"), max_length=16, choices=OperatingNature.choices)
    township = models.ForeignKey(
        "orgs.Organization", verbose_name=_("township"), on_delete=models.PROTECT, related_name="institutions",
        limit_choices_to={"kind": "township"},
    )
    operator_unit = models.ForeignKey(
        "orgs.Organization", verbose_name=_("run by unit"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="operated_institutions", limit_choices_to={"kind": "unit"},
    )
    address = models.CharField(_("address"), max_length=200)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    licence_no = models.CharField(_("licence / filing number"), max_length=50, blank=True)
    is_key_unit = models.BooleanField(_("fire-safety key unit"), default=False)
    is_active = models.BooleanField(_("in operation"), default=True)

    # Capacity and people
    beds = models.PositiveIntegerField(_("beds"), default=0)
    residents = models.PositiveIntegerField(_("residents"), default=0)
    residents_disabled = models.PositiveIntegerField(_("disabled residents"), default=0)
    residents_bedridden = models.PositiveIntegerField(_("bedridden residents"), default=0)
    staff_count = models.PositiveIntegerField(_("staff"), default=0)
    night_staff_count = models.PositiveIntegerField(_("night staff"), default=0)

    # Fire facilities
    has_sprinklers = models.BooleanField(_("sprinklers"), default=False)
    has_auto_alarm = models.BooleanField(_("automatic fire alarm"), default=False)
    has_smoke_alarms = models.BooleanField(_("independent smoke alarms in bedrooms"), default=False)
    has_hydrants = models.BooleanField(_("indoor hydrants"), default=False)
    extinguisher_count = models.PositiveIntegerField(_("extinguishers"), default=0)
    has_emergency_lighting = models.BooleanField(_("emergency lighting and exit signs"), default=False)
    has_smoke_control = models.BooleanField(_("smoke control"), default=False)
    has_control_room = models.BooleanField(_("fire control room"), default=False)
    has_micro_station = models.BooleanField(_("micro fire station"), default=False)
    has_electrical_monitoring = models.BooleanField(_("electrical-fire monitoring installed"), default=False)

    # Named people and maintenance
    responsible_person = models.CharField(_("fire-safety responsible person"), max_length=50, blank=True)
    responsible_phone = models.CharField(_("responsible person's phone"), max_length=30, blank=True,
                                         validators=[phone_validator])
    manager_name = models.CharField(_("fire-safety manager"), max_length=50, blank=True)
    manager_phone = models.CharField(_("manager's phone"), max_length=30, blank=True, validators=[phone_validator])
    maintenance_contractor = models.CharField(_("maintenance contractor"), max_length=100, blank=True)
    maintenance_contract_until = models.DateField(_("maintenance contract until"), null=True, blank=True)
    last_facility_test = models.DateField(_("last full facility test"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    order = models.PositiveIntegerField(_("order"), default=0,
                                        help_text=_("The bureau's own order; equal orders sort by pinyin."))
    sort_name = models.CharField(_("pinyin sort key"), max_length=300, blank=True, editable=False, db_index=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["order", "sort_name", "id"]
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        constraints = [
            models.UniqueConstraint(fields=["township", "name"], name="institution_unique_name_in_township"),
            models.CheckConstraint(
                condition=models.Q(residents_disabled__lte=models.F("residents"))
                & models.Q(residents_bedridden__lte=models.F("residents")),
                name="institution_resident_counts_consistent",
            ),
        ]
        indexes = [models.Index(fields=["township", "kind"]), models.Index(fields=["name", "id"]),
                   models.Index(fields=["order", "sort_name", "id"], name="institution_order_pinyin")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        from apps.core.pinyin import sort_key

        self.sort_name = sort_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_name"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("ledger:institution_detail", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        if self.residents_disabled > self.residents:
            errors["residents_disabled"] = _("Cannot exceed the number of residents.")
        if self.residents_bedridden > self.residents:
            errors["residents_bedridden"] = _("Cannot exceed the number of residents.")
        if self.night_staff_count > self.staff_count:
            errors["night_staff_count"] = _("Cannot exceed the number of staff.")
        if self.township_id and self.township.kind != "township":
            errors["township"] = _("Choose a township or street office.")
        if errors:
            raise ValidationError(errors)


class Building(AuditedModel):
    """One building of an institution (an institution may have several)."""

    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="buildings")
    name = models.CharField(_("name"), max_length=100)
    usage = models.CharField(_("usage"), max_length=100, blank=True)
    floors_above = models.PositiveSmallIntegerField(_("floors above ground"), default=1,
                                                    validators=[MaxValueValidator(200)])
    floors_below = models.PositiveSmallIntegerField(_("floors below ground"), default=0,
                                                    validators=[MaxValueValidator(20)])
    height_m = models.DecimalField(_("height (m)"), max_digits=6, decimal_places=1, null=True, blank=True,
                                   validators=[MinValueValidator(0)])
    area_m2 = models.DecimalField(_("floor area (m²)"), max_digits=10, decimal_places=1, null=True, blank=True,
                                  validators=[MinValueValidator(0)])
    year_built = models.PositiveSmallIntegerField(_("year built"), null=True, blank=True,
                                                  validators=[MinValueValidator(1900), MaxValueValidator(2100)])
    structure = models.CharField(_("structure"), max_length=16, choices=StructureType.choices, blank=True)
    fire_resistance = models.CharField(_("fire resistance grade"), max_length=2, choices=FireResistance.choices,
                                       blank=True)
    colour_steel = models.CharField(_("colour-steel sandwich panels"), max_length=16, choices=ColourSteel.choices,
                                    default=ColourSteel.NONE)
    safety_rating = models.CharField(_("building safety rating"), max_length=1, choices=SafetyRating.choices,
                                     blank=True)
    resident_floors = models.CharField(_("floors with resident rooms"), max_length=50, blank=True)
    fire_acceptance = models.BooleanField(_("fire acceptance / filing passed"), default=False)

    class Meta:
        ordering = ["institution", "name"]
        verbose_name = _("building")
        verbose_name_plural = _("buildings")

    def __str__(self):
        return f"{self.institution} · {self.name}"

    def get_absolute_url(self):
        return reverse("ledger:institution_detail", args=[self.institution_id]) + "#buildings"


class PersonChange(AuditedModel):
    """A change of the institution's responsible person or manager, with its date (W3.1)."""

    institution = models.ForeignKey(Institution, verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="person_changes")
    role = models.CharField(_("role"), max_length=16, choices=PersonRole.choices)
    old_name = models.CharField(_("before"), max_length=50, blank=True)
    old_phone = models.CharField(_("phone before"), max_length=30, blank=True)
    new_name = models.CharField(_("after"), max_length=50, blank=True)
    new_phone = models.CharField(_("phone after"), max_length=30, blank=True)
    changed_on = models.DateField(_("changed on"))
    recorded_by = models.ForeignKey("orgs.User", verbose_name=_("recorded by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["-changed_on", "-id"]
        verbose_name = _("responsible-person change")
        verbose_name_plural = _("responsible-person changes")

    def __str__(self):
        return f"{self.institution} {self.get_role_display()} {self.old_name} → {self.new_name}"
