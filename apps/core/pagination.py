"""Kept apart from apps.core.api: DRF imports these settings while loading its own viewsets."""
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import IntegrityError, connections
from django.db.models import ProtectedError, RestrictedError
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination
from rest_framework.views import exception_handler as drf_exception_handler

from .badinput import bad_input_reason


def planner_estimate(queryset):
    """PostgreSQL's estimate of the rows ``queryset`` returns (``EXPLAIN``; ``reltuples`` for a bare
    table), or ``None`` on another database."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        import json

        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class CheapCountPaginator(Paginator):
    """Counts exactly up to ``API_EXACT_COUNT_LIMIT`` rows (a count over at most that many rows
    costs the same at 10³ and 10⁶); past it, the planner's estimate with ``exact = False``.

    On PostgreSQL the estimate is asked first: a query the planner expects to be small is counted
    exactly at once; a large one is counted up to the limit, and only if it reaches it is the
    estimate used. When the planner expects at least ``API_ESTIMATED_COUNT_FROM`` rows (default
    100,000: ten times the limit) the capped count is skipped too — at 10⁶ rows that count of 10,001
    joined rows was most of the page's time. With an estimate the page is sliced by the page size
    (not cut at the estimate): a page that comes back short gives the exact count (its offset plus
    its rows, ``exact`` again, no ``next``), a page past the real end is "not found" as with an exact
    count, and a full page keeps a ``next`` even when the estimate was lower. Elsewhere (SQLite) exact."""

    exact = True

    @cached_property
    def count(self):
        qs = self.object_list
        if not hasattr(qs, "query"):
            return len(qs)
        limit = getattr(settings, "API_EXACT_COUNT_LIMIT", 10_000)
        estimate = planner_estimate(qs)
        if estimate is None or estimate < limit:
            return qs.count()
        if estimate >= max(limit, getattr(settings, "API_ESTIMATED_COUNT_FROM", 100_000)):
            self.exact = False
            return estimate
        capped = qs.order_by()[: limit + 1].count()
        if capped <= limit:
            return capped
        self.exact = False
        return max(estimate, capped)

    def page(self, number):
        if self.count is None or self.exact:  # ``count`` first: it decides ``exact``
            return super().page(number)
        # An estimate may be low as well as high: the page is sliced by the page size (not cut at
        # the estimate) and what it holds corrects the count.
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(_("That page number is not an integer")) from None
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page])  # the page's one query
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        if len(rows) < self.per_page:  # the real end
            self.__dict__["count"], self.exact = bottom + len(rows), True
        else:
            self.__dict__["count"] = max(self.__dict__["count"], bottom + len(rows) + 1)
        for name in ("num_pages", "page_range"):
            self.__dict__.pop(name, None)
        return self._get_page(rows, number, self)


class Pagination(pagination.PageNumberPagination):
    """Page numbers; ``count`` exact while cheap, else estimated with ``count_exact: false``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CheapCountPaginator

    def _page_body(self, data):
        return {"count": self.page.paginator.count, "count_exact": self.page.paginator.exact,
                "next": self.get_next_link(), "previous": self.get_previous_link(), "results": data}

    def get_paginated_response(self, data):
        from rest_framework.response import Response

        return Response(self._page_body(data))

    def get_lean_page(self, rows):
        """The same page as a plain dict for the lean encoder (``apps.core.lean``)."""
        return self._page_body(rows)

    def get_paginated_response_schema(self, schema):
        body = super().get_paginated_response_schema(schema)
        body["properties"]["count_exact"] = {
            "type": "boolean",
            "description": "false when count is the database's estimate (large, unfiltered lists)"}
        body["required"] = ["count", "count_exact", "results"]
        return body


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
