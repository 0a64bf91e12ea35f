"""The organisation tree (bureau, sections, units, townships) and the people who log in."""
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.core import scope
from apps.core.models import AuditedModel
from apps.core.scope import NOTHING

from .choices import BUREAU_ROLES, INSTITUTION_ROLES, OFFICE_ROLES, OrgKind, Role


class Organization(AuditedModel):
    """A node of the tree: the bureau, its sections and units, and the township offices.

    A section covers a configurable set of institution kinds (its line of business).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=50, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=OrgKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code = models.CharField(_("code"), max_length=32, blank=True)
    institution_kinds = models.JSONField(
        _("institution kinds covered"), default=list, blank=True,
        help_text=_("For a section: the institution kinds of its line of business."),
    )
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0,
                                        help_text=_("The bureau's own order (e.g. the administrative order of "
                                                    "townships); equal orders sort by pinyin."))
    sort_name = models.CharField(_("pinyin sort key"), max_length=300, blank=True, editable=False, db_index=True)

    class Meta:
        ordering = ["kind", "order", "sort_name", "name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        from apps.core.pinyin import sort_key

        self.sort_name = sort_key(self.name)
        if kwargs.get("update_fields") is not None and "name" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "sort_name"}
        super().save(*args, **kwargs)

    @classmethod
    def scope_q(cls, user):
        """Bureau roles see the whole tree; others see their own node and the bureau above it."""
        if user is None or not user.is_authenticated:
            return NOTHING
        if scope.sees_all(user):
            return Q()
        q = Q(kind=OrgKind.BUREAU)
        if scope.filters_by_township(user):
            # A section supervises its line of business across townships: it filters lists by township.
            q |= Q(kind=OrgKind.TOWNSHIP)
        if user.organization_id:
            q |= Q(pk=user.organization_id)
        if user.institution_id:
            q |= Q(pk=user.institution.township_id)
        return q

    @property
    def scope_institution_id(self):
        return None

    def get_absolute_url(self):
        return reverse("orgs:organization_detail", args=[self.pk])


class User(AbstractUser):
    """A person who logs in, with one role in one organisation (or one institution)."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organisation"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )
    institution = models.ForeignKey(
        "ledger.Institution", verbose_name=_("institution"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="users",
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self):
        return self.full_name or self.username

    @property
    def display_name(self):
        return self.full_name or self.get_full_name() or self.username

    @property
    def sees_everything(self) -> bool:
        return self.is_superuser or self.role in BUREAU_ROLES

    @property
    def is_office(self) -> bool:
        return self.is_superuser or self.role in OFFICE_ROLES

    @property
    def is_institution_user(self) -> bool:
        return self.role in INSTITUTION_ROLES

    @property
    def org_label(self) -> str:
        if self.institution_id:
            return str(self.institution)
        if self.organization_id:
            return str(self.organization)
        return ""

    def can(self, action: str, obj=None) -> bool:
        """Whether this user may take ``action`` (on ``obj``): the one question of the policy layer
        (``apps.core.policy``; actions are declared in each app's ``policy.py``)."""
        from apps.core.policy import can

        return can(self, action, obj)


class TokenClient(models.Model):
    """The client an API token was issued to ("值班手机", "省平台对接"), named at ``POST /api/v1/auth/token/``.

    Goes with its knox token: revoked, expired or ended by a password change, the name goes too.
    """

    token = models.OneToOneField("knox.AuthToken", on_delete=models.CASCADE, primary_key=True,
                                 related_name="client_info", verbose_name=_("token"))
    name = models.CharField(_("client"), max_length=60)

    class Meta:
        verbose_name = _("API token client")
        verbose_name_plural = _("API token clients")

    def __str__(self):
        return self.name
