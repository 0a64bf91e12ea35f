from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api import ScopedModelSerializer
from apps.inspections.models import (
    Campaign,
    CampaignResponsible,
    CampaignStage,
    CampaignTask,
    ChecklistItem,
    ChecklistTemplate,
    Checkpoint,
    DutyShift,
    FrequencyRule,
    Inspection,
    InspectionItem,
    InspectionSlot,
    PatrolRound,
    PatrolVisit,
    SecurityPeriod,
)


class ChecklistItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChecklistItem
        fields = ["id", "order", "category", "text", "guidance", "basis", "counts_toward_major"]


class ChecklistTemplateSerializer(serializers.ModelSerializer):
    items = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = ChecklistTemplate
        fields = ["id", "code", "version", "name", "purpose", "institution_kinds", "basis", "is_active", "items"]


class InspectionItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = InspectionItem
        fields = ["id", "order", "category", "text", "result", "note", "fixed_on_spot", "hazard"]


class InspectionSerializer(ScopedModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    office_name = serializers.CharField(source="office.name", read_only=True, default="")
    items = InspectionItemSerializer(many=True, read_only=True)

    class Meta:
        model = Inspection
        fields = ["id", "institution", "institution_name", "template", "kind", "office", "office_name", "campaign",
                  "inspected_on", "state", "inspector_name", "inspector_signed_at", "responsible_name",
                  "responsible_signed_at", "summary", "submitted_at", "items"]
        read_only_fields = ["office", "state", "inspector_signed_at", "responsible_signed_at", "submitted_at",
                            "inspector_name", "responsible_name", "summary"]
        extra_kwargs = {"kind": {"required": False}}


class SubmitSerializer(serializers.Serializer):
    """``results``: a list of {"item": id, "result": "pass|fail|na", "note", "fixed_on_spot", "level"};
    photos as multipart files named ``photo-<item id>``."""

    inspector_name = serializers.CharField(max_length=50)
    responsible_name = serializers.CharField(max_length=50)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    results = serializers.JSONField()

    def validate_results(self, value):
        if not isinstance(value, list) or not all(isinstance(r, dict) and "item" in r for r in value):
            raise serializers.ValidationError("results 应为包含 item 的对象列表。")
        return value


class CheckpointSerializer(ScopedModelSerializer):
    class Meta:
        model = Checkpoint
        fields = ["id", "institution", "name", "location", "order", "is_active", "token"]
        read_only_fields = ["token"]


class PatrolVisitSerializer(serializers.ModelSerializer):
    class Meta:
        model = PatrolVisit
        fields = ["id", "checkpoint", "visited_at", "ok", "finding", "hazard"]


class PatrolRoundSerializer(ScopedModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    visits = PatrolVisitSerializer(many=True, read_only=True)

    class Meta:
        model = PatrolRound
        fields = ["id", "institution", "institution_name", "patroller_name", "supervisor_name", "started_at",
                  "ended_at", "notes", "visits"]
        read_only_fields = ["ended_at"]
        extra_kwargs = {"patroller_name": {"required": False}}


class VisitCreateSerializer(serializers.Serializer):
    checkpoint = serializers.IntegerField()
    visited_at = serializers.DateTimeField(required=False)
    ok = serializers.BooleanField(default=True)
    finding = serializers.CharField(required=False, allow_blank=True, default="")
    open_hazard = serializers.BooleanField(default=False)
    photo = serializers.ImageField(required=False)


class CampaignStageSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignStage
        fields = ["id", "name", "starts_on", "ends_on", "goal"]


class CampaignSerializer(ScopedModelSerializer):
    owner_name = serializers.CharField(source="owner_org.name", read_only=True)
    stages = CampaignStageSerializer(many=True, read_only=True)

    class Meta:
        model = Campaign
        fields = ["id", "name", "owner_org", "owner_name", "institution_kinds", "townships", "starts_on", "ends_on",
                  "template", "roadmap", "description", "stages"]
        read_only_fields = ["owner_org"]
        # Empty or left out on a new campaign: every township the launcher may choose (a city's or a
        # province's campaign then reaches every district under it).
        extra_kwargs = {"townships": {"required": False, "allow_empty": True}}


class CampaignTaskSerializer(ScopedModelSerializer):
    class Meta:
        model = CampaignTask
        fields = ["id", "campaign", "title", "assignee_org", "assignee_institution", "assignee_name", "due_on",
                  "done_on"]


class SecurityPeriodSerializer(ScopedModelSerializer):
    class Meta:
        model = SecurityPeriod
        fields = ["id", "name", "event", "owner_org", "townships", "starts_at", "ends_at", "key_places",
                  "readiness_template"]
        read_only_fields = ["owner_org"]


class DutyShiftSerializer(ScopedModelSerializer):
    class Meta:
        model = DutyShift
        fields = ["id", "period", "person", "phone", "place", "institution", "starts_at", "ends_at",
                  "is_stationed_patrol"]


class InspectionSlotSerializer(ScopedModelSerializer):
    class Meta:
        model = InspectionSlot
        fields = ["id", "period", "institution", "starts_at", "ends_at", "assignee_name"]


class CampaignResponsibleSerializer(ScopedModelSerializer):
    class Meta:
        model = CampaignResponsible
        fields = ["id", "campaign", "institution", "person", "phone"]


class CampaignStageWriteSerializer(ScopedModelSerializer):
    class Meta:
        model = CampaignStage
        fields = ["id", "campaign", "name", "starts_on", "ends_on", "goal"]


class OfflineRoundSerializer(serializers.Serializer):
    """A patrol round recorded on a phone without signal (see docs/inspections.md, “Without signal”)."""

    key = serializers.UUIDField(help_text="the phone's key for this round: sent twice, stored once")
    institution = serializers.IntegerField()
    started_at = serializers.DateTimeField(help_text="when the round was started on the phone")
    patroller_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    supervisor_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


class OfflineVisitSerializer(serializers.Serializer):
    key = serializers.UUIDField(help_text="the phone's key for this visit: sent twice, stored once")
    round_key = serializers.UUIDField(help_text="the key of the round it belongs to (sent before it)")
    checkpoint = serializers.IntegerField()
    visited_at = serializers.DateTimeField(help_text="when the checkpoint was recorded on the phone")
    ok = serializers.BooleanField(default=True)
    finding = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    open_hazard = serializers.BooleanField(default=False)
    photo = serializers.ImageField(required=False)
    checkpoint_name = serializers.CharField(max_length=100, required=False, help_text="the name the phone showed")
    checkpoint_location = serializers.CharField(max_length=200, required=False, allow_blank=True,
                                                help_text="the place the phone showed")
    force = serializers.BooleanField(default=False, help_text="store despite a changed checkpoint")


class OfflineResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.UUIDField()
    created = serializers.BooleanField(help_text="false: this key was stored before (nothing stored twice)")
    url = serializers.CharField()


class OfflineConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    conflict = serializers.BooleanField()
    current = serializers.DictField(help_text="what the server holds now")


class OfflineInspectionSerializer(serializers.Serializer):
    """A checklist filled in on a phone without signal: started and submitted at once, stored once per key.
    ``results``: a list of {"item": checklist item id, "result", "note", "fixed_on_spot", "level"}; photos
    as multipart files named ``photo-<checklist item id>``."""

    key = serializers.UUIDField(help_text="the phone's key for this checklist: sent twice, stored once")
    institution = serializers.IntegerField()
    template = serializers.IntegerField()
    inspected_on = serializers.DateField()
    recorded_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="when it was signed on the phone: kept as the signatures' time and the hazards' found time")
    inspector_name = serializers.CharField(max_length=50)
    responsible_name = serializers.CharField(max_length=50)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    results = serializers.JSONField()

    def validate_results(self, value):
        if not isinstance(value, list) or not all(
                isinstance(r, dict) and isinstance(r.get("item"), int) and not isinstance(r.get("item"), bool)
                for r in value):
            raise serializers.ValidationError("results 应为包含 item（检查项编号）的对象列表。")
        return value


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$", "example": "22:00:00",
                      "description": "Local wall-clock time (HH:MM[:SS]), no zone: the night window is local."})
class LocalTimeField(serializers.TimeField):
    """A time of day in local wall-clock terms. OpenAPI's ``format: time`` is RFC 3339's full-time, which
    requires a zone offset; the night window has none."""


class FrequencyRuleSerializer(serializers.ModelSerializer):
    """A patrol/inspection frequency with where it comes from (rules by level): ``administration`` is
    set by the platform to the caller's own administration when a rule is added."""

    administration_name = serializers.SerializerMethodField()
    night_start = LocalTimeField(required=False, label=FrequencyRule._meta.get_field("night_start").verbose_name)
    night_end = LocalTimeField(required=False, label=FrequencyRule._meta.get_field("night_end").verbose_name)

    class Meta:
        model = FrequencyRule
        fields = ["id", "institution_kind", "version", "is_active", "daily_patrols", "night_interval_hours",
                  "night_start", "night_end", "inspection_interval_days", "self_assessment_interval_days", "basis",
                  "overridable", "administration", "administration_name"]
        read_only_fields = ["administration", "administration_name"]

    def validate_institution_kind(self, value):
        from django.utils.translation import gettext as _

        from apps.ledger.choices import InstitutionKind

        if value and value not in InstitutionKind.values:
            raise serializers.ValidationError(_("Unknown institution kind."))
        return value

    def get_administration_name(self, obj) -> str:
        from apps.orgs.rules import source_label

        return source_label(obj)
