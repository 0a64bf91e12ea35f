"""Base pieces of the REST API: scoped viewsets and serializers, capability checks, tokens."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView

from . import policy
from .pagination import Pagination, exception_handler  # noqa: F401  (re-exported)


class HasCapability(permissions.BasePermission):
    """Reads need only scope; writes need the view's ``write_capability`` for the user's role.

    On a detail route the check waits for the object: ``get_object`` applies the scope first,
    so an outsider gets 404 whatever their role, and an insider without the right gets 403.
    Custom actions must call ``self.get_object()``.
    """

    def _allowed(self, request, view):
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


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class TokenView(APIView):
    """POST username and password; answers ``{"token": ...}``. Throttled like the login page."""

    authentication_classes = []
    permission_classes = []
    serializer_class = AuthTokenSerializer

    def post(self, request):
        from apps.orgs.throttle import is_locked_out

        username = str(request.data.get("username", ""))
        if is_locked_out(username, request.META.get("REMOTE_ADDR", "")):
            return Response({"detail": _("Too many failed logins. Try again later.")},
                            status=status.HTTP_429_TOO_MANY_REQUESTS)
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
