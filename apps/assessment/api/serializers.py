from rest_framework import serializers

from apps.core.api import ScopedModelSerializer

from ..models import AccountabilityAction, Assessment, FireIncident, InstitutionRisk, RiskModel


class InstitutionRiskSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    township = serializers.IntegerField(source="institution.township_id", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = InstitutionRisk
        fields = ["institution", "institution_name", "township", "score", "level", "level_display",
                  "model_version", "computed_at"]


class InstitutionRiskDetailSerializer(InstitutionRiskSerializer):
    class Meta(InstitutionRiskSerializer.Meta):
        fields = [*InstitutionRiskSerializer.Meta.fields, "factors"]


class AccountabilityActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccountabilityAction
        fields = ["id", "target", "name", "measure", "decided_on"]


class FireIncidentSerializer(ScopedModelSerializer):
    actions = AccountabilityActionSerializer(many=True, read_only=True)
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = FireIncident
        fields = ["id", "institution", "institution_name", "occurred_at", "place", "cause", "cause_detail", "deaths",
                  "injuries", "direct_loss", "discovery", "handling", "actions", "created"]
        read_only_fields = ["created"]


class AssessmentSerializer(serializers.ModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)

    class Meta:
        model = Assessment
        fields = ["id", "institution", "institution_name", "period", "assessed_on", "state", "score", "level",
                  "problems", "weak_links", "countermeasures", "signer_name", "signed_at"]


class RiskModelSerializer(serializers.ModelSerializer):
    """A risk model's bands with where it comes from (rules by level): ``administration`` is set by the
    platform to the caller's own administration when a model is added (with the factors of the model
    in force there)."""

    administration_name = serializers.SerializerMethodField()

    class Meta:
        model = RiskModel
        fields = ["id", "name", "version", "is_active", "red_from", "orange_from", "yellow_from", "notes",
                  "overridable", "administration", "administration_name", "created"]
        read_only_fields = ["administration", "administration_name", "created"]

    def get_administration_name(self, obj) -> str:
        from apps.orgs.rules import source_label

        return source_label(obj)
