from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from apps.core.audit import record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record("login", user, actor=user, institution_id=user.institution_id, object_repr=user.get_username())


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record("logout", user, actor=user, institution_id=user.institution_id, object_repr=user.get_username())


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    record("login_failed", None, username=username, object_repr=username)
