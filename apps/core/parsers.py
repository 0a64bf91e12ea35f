"""The API's JSON parser: over-deep documents are a 400 with a reason, not a RecursionError (500)."""
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .badinput import MAX_JSON_DEPTH, json_depth_exceeded


class SafeJSONParser(JSONParser):
    """DRF's JSON parser (strict: no NaN/Infinity) with a nesting limit of ``MAX_JSON_DEPTH``."""

    def parse(self, stream, media_type=None, parser_context=None):
        message = _("The JSON document is nested too deeply (at most %(n)s levels).") % {"n": MAX_JSON_DEPTH}
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message)
        if json_depth_exceeded(data):
            raise ParseError(message)
        return data
