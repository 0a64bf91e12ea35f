from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver

from apps.core.audit import record

from . import auth  # noqa: F401  (lock and unlock receivers)
from .auth import normalize_username
from .models import User


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    record("login", user, actor=user, institution_id=user.institution_id, object_repr=user.get_username())


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        record("logout", user, actor=user, institution_id=user.institution_id, object_repr=user.get_username())


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = normalize_username((credentials or {}).get("username", ""))
    record("login_failed", None, username=username, object_repr=username)


@receiver(pre_save, sender=User)
def _revoke_tokens_on_password_change_or_deactivation(sender, instance, raw=False, update_fields=None, **kwargs):
    """A new password or a deactivated account ends every API token of the user."""
    if raw or instance.pk is None:
        return
    if update_fields is not None and not {"password", "is_active"} & set(update_fields):
        return
    old = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    if old is None:
        return
    if old["password"] != instance.password or (old["is_active"] and not instance.is_active):
        from knox.models import AuthToken

        AuthToken.objects.filter(user_id=instance.pk).delete()
