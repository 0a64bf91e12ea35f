import uuid

from django.contrib.auth.middleware import LoginRequiredMiddleware

from .audit import audit_context


class AuditContextMiddleware:
    """Attribute every change made while serving a request to its user and request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = str(uuid.uuid4())
        with audit_context(request=request, request_id=request.request_id, remote_addr=client_ip(request)):
            return self.get_response(request)


def client_ip(request):
    """The client's address, read through the configured trusted proxies (as the login lockout reads it)."""
    from axes.helpers import get_client_ip_address

    return get_client_ip_address(request) or ""


class ChineseFirstLocaleMiddleware:
    """Chinese unless the user chose another language with the switch (a cookie).

    The browser's Accept-Language is ignored on purpose: civil servants often run
    English-language browsers, and the platform is Chinese first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        lang = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if lang not in dict(settings.LANGUAGES):
            lang = settings.LANGUAGE_CODE
        translation.activate(lang)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response


class BadInputMiddleware:
    """Pages: input the database layer could not take (see ``apps.core.badinput``) is a 400 page.

    The API answers the same cases through its exception handler (``apps.core.pagination``).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.shortcuts import render

        from .badinput import bad_input_reason

        reason = bad_input_reason(exception)
        if reason is None:
            return None
        return render(request, "400.html", {"reason": reason}, status=400)


class LoginRequiredByDefault(LoginRequiredMiddleware):
    """Django 5.2's ``LoginRequiredMiddleware`` with the platform's exemptions named in one place.

    Every page needs a login unless its URL name is in ``EXEMPT_URL_NAMES`` or the view is marked
    with ``login_not_required``. The REST API (``/api/``) is exempt from the redirect because it
    authenticates per request (token or session) and refuses anonymous callers itself with 401/403
    (DRF's default ``IsAuthenticated``; the token endpoint and the device ingest say otherwise
    explicitly). The training sign-in QR landing is open (a signed token, name and phone); a QR
    code on a checkpoint opens an ordinary page, which asks for the login and returns (``?next=``).
    """

    EXEMPT_URL_NAMES = frozenset({
        "login",  # the login page itself
        "healthz",  # the load balancer's readiness probe
        "set_language",  # the language switch on the login page
        "schema", "api-docs",  # the OpenAPI description of the API
        "sign_in",  # the QR landing of a training session: attendees sign with name and phone
    })

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is not None and (match.url_name in self.EXEMPT_URL_NAMES or request.path_info.startswith("/api/")):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)
