import uuid

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
    return request.META.get("REMOTE_ADDR", "")
