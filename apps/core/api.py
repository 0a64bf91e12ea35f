"""Base pieces of the REST API: scoped viewsets and serializers, capability checks, tokens."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from . import policy
from .badinput import valid_id
from .pagination import Pagination, exception_handler  # noqa: F401  (re-exported)


def run_service(fn, *args, **kwargs):
    """Call a service from a viewset, turning Django's errors into 400/403 answers with a reason."""
    from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
    from rest_framework.exceptions import PermissionDenied

    try:
        return fn(*args, **kwargs)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from exc
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc) or None) from exc


class HasCapability(permissions.BasePermission):
    """Reads need only scope; writes need the view's ``write_capability`` for the user's role.

    ``action_capabilities`` (``{view action: policy action}``) names the action of a route, e.g.
    ``{"verify": "hazard.verify"}``: its role test runs before the body is read, so a refused role
    gets 403 — not a 400 about its input or a 409 about the state (the documented order: scope
    404, action 403, state 409, input 400). Object conditions are checked by the service.

    On a detail route the check waits for the object: ``get_object`` applies the scope first,
    so an outsider gets 404 whatever their role, and an insider without the right gets 403.
    Custom actions must call ``self.get_object()``.
    """

    def _allowed(self, request, view):
        named = getattr(view, "action_capabilities", {}).get(getattr(view, "action", None))
        if named:
            return request.user.can(named)
        if request.method in permissions.SAFE_METHODS:
            cap = getattr(view, "read_capability", None)
        else:
            cap = getattr(view, "write_capability", None)
        return cap is None or request.user.can(cap)

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if getattr(view, "kwargs", {}).get(lookup) is not None:
            return True
        return self._allowed(request, view)

    def has_object_permission(self, request, view, obj):
        return self._allowed(request, view)


class ScopedSerializerMixin:
    """Limit every related-object field to rows the requesting user may see.

    An id outside the scope is rejected exactly like a missing one.
    """

    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        for field in fields.values():
            target = getattr(field, "child_relation", field)
            qs = getattr(target, "queryset", None)
            if qs is not None and hasattr(qs, "visible_to"):
                target.queryset = qs.visible_to(user)
        return fields


class ScopedModelSerializer(ScopedSerializerMixin, serializers.ModelSerializer):
    def validate(self, attrs):
        """Refuse fields the user's role may not change (400 naming them, never silently ignored),
        then run the model's ``clean`` so the API applies the same rules as the forms."""
        attrs = super().validate(attrs)
        model = self.Meta.model
        request = self.context.get("request")
        changed = [key for key, value in attrs.items()
                   if self.instance is None or getattr(self.instance, key, None) != value]
        refused = policy.field_refusals(getattr(request, "user", None), model, changed)
        if refused:
            raise serializers.ValidationError(refused)
        instance = self.instance or model()
        for key, value in attrs.items():
            if key in {f.name for f in model._meta.concrete_fields}:
                setattr(instance, key, value)
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
        return attrs


class ScopedViewSetMixin:
    """Applies ``visible_to(user)`` to every action; out-of-scope objects answer 404."""

    permission_classes = [permissions.IsAuthenticated, HasCapability]
    read_capability = None
    write_capability = None

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def initial(self, request, *args, **kwargs):
        """A detail route's id that is not a 64-bit positive integer is a 400 with a reason."""
        super().initial(request, *args, **kwargs)
        lookup = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
        if lookup is not None and not valid_id(lookup):
            raise serializers.ValidationError({"id": [_("The id must be a positive whole number.")]})


class ExportQuerySerializer(serializers.Serializer):
    export = serializers.ChoiceField(choices=["xlsx", "csv"], default="xlsx",
                                     help_text="File format; the list's filters apply as on the list.")


class ExportMixin:
    """``GET <list>/export/?export=xlsx|csv&<filters>``: the list page's export (``export_view``, the
    page's list view class, with the same filters and scope). Up to ``EXPORT_SYNC_LIMIT`` rows the file
    (200); above it an export job is queued and the answer is 202 with the job (``Location``: its URL)."""

    export_view = None

    @extend_schema(parameters=[ExportQuerySerializer], responses={
        (200, "application/octet-stream"): OpenApiResponse(description="The file."),
        202: OpenApiResponse(description="An export job was queued (body: the job, see /exports/{id}/)."),
    })
    @action(detail=False, methods=["get"], url_path="export", filter_backends=[], pagination_class=None)
    def export(self, request, *args, **kwargs):
        from .api_views import job_body
        from .exports import export
        from .models import ExportJob

        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        view = self.export_view()
        view.setup(request._request)
        view.request.user = request.user
        if view.capability and not request.user.can(view.capability):
            raise exceptions.PermissionDenied(_("Your role may not do this."))
        result = export(view, query.validated_data["export"])
        if isinstance(result, ExportJob):
            body = job_body(result)
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["api_url"]})
        return result


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, write_only=True)
    password = serializers.CharField(max_length=4096, write_only=True, trim_whitespace=False,
                                     style={"input_type": "password"})
    client = serializers.CharField(max_length=60, required=False, allow_blank=True, write_only=True,
                                   help_text="Optional name of the client, e.g. 值班手机 or 省平台对接; shown in the "
                                             "token list and the trail")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    expiry = serializers.DateTimeField(allow_null=True)


class TokenView(APIView):
    """POST username and password (and optionally ``client``, the name of this client); answers
    ``{"token": ..., "expiry": ...}``: a new token for this client.

    Authenticates like the login page (``authenticate``, where django-axes refuses a locked-out
    user and counts the failure): a lockout answers 429 with a reason. The login is in the trail.
    """

    authentication_classes = []
    permission_classes = []
    serializer_class = TokenRequestSerializer

    @extend_schema(request=TokenRequestSerializer, responses={
        200: TokenResponseSerializer, 400: OpenApiResponse(description="wrong user name or password"),
        403: OpenApiResponse(description="API_TOKEN_LIMIT_PER_USER live tokens already: revoke one first"),
        429: OpenApiResponse(description="too many failed logins: the account is locked for a while")})
    def post(self, request):
        from django.contrib.auth import authenticate
        from knox.models import AuthToken

        from apps.core.audit import record
        from apps.orgs.auth import lockout_response, normalize_username

        if not isinstance(request.data, dict):
            return Response({"detail": _("Send the user name and password as a JSON object.")},
                            status=status.HTTP_400_BAD_REQUEST)
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Axes reads and marks the plain Django request (the one its middleware sees).
        django_request = request._request
        user = authenticate(django_request, username=normalize_username(serializer.validated_data["username"]),
                            password=serializer.validated_data["password"])
        if getattr(django_request, "axes_locked_out", False):
            return lockout_response(django_request)
        if user is None:
            raise serializers.ValidationError({"non_field_errors": [_("Wrong username or password.")]})
        from knox.settings import knox_settings

        limit = knox_settings.TOKEN_LIMIT_PER_USER
        if limit and own_tokens(user).count() >= limit:
            return Response({"detail": _("You have %(limit)d API tokens in use; revoke one (account menu → API "
                                         "tokens) before logging in another client.") % {"limit": limit}},
                            status=status.HTTP_403_FORBIDDEN)
        from django.db import transaction

        from apps.orgs.models import TokenClient

        client = serializer.validated_data.get("client", "")
        with transaction.atomic():
            instance, token = AuthToken.objects.create(user=user)
            if client:
                TokenClient.objects.create(token=instance, name=client)
        record("token_login", user, actor=user, institution_id=user.institution_id,
               object_repr=user.get_username(),
               after={"token": instance.token_key, "expiry": instance.expiry, "client": client})
        return Response(TokenResponseSerializer({"token": token, "expiry": instance.expiry}).data)


class OwnTokenSerializer(serializers.Serializer):
    token_key = serializers.CharField(read_only=True, help_text="The first characters of the token")
    created = serializers.DateTimeField(read_only=True)
    expiry = serializers.DateTimeField(read_only=True, allow_null=True)
    client = serializers.SerializerMethodField(help_text="The client name given at login (empty if none)")
    current = serializers.SerializerMethodField()

    def get_client(self, obj) -> str:
        return client_name(obj)

    def get_current(self, obj) -> bool:
        auth = getattr(self.context.get("request"), "auth", None)
        return getattr(auth, "digest", None) == obj.digest


def client_name(token) -> str:
    """The client name given when ``token`` was issued ("" if none): read through ``own_tokens``."""
    info = getattr(token, "client_info", None)  # a missing one raises an AttributeError subclass
    return info.name if info else ""


def own_tokens(user):
    """The unexpired API tokens of ``user``: what he may list and revoke, nobody else's."""
    from django.db.models import Q
    from django.utils import timezone
    from knox.models import AuthToken

    return AuthToken.objects.filter(Q(expiry__isnull=True) | Q(expiry__gt=timezone.now()), user=user
                                    ).select_related("client_info").order_by("-created")


class OwnTokenListView(generics.ListAPIView):
    """The caller's own API tokens (one per client login), newest first."""

    serializer_class = OwnTokenSerializer
    pagination_class = None

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            from knox.models import AuthToken

            return AuthToken.objects.none()
        return own_tokens(self.request.user)


class OwnTokenDetailView(generics.RetrieveDestroyAPIView):
    """One of the caller's tokens; DELETE revokes it. Anyone else's token is 404."""

    serializer_class = OwnTokenSerializer
    lookup_field = "token_key"

    def get_queryset(self):
        from knox.models import AuthToken

        return AuthToken.objects.none()  # for the schema only: get_object reads the caller's own tokens

    def get_object(self):
        return get_object_or_404(own_tokens(self.request.user), token_key=self.kwargs["token_key"])

    def perform_destroy(self, instance):
        from apps.core.audit import record

        record("token_revoked", self.request.user, actor=self.request.user,
               institution_id=self.request.user.institution_id, object_repr=self.request.user.get_username(),
               after={"token": instance.token_key, "client": client_name(instance)})
        instance.delete()
