from rest_framework import serializers

from apps.core import scope
from apps.core.api import ScopedModelSerializer
from apps.core.badinput import INT64

from ..choices import FireRole
from ..models import (
    Attendance,
    Drill,
    DrillProblem,
    PublicityActivity,
    StaffMember,
    TrainingBatch,
    TrainingSession,
)


class ObligationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    since = serializers.DateField(allow_null=True)
    due_on = serializers.DateField(allow_null=True)
    done_on = serializers.DateField(allow_null=True)


class StaffSerializer(ScopedModelSerializer):
    institution_name = serializers.CharField(source="institution.name", read_only=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=FireRole.choices), required=False)

    class Meta:
        model = StaffMember
        fields = ["id", "institution", "institution_name", "name", "post", "phone", "hired_on", "post_changed_on",
                  "left_on", "roles", "certificate_no", "certificate_expires", "created", "updated"]
        read_only_fields = ["created", "updated"]

    def validate_institution(self, value):
        user = self.context["request"].user
        if not scope.within_reach(user, "id", value.pk):
            raise serializers.ValidationError("只能登记本机构人员。")
        return value


class PersonObligationsSerializer(serializers.Serializer):
    """One person's computed obligations (derived at read time)."""

    id = serializers.IntegerField(source="staff.pk")
    name = serializers.CharField(source="staff.name")
    post = serializers.CharField(source="staff.post")
    institution = serializers.IntegerField(source="staff.institution_id")
    status = serializers.CharField()
    since = serializers.DateField(allow_null=True)
    obligations = ObligationSerializer(many=True)


class SessionSerializer(ScopedModelSerializer):
    # Annotated by the viewset's queryset; a session just created has nobody yet.
    attendance_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = TrainingSession
        fields = ["id", "organiser_level", "organizer_org", "institution", "batch", "category", "topic", "date",
                  "hours", "trainer", "place", "notes", "attendance_count", "created"]
        read_only_fields = ["organizer_org", "created"]

    def validate(self, attrs):
        user = self.context["request"].user
        level = attrs.get("organiser_level", getattr(self.instance, "organiser_level", None))
        if scope.own_institution_id(user):
            if level != "institution":
                raise serializers.ValidationError({"organiser_level": "机构只能组织本机构培训。"})
            inst = attrs.get("institution", getattr(self.instance, "institution", None))
            if inst is None or not scope.within_reach(user, "id", inst.pk):
                raise serializers.ValidationError({"institution": "只能选择本机构。"})
        return super().validate(attrs)


class AttendanceSerializer(serializers.ModelSerializer):
    staff_name = serializers.CharField(source="staff.name", read_only=True)
    institution = serializers.IntegerField(source="staff.institution_id", read_only=True)

    class Meta:
        model = Attendance
        fields = ["id", "session", "staff", "staff_name", "institution", "method", "signed_at"]


class BulkAttendanceSerializer(serializers.Serializer):
    staff = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=INT64[1]), allow_empty=False,
                                  max_length=5000)


class DrillProblemRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    description = serializers.CharField()
    hazard = serializers.IntegerField(source="hazard_id", allow_null=True)


class DrillSerializer(ScopedModelSerializer):
    problems = DrillProblemRowSerializer(many=True, read_only=True)

    class Meta:
        model = Drill
        fields = ["id", "institution", "date", "kind", "scenario", "scenario_detail", "participants",
                  "residents_evacuated", "bedridden_evacuated", "evacuation_seconds", "summary", "major_hazard",
                  "problems", "created"]
        read_only_fields = ["created"]

    def validate(self, attrs):
        user = self.context["request"].user
        inst = attrs.get("institution", getattr(self.instance, "institution", None))
        if inst is not None and not scope.within_reach(user, "id", inst.pk):
            raise serializers.ValidationError({"institution": "只能选择本机构。"})
        return super().validate(attrs)


class DrillProblemSerializer(serializers.Serializer):
    description = serializers.CharField()
    to_hazard = serializers.BooleanField(default=False)
    category = serializers.CharField(default="management")


class DrillProblemReadSerializer(serializers.ModelSerializer):
    class Meta:
        model = DrillProblem
        fields = ["id", "drill", "description", "hazard", "created"]


class PublicitySerializer(ScopedModelSerializer):
    setting_display = serializers.CharField(source="get_setting_display", read_only=True)

    class Meta:
        model = PublicityActivity
        fields = ["id", "setting", "setting_display", "organizer_org", "township", "institution", "date", "place",
                  "theme", "audience", "notes", "created"]
        read_only_fields = ["organizer_org", "created"]

    def validate(self, attrs):
        user = self.context["request"].user
        township = attrs.get("township", getattr(self.instance, "township", None))
        if township is not None and township.kind != "township":
            raise serializers.ValidationError({"township": "请选择乡镇（街道）。"})
        if township is not None and not scope.within_reach(user, "township_id", township.pk):
            raise serializers.ValidationError({"township": "只能选择本乡镇（街道）。"})
        inst = attrs.get("institution", getattr(self.instance, "institution", None))
        if scope.own_institution_id(user) and (inst is None or not scope.within_reach(user, "id", inst.pk)):
            raise serializers.ValidationError({"institution": "只能选择本机构。"})
        return super().validate(attrs)


class BatchSerializer(ScopedModelSerializer):
    class Meta:
        model = TrainingBatch
        fields = ["id", "name", "category", "organizer_org", "institutions", "invited_roles", "deadline", "notes",
                  "created"]
        read_only_fields = ["organizer_org", "created"]
