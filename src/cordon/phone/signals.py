"""A lost phone's slice key dies with the account's access: logging out, an account locked by failed sign-ins
(django-axes) and an account deactivated revoke every device of the user (``actions.do_revoke_devices``,
audited). A device is also refused at every contact once the account is inactive (``queries.device_of``)."""
from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from .actions import do_revoke_devices


@receiver(user_logged_out, dispatch_uid="phone.logout")
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        do_revoke_devices(user, reason="signed out", actor=user)


@receiver(user_locked_out, dispatch_uid="phone.locked")
def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    user = get_user_model().objects.filter(username=username).first() if username else None
    if user is not None:
        do_revoke_devices(user, reason="account locked after failed sign-ins")


@receiver(post_save, sender=get_user_model(), dispatch_uid="phone.deactivated")
def _deactivated(sender, instance, created=False, raw=False, **kwargs):
    if not created and not raw and not instance.is_active:
        do_revoke_devices(instance, reason="account deactivated")
