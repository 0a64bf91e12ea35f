"""The hazard API: the register, the loop's steps as actions, photos, determination, the three
lists, listed supervision with follow-ups and extensions, and official documents.

Every write goes through the same service function as the pages; a refused step answers 409
with the reasons, bad input 400 with the field errors.
"""
import functools

from django import forms
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from apps.core import policy
from apps.core.api import ExportMixin, ScopedModelViewSet, ScopedViewSetMixin
from apps.core.attachments import attach
from apps.core.audit import acting_as
from apps.core.badinput import valid_id
from apps.core.files import serve_file
from apps.core.lean import Computed, LeanListMixin, UrlTemplate
from apps.core.models import Attachment
from apps.core.parsers import SafeJSONParser
from apps.core.schema import page_of
from apps.hazards import documents as docs
from apps.hazards import forms as f
from apps.hazards import ledger_rules, services
from apps.hazards import supervision as sup
from apps.hazards.choices import OPEN_STATES, HazardState, SupervisionState
from apps.hazards.filters import DocumentFilter, HazardFilter, SuggestionFilter, SupervisionFilter
from apps.hazards.models import (
    DeadlineExtension,
    Hazard,
    HazardSuggestion,
    NumberFormat,
    OfficialDocument,
    RuleSet,
    Supervision,
)
from apps.hazards.views import HazardListView
from apps.orgs.rulepages import rule_viewset

from . import serializers as s


def _errors(exc):
    if isinstance(exc, services.TransitionRefused):
        return Response({"detail": "；".join(str(m) for m in exc.messages), "reasons": exc.messages},
                        status=status.HTTP_409_CONFLICT)
    body = exc.message_dict if hasattr(exc, "error_dict") else {"detail": "；".join(exc.messages)}
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _form_call(request, form_class, call):
    """Validate ``request`` with the page's form, then call the service; answer like the pages do."""
    if not isinstance(request.data, dict):
        return None, Response({"detail": [_("Send the fields as a JSON object.")]}, status=status.HTTP_400_BAD_REQUEST)
    data = request.data
    if not isinstance(data, QueryDict):
        # JSON scalars reach the page's form as the text a browser would send (a form field calls
        # ``.strip()`` on what it gets: ``true`` for a date must be a 400, not a 500).
        data = {k: ("true" if v else "false") if isinstance(v, bool) else str(v) if isinstance(v, int | float) else v
                for k, v in data.items()}
    form = form_class(data, request.FILES, user=request.user)
    if not isinstance(request.data, QueryDict):  # JSON: a list only where the field takes several values
        nested = {name: [_("Give one value, not a list or an object.")] for name, field in form.fields.items()
                  if isinstance(request.data.get(name), list | dict)
                  and not getattr(field.widget, "allow_multiple_selected", False)
                  and not isinstance(field, forms.JSONField)}
        if nested:
            return None, Response(nested, status=status.HTTP_400_BAD_REQUEST)
    if not form.is_valid():
        errors = {k: [e["message"] for e in v] for k, v in form.errors.get_json_data().items()}
        return None, Response(errors, status=status.HTTP_400_BAD_REQUEST)
    try:
        return call(form.cleaned_data), None
    except DjangoPermissionDenied as exc:  # an object condition of the policy (e.g. the listing administration)
        return None, Response({"detail": str(exc) or _("You may not do this.")}, status=status.HTTP_403_FORBIDDEN)
    except ValidationError as exc:
        return None, _errors(exc)


def _check_object(request, name, obj):
    """The object conditions of ``name`` before the body is read: a refusal is a 403 with the reasons."""
    reasons = policy.refusals(request.user, name, obj)
    if reasons:
        raise PermissionDenied("；".join(str(r) for r in reasons))


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    parser_classes = [SafeJSONParser, MultiPartParser, FormParser]


def _hazard_overdue(row):
    return row["state"] in OPEN_STATES and row["deadline"] is not None and row["deadline"] < timezone.localdate()


HAZARD_LEAN_FIELDS = {
    "url": UrlTemplate("hazards:hazard_detail"),
    "is_overdue": Computed(("state", "deadline"), _hazard_overdue),
    "source_type": Computed(("source_type__model",), lambda row: row["source_type__model"] or ""),
}


class HazardViewSet(ExportMixin, LeanListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    ScopedGenericViewSet):
    """Hazards in the caller's scope. ``POST /{id}/<action>/`` takes a step of the loop."""

    export_view = HazardListView
    queryset = Hazard.objects.select_related("institution__township", "source_type")
    filterset_class = HazardFilter
    ordering_fields = ["found_at", "deadline", "id", "state", "level"]
    ordering = ["-found_at", "-id"]
    lean_serializer_class = s.HazardSerializer
    lean_fields = HAZARD_LEAN_FIELDS

    def get_serializer_class(self):
        if self.action == "create":
            return s.HazardCreateSerializer
        if self.action == "retrieve":
            return s.HazardDetailSerializer
        return s.HazardSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        if self.action == "retrieve":
            qs = qs.prefetch_related("events")
        return qs

    action_capabilities = {"create": "hazard.report", "plan": "hazard.plan", "rectify": "hazard.rectify",
                           "verify": "hazard.verify", "send_back": "hazard.send_back", "reopen": "hazard.reopen",
                           "note": "hazard.note", "photos": "hazard.report", "determine": "hazard.determine",
                           "require": "hazard.require"}

    def create(self, request, *args, **kwargs):
        if not request.user.can("hazard.report"):
            return Response({"detail": "您的角色不能登记隐患。"}, status=status.HTTP_403_FORBIDDEN)
        serializer = s.HazardCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            hazard = services.report_hazard(request.user, data.pop("institution"), **data)
        except ValidationError as exc:
            return _errors(exc)
        return Response(s.HazardDetailSerializer(hazard, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    def _step(self, request, name):
        hazard = self.get_object()
        fn = services.TRANSITION_FUNCTIONS[name]
        result, error = _form_call(request, f.ACTION_FORMS[name], lambda data: fn(request.user, hazard, **data))
        if error is not None:
            return error
        hazard.refresh_from_db()
        return Response(s.HazardDetailSerializer(hazard, context={"request": request}).data)

    @action(detail=True, methods=["post"])
    def plan(self, request, pk=None):
        return self._step(request, "plan")

    @action(detail=True, methods=["post"])
    def rectify(self, request, pk=None):
        return self._step(request, "rectify")

    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        return self._step(request, "verify")

    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        return self._step(request, "send_back")

    @action(detail=True, methods=["post"])
    def reopen(self, request, pk=None):
        return self._step(request, "reopen")

    @action(detail=True, methods=["post"])
    def note(self, request, pk=None):
        return self._step(request, "note")

    @action(detail=True, methods=["post"])
    def require(self, request, pk=None):
        """下达整改要求: requirements and a deadline on a general hazard (township or bureau)."""
        return self._step(request, "require")

    @action(detail=True, methods=["post"])
    def photos(self, request, pk=None):
        """Multipart ``photos`` (one or more) with ``kind`` before/after/evidence."""
        hazard = self.get_object()
        if not request.user.can("hazard.report"):
            return Response({"detail": "您的角色不能上传照片。"}, status=status.HTTP_403_FORBIDDEN)
        kind = request.data.get("kind") or Attachment.Kind.BEFORE
        if kind not in Attachment.Kind.values:
            return Response({"kind": ["照片类型无效。"]}, status=status.HTTP_400_BAD_REQUEST)
        files = request.FILES.getlist("photos")
        if not files:
            return Response({"photos": ["请上传照片。"]}, status=status.HTTP_400_BAD_REQUEST)
        from django.db import transaction

        try:
            with transaction.atomic(), acting_as(request.user):
                made = [attach(hazard, p, kind=kind, user=request.user) for p in files]
        except ValidationError as exc:
            return _errors(exc)
        return Response([{"id": a.pk, "kind": a.kind, "url": a.url} for a in made],
                        status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def determine(self, request, pk=None):
        hazard = self.get_object()
        result, error = _form_call(request, functools.partial(f.DeterminationForm, hazard=hazard),
                                   lambda data: sup.determine(request.user, hazard, **data))
        if error is not None:
            return error
        return Response(s.DeterminationSerializer(result).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=page_of("HazardListPage", s.HazardSerializer(many=True)))
    @action(detail=False, methods=["get"], url_path=r"lists/(?P<which>open|closed|responsibility)")
    def lists(self, request, which=None):
        """The three lists: open, closed, responsibility (with the supervision where listed)."""
        qs = self.filter_queryset(self.get_queryset())
        if which == "closed":
            qs = qs.filter(state=HazardState.CLOSED)
        elif which == "open":
            qs = qs.filter(state__in=OPEN_STATES)
        else:  # responsibility: open hazards and closed ones still under listed supervision
            still_listed = Exists(Supervision.objects.filter(hazard=OuterRef("pk"), state=SupervisionState.LISTED))
            qs = qs.filter(Q(state__in=OPEN_STATES) | still_listed)
        listed = Supervision.objects.filter(state=SupervisionState.LISTED).select_related("supervising_department")
        qs = qs.prefetch_related(Prefetch("supervisions", queryset=listed, to_attr="listed"))
        page = self.paginate_queryset(qs)
        rows = []
        for h in page:
            row = s.HazardSerializer(h, context={"request": request}).data
            if which == "responsibility":
                sv = h.listed[0] if h.listed else None
                row.update(responsible_unit=h.institution.name,
                           supervising_department=(sv.supervising_department.name if sv
                                                   else h.institution.township.name),
                           supervision_number=sv.number if sv else "")
            rows.append(row)
        return self.get_paginated_response(rows)


class SupervisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         ScopedGenericViewSet):
    """Listed supervisions (visible up the tree). ``POST`` lists a major hazard."""

    queryset = Supervision.objects.select_related("hazard__institution", "supervising_department", "administration")
    filterset_class = SupervisionFilter
    ordering = ["-listed_at", "-id"]

    action_capabilities = {"create": "supervision.list", "follow_ups": "supervision.follow_up",
                           "extensions": "supervision.request_extension", "delist": "supervision.delist"}

    def get_serializer_class(self):
        return s.SupervisionDetailSerializer if self.action == "retrieve" else s.SupervisionSerializer

    def create(self, request, *args, **kwargs):
        hazard_id = request.data.get("hazard") if isinstance(request.data, dict) else None
        if not valid_id(hazard_id):
            return Response({"hazard": [_("The id must be a positive whole number.")]},
                            status=status.HTTP_400_BAD_REQUEST)
        hazard = get_object_or_404(Hazard.objects.visible_to(request.user), pk=hazard_id)
        result, error = _form_call(request, f.SupervisionForm,
                                   lambda data: sup.list_supervision(request.user, hazard, **data))
        if error is not None:
            return error
        return Response(s.SupervisionSerializer(result, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], url_path="follow-ups")
    def follow_ups(self, request, pk=None):
        obj = self.get_object()
        result, error = _form_call(request, f.FollowUpForm,
                                   lambda data: sup.add_follow_up(request.user, obj, **data))
        return error if error is not None else Response(s.FollowUpSerializer(result).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def extensions(self, request, pk=None):
        obj = self.get_object()
        result, error = _form_call(request, f.ExtensionForm,
                                   lambda data: sup.request_extension(request.user, obj, **data))
        return error if error is not None else Response(s.ExtensionSerializer(result).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def delist(self, request, pk=None):
        obj = self.get_object()
        _check_object(request, "supervision.delist", obj)
        result, error = _form_call(request, f.DelistForm, lambda data: sup.delist(request.user, obj, **data))
        return error if error is not None else Response(s.SupervisionSerializer(result, context={"request": request}).data)


class ExtensionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    queryset = DeadlineExtension.objects.all()
    serializer_class = s.ExtensionSerializer
    filterset_fields = ["supervision", "state"]
    ordering = ["-requested_at", "-id"]

    action_capabilities = {"decide": "supervision.decide_extension"}

    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        obj = self.get_object()
        _check_object(request, "supervision.decide_extension", obj)
        result, error = _form_call(request, f.DecisionForm,
                                   lambda data: sup.decide_extension(request.user, obj, **data))
        return error if error is not None else Response(s.ExtensionSerializer(result).data)


class DocumentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      ScopedGenericViewSet):
    """Official documents; ``POST`` issues one (numbered, .docx generated)."""

    queryset = OfficialDocument.objects.select_related("institution", "issuer").prefetch_related("hazards")
    serializer_class = s.DocumentSerializer
    filterset_class = DocumentFilter
    ordering = ["-issued_on", "-id"]

    action_capabilities = {"create": "document.issue", "acknowledge": "document.acknowledge"}

    def create(self, request, *args, **kwargs):
        result, error = _form_call(request, f.DocumentForm,
                                   lambda data: docs.issue_document(request.user, **data))
        return error if error is not None else Response(s.DocumentSerializer(result, context={"request": request}).data,
                                 status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        obj = self.get_object()
        try:
            obj = docs.acknowledge(request.user, obj)
        except ValidationError as exc:
            return _errors(exc)
        return Response(s.DocumentSerializer(obj, context={"request": request}).data)

    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        obj = self.get_object()
        return serve_file(obj.file, filename=f"{obj.number}.docx", as_attachment=True, record=obj)

    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        """The PDF made beside the .docx (404 where LibreOffice made none)."""
        obj = self.get_object()
        return serve_file(obj.pdf, filename=f"{obj.number}.pdf", as_attachment=True, record=obj)


class RuleSetViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The rule sets; ``?hazard={id}`` gives only those the finding falls under (its date, its institution's kind)."""

    queryset = RuleSet.objects.select_related("administration").prefetch_related("elements")
    serializer_class = s.RuleSetSerializer

    def get_queryset(self):
        qs = super().get_queryset()
        hazard_id = self.request.query_params.get("hazard")
        if hazard_id and self.action == "list":
            if not hazard_id.isdigit():
                raise DRFValidationError({"hazard": [_("Enter a whole number.")]})
            hazard = get_object_or_404(Hazard.objects.visible_to(self.request.user).select_related("institution"),
                                       pk=hazard_id)
            qs = qs.filter(pk__in=sup.applicable_rule_sets(hazard).values("pk"))
        return qs


class HazardSuggestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Hazards the ledger shows (``?suggestion_state=open`` …); ``POST {id}/accept/`` registers one,
    ``POST {id}/dismiss/`` with a ``reason`` sets it aside, ``POST scan/`` runs the ledger rules."""

    queryset = HazardSuggestion.objects.select_related("institution", "rule")
    serializer_class = s.HazardSuggestionSerializer
    filterset_class = SuggestionFilter
    ordering = ["-found_at", "-id"]

    action_capabilities = {"accept": "suggestion.decide", "dismiss": "suggestion.decide", "scan": "suggestion.decide"}

    def _decide(self, request, call):
        suggestion = self.get_object()
        try:  # the service refuses a role that may not decide (409 with the reason)
            call(suggestion)
        except ValidationError as exc:
            return _errors(exc)
        suggestion.refresh_from_db()
        return Response(s.HazardSuggestionSerializer(suggestion, context={"request": request}).data)

    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._decide(request, lambda obj: ledger_rules.accept(request.user, obj))

    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        return self._decide(request, lambda obj: ledger_rules.dismiss(
            request.user, obj, reason=str(request.data.get("reason") or "")))

    @extend_schema(request=None, responses=inline_serializer("SuggestionScan", {"opened": serializers.IntegerField()}))
    @action(detail=False, methods=["post"])
    def scan(self, request):
        from apps.ledger.models import Institution

        if not request.user.can("suggestion.decide"):
            raise PermissionDenied
        opened = ledger_rules.scan(list(Institution.objects.visible_to(request.user)))
        return Response({"opened": opened})


class NumberFormatViewSet(rule_viewset(ScopedModelViewSet)):
    """Number formats by level: the platform default, those of the administrations above the caller
    and (bureau roles) under it, with ``administration_name`` (来源). Adding or changing one is for the
    caller's own administration (``numberformat.override``); a pattern that cannot number a document
    is refused with the reason (400)."""

    queryset = NumberFormat.objects.select_related("administration")
    serializer_class = s.NumberFormatSerializer
    ordering = ["series", "id"]
    write_capability = "numberformat.override"
    service = staticmethod(services.save_number_format)
