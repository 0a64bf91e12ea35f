from rest_framework import serializers

from apps.core import scope
from apps.core.api import ScopedModelSerializer
from apps.ledger.forms import INSTITUTION_FIELDS
from apps.ledger.models import Building, Institution, PersonChange


class InstitutionSerializer(ScopedModelSerializer):
    township_name = serializers.CharField(source="township.name", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    person_changed_on = serializers.DateField(write_only=True, required=False,
                                              help_text="Date the responsible person or manager changed.")

    class Meta:
        model = Institution
        fields = ["id", *INSTITUTION_FIELDS, "township_name", "kind_display", "created", "updated",
                  "person_changed_on"]
        read_only_fields = ["created", "updated"]

    def validate_township(self, value):
        if value.kind != "township":
            raise serializers.ValidationError("请选择乡镇（街道）。")
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not scope.within_reach(user, "township_id", value.pk):
            raise serializers.ValidationError("只能选择本乡镇（街道）。")
        return value

    def validate_kind(self, value):
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if not scope.within_reach(user, "kind", value):
            raise serializers.ValidationError("该机构类别不属于本股室业务范围。")
        return value


class BuildingSerializer(ScopedModelSerializer):
    class Meta:
        model = Building
        fields = "__all__"


class PersonChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonChange
        fields = "__all__"
