"""Kept apart from apps.core.api: DRF imports these settings while loading its own viewsets."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.views import exception_handler as drf_exception_handler

from .badinput import bad_input_reason


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def exception_handler(exc, context):
    """DRF's handler, plus Django validation and integrity errors and bad input as 400 with a reason.

    Bad input is what ``apps.core.badinput.bad_input_reason`` recognises: values the database
    layer could not convert (out of range, wrong type).
    """
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = exceptions.ValidationError({"detail": [_("Other records still refer to this one; it cannot be deleted.")]})
    elif isinstance(exc, IntegrityError):
        exc = exceptions.ValidationError({"detail": [_("The record conflicts with an existing one.")]})
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif (reason := bad_input_reason(exc)) is not None:
        exc = exceptions.ValidationError({"detail": [reason]})
    return drf_exception_handler(exc, context)
