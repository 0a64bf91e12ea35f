"""Staff register, training sessions and attendance, drills and publicity (W2.1.2, W2.2.3, W2.3).

Obligations are not stored: ``obligations.py`` derives them from these records and the rules
(``ObligationRule``, ``DrillRule``: data the bureau edits in admin) at read time.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core import scope
from apps.core.models import AuditedModel
from apps.core.scope import NOTHING, ScopedManager, ScopedQuerySet, area_q, institution_q
from apps.ledger.choices import InstitutionKind
from apps.ledger.models import phone_validator

from .choices import (
    DrillKind,
    DrillScenario,
    FireRole,
    ObligationKind,
    OrganiserLevel,
    PublicitySetting,
    SessionCategory,
)

# --- Rules (data) ----------------------------------------------------------------------------


class ObligationRule(models.Model):
    """One training obligation for staff of an institution kind (blank: every kind).

    A row for a specific kind replaces the general rows of the same obligation for that kind.
    """

    obligation = models.CharField(_("obligation"), max_length=16, choices=ObligationKind.choices)
    name = models.CharField(_("name"), max_length=100)
    institution_kind = models.CharField(_("institution kind"), max_length=32, choices=InstitutionKind.choices,
                                        blank=True, help_text=_("Empty: every kind without its own rule."))
    roles = models.JSONField(_("fire-safety roles"), default=list, blank=True,
                             help_text=_("For special training and certificates: the roles it applies to."))
    categories = models.JSONField(_("session categories that satisfy it"), default=list, blank=True)
    interval_days = models.PositiveIntegerField(_("repeat every (days)"), default=0,
                                                help_text=_("0: once."))
    grace_days = models.PositiveIntegerField(_("days allowed"), default=0,
                                             help_text=_("Days after the trigger (hire, change of post, role) "
                                                         "before it is overdue."))
    warn_days = models.PositiveIntegerField(_("due this many days ahead"), default=30)
    basis = models.CharField(_("basis"), max_length=200, blank=True,
                             help_text=_("The standard and clause the rule comes from."))
    version = models.CharField(_("version"), max_length=20, default="2026-1")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["obligation", "institution_kind", "id"]
        verbose_name = _("training obligation rule")
        verbose_name_plural = _("training obligation rules")

    def __str__(self):
        return self.name


class DrillRule(models.Model):
    """How often an institution must hold a drill: the most specific active row applies."""

    institution_kind = models.CharField(_("institution kind"), max_length=32, choices=InstitutionKind.choices,
                                        blank=True)
    key_units = models.BooleanField(_("key units only"), null=True, blank=True,
                                    help_text=_("Yes: key units; No: other units; empty: both."))
    interval_days = models.PositiveIntegerField(_("at least every (days)"))
    basis = models.CharField(_("basis"), max_length=200, blank=True,
                             help_text=_("The standard and clause the rule comes from."))
    version = models.CharField(_("version"), max_length=20, default="2026-1")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["institution_kind", "id"]
        verbose_name = _("drill frequency rule")
        verbose_name_plural = _("drill frequency rules")

    def __str__(self):
        return f"{self.get_institution_kind_display() or '*'} {self.key_units} {self.interval_days}"


# --- Staff register --------------------------------------------------------------------------


class StaffMember(AuditedModel):
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="staff_members")
    name = models.CharField(_("name"), max_length=50)
    post = models.CharField(_("post"), max_length=50)
    # Copied into the ledger (responsible person, manager) when the person holds that role: same check.
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[phone_validator])
    hired_on = models.DateField(_("hired on"))
    post_changed_on = models.DateField(_("post changed on"), null=True, blank=True)
    left_on = models.DateField(_("left on"), null=True, blank=True)
    roles = models.JSONField(_("fire-safety roles"), default=list, blank=True)
    roles_since = models.DateField(_("roles held since"), null=True, blank=True,
                                   help_text=_("Set when the fire-safety roles change."))
    certificate_no = models.CharField(_("certificate number"), max_length=50, blank=True)
    certificate_expires = models.DateField(_("certificate expires"), null=True, blank=True)
    sort_name = models.CharField(_("pinyin sort key"), max_length=300, blank=True, editable=False, db_index=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["institution", "sort_name", "id"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        indexes = [models.Index(fields=["institution", "left_on"]), models.Index(fields=["name", "phone"])]

    def __str__(self):
        return f"{self.name}（{self.post}）"

    def save(self, *args, **kwargs):
        from apps.core.pinyin import sort_key

        self.sort_name = sort_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_name"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("training:staff_detail", args=[self.pk])

    @property
    def role_labels(self):
        labels = dict(FireRole.choices)
        return [labels.get(r, r) for r in self.roles or []]

    def is_active_on(self, day):
        return self.hired_on <= day and (self.left_on is None or self.left_on > day)

    def clean(self):
        errors = {}
        bad = [r for r in (self.roles or []) if r not in FireRole.values]
        if bad:
            errors["roles"] = _("Unknown role: %(r)s") % {"r": "、".join(map(str, bad))}
        if self.hired_on and self.left_on and self.left_on < self.hired_on:
            errors["left_on"] = _("Cannot be before the hiring date.")
        if self.hired_on and self.post_changed_on and self.post_changed_on < self.hired_on:
            errors["post_changed_on"] = _("Cannot be before the hiring date.")
        if errors:
            raise ValidationError(errors)


# --- Training sessions -----------------------------------------------------------------------


def _office_q(user, org_field):
    """Rows run by an office: seen by the bureau, the office itself and offices above."""
    if not scope.is_active_user(user):
        return NOTHING
    if scope.sees_all(user):
        return area_q(user, org_field, null_ok=True)
    q = NOTHING
    if user.organization_id:
        q = Q(**{f"{org_field}_id": user.organization_id})
    return q


class TrainingBatch(AuditedModel):
    """A bureau-run batch (分批次分类别): invites the responsible persons and managers of a set of
    institutions; shows who has not yet attended any of its sessions."""

    name = models.CharField(_("name"), max_length=100)
    category = models.CharField(_("category"), max_length=24, choices=SessionCategory.choices,
                                default=SessionCategory.RESPONSIBLE_MANAGERS)
    organizer_org = models.ForeignKey("orgs.Organization", verbose_name=_("organised by"), on_delete=models.PROTECT,
                                      related_name="+")
    institutions = models.ManyToManyField("ledger.Institution", verbose_name=_("institutions"), related_name="+")
    invited_roles = models.JSONField(_("invited roles"), default=list, blank=True)
    deadline = models.DateField(_("attend by"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("training batch")
        verbose_name_plural = _("training batches")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("training:batch_detail", args=[self.pk])

    @property
    def scope_institution_id(self):
        return None

    @property
    def owner_org_id(self):
        return self.organizer_org_id

    @classmethod
    def scope_q(cls, user):
        q = _office_q(user, "organizer_org")
        if q == Q():
            return q
        from apps.ledger.models import Institution

        inst_ids = Institution.objects.visible_to(user).values("pk")
        through = cls.institutions.through.objects.filter(institution_id__in=inst_ids).values("trainingbatch_id")
        return q | Q(pk__in=through)


class TrainingSession(AuditedModel):
    organiser_level = models.CharField(_("organised by"), max_length=16, choices=OrganiserLevel.choices)
    organizer_org = models.ForeignKey("orgs.Organization", verbose_name=_("organising office"), null=True,
                                      blank=True, on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="training_sessions")
    batch = models.ForeignKey(TrainingBatch, verbose_name=_("batch"), null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="sessions")
    category = models.CharField(_("category"), max_length=24, choices=SessionCategory.choices, db_index=True)
    topic = models.CharField(_("topic"), max_length=200)
    date = models.DateField(_("date"), db_index=True)
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1, default=2)
    trainer = models.CharField(_("trainer"), max_length=100, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")

    def __str__(self):
        return f"{self.date} {self.topic}"

    def get_absolute_url(self):
        return reverse("training:session_detail", args=[self.pk])

    @property
    def owner_org_id(self):
        return self.organizer_org_id

    @classmethod
    def scope_q(cls, user):
        if not scope.is_active_user(user):
            return NOTHING
        if user.is_superuser:
            return Q()
        if scope.sees_all(user):
            return institution_q(user, "institution__") | (
                Q(institution__isnull=True) & area_q(user, "organizer_org", null_ok=True))
        q = Q(institution__isnull=False) & institution_q(user, "institution__")
        if user.organization_id:
            q |= Q(institution__isnull=True, organizer_org_id=user.organization_id)
            q |= Q(institution__isnull=True, organiser_level=OrganiserLevel.BUREAU)
        if user.institution_id:
            attended = Attendance.objects.filter(staff__institution_id=user.institution_id).values("session_id")
            invited = TrainingBatch.institutions.through.objects.filter(
                institution_id=user.institution_id).values("trainingbatch_id")
            q |= Q(pk__in=attended) | Q(batch_id__in=invited)
        return q

    def clean(self):
        super().clean()
        errors = {}
        if self.organiser_level == OrganiserLevel.INSTITUTION and not self.institution_id:
            errors["institution"] = _("Choose the institution that runs the session.")
        if self.organiser_level != OrganiserLevel.INSTITUTION and self.institution_id:
            errors["institution"] = _("Only an institution-run session belongs to one institution.")
        if self.hours is not None and self.hours <= 0:
            errors["hours"] = _("Must be more than zero.")
        if errors:
            raise ValidationError(errors)


class Attendance(AuditedModel):
    class Method(models.TextChoices):
        REGISTER = "register", _("From the staff register")
        QR = "qr", _("QR sign-in")

    scope_field = "staff__institution"

    session = models.ForeignKey(TrainingSession, verbose_name=pgettext_lazy("training", "session"), on_delete=models.CASCADE,
                                related_name="attendances")
    staff = models.ForeignKey(StaffMember, verbose_name=_("staff member"), on_delete=models.CASCADE,
                              related_name="attendances")
    method = models.CharField(_("how"), max_length=16, choices=Method.choices, default=Method.REGISTER)
    signed_at = models.DateTimeField(_("signed in at"), auto_now_add=True)

    class Meta:
        ordering = ["session", "staff__sort_name", "staff_id"]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        constraints = [models.UniqueConstraint(fields=["session", "staff"], name="attendance_once")]

    def __str__(self):
        return f"{self.staff.name} @ {self.session_id}"

    def get_absolute_url(self):
        return reverse("training:session_detail", args=[self.session_id])


# --- Drills ---------------------------------------------------------------------------------


class Drill(AuditedModel):
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="drills")
    date = models.DateField(_("date"), db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DrillKind.choices, default=DrillKind.COMBINED)
    scenario = models.CharField(_("scenario"), max_length=16, choices=DrillScenario.choices,
                                default=DrillScenario.DAY)
    scenario_detail = models.TextField(_("scenario details"), blank=True)
    participants = models.PositiveIntegerField(_("participants"), default=0)
    residents_evacuated = models.PositiveIntegerField(_("residents evacuated"), default=0)
    bedridden_evacuated = models.PositiveIntegerField(_("bedridden residents evacuated"), default=0)
    evacuation_seconds = models.PositiveIntegerField(_("evacuation time (seconds)"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    major_hazard = models.ForeignKey(
        "hazards.Hazard", verbose_name=_("for supervised major hazard"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="drills", limit_choices_to={"level": "major"})
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("drill")
        verbose_name_plural = _("drills")
        indexes = [models.Index(fields=["institution", "date"])]

    def __str__(self):
        return f"{self.date} {self.get_scenario_display()}"

    def get_absolute_url(self):
        return reverse("training:drill_detail", args=[self.pk])

    def clean(self):
        super().clean()
        errors = {}
        if self.major_hazard_id:
            hazard = self.major_hazard
            if hazard.level != "major":
                errors["major_hazard"] = _("Choose a major hazard.")
            elif self.institution_id and hazard.institution_id != self.institution_id:
                errors["major_hazard"] = _("The hazard belongs to another institution.")
        if errors:
            raise ValidationError(errors)


class DrillProblem(AuditedModel):
    scope_field = "drill__institution"

    drill = models.ForeignKey(Drill, verbose_name=_("drill"), on_delete=models.CASCADE, related_name="problems")
    description = models.TextField(_("problem found"))
    hazard = models.ForeignKey("hazards.Hazard", verbose_name=_("hazard"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("problem found in a drill")
        verbose_name_plural = _("problems found in drills")

    def __str__(self):
        return self.description[:60]

    def get_absolute_url(self):
        return reverse("training:drill_detail", args=[self.drill_id])


# --- Publicity ------------------------------------------------------------------------------


class PublicityQuerySet(ScopedQuerySet):
    pass


class PublicityActivity(AuditedModel):
    setting = models.CharField(_("setting"), max_length=16, choices=PublicitySetting.choices, db_index=True)
    organizer_org = models.ForeignKey("orgs.Organization", verbose_name=_("organising office"), null=True,
                                      blank=True, on_delete=models.PROTECT, related_name="+")
    township = models.ForeignKey("orgs.Organization", verbose_name=_("township"), on_delete=models.PROTECT,
                                 related_name="+", limit_choices_to={"kind": "township"})
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="publicity")
    date = models.DateField(_("date"), db_index=True)
    place = models.CharField(_("place"), max_length=200)
    theme = models.CharField(_("theme"), max_length=200)
    audience = models.PositiveIntegerField(_("audience size"), default=0)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    objects = ScopedManager.from_queryset(PublicityQuerySet)()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("publicity activity")
        verbose_name_plural = _("publicity activities")

    def __str__(self):
        return f"{self.date} {self.theme}"

    def get_absolute_url(self):
        return reverse("training:publicity_detail", args=[self.pk])

    @property
    def owner_org_id(self):
        return self.organizer_org_id or self.township_id

    @classmethod
    def scope_q(cls, user):
        if not scope.is_active_user(user):
            return NOTHING
        if user.is_superuser:
            return Q()
        if scope.sees_all(user):
            return institution_q(user, "institution__") | (
                Q(institution__isnull=True) & (area_q(user, "organizer_org") | area_q(user, "township")))
        q = Q(institution__isnull=False) & institution_q(user, "institution__")
        if user.organization_id:
            q |= Q(institution__isnull=True) & (Q(organizer_org_id=user.organization_id)
                                               | Q(township_id=user.organization_id))
        return q

    def clean(self):
        errors = {}
        if self.setting == PublicitySetting.RESIDENTS and not self.institution_id:
            errors["institution"] = _("Resident education takes place in an institution.")
        if self.institution_id and self.township_id and self.institution.township_id != self.township_id:
            errors["township"] = _("The institution is in another township.")
        if errors:
            raise ValidationError(errors)
