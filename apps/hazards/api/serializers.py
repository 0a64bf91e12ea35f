from rest_framework import serializers

from apps.core.api import ScopedModelSerializer
from apps.hazards.choices import SupervisionLevel
from apps.hazards.models import (
    DeadlineExtension,
    Determination,
    FollowUp,
    Hazard,
    HazardEvent,
    HazardSuggestion,
    NumberFormat,
    OfficialDocument,
    RuleElement,
    RuleSet,
    Supervision,
)

HAZARD_LIST_FIELDS = [
    "id", "url", "institution", "institution_name", "township", "building", "location", "category", "level",
    "state", "description", "source", "source_type", "source_id", "found_at", "found_by_name", "fixed_on_spot",
    "deadline", "is_overdue", "responsible_person", "closed_at", "reopened_count", "requires_sensor_verification",
]


class HazardSerializer(ScopedModelSerializer):
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    township = serializers.IntegerField(source="institution.township_id", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    source_type = serializers.SerializerMethodField()

    class Meta:
        model = Hazard
        fields = HAZARD_LIST_FIELDS
        read_only_fields = fields

    def get_source_type(self, obj) -> str:
        return obj.source_type.model if obj.source_type_id else ""


class HazardEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = HazardEvent
        fields = ["id", "action", "from_state", "to_state", "text", "actor_name", "time"]


class HazardDetailSerializer(HazardSerializer):
    events = HazardEventSerializer(many=True, read_only=True)
    actions = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta(HazardSerializer.Meta):
        fields = HAZARD_LIST_FIELDS + [
            "requirements", "measures", "funds", "interim_safeguards", "responsible_department", "responsible_phone",
            "emergency_plan", "rectification_report", "rectified_at", "verified_at", "events", "actions", "photos"]
        read_only_fields = fields

    def get_actions(self, obj) -> list[str]:
        from apps.hazards.rules import allowed_actions

        return [t.action for t in allowed_actions(obj, self.context["request"].user)]

    def get_photos(self, obj) -> list[dict]:
        from apps.core.attachments import attachments_of

        return [{"id": a.pk, "kind": a.kind, "url": a.url, "name": a.original_name} for a in attachments_of(obj)]


class HazardCreateSerializer(ScopedModelSerializer):
    """What ``report_hazard`` takes (multipart for photos; more go to ``POST /api/v1/hazards/{id}/photos/``).

    A hazard fixed on the spot needs ``photos_after``, as on the page."""

    photos_before = serializers.ListField(child=serializers.FileField(), required=False, write_only=True)
    photos_after = serializers.ListField(child=serializers.FileField(), required=False, write_only=True)

    class Meta:
        model = Hazard
        fields = ["institution", "building", "location", "category", "description", "source", "level",
                  "fixed_on_spot", "measures", "funds", "interim_safeguards", "responsible_department",
                  "responsible_person", "responsible_phone", "deadline", "emergency_plan", "photos_before",
                  "photos_after"]

    def validate(self, attrs):
        from apps.hazards.services import spot_fix_evidence_errors

        errors = spot_fix_evidence_errors(attrs.get("fixed_on_spot"), attrs.get("photos_after"))
        if errors:
            raise serializers.ValidationError(errors)
        return super().validate(attrs)


class RuleElementSerializer(serializers.ModelSerializer):
    class Meta:
        model = RuleElement
        fields = ["id", "code", "clause", "kind", "group", "text", "verified", "place_types", "order"]


class RuleSetSerializer(serializers.ModelSerializer):
    elements = RuleElementSerializer(many=True, read_only=True)
    administration_name = serializers.SerializerMethodField(
        help_text="来源: the administration of a local set, else national (rules by level).")

    class Meta:
        model = RuleSet
        fields = ["id", "code", "name", "version", "issuer", "number", "effective_from", "effective_until",
                  "institution_kinds", "hazard_term", "situations_total", "revision", "source", "is_active", "params",
                  "notes", "administration", "administration_name", "elements"]

    def get_administration_name(self, obj) -> str:
        return str(obj.source_label)


class DeterminationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Determination
        fields = ["id", "hazard", "rule_set", "rule_set_revision", "elements", "crowded_place", "underground",
                  "suggested_level", "suggestion_reasons", "decided_level", "conclusion", "basis", "decided_by_name",
                  "decided_at"]


class FollowUpSerializer(serializers.ModelSerializer):
    class Meta:
        model = FollowUp
        fields = ["id", "visited_on", "people", "findings", "created"]


class ExtensionSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeadlineExtension
        fields = ["id", "supervision", "new_deadline", "reason", "state", "requested_at", "decided_at",
                  "decision_reason"]


class SupervisionSerializer(ScopedModelSerializer):
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    institution = serializers.IntegerField(source="hazard.institution_id", read_only=True)
    institution_name = serializers.CharField(source="hazard.institution.name", read_only=True)
    supervising_department_name = serializers.CharField(source="supervising_department.name", read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    # Plain text (not an enum in the schema: the hazard's own ``level`` enum has that name).
    level = serializers.CharField(read_only=True, help_text="The kind of the listing administration: "
                                  + ", ".join(SupervisionLevel.values) + " (区级, 市级, 省级)")
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    administration_name = serializers.CharField(source="administration.name", read_only=True, allow_null=True,
                                                default=None)

    class Meta:
        model = Supervision
        fields = ["id", "url", "number", "level", "level_display", "administration", "administration_name",
                  "hazard", "institution", "institution_name", "state", "responsible_party",
                  "responsible_person", "responsible_phone", "supervising_department", "supervising_department_name",
                  "deadline", "is_overdue", "measures", "responsibility", "funds", "emergency_plan", "listed_at",
                  "delisted_at", "delisting_note"]
        read_only_fields = ["number", "administration", "state", "listed_at", "delisted_at", "delisting_note"]


class SupervisionDetailSerializer(SupervisionSerializer):
    follow_ups = FollowUpSerializer(many=True, read_only=True)
    extensions = ExtensionSerializer(many=True, read_only=True)

    class Meta(SupervisionSerializer.Meta):
        fields = SupervisionSerializer.Meta.fields + ["follow_ups", "extensions"]


class DocumentSerializer(ScopedModelSerializer):
    url = serializers.CharField(source="get_absolute_url", read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    issuer_name = serializers.CharField(source="issuer.name", read_only=True)
    download = serializers.SerializerMethodField()

    class Meta:
        model = OfficialDocument
        fields = ["id", "url", "kind", "number", "issuer", "issuer_name", "institution", "institution_name",
                  "hazards", "supervision", "requirements", "deadline", "issued_on", "acknowledged_at", "download"]
        read_only_fields = ["number", "issuer", "issued_on", "acknowledged_at"]

    def get_download(self, obj) -> str:
        return f"/api/v1/official-documents/{obj.pk}/download/"


class HazardSuggestionSerializer(ScopedModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    rule = serializers.CharField(source="rule.code", read_only=True)
    citation = serializers.CharField(source="rule.citation", read_only=True)
    level = serializers.CharField(source="rule.level", read_only=True)
    category = serializers.CharField(source="rule.category", read_only=True)

    class Meta:
        model = HazardSuggestion
        fields = ["id", "institution", "institution_name", "building", "rule", "citation", "level", "category",
                  "description", "state", "hazard", "found_at", "decided_at", "reason"]
        read_only_fields = fields


class NumberFormatSerializer(serializers.ModelSerializer):
    """A number format with where it comes from (rules by level): ``administration`` is set by the
    platform to the caller's own administration when a format is added."""

    administration_name = serializers.SerializerMethodField()

    class Meta:
        model = NumberFormat
        fields = ["id", "series", "pattern", "administration", "administration_name"]
        read_only_fields = ["administration", "administration_name"]

    def get_administration_name(self, obj) -> str:
        from apps.orgs.rules import source_label

        return source_label(obj)
