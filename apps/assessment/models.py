"""Risk model (as data), current risk and its daily history, fire incidents, assessments."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import AuditedModel
from apps.core.scope import ReferenceData

from .choices import (
    LEVEL_CSS,
    AccountabilityTarget,
    AssessmentState,
    FactorGroup,
    IncidentCause,
    RequiredFacility,
    RiskLevel,
)


class RiskModel(ReferenceData, AuditedModel):
    """A versioned risk model: the band thresholds of the four levels and its factors.

    Exactly one version is active; the bureau tunes weights and thresholds in admin (or adds
    a version and activates it).
    """

    version = models.CharField(_("version"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    is_active = models.BooleanField(_("active"), default=False)
    red_from = models.DecimalField(_("major (red) from score"), max_digits=6, decimal_places=2, default=60)
    orange_from = models.DecimalField(_("large (orange) from score"), max_digits=6, decimal_places=2, default=40)
    yellow_from = models.DecimalField(_("general (yellow) from score"), max_digits=6, decimal_places=2, default=20)
    notes = models.TextField(_("notes"), blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now)
    # Rules by level (apps/orgs/rules.py): empty = the platform default, applying everywhere.
    administration = models.ForeignKey(
        "orgs.Organization", verbose_name=_("rule source"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind__in": ("province", "city", "bureau")},
        help_text=_("The administration whose institutions this rule applies to; empty: the whole platform."))
    overridable = models.BooleanField(
        _("lower levels may loosen it"), default=True,
        help_text=_("Unticked (a limit set by law): a lower administration may only make it stricter."))

    class Meta:
        ordering = ["-is_active", "-created"]
        verbose_name = _("risk model")
        verbose_name_plural = _("risk models")
        constraints = [
            # One active default model, and one active model per administration.
            models.UniqueConstraint(fields=["is_active"], condition=models.Q(is_active=True, administration=None),
                                    name="one_active_risk_model"),
            models.UniqueConstraint(fields=["administration"], condition=models.Q(is_active=True),
                                    name="one_active_risk_model_per_administration"),
        ]

    def __str__(self):
        return f"{self.name} ({self.version})"

    @classmethod
    def scope_q(cls, user):
        """Rules by level: the default, the models above the user and, for bureau roles, under them."""
        from apps.orgs.rules import visible_q

        return visible_q(user)

    @staticmethod
    def looser(new, held):
        """Whether ``new`` bands an institution lower than ``held`` would (a higher score needed)."""
        return (new.red_from > held.red_from or new.orange_from > held.orange_from
                or new.yellow_from > held.yellow_from)

    @property
    def source_label(self):
        from apps.orgs.rules import source_label

        return source_label(self)


    def clean(self):
        if not (self.red_from > self.orange_from > self.yellow_from >= 0):
            raise ValidationError(_("Band thresholds must fall: red > orange > yellow ≥ 0."))
        if self.administration_id:  # rules by level: never looser than bands set by law above
            from apps.orgs.rules import check

            check(self, looser=RiskModel.looser)

    def level_for(self, score):
        if score >= self.red_from:
            return RiskLevel.RED
        if score >= self.orange_from:
            return RiskLevel.ORANGE
        if score >= self.yellow_from:
            return RiskLevel.YELLOW
        return RiskLevel.BLUE


class RiskFactor(ReferenceData, AuditedModel):
    """One weighted factor: a metric read from a bulk provider, turned into a severity 0–1.

    severity = clamp((value − start_at) / (full_at − start_at), 0, 1) (for ``invert``: of
    1 − value, so a missing sprinkler or a failed patrol rule counts). Contribution = weight ×
    severity. ``min_level`` lifts the institution to at least that level while the factor is
    present (e.g. an open major hazard is never below orange).
    """

    model = models.ForeignKey(RiskModel, verbose_name=_("risk model"), on_delete=models.CASCADE,
                              related_name="factors")
    key = models.SlugField(_("key"), max_length=50)
    label = models.CharField(_("label"), max_length=100)
    group = models.CharField(_("group"), max_length=16, choices=FactorGroup.choices)
    provider = models.CharField(_("provider"), max_length=200,
                                help_text=_("Dotted path of a bulk function (institution_ids, today|now) → {id: {metric: value}}."))
    metric = models.CharField(_("metric"), max_length=50)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    start_at = models.FloatField(_("counts from"), default=0)
    full_at = models.FloatField(_("full weight at"), default=1)
    invert = models.BooleanField(_("risky when false / low"), default=False)
    min_level = models.CharField(_("lifts level to at least"), max_length=8, choices=RiskLevel.choices, blank=True)
    lift_rule = models.CharField(_("rule that lifts the level"), max_length=300, blank=True,
                                 help_text=_("Shown on the risk page when this factor lifts the level."))
    institution_kinds = models.JSONField(_("institution kinds"), default=list, blank=True,
                                         help_text=_("Kinds the factor applies to; empty: every kind."))
    countermeasure = models.TextField(_("suggested countermeasure"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["model", "order", "id"]
        verbose_name = _("risk factor")
        verbose_name_plural = _("risk factors")
        constraints = [models.UniqueConstraint(fields=["model", "key"], name="risk_factor_unique_key")]

    def __str__(self):
        return self.label


    def clean(self):
        if self.full_at == self.start_at:
            raise ValidationError({"full_at": _("Must differ from the value it counts from.")})

    def applies_to(self, kind):
        return not self.institution_kinds or kind in self.institution_kinds


class FacilityRequirement(ReferenceData, AuditedModel):
    """Which institution kinds (and sizes) must have a fire facility, and the clause that says so (data).

    An institution is "required" when its kind is listed and it reaches every size condition set
    (beds, total floor area of its buildings). Below ``alternative_below_m2`` of floor area,
    independent smoke alarms in the bedrooms satisfy an alarm requirement.
    """

    facility = models.CharField(_("facility"), max_length=16, choices=RequiredFacility.choices)
    institution_kinds = models.JSONField(_("institution kinds"), default=list)
    min_beds = models.PositiveIntegerField(_("from beds"), null=True, blank=True)
    min_floor_area_m2 = models.DecimalField(_("from total floor area (m²)"), max_digits=10, decimal_places=1,
                                            null=True, blank=True)
    alternative_below_m2 = models.DecimalField(
        _("smoke alarms suffice below (m²)"), max_digits=10, decimal_places=1, null=True, blank=True,
        help_text=_("Below this total floor area, independent smoke alarms in bedrooms meet the requirement."))
    source = models.CharField(_("standard"), max_length=100)
    clause = models.CharField(_("clause"), max_length=50)
    verified = models.BooleanField(_("checked against the published text"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["facility", "id"]
        verbose_name = _("facility requirement")
        verbose_name_plural = _("facility requirements")

    def __str__(self):
        return f"{self.get_facility_display()} · {self.source} {self.clause}"


    @property
    def citation(self):
        return f"{self.source} {self.clause}"

    def requires(self, kind, beds, floor_area):
        """Whether an institution of ``kind`` with ``beds`` and ``floor_area`` (m², None: unknown) must have it."""
        if kind not in (self.institution_kinds or []):
            return False
        if self.min_beds is not None and beds < self.min_beds:
            return False
        if self.min_floor_area_m2 is not None and (floor_area is None or floor_area < self.min_floor_area_m2):
            return False
        return True


class InstitutionRisk(AuditedModel):
    """The current risk of one institution (a derived row, rewritten whenever it is computed)."""

    institution = models.OneToOneField("ledger.Institution", verbose_name=_("institution"), on_delete=models.CASCADE,
                                       related_name="risk", primary_key=True)
    model_version = models.CharField(_("model version"), max_length=40)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    level = models.CharField(_("level"), max_length=8, choices=RiskLevel.choices, db_index=True)
    factors = models.JSONField(_("factors"), default=list)
    computed_at = models.DateTimeField(_("computed at"))
    # Compliance facts read by the risk model, kept as columns so the cockpit counts them in SQL
    # (None when the model has no such factor or its app is not installed).
    patrol_ok = models.BooleanField(_("patrol rule met"), null=True)
    missed_patrols_30d = models.PositiveIntegerField(_("missed patrols (30 days)"), null=True)
    inspection_ok = models.BooleanField(_("inspection frequency met"), null=True)
    drill_ok = models.BooleanField(_("drill frequency met"), null=True)
    people_overdue = models.PositiveIntegerField(_("staff overdue for training"), null=True)

    class Meta:
        ordering = ["-score"]
        verbose_name = _("institution risk")
        verbose_name_plural = _("institution risks")

    def __str__(self):
        return f"{self.institution_id} {self.level} {self.score}"

    @property
    def css(self):
        return LEVEL_CSS.get(self.level, "secondary")


class RiskSnapshot(AuditedModel):
    """The level of one institution on one day (written when computed; one row per day)."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="risk_snapshots")
    day = models.DateField(_("day"))
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2)
    level = models.CharField(_("level"), max_length=8, choices=RiskLevel.choices)
    model_version = models.CharField(_("model version"), max_length=40)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("risk snapshot")
        verbose_name_plural = _("risk snapshots")
        constraints = [models.UniqueConstraint(fields=["institution", "day"], name="risk_snapshot_one_per_day")]
        indexes = [models.Index(fields=["day", "level"])]

    def __str__(self):
        return f"{self.institution_id} {self.day} {self.level}"


class FireIncident(AuditedModel):
    """A fire at (or near) an institution: what happened, how it was found and handled (W1, W3.3)."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="fire_incidents")
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    place = models.CharField(_("place"), max_length=200)
    cause = models.CharField(_("cause"), max_length=16, choices=IncidentCause.choices, default=IncidentCause.UNKNOWN)
    cause_detail = models.TextField(_("cause in detail"), blank=True)
    deaths = models.PositiveIntegerField(_("deaths"), default=0)
    injuries = models.PositiveIntegerField(_("injuries"), default=0)
    direct_loss = models.DecimalField(_("direct loss (yuan)"), max_digits=14, decimal_places=2, default=0)
    discovery = models.TextField(_("how it was found"), blank=True)
    handling = models.TextField(_("how it was handled"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("fire incident")
        verbose_name_plural = _("fire incidents")

    def __str__(self):
        return f"{self.institution} · {timezone.localtime(self.occurred_at):%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("assessment:incident_detail", args=[self.pk])


class AccountabilityAction(AuditedModel):
    """A unit or person held to account after a fire, and the measure taken (W3.3)."""

    scope_field = "incident__institution"

    incident = models.ForeignKey(FireIncident, verbose_name=_("fire incident"), on_delete=models.CASCADE,
                                 related_name="actions")
    target = models.CharField(_("held to account"), max_length=8, choices=AccountabilityTarget.choices)
    name = models.CharField(_("unit or person"), max_length=100)
    measure = models.TextField(_("measure"))
    decided_on = models.DateField(_("decided on"))

    class Meta:
        ordering = ["decided_on", "id"]
        verbose_name = _("accountability action")
        verbose_name_plural = _("accountability actions")

    def __str__(self):
        return f"{self.name}: {self.measure[:30]}"


class AssessmentQuestion(ReferenceData, AuditedModel):
    """A self-assessment question (data the bureau edits). A "no" answer is a problem found."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    group = models.CharField(_("group"), max_length=16, choices=FactorGroup.choices)
    text = models.CharField(_("question"), max_length=300)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("self-assessment question")
        verbose_name_plural = _("self-assessment questions")

    def __str__(self):
        return self.text


class Assessment(AuditedModel):
    """A periodic fire-safety assessment (消防安全评估) of one institution (W2.2.1)."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="assessments")
    period = models.CharField(_("period"), max_length=20, help_text=_("e.g. 2026 or 2026-H2"))
    assessed_on = models.DateField(_("assessed on"), default=timezone.localdate)
    state = models.CharField(_("state"), max_length=8, choices=AssessmentState.choices, default=AssessmentState.DRAFT)
    score = models.DecimalField(_("risk score"), max_digits=6, decimal_places=2, null=True, blank=True)
    level = models.CharField(_("risk level"), max_length=8, choices=RiskLevel.choices, blank=True)
    indicators = models.JSONField(_("computed indicators"), default=list, blank=True)
    problems = models.TextField(_("prominent problems"), blank=True)
    weak_links = models.TextField(_("weak links"), blank=True)
    countermeasures = models.TextField(_("countermeasures"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("signed by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    signer_name = models.CharField(_("signed by (name)"), max_length=50, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)

    class Meta:
        ordering = ["-assessed_on", "-id"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        constraints = [models.UniqueConstraint(fields=["institution", "period"], name="assessment_one_per_period")]

    def __str__(self):
        return f"{self.institution} · {self.period}"

    def get_absolute_url(self):
        return reverse("assessment:assessment_detail", args=[self.pk])

    @property
    def is_signed(self):
        return self.state == AssessmentState.SIGNED

    @property
    def css(self):
        return LEVEL_CSS.get(self.level, "secondary")


class AssessmentAnswer(AuditedModel):
    scope_field = "assessment__institution"

    class Answer(models.TextChoices):
        YES = "yes", _("Yes")
        NO = "no", _("No")
        NA = "na", _("Not applicable")

    assessment = models.ForeignKey(Assessment, verbose_name=_("assessment"), on_delete=models.CASCADE,
                                   related_name="answers")
    question = models.ForeignKey(AssessmentQuestion, verbose_name=_("question"), on_delete=models.PROTECT,
                                 related_name="+")
    answer = models.CharField(_("answer"), max_length=4, choices=Answer.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["question__order", "question_id"]
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [models.UniqueConstraint(fields=["assessment", "question"], name="answer_one_per_question")]

    def __str__(self):
        return f"{self.question_id}: {self.answer}"
