from rest_framework import serializers

from apps.core.api import ScopedModelSerializer
from apps.ledger.forms import INSTITUTION_FIELDS
from apps.ledger.models import Building, Institution, PersonChange
from apps.ledger.services import placement_choices


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

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        for name, queryset in placement_choices(getattr(request, "user", None)).items():
            fields[name].queryset = queryset
        return fields


class BuildingSerializer(ScopedModelSerializer):
    class Meta:
        model = Building
        fields = "__all__"


class PersonChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = PersonChange
        fields = "__all__"
