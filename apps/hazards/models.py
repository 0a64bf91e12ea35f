"""The hazard register: every found fire hazard, tracked through the closed loop."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.core.models import AuditedModel
from apps.core.scope import ScopedManager, ScopedQuerySet

from .choices import OPEN_STATES, HazardCategory, HazardLevel, HazardSource, HazardState


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

    # Rectification plan
    measures = models.TextField(_("rectification measures"), blank=True)
    funds = models.DecimalField(_("funds (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    interim_safeguards = models.TextField(_("interim safeguards"), blank=True)
    responsible_department = models.CharField(_("responsible department"), max_length=100, blank=True)
    responsible_person = models.CharField(_("responsible person"), max_length=50, blank=True)
    responsible_phone = models.CharField(_("responsible person's phone"), max_length=30, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True, db_index=True)

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
    def is_overdue(self):
        return self.is_open and self.deadline is not None and self.deadline < timezone.localdate()
