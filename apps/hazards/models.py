"""The hazard register: every found fire hazard, tracked through the closed loop."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import AuditedModel
from apps.core.scope import ReferenceData, ScopedManager, ScopedQuerySet

from .choices import (
    OPEN_STATES,
    DocumentKind,
    ElementGroup,
    ElementKind,
    ExtensionState,
    HazardAction,
    HazardCategory,
    HazardLevel,
    HazardSource,
    HazardState,
    HazardTerm,
    LedgerFact,
    NumberSeries,
    SuggestionState,
    SupervisionLevel,
    SupervisionState,
)


class HazardQuerySet(ScopedQuerySet):
    def open(self):
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, today=None):
        """Derived, never stored: a deadline before today on a hazard that is not closed."""
        today = today or timezone.localdate()
        return self.open().filter(deadline__lt=today)


class Hazard(AuditedModel):
    """One fire hazard of an institution (find → register → grade → rectify → verify → close)."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.PROTECT,
                                    related_name="hazards")
    building = models.ForeignKey("ledger.Building", verbose_name=_("building"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="hazards")
    location = models.CharField(_("place"), max_length=200, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=HazardCategory.choices, db_index=True)
    description = models.TextField(_("description"))
    source = models.CharField(_("source"), max_length=16, choices=HazardSource.choices, default=HazardSource.OTHER)
    # The record the hazard came from (an inspection item, a patrol, an alarm, a drill), if any.
    source_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source_id = models.CharField(max_length=64, blank=True, db_index=True)
    source_object = GenericForeignKey("source_type", "source_id")
    found_at = models.DateTimeField(_("found at"), default=timezone.now)
    found_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("found by"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    found_by_name = models.CharField(_("found by (name)"), max_length=50, blank=True)
    level = models.CharField(_("level"), max_length=8, choices=HazardLevel.choices, default=HazardLevel.GENERAL,
                             db_index=True)
    state = models.CharField(_("state"), max_length=24, choices=HazardState.choices, default=HazardState.REGISTERED,
                             db_index=True)
    fixed_on_spot = models.BooleanField(_("fixed on the spot"), default=False)

    # Requirements and a deadline set by the township or the bureau (下达整改要求), before or during the plan.
    requirements = models.TextField(_("rectification requirements"), blank=True)
    # Rectification plan
    measures = models.TextField(_("rectification measures"), blank=True)
    funds = models.DecimalField(_("funds (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    interim_safeguards = models.TextField(_("interim safeguards"), blank=True)
    responsible_department = models.CharField(_("responsible department"), max_length=100, blank=True)
    responsible_person = models.CharField(_("responsible person"), max_length=50, blank=True)
    responsible_phone = models.CharField(_("responsible person's phone"), max_length=30, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True, db_index=True)
    emergency_plan = models.TextField(_("emergency plan"), blank=True)

    # Rectification and verification
    rectification_report = models.TextField(_("rectification report"), blank=True)
    rectified_at = models.DateTimeField(_("rectified at"), null=True, blank=True)
    rectified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("rectified by"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("verified by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, db_index=True)
    reopened_count = models.PositiveIntegerField(_("times re-opened"), default=0)
    # Set by monitoring for hazards opened by a sensor alarm: closure needs normal readings after rectification.
    requires_sensor_verification = models.BooleanField(_("closure needs sensor verification"), default=False)

    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = ScopedManager.from_queryset(HazardQuerySet)()

    class Meta:
        ordering = ["-found_at", "-id"]
        verbose_name = _("hazard")
        verbose_name_plural = _("hazards")
        indexes = [
            models.Index(fields=["institution", "state"]),
            models.Index(fields=["state", "deadline"]),
            models.Index(fields=["state", "level"]),
            # Cockpit aggregates at province scale read these without touching the table
            # (index-only scans on PostgreSQL): hazards found, hazards closed, open hazards.
            models.Index(fields=["found_at"], include=["state", "closed_at", "id"], name="hazard_found_cov"),
            models.Index(fields=["closed_at"], include=["state", "id"], condition=Q(state="closed"),
                         name="hazard_closed_cov"),
            models.Index(fields=["institution", "level", "category", "deadline"], include=["id"],
                         condition=Q(state__in=["registered", "rectifying", "awaiting_verification"]),
                         name="hazard_open_cov"),
            models.Index(fields=["found_at", "id"], name="hazard_found_at_id"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(state=HazardState.CLOSED) | Q(closed_at__isnull=False),
                                   name="hazard_closed_has_time"),
        ]

    def __str__(self):
        return f"{self.institution} · {self.get_category_display()} · {self.description[:30]}"

    def get_absolute_url(self):
        return reverse("hazards:hazard_detail", args=[self.pk])

    @property
    def is_open(self):
        return self.state in OPEN_STATES

    @property
    def reference(self):
        """A short name people can tell apart in notifications: institution · description (No.)."""
        text = self.description.strip().splitlines()[0] if self.description.strip() else ""
        if len(text) > 40:
            text = text[:39] + "…"
        return f"{self.institution.name} · {text} (#{self.pk})"

    @property
    def is_overdue(self):
        return self.is_open and self.deadline is not None and self.deadline < timezone.localdate()

    @property
    def is_major(self):
        return self.level == HazardLevel.MAJOR

    @property
    def days_overdue(self):
        return (timezone.localdate() - self.deadline).days if self.is_overdue else 0


class HazardEvent(AuditedModel):
    """One step of a hazard's closed loop (or a progress note), with its reason and photos.

    The trail records the same act; this row is what the hazard page shows as its loop history.
    """

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=16, choices=HazardAction.choices)
    from_state = models.CharField(_("from"), max_length=24, choices=HazardState.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=24, choices=HazardState.choices, blank=True)
    text = models.TextField(_("text"), blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_name = models.CharField(_("by"), max_length=150, blank=True)
    time = models.DateTimeField(_("time"), default=timezone.now)

    scope_field = "hazard__institution"

    class Meta:
        ordering = ["time", "id"]
        verbose_name = _("hazard step")
        verbose_name_plural = _("hazard steps")

    def __str__(self):
        return f"{self.get_action_display()} {self.time:%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return self.hazard.get_absolute_url()


NUMBER_PLACEHOLDERS = ("year", "n", "issuer")


def number_pattern_error(pattern):
    """Why ``pattern`` cannot number a document (a translated message), or None when it can.

    A pattern may use only ``{year}``, ``{n}`` and ``{issuer}`` (``{n}`` is required, so that
    numbers differ), plain, without conversions; ``{{`` and ``}}`` stand for braces."""
    import string

    allowed = "、".join("{%s}" % p for p in NUMBER_PLACEHOLDERS)
    try:
        fields = [(name, spec, conv) for _t, name, spec, conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError:
        return _("The pattern has an unmatched brace. Allowed placeholders: %(allowed)s.") % {"allowed": allowed}
    unknown = sorted({name for name, spec, conv in fields if name not in NUMBER_PLACEHOLDERS or spec or conv})
    if unknown:
        return _("Unknown placeholder(s) %(unknown)s. Allowed placeholders: %(allowed)s.") % {
            "unknown": "、".join("{%s}" % u for u in unknown), "allowed": allowed}
    if "n" not in {name for name, _s, _c in fields}:
        return _("The pattern must contain {n} (the sequence number). Allowed placeholders: %(allowed)s.") % {
            "allowed": allowed}
    return None


class NumberFormat(ReferenceData, AuditedModel):
    """How the numbers of one series read (e.g. ``〔{year}〕第{n}号``); the bureau edits these."""

    series = models.CharField(_("series"), max_length=24, choices=NumberSeries.choices)
    pattern = models.CharField(_("pattern"), max_length=100,
                               help_text=_("Placeholders: {year}, {n} (sequence), {issuer} (issuer's short name)."))
    # Rules by level (apps/orgs/rules.py): empty = the platform default, applying everywhere.
    administration = models.ForeignKey(
        "orgs.Organization", verbose_name=_("rule source"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind__in": ("province", "city", "bureau")},
        help_text=_("The administration whose institutions this rule applies to; empty: the whole platform."))

    overridable = True  # a number format is no legal minimum: any level below may set its own

    @classmethod
    def scope_q(cls, user):
        from apps.orgs.rules import visible_q

        return visible_q(user)

    class Meta:
        verbose_name = _("number format")
        verbose_name_plural = _("number formats")
        constraints = [
            models.UniqueConstraint(fields=["series"], condition=Q(administration=None),
                                    name="number_format_default_unique"),
            models.UniqueConstraint(fields=["series", "administration"], name="number_format_per_administration"),
        ]

    def __str__(self):
        return f"{self.get_series_display()}: {self.pattern}"

    @classmethod
    def for_issuer(cls, series, issuer=None):
        """The format of ``series`` in force for ``issuer`` (an organisation): the one of the nearest
        administration at or above it, else the platform default (rules by level; one query)."""
        from apps.orgs.rules import effective

        formats = list(cls.objects.filter(series=series).select_related("administration"))
        return effective(formats, issuer.path if issuer is not None else "")

    @property
    def source_label(self):
        from apps.orgs.rules import source_label

        return source_label(self)

    def clean(self):
        error = number_pattern_error(self.pattern or "")
        if error:
            raise ValidationError({"pattern": error})


class NumberCounter(models.Model):
    """The last number used per series, year and issuer (locked while a number is taken)."""

    series = models.CharField(max_length=24, choices=NumberSeries.choices)
    year = models.PositiveIntegerField()
    issuer = models.ForeignKey("orgs.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["series", "year", "issuer"], name="number_counter_unique")]

    def __str__(self):
        return f"{self.series} {self.year} {self.issuer_id}: {self.last}"


class SupervisionQuerySet(ScopedQuerySet):
    def listed(self):
        return self.filter(state=SupervisionState.LISTED)


class Supervision(AuditedModel):
    """A major hazard under listed supervision (挂牌督办) until it is closed and delisted."""

    hazard = models.ForeignKey(Hazard, verbose_name=_("hazard"), on_delete=models.PROTECT, related_name="supervisions")
    number = models.CharField(_("number"), max_length=60)
    year = models.PositiveIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("sequence"))
    # The administration (province, city or district bureau) that listed it: its level (督办层级), its
    # number series, and who may delist it or decide its extensions (that administration or one above).
    administration = models.ForeignKey("orgs.Organization", verbose_name=_("listing administration"), null=True,
                                       blank=True, on_delete=models.PROTECT, related_name="listed_supervisions",
                                       limit_choices_to={"kind__in": ["province", "city", "bureau"]})
    state = models.CharField(_("state"), max_length=12, choices=SupervisionState.choices,
                             default=SupervisionState.LISTED, db_index=True)
    responsible_party = models.CharField(_("responsible party"), max_length=200)
    responsible_person = models.CharField(_("responsible person"), max_length=50)
    responsible_phone = models.CharField(_("responsible person's phone"), max_length=30, blank=True)
    supervising_department = models.ForeignKey("orgs.Organization", verbose_name=_("supervising department"),
                                               on_delete=models.PROTECT, related_name="supervisions")
    deadline = models.DateField(_("deadline"), db_index=True)
    # The five elements of the plan (措施、责任、资金、时限、预案); the deadline is above.
    measures = models.TextField(_("rectification measures"))
    responsibility = models.TextField(_("responsibility"))
    funds = models.DecimalField(_("funds (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    emergency_plan = models.TextField(_("emergency plan"))
    listed_at = models.DateTimeField(_("listed at"), default=timezone.now)
    listed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("listed by"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    delisted_at = models.DateTimeField(_("delisted at"), null=True, blank=True)
    delisted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("delisted by"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    delisting_note = models.TextField(_("delisting note"), blank=True)

    scope_field = "hazard__institution"
    objects = ScopedManager.from_queryset(SupervisionQuerySet)()

    class Meta:
        ordering = ["-listed_at", "-id"]
        verbose_name = _("listed supervision")
        verbose_name_plural = _("listed supervisions")
        constraints = [
            models.UniqueConstraint(fields=["hazard"], condition=Q(state="listed"), name="one_listing_per_hazard"),
            # Each administration numbers its own listings: the city's No. 1 and the district's No. 1 coexist.
            models.UniqueConstraint(fields=["administration", "number"], name="supervision_number_per_administration"),
        ]

    def __str__(self):
        return f"{self.number} {self.responsible_party}"

    def get_absolute_url(self):
        return reverse("hazards:supervision_detail", args=[self.pk])

    @property
    def is_listed(self):
        return self.state == SupervisionState.LISTED

    @property
    def level(self):
        """区级/市级/省级: the kind of the listing administration (a district's when unknown)."""
        kind = self.administration.kind if self.administration_id else SupervisionLevel.DISTRICT
        return kind if kind in SupervisionLevel.values else SupervisionLevel.DISTRICT

    def get_level_display(self):
        return SupervisionLevel(self.level).label

    @property
    def is_overdue(self):
        return self.is_listed and self.deadline < timezone.localdate()


class FollowUp(AuditedModel):
    """An on-site follow-up visit (上门跟踪) logged against a supervision."""

    supervision = models.ForeignKey(Supervision, on_delete=models.CASCADE, related_name="follow_ups")
    visited_on = models.DateField(_("visited on"))
    people = models.CharField(_("people"), max_length=200)
    findings = models.TextField(_("findings"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    scope_field = "supervision__hazard__institution"

    class Meta:
        ordering = ["-visited_on", "-id"]
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")

    def __str__(self):
        return f"{self.visited_on} {self.people}"

    def get_absolute_url(self):
        return self.supervision.get_absolute_url()


class DeadlineExtension(AuditedModel):
    """A request to extend a supervision's deadline, approved or refused with a reason."""

    supervision = models.ForeignKey(Supervision, on_delete=models.CASCADE, related_name="extensions")
    new_deadline = models.DateField(_("requested deadline"))
    reason = models.TextField(_("reason"))
    state = models.CharField(_("state"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    scope_field = "supervision__hazard__institution"

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("deadline extension")
        verbose_name_plural = _("deadline extensions")

    def __str__(self):
        return f"{self.supervision.number} → {self.new_deadline}"

    def get_absolute_url(self):
        return self.supervision.get_absolute_url()


class RuleSetQuerySet(ScopedQuerySet):
    def in_force(self, on_date):
        """The sets in force on ``on_date`` (in force from ``effective_from`` to ``effective_until``, both inclusive)."""
        return self.filter(is_active=True, effective_from__isnull=False, effective_from__lte=on_date).filter(
            Q(effective_until__isnull=True) | Q(effective_until__gte=on_date))

    def applicable(self, institution_kind, on_date, path=None):
        """The sets that apply to an institution of ``institution_kind`` for a finding made on ``on_date``.

        ``path``: the tree path of the institution's township (rules by level): the national sets apply
        everywhere, a local set (a city's or province's supplementary standard, ``administration``) only
        under the administration that issued it. ``None``: the national sets and every local one.

        The kinds are a JSON list (no portable ``contains`` lookup on SQLite): the few sets in force are
        filtered here and returned as a queryset.
        """
        in_force = self.in_force(on_date)
        if path is not None:
            from apps.orgs.tree import ancestor_paths

            in_force = in_force.filter(Q(administration__isnull=True) | Q(administration__path__in=ancestor_paths(path)))
        return in_force.filter(pk__in=[rs.pk for rs in in_force if rs.applies_to_kind(institution_kind)])


class RuleSet(ReferenceData, AuditedModel):
    """A rule set as the law has it: GB 35181-2017/2025, the civil-affairs (MZ) standards.

    ``params`` holds the counting rules (see ``supervision.evaluate`` and docs/hazards.md), e.g.
    ``{"crowded_comprehensive_min": 4, "comprehensive_min": 6, "crowded_evacuation_min": 3,
    "crowded_evacuation_codes": ["7.3.1", …]}``. ``revision`` goes up with every load of new text.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    version = models.CharField(_("version"), max_length=20)
    issuer = models.CharField(_("issuer"), max_length=200, blank=True)
    number = models.CharField(_("document number"), max_length=60, blank=True)
    effective_from = models.DateField(_("in force from"), null=True, blank=True)
    effective_until = models.DateField(_("in force until"), null=True, blank=True,
                                       help_text=_("The last day in force; empty while in force."))
    institution_kinds = models.JSONField(_("institution kinds"), default=list, blank=True,
                                         help_text=_("The institution kinds the set applies to; empty: every kind."))
    hazard_term = models.CharField(_("what it defines"), max_length=12, choices=HazardTerm.choices,
                                   default=HazardTerm.FIRE)
    situations_total = models.PositiveIntegerField(_("situations in the published text"), null=True, blank=True)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    source = models.CharField(_("source of the text"), max_length=300, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    params = models.JSONField(_("counting rules"), default=dict, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Rules by level (apps/orgs/rules.py): empty = a national set, applying everywhere; a local set
    # (e.g. a city's supplementary standard for major hazards) applies under its administration, in
    # addition to the national ones (a local set never replaces a national one).
    administration = models.ForeignKey(
        "orgs.Organization", verbose_name=_("rule source"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", limit_choices_to={"kind__in": ("province", "city", "bureau")},
        help_text=_("The administration whose institutions this rule applies to; empty: the whole platform."))

    objects = ScopedManager.from_queryset(RuleSetQuerySet)()

    @classmethod
    def scope_q(cls, user):
        """The national sets, the local sets above the user and, for bureau roles, those under them."""
        from apps.orgs.rules import visible_q

        return visible_q(user)

    @property
    def source_label(self):
        """“来源”: the issuing administration of a local set, else national."""
        from django.utils.translation import gettext

        return self.administration.name if self.administration_id else gettext("National")

    class Meta:
        ordering = ["-effective_from", "code"]
        verbose_name = _("determination rule set")
        verbose_name_plural = _("determination rule sets")
        constraints = [
            models.CheckConstraint(condition=Q(effective_until__isnull=True) | Q(effective_from__isnull=False)
                                   & Q(effective_until__gte=models.F("effective_from")),
                                   name="ruleset_period_ordered"),
        ]

    def __str__(self):
        return self.name


    def applies_to_kind(self, institution_kind):
        return not self.institution_kinds or institution_kind in self.institution_kinds

    def in_force_on(self, on_date):
        return bool(self.is_active and self.effective_from and self.effective_from <= on_date
                    and (self.effective_until is None or on_date <= self.effective_until))

    def applies(self, institution_kind, on_date):
        return self.in_force_on(on_date) and self.applies_to_kind(institution_kind)

    @property
    def kinds_display(self):
        from apps.ledger.choices import InstitutionKind

        labels = dict(InstitutionKind.choices)
        return [str(labels.get(k, k)) for k in self.institution_kinds]


class RuleElement(ReferenceData, AuditedModel):
    """One element of a rule set: direct (alone makes a hazard major) or comprehensive (counted).

    ``clause`` is the clause or article of the published text; ``verified`` says whether the text
    here was checked against the published text. ``place_types`` limits an element to kinds of
    place (GB 35181-2017 §6.5 applies only to entertainment venues, shops and underground crowded places).
    """

    rule_set = models.ForeignKey(RuleSet, on_delete=models.CASCADE, related_name="elements")
    code = models.CharField(_("code"), max_length=20)
    clause = models.CharField(_("clause"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ElementKind.choices)
    group = models.CharField(_("group"), max_length=16, choices=ElementGroup.choices, default=ElementGroup.OTHER)
    text = models.TextField(_("text"))
    verified = models.BooleanField(_("verified against the published text"), default=False)
    place_types = models.JSONField(_("kinds of place"), default=list, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["rule_set", "order", "code"]
        verbose_name = _("rule element")
        verbose_name_plural = _("rule elements")
        constraints = [models.UniqueConstraint(fields=["rule_set", "code"], name="rule_element_unique")]

    def __str__(self):
        return f"{self.code} {self.text[:40]}"


class Determination(AuditedModel):
    """A person's decision whether a hazard is major, with the elements ticked and the rules' suggestion."""

    hazard = models.ForeignKey(Hazard, on_delete=models.CASCADE, related_name="determinations")
    rule_set = models.ForeignKey(RuleSet, verbose_name=_("rule set"), on_delete=models.PROTECT, related_name="+")
    rule_set_revision = models.PositiveIntegerField(_("revision of the rule set"), null=True, blank=True)
    elements = models.ManyToManyField(RuleElement, verbose_name=_("elements present"), blank=True, related_name="+")
    crowded_place = models.BooleanField(_("crowded place"), default=True)
    underground = models.BooleanField(_("underground crowded place"), default=False)
    suggested_level = models.CharField(_("suggested level"), max_length=8, choices=HazardLevel.choices)
    suggestion_reasons = models.JSONField(_("reasons"), default=list)
    decided_level = models.CharField(_("decided level"), max_length=8, choices=HazardLevel.choices)
    basis = models.TextField(_("basis of the decision"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_by_name = models.CharField(_("decided by (name)"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now)

    scope_field = "hazard__institution"

    class Meta:
        ordering = ["-decided_at", "-id"]
        verbose_name = _("major-hazard determination")
        verbose_name_plural = _("major-hazard determinations")

    def __str__(self):
        return f"{self.rule_set.code} {self.get_decided_level_display()}"

    @property
    def conclusion(self):
        """What the decision says and which law it rests on, e.g. “重大事故隐患（民办发〔2023〕13号）”."""
        what = self.rule_set.get_hazard_term_display() if self.decided_level == HazardLevel.MAJOR \
            else self.get_decided_level_display()
        return f"{what}（{self.rule_set.number or self.rule_set.name}）"

    def get_absolute_url(self):
        return self.hazard.get_absolute_url()


def document_path(instance, filename):
    """A stored name nobody can guess (the number is in the record, not the path)."""
    import os
    import uuid

    ext = os.path.splitext(filename)[1].lower() or ".docx"
    return f"documents/{instance.year}/{uuid.uuid4().hex}{ext}"


def document_template_path(instance, filename):
    return f"document-templates/{instance.kind}/{filename}"


class DocumentTemplate(ReferenceData, AuditedModel):
    """An issuer's own .docx template (docxtpl) of one kind of document, replacing the shipped one.

    Checked on upload: it must render with a sample context (``apps.hazards.documents``)."""

    issuer = models.ForeignKey("orgs.Organization", verbose_name=_("issuer"), on_delete=models.CASCADE,
                               related_name="document_templates")
    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)
    file = models.FileField(_("template (.docx)"), upload_to=document_template_path)
    uploaded = models.DateTimeField(_("uploaded"), auto_now=True)

    class Meta:
        verbose_name = _("document template")
        verbose_name_plural = _("document templates")
        constraints = [models.UniqueConstraint(fields=["issuer", "kind"], name="document_template_unique")]

    def __str__(self):
        return f"{self.issuer} {self.get_kind_display()}"


class OfficialDocument(AuditedModel):
    """A numbered official document (建议函/督办单/责令整改通知书) issued to an institution."""

    kind = models.CharField(_("kind"), max_length=24, choices=DocumentKind.choices)
    number = models.CharField(_("number"), max_length=60)
    year = models.PositiveIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("sequence"))
    issuer = models.ForeignKey("orgs.Organization", verbose_name=_("issuer"), on_delete=models.PROTECT,
                               related_name="issued_documents")
    institution = models.ForeignKey("ledger.Institution", verbose_name=_("recipient"), on_delete=models.PROTECT,
                                    related_name="official_documents")
    hazards = models.ManyToManyField(Hazard, verbose_name=_("hazards concerned"), blank=True,
                                     related_name="documents")
    supervision = models.ForeignKey(Supervision, verbose_name=_("supervision"), null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="documents")
    requirements = models.TextField(_("requirements"))
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    issued_on = models.DateField(_("issued on"), default=timezone.localdate)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"), null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    file = models.FileField(_("file"), upload_to=document_path, blank=True)
    pdf = models.FileField(_("PDF"), upload_to=document_path, blank=True,
                           help_text=_("Made by LibreOffice alongside the .docx where it is installed."))
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("acknowledged by"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["-issued_on", "-id"]
        verbose_name = _("official document")
        verbose_name_plural = _("official documents")
        # Numbered per issuer: two administrations may both issue their No. 1 of a kind.
        constraints = [models.UniqueConstraint(fields=["issuer", "kind", "number"], name="document_number_per_issuer")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.number}"

    def get_absolute_url(self):
        return reverse("hazards:document_detail", args=[self.pk])

    @property
    def issuing_administration(self):
        """The administration (district, city, province) the document is issued in the name of (发文机关):
        for a listed supervision the administration that listed it (a city-level listing's order is the
        city bureau's, whoever drafts it), else the one the issuing office belongs to. The number is taken
        from this administration's series (``documents.issue_document``)."""
        s = self.supervision if self.supervision_id else None
        if s is not None and s.administration_id:
            return s.administration
        return self.issuer.administration if self.issuer_id else None


class LedgerRule(ReferenceData, AuditedModel):
    """A rule that turns a ledger fact into a suggested hazard, citing the standard that makes it one.

    ``fact`` names the test (``apps.hazards.ledger_rules.FACTS``); ``params`` its thresholds, e.g.
    ``{"ratings": ["C", "D"]}``, ``{"field": "has_auto_alarm", "min_beds": 0}``, ``{"days": 365}``.
    """

    code = models.CharField(_("code"), max_length=40, unique=True)
    fact = models.CharField(_("ledger fact"), max_length=32, choices=LedgerFact.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    institution_kinds = models.JSONField(_("institution kinds"), default=list, blank=True,
                                         help_text=_("The institution kinds the set applies to; empty: every kind."))
    category = models.CharField(_("category"), max_length=16, choices=HazardCategory.choices)
    level = models.CharField(_("level"), max_length=8, choices=HazardLevel.choices, default=HazardLevel.GENERAL)
    description = models.CharField(_("description"), max_length=300,
                                   help_text=_("Placeholders: {building}, {detail}."))
    citation = models.CharField(_("rule cited"), max_length=300)
    element = models.ForeignKey(RuleElement, verbose_name=_("rule element"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("ledger rule")
        verbose_name_plural = _("ledger rules")

    def __str__(self):
        return f"{self.code} {self.citation}"


    def applies_to_kind(self, institution_kind):
        return not self.institution_kinds or institution_kind in self.institution_kinds


class HazardSuggestion(AuditedModel):
    """A hazard the ledger shows (found by a ledger rule), offered to the township to accept or dismiss."""

    institution = models.ForeignKey("ledger.Institution", verbose_name=_("institution"), on_delete=models.CASCADE,
                                    related_name="hazard_suggestions")
    building = models.ForeignKey("ledger.Building", verbose_name=_("building"), null=True, blank=True,
                                 on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(LedgerRule, verbose_name=_("ledger rule"), on_delete=models.CASCADE,
                             related_name="suggestions")
    description = models.TextField(_("description"))
    state = models.CharField(_("state"), max_length=12, choices=SuggestionState.choices,
                             default=SuggestionState.OPEN, db_index=True)
    hazard = models.ForeignKey(Hazard, verbose_name=_("hazard"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    found_at = models.DateTimeField(_("found at"), default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-found_at", "-id"]
        verbose_name = _("suggested hazard")
        verbose_name_plural = _("suggested hazards")
        constraints = [
            models.UniqueConstraint(fields=["institution", "rule", "building"], name="suggestion_one_per_fact"),
            models.UniqueConstraint(fields=["institution", "rule"], condition=Q(building__isnull=True),
                                    name="suggestion_one_per_fact_no_building"),
        ]
        indexes = [models.Index(fields=["institution", "state"])]

    def __str__(self):
        return f"{self.institution} · {self.description[:40]}"

    def get_absolute_url(self):
        return reverse("hazards:suggestion_list") + f"#suggestion-{self.pk}"

    @property
    def is_open(self):
        return self.state == SuggestionState.OPEN
