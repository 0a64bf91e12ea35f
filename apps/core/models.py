"""Platform models: the trail (hash-chained change log), notifications and webhooks."""
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .scope import ScopedManager, ScopedModelMixin, institution_q, sees_all


class AuditedModel(ScopedModelMixin, models.Model):
    """Base of every domain model: scoped (``visible_to``) and change-logged (the trail).

    The field values as loaded are kept so the trail can record before/after without
    another query.
    """

    objects = ScopedManager()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._audit_before = dict(zip(field_names, values, strict=False))
        return instance

    def clean(self):
        """The date and count rules of ``apps.core.daterules`` (subclasses call ``super().clean()``)."""
        from .daterules import check_instance

        check_instance(self)

    def audit_fields(self):
        """Field name → raw value of the concrete fields, as stored."""
        return {f.attname: f.value_from_object(self) for f in self._meta.concrete_fields}

    def get_absolute_url(self):  # pragma: no cover - overridden by models with pages
        return ""


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGOUT = "logout", _("Logged out")
    LOGIN_LOCKED = "login_locked", _("Locked after failed logins")
    LOGIN_UNLOCKED = "login_unlocked", _("Login lock lifted")
    TOKEN_LOGIN = "token_login", _("API token issued")
    TOKEN_REVOKED = "token_revoked", _("API token revoked")
    EXPORT = "export", _("Exported")
    DOWNLOAD = "download", _("Downloaded")
    LEGACY_SIGNED = "audit.legacy_signed", _("Trail re-signed with the key")


class AuditEntryQuerySet(models.QuerySet):
    def visible_to(self, user):
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self
        if sees_all(user):  # entries about no institution (settings, users) too
            return self.filter(institution_q(user, "institution__") | Q(institution__isnull=True))
        return self.filter(institution_q(user, "institution__"))

    def for_object(self, obj):
        ct = ContentType.objects.get_for_model(obj.__class__)
        return self.filter(content_type=ct, object_id=str(obj.pk))


class AuditEntry(models.Model):
    """One append-only change entry. Each stores the hash of the previous one (a chain)."""

    time = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
        on_delete=models.DO_NOTHING, db_constraint=False, related_name="+",
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    organization_name = models.CharField(_("organisation"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    object_id = models.CharField(_("object id"), max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(_("object"), max_length=300, blank=True)
    institution = models.ForeignKey(
        "ledger.Institution", null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, related_name="+",
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    request_id = models.CharField(max_length=36, blank=True, db_index=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)
    # Which AUDIT_HMAC_KEY signed ``hash``; empty for entries written before the trail was keyed
    # (plain SHA-256, see ``manage.py audit_sign_legacy``).
    key_id = models.CharField(max_length=32, blank=True, default="")

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["content_type", "object_id", "id"]),
            models.Index(fields=["action", "time"]),
        ]

    def __str__(self):
        return f"{self.time:%Y-%m-%d %H:%M} {self.actor_name} {self.action} {self.object_repr}"

    @property
    def action_label(self):
        try:
            return AuditAction(self.action).label
        except ValueError:
            from .audit import action_label

            return action_label(self.action)

    def changed_fields(self):
        """(field, before, after) for the fields that differ."""
        before, after = self.before or {}, self.after or {}
        if not isinstance(before, dict) or not isinstance(after, dict):
            return []
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


class AuditChainHead(models.Model):
    """The single row that serialises appends and remembers the last hash and count."""

    last_hash = models.CharField(max_length=64, default="0" * 64)
    count = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.count} entries, last {self.last_hash[:12]}"


class Notification(models.Model):
    """An in-app notification for one user; e-mail and webhooks are delivered from it."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    verb = models.CharField(_("kind"), max_length=64, db_index=True)
    title = models.CharField(_("title"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(max_length=500, blank=True)
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_id = models.CharField(max_length=64, blank=True)
    dedup_key = models.CharField(max_length=200, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], condition=~models.Q(dedup_key=""), name="notification_dedup"
            )
        ]

    def __str__(self):
        return self.title


class WebhookFormat(models.TextChoices):
    GENERIC = "generic", _("Generic JSON")
    WECOM = "wecom", _("WeCom robot")
    DINGTALK = "dingtalk", _("DingTalk robot")


class WebhookEndpoint(models.Model):
    """A webhook that receives the notifications of users in one organisation (or all)."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    format = models.CharField(_("format"), max_length=16, choices=WebhookFormat.choices, default=WebhookFormat.GENERIC)
    organization = models.ForeignKey(
        "orgs.Organization", verbose_name=_("organisation"), null=True, blank=True, on_delete=models.CASCADE,
        help_text=_("Only notifications for users of this organisation; empty for all."),
    )
    verbs = models.JSONField(_("kinds"), default=list, blank=True, help_text=_("Empty for every kind."))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self):
        return self.name


class Delivery(models.Model):
    """One attempt to deliver a notification by e-mail or webhook."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    endpoint = models.ForeignKey(WebhookEndpoint, null=True, blank=True, on_delete=models.SET_NULL)
    ok = models.BooleanField(default=False)
    detail = models.CharField(max_length=500, blank=True)
    time = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.channel} {'ok' if self.ok else 'failed'} {self.time:%Y-%m-%d %H:%M}"


def attachment_path(instance, filename):
    import os
    import uuid

    ext = os.path.splitext(filename)[1].lower()
    return f"attachments/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


class Attachment(AuditedModel):
    """A photo or file attached to any record (before/after photos, evidence, materials).

    The one way to keep files: scoped through the institution of the record it belongs to.
    """

    class Kind(models.TextChoices):
        BEFORE = "before", _("Before")
        AFTER = "after", _("After")
        EVIDENCE = "evidence", _("Evidence")
        MATERIAL = "material", _("Material")

    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.CharField(max_length=64, db_index=True)
    institution = models.ForeignKey("ledger.Institution", null=True, blank=True, on_delete=models.CASCADE,
                                    related_name="+")
    owner_org = models.ForeignKey("orgs.Organization", null=True, blank=True, on_delete=models.CASCADE,
                                  related_name="+", help_text=_("For records that belong to an office."))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.EVIDENCE)
    file = models.FileField(_("file"), upload_to=attachment_path)
    original_name = models.CharField(_("file name"), max_length=200, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return self.original_name or self.file.name

    @classmethod
    def scope_q(cls, user):
        from django.db.models import Q

        from .scope import area_q

        q = institution_q(user, "institution__")
        if sees_all(user):
            return q | area_q(user, "owner_org")
        if user is not None and user.is_authenticated and user.organization_id:
            q |= Q(owner_org_id=user.organization_id)
        return q

    @property
    def download_name(self) -> str:
        """The name the file is offered under: what the user uploaded, with the stored extension."""
        import os

        ext = os.path.splitext(self.file.name)[1].lower()
        base = os.path.basename(self.original_name or "") or f"attachment-{self.pk}"
        return base if base.lower().endswith(ext) else f"{os.path.splitext(base)[0]}{ext}"

    @property
    def url(self) -> str:
        """The only URL of the file: the view that checks login and scope (never MEDIA_URL)."""
        from django.urls import reverse

        return reverse("attachment_file", args=[self.pk])

    @property
    def is_image(self):
        import os

        return os.path.splitext(self.file.name)[1].lower() in {".jpg", ".jpeg", ".png", ".gif", ".webp"}


def export_path(instance, filename):
    import os
    import uuid

    ext = os.path.splitext(filename)[1].lower()
    return f"exports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{ext}"


class ExportJob(models.Model):
    """A list export too big for one request: run in the background, downloaded by its owner only.

    ``view`` names the list view (dotted path) and ``params`` its query string: the job rebuilds
    the view's queryset for ``owner`` when it runs, so the file holds only what the owner may see
    at that time (``apps/core/exports.py``)."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        XLSX = "xlsx", "Excel (.xlsx)"
        CSV = "csv", "CSV"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE,
                              related_name="export_jobs")
    kind = models.CharField(_("list"), max_length=200)  # the list's name (file name stem)
    view = models.CharField(max_length=200)  # dotted path of the list view class
    params = models.JSONField(default=dict, blank=True)  # the list's query parameters (lists of values)
    language = models.CharField(max_length=16, blank=True)  # headers and notification in the owner's language
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, default=Format.XLSX)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    rows_done = models.PositiveIntegerField(_("rows written"), default=0)
    rows_total = models.PositiveIntegerField(_("rows expected"), default=0)
    file = models.FileField(_("file"), upload_to=export_path, blank=True)
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    error = models.CharField(_("reason"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    finished = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        verbose_name = _("export job")
        verbose_name_plural = _("export jobs")
        indexes = [models.Index(fields=["owner", "-created"])]

    def __str__(self):
        return self.filename or self.kind

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("export_job", args=[self.pk])
