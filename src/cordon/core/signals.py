"""Login, logout and lockouts are audited too."""
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from cordon.core import audit


@receiver(user_logged_in)
def _login(sender, request, user, **kwargs):
    audit.record("auth.login", actor=user, object_type="user", object_id=user.pk)


@receiver(user_logged_out)
def _logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record("auth.logout", actor=user, object_type="user", object_id=user.pk)


@receiver(user_login_failed)
def _failed(sender, credentials, request=None, **kwargs):
    name = str(credentials.get("username", ""))[:150]
    audit.record("auth.login_failed", actor=name or "anonymous", object_type="user", object_id="",
                 after={"username": name})
