"""OpenAPI helpers for responses the serializers do not describe on their own (pages, custom shapes)."""
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


def page_of(name, item_serializer):
    """The schema of one page of ``apps.core.pagination.Pagination`` holding ``item_serializer`` rows."""
    return inline_serializer(name, fields={
        "count": serializers.IntegerField(),
        "count_exact": serializers.BooleanField(help_text="false when count is the database's estimate"),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": item_serializer,
    })
