from django.conf import settings


def platform(request):
    """Site name and the unread-notification count for the header (one cheap query)."""
    ctx = {"SITE_NAME": settings.SITE_NAME}
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        ctx["unread_notifications"] = user.notifications.filter(read_at__isnull=True).count()
    return ctx
