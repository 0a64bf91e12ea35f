"""Checklists, inspections, patrols, frequency rules and campaigns.

Rules (checklist templates, frequency rules) are versioned rows the bureau edits in the admin.
Missed patrols, compliance and campaign progress are derived from the records, never stored.
"""
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core import scope
from apps.core.models import AuditedModel
from apps.core.scope import NOTHING, ScopedManager, ScopedQuerySet, area_q, institution_q
from apps.hazards.choices import HazardCategory

from .choices import ChecklistPurpose, InspectionKind, InspectionState, ItemResult


class EveryoneReads:
    """Rule data every signed-in user may read (checklists, frequency rules)."""

    scope_field = None

    @classmethod
    def scope_q(cls, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return NOTHING
        return Q()

    @property
    def scope_institution_id(self):
        return None


class ChecklistTemplate(EveryoneReads, AuditedModel):
    """A versioned checklist (e.g. the winter self-assessment, v1). Old versions stay for old records."""

    code = models.SlugField(_("code"), max_length=50)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=20, choices=ChecklistPurpose.choices, db_index=True)
    institution_kinds = models.JSONField(_("institution kinds"), default=list, blank=True,
                                         help_text=_("Empty for every kind."))
    basis = models.CharField(_("basis"), max_length=200, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["purpose", "code", "-version"]
        verbose_name = _("checklist template")
        verbose_name_plural = _("checklist templates")
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="checklist_code_version_unique")]

    def __str__(self):
        return f"{self.name} v{self.version}"

    def get_absolute_url(self):
        return reverse("inspections:template_detail", args=[self.pk])


class ChecklistItem(EveryoneReads, AuditedModel):
    """One question of a checklist, with guidance, basis and whether a failure may count toward a major hazard."""

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items",
                                 verbose_name=_("checklist template"))
    order = models.PositiveIntegerField(_("order"), default=0)
    category = models.CharField(_("category"), max_length=16, choices=HazardCategory.choices)
    text = models.CharField(_("item"), max_length=300)
    guidance = models.TextField(_("guidance"), blank=True)
    basis = models.CharField(_("basis"), max_length=200, blank=True)
    counts_toward_major = models.BooleanField(_("may count toward a major hazard"), default=False)

    class Meta:
        ordering = ["template", "order", "id"]
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")

    def __str__(self):
        return self.text


class FrequencyRule(EveryoneReads, AuditedModel):
    """How often an institution kind must patrol, inspect and self-assess (domain.md §4). Empty kind: default."""

    institution_kind = models.CharField(_("institution kind"), max_length=32, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    is_active = models.BooleanField(_("in use"), default=True)
    daily_patrols = models.PositiveSmallIntegerField(_("patrol rounds per day (at least)"), default=1)
    night_interval_hours = models.PositiveSmallIntegerField(
        _("night patrol at least every (hours)"), null=True, blank=True, help_text=_("Empty: no night rule."))
    night_start = models.TimeField(_("night starts"), default="22:00")
    night_end = models.TimeField(_("night ends"), default="06:00")
    inspection_interval_days = models.PositiveSmallIntegerField(_("inspection at least every (days)"), default=31)
    self_assessment_interval_days = models.PositiveSmallIntegerField(
        _("self-assessment at least every (days)"), default=366)
    basis = models.CharField(_("basis"), max_length=200, blank=True)
    # Rules by level (apps/orgs/rules.py): empty = the platform default, applying everywhere.
    administration = models.ForeignKey(
        "orgs.Organization", verbose_name=_("rule source"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind__in": ("province", "city", "bureau")},
        help_text=_("The administration whose institutions this rule applies to; empty: the whole platform."))
    overridable = models.BooleanField(
        _("lower levels may loosen it"), default=True,
        help_text=_("Unticked (a limit set by law): a lower administration may only make it stricter."))

    class Meta:
        ordering = ["institution_kind", "-version"]
        verbose_name = _("frequency rule")
        verbose_name_plural = _("frequency rules")

    def __str__(self):
        return f"{self.institution_kind or '*'} v{self.version}"

    @classmethod
    def scope_q(cls, user):
        """Rules by level: the default, the rules above the user and, for bureau roles, under them."""
        from apps.orgs.rules import visible_q

        return visible_q(user)

    @property
    def source_label(self):
        from apps.orgs.rules import source_label

        return source_label(self)

    def clean(self):
        super().clean()
        if self.administration_id:  # rules by level: never looser than a rule set by law above
            from apps.orgs.rules import check

            check(self, looser=FrequencyRule.looser)

    @staticmethod
    def looser(new, held):
        """Whether ``new`` asks less than ``held`` (fewer rounds, longer gaps) for the same kind."""
        if held.institution_kind and new.institution_kind != held.institution_kind:
            return False
        if new.daily_patrols < held.daily_patrols:
            return True
        if held.night_interval_hours and (not new.night_interval_hours
                                          or new.night_interval_hours > held.night_interval_hours):
            return True
        return (new.inspection_interval_days > held.inspection_interval_days
                or new.self_assessment_interval_days > held.self_assessment_interval_days)


class InspectionQuerySet(ScopedQuerySet):
    def enforcement(self):
        return self.filter(office__isnull=False, state=InspectionState.SUBMITTED)


class Inspection(AuditedModel):
    """One inspection of an institution against a checklist: by itself, by an office, jointly or at night."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.PROTECT,
                                     related_name="inspections")
    template = models.ForeignKey(ChecklistTemplate, verbose_name=_("checklist"), on_delete=models.PROTECT,
                                 related_name="inspections")
    kind = models.CharField(_("kind"), max_length=8, choices=InspectionKind.choices, db_index=True)
    # The inspecting office for inspections by others (enforcement acts); empty for self-inspections.
    office = models.ForeignKey("orgs.Organization", verbose_name=_("inspecting office"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="inspections")
    campaign = models.ForeignKey("Campaign", verbose_name=_("campaign"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="inspections")
    inspected_on = models.DateField(_("inspection date"), default=timezone.localdate, db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=InspectionState.choices,
                             default=InspectionState.DRAFT, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    inspector_name = models.CharField(_("inspector (signature)"), max_length=50, blank=True)
    inspector_signed_at = models.DateTimeField(_("inspector signed at"), null=True, blank=True)
    responsible_name = models.CharField(_("unit's responsible person (signature)"), max_length=50, blank=True)
    responsible_signed_at = models.DateTimeField(_("responsible person signed at"), null=True, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    # Set by the offline patrol app: the phone's key for a checklist filled in without signal.
    client_key = models.UUIDField(_("client key"), null=True, blank=True, unique=True, editable=False)

    objects = ScopedManager.from_queryset(InspectionQuerySet)()

    class Meta:
        ordering = ["-inspected_on", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        indexes = [models.Index(fields=["institution", "inspected_on"]), models.Index(fields=["office", "inspected_on"])]

    def __str__(self):
        return f"{self.institution} {self.inspected_on} {self.get_kind_display()}"

    @classmethod
    def scope_q(cls, user):
        """Institution scope; an office also sees every inspection it ran itself."""
        q = institution_q(user, "institution__")
        if q == Q() or user is None or not user.is_authenticated:  # an empty Q would swallow the OR below
            return q
        if scope.office_id(user):
            q |= Q(office_id=scope.office_id(user))
        return q

    def get_absolute_url(self):
        return reverse("inspections:inspection_detail", args=[self.pk])

    @property
    def is_enforcement(self):
        return self.office_id is not None

    @property
    def is_submitted(self):
        return self.state == InspectionState.SUBMITTED


class InspectionItem(AuditedModel):
    """The result of one checklist item in one inspection; a failure is fixed on the spot or becomes a hazard."""

    scope_field = "inspection__institution"

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items",
                                   verbose_name=_("inspection"))
    checklist_item = models.ForeignKey(ChecklistItem, on_delete=models.PROTECT, related_name="+",
                                       verbose_name=_("checklist item"))
    order = models.PositiveIntegerField(_("order"), default=0)
    category = models.CharField(_("category"), max_length=16, choices=HazardCategory.choices)
    text = models.CharField(_("item"), max_length=300)
    result = models.CharField(_("result"), max_length=4, choices=ItemResult.choices, blank=True, default="")
    note = models.TextField(_("note"), blank=True)
    fixed_on_spot = models.BooleanField(_("fixed on the spot"), default=False)
    hazard = models.ForeignKey("hazards.Hazard", verbose_name=_("hazard"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["inspection", "order", "id"]
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")

    def __str__(self):
        return self.text

    def get_absolute_url(self):
        return reverse("inspections:inspection_detail", args=[self.inspection_id]) + f"#item-{self.pk}"

    @classmethod
    def scope_q(cls, user):
        q = institution_q(user, "inspection__institution__")
        if q == Q() or user is None or not user.is_authenticated:
            return q
        if scope.office_id(user):
            q |= Q(inspection__office_id=scope.office_id(user))
        return q


class Checkpoint(AuditedModel):
    """A place patrols must pass; its printed QR label opens the checkpoint page on a phone."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="checkpoints")
    name = models.CharField(_("name"), max_length=100)
    location = models.CharField(_("place"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    is_active = models.BooleanField(_("in use"), default=True)
    # Patrols are owed from the first checkpoint on: missed patrols count from here (compliance.py).
    created = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["institution", "order", "id"]
        verbose_name = _("checkpoint")
        verbose_name_plural = _("checkpoints")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inspections:checkpoint_detail", args=[self.pk])


class PatrolRound(AuditedModel):
    """One patrol walk-round: who, when, and the time at each checkpoint with what was found."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="patrol_rounds")
    patroller = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("patroller"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    patroller_name = models.CharField(_("patroller"), max_length=50)
    # The office whose officer patrolled (stationed patrols at key places): an enforcement act.
    office = models.ForeignKey("orgs.Organization", verbose_name=_("patrolling office"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="patrol_rounds")
    supervisor_name = models.CharField(_("supervisor"), max_length=50, blank=True)
    started_at = models.DateTimeField(_("started at"), default=timezone.now, db_index=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    notes = models.TextField(_("findings"), blank=True)
    # Set by the offline patrol app: the phone's own key for the round, so a round sent twice
    # (the network dropped before the answer arrived) is stored once.
    client_key = models.UUIDField(_("client key"), null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("patrol round")
        verbose_name_plural = _("patrol rounds")
        indexes = [models.Index(fields=["institution", "started_at"])]

    def __str__(self):
        return f"{self.institution} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("inspections:patrol_detail", args=[self.pk])


class PatrolVisit(AuditedModel):
    """A checkpoint passed during a round, at a time, with what was found there."""

    scope_field = "round__institution"

    round = models.ForeignKey(PatrolRound, on_delete=models.CASCADE, related_name="visits",
                              verbose_name=_("patrol round"))
    checkpoint = models.ForeignKey(Checkpoint, on_delete=models.PROTECT, related_name="visits",
                                   verbose_name=_("checkpoint"))
    visited_at = models.DateTimeField(_("time"), default=timezone.now)
    ok = models.BooleanField(_("normal"), default=True)
    finding = models.CharField(_("finding"), max_length=300, blank=True)
    hazard = models.ForeignKey("hazards.Hazard", verbose_name=_("hazard"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    client_key = models.UUIDField(_("client key"), null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["round", "visited_at", "id"]
        verbose_name = _("checkpoint visit")
        verbose_name_plural = _("checkpoint visits")

    def __str__(self):
        return f"{self.checkpoint} {timezone.localtime(self.visited_at):%H:%M}"

    def get_absolute_url(self):
        return reverse("inspections:patrol_detail", args=[self.round_id]) + f"#visit-{self.pk}"


class OfficeOwned(AuditedModel):
    """Rows owned by an office (campaigns, security periods): seen by the bureau, the owner, and
    the townships (and their institutions) they cover."""

    scope_field = None

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, user):
        from apps.orgs.tree import ancestor_ids

        if user is None or not user.is_authenticated or not user.is_active:
            return NOTHING
        if user.is_superuser:
            return Q()
        through = cls.townships.through
        covering = through.objects.filter  # rows of the township link table (no duplicate rows)
        link = f"{cls._meta.model_name}_id"
        if user.institution_id:
            return Q(pk__in=covering(organization_id=user.institution.township_id).values(link))
        if not user.organization_id:
            return NOTHING
        if scope.sees_all(user):
            # Drives run under this administration, or (launched by a city or province above) reaching
            # one of its townships.
            area = user.administration_path
            return area_q(user, "owner_org") | Q(
                pk__in=covering(organization__path__startswith=area).values(link))
        q = Q(owner_org_id=user.organization_id) | Q(pk__in=covering(organization_id=user.organization_id).values(link))
        if scope.spans_townships(user):
            # The drives of the administrations above concern every line of business.
            q |= Q(owner_org_id__in=ancestor_ids(user.organization.admin_path))
        return q

    @property
    def scope_institution_id(self):
        return None


class Campaign(OfficeOwned):
    """A 专项行动: a time-boxed drive with a scope, a timetable, a roadmap and people in charge."""

    name = models.CharField(_("name"), max_length=100)
    owner_org = models.ForeignKey("orgs.Organization", verbose_name=_("run by"), on_delete=models.PROTECT,
                                  related_name="campaigns")
    institution_kinds = models.JSONField(_("institution kinds"), default=list, blank=True,
                                         help_text=_("Empty for every kind."))
    townships = models.ManyToManyField("orgs.Organization", verbose_name=_("townships"), related_name="+",
                                       limit_choices_to={"kind": "township"})
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    template = models.ForeignKey(ChecklistTemplate, verbose_name=_("checklist"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    roadmap = models.TextField(_("rectification roadmap"), blank=True)
    description = models.TextField(_("description"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inspections:campaign_detail", args=[self.pk])

    def institutions_in_scope(self):
        from apps.ledger.models import Institution

        qs = Institution.objects.filter(is_active=True, township__in=self.townships.all())
        if self.institution_kinds:
            qs = qs.filter(kind__in=self.institution_kinds)
        return qs


class CampaignStage(AuditedModel):
    """One stage of a campaign's timetable (排查时间表)."""

    scope_field = None
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("stage"), max_length=100)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    goal = models.CharField(_("goal"), max_length=300, blank=True)

    class Meta:
        ordering = ["campaign", "starts_on", "id"]
        verbose_name = _("campaign stage")
        verbose_name_plural = _("campaign stages")

    def __str__(self):
        return self.name

    @classmethod
    def scope_q(cls, user):
        ids = Campaign.objects.filter(Campaign.scope_q(user)).values("pk")
        return Q(campaign__in=ids)

    @property
    def scope_institution_id(self):
        return None


class CampaignResponsible(AuditedModel):
    """The named person in charge of the campaign at one institution in scope."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responsibles")
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="+")
    person = models.CharField(_("person in charge"), max_length=50)
    phone = models.CharField(_("phone"), max_length=30, blank=True)

    class Meta:
        verbose_name = _("person in charge")
        verbose_name_plural = _("people in charge")
        constraints = [models.UniqueConstraint(fields=["campaign", "institution"], name="campaign_one_responsible")]

    def __str__(self):
        return self.person


class CampaignTask(AuditedModel):
    """A task of a campaign assigned to a named unit (office or institution) and person, with a due date."""

    scope_field = None
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField(_("task"), max_length=200)
    assignee_org = models.ForeignKey("orgs.Organization", verbose_name=_("assigned office"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    assignee_institution = models.ForeignKey("ledger.Institution", verbose_name=_("assigned institution"),
                                             null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    assignee_name = models.CharField(_("assigned person"), max_length=50)
    due_on = models.DateField(_("due on"))
    done_on = models.DateField(_("done on"), null=True, blank=True)

    class Meta:
        ordering = ["campaign", "due_on", "id"]
        verbose_name = _("campaign task")
        verbose_name_plural = _("campaign tasks")

    def __str__(self):
        return self.title

    @classmethod
    def scope_q(cls, user):
        """A task inherits its campaign's scope and is narrowed to its assignee: an institution sees
        its own tasks and those of its township office; an office sees the tasks of its campaigns,
        its own, and those of the institutions it sees."""
        ids = Campaign.objects.filter(Campaign.scope_q(user)).values("pk")
        q = Q(campaign__in=ids)
        if user is None or not user.is_authenticated or not user.is_active or user.is_superuser:
            return q
        unassigned = Q(assignee_institution__isnull=True, assignee_org__isnull=True)
        if scope.sees_all(user):  # a drive from above: only the tasks under this administration
            return q & (unassigned | area_q(user, "assignee_org") | area_q(user, "campaign__owner_org")
                        | (Q(assignee_institution__isnull=False) & institution_q(user, "assignee_institution__")))
        if user.institution_id:
            township = Q(assignee_institution__isnull=True, assignee_org_id=user.institution.township_id)
            return q & (Q(assignee_institution_id=user.institution_id) | township | unassigned)
        own = Q(campaign__owner_org_id=user.organization_id) | Q(assignee_org_id=user.organization_id)
        return q & (own | unassigned | (Q(assignee_institution__isnull=False)
                                         & institution_q(user, "assignee_institution__")))

    @property
    def scope_institution_id(self):
        return self.assignee_institution_id

    def is_overdue(self, today=None):
        return self.done_on is None and self.due_on < (today or timezone.localdate())

    def get_absolute_url(self):
        return reverse("inspections:campaign_detail", args=[self.campaign_id]) + f"#task-{self.pk}"


class SecurityPeriod(OfficeOwned):
    """A festival or major-event security period (春节, 元宵节 ...) with key places, slots and a roster."""

    name = models.CharField(_("name"), max_length=100)
    event = models.CharField(_("festival or event"), max_length=50)
    owner_org = models.ForeignKey("orgs.Organization", verbose_name=_("run by"), on_delete=models.PROTECT,
                                  related_name="security_periods")
    townships = models.ManyToManyField("orgs.Organization", verbose_name=_("townships"), related_name="+",
                                       limit_choices_to={"kind": "township"})
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    key_places = models.ManyToManyField("ledger.Institution", verbose_name=_("key places"), related_name="+",
                                        blank=True)
    readiness_template = models.ForeignKey(ChecklistTemplate, verbose_name=_("readiness checklist"), null=True,
                                           blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-starts_at", "-id"]
        verbose_name = _("security period")
        verbose_name_plural = _("security periods")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("inspections:period_detail", args=[self.pk])


class _PeriodChild(AuditedModel):
    scope_field = None

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, user):
        """A slot or shift inherits its period's scope and is narrowed to its own place: an institution
        sees its own rows; an office sees the rows of its periods and of the institutions it sees."""
        ids = SecurityPeriod.objects.filter(SecurityPeriod.scope_q(user)).values("pk")
        q = Q(period__in=ids)
        if user is None or not user.is_authenticated or not user.is_active or user.is_superuser:
            return q
        place = Q(institution__isnull=False) & institution_q(user, "institution__")
        if scope.sees_all(user):
            return q & (area_q(user, "period__owner_org") | Q(institution__isnull=True) | place)
        if user.institution_id:
            return q & place
        return q & (Q(period__owner_org_id=user.organization_id) | Q(institution__isnull=True) | place)

    @property
    def scope_institution_id(self):
        return getattr(self, "institution_id", None)


class InspectionSlot(_PeriodChild):
    """A time slot (分时段) in which a key place must be inspected or patrolled; done is derived."""

    period = models.ForeignKey(SecurityPeriod, on_delete=models.CASCADE, related_name="slots")
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("key place"), on_delete=models.CASCADE,
                                    related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    assignee_name = models.CharField(_("assigned person"), max_length=50, blank=True)

    class Meta:
        ordering = ["period", "starts_at", "id"]
        verbose_name = _("inspection slot")
        verbose_name_plural = _("inspection slots")

    def __str__(self):
        return f"{self.institution} {timezone.localtime(self.starts_at):%m-%d %H:%M}"


class DutyShift(_PeriodChild):
    """One line of the duty roster (值班值守): who, where, when, phone."""

    period = models.ForeignKey(SecurityPeriod, on_delete=models.CASCADE, related_name="shifts")
    person = models.CharField(_("person on duty"), max_length=50)
    phone = models.CharField(_("phone"), max_length=30)
    place = models.CharField(_("place"), max_length=100)
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("key place"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    is_stationed_patrol = models.BooleanField(_("stationed patrol (前置巡防)"), default=False)

    class Meta:
        ordering = ["period", "starts_at", "id"]
        verbose_name = _("duty shift")
        verbose_name_plural = _("duty roster")

    def __str__(self):
        return f"{self.person} {self.place}"

