"""The signed-in user's notifications (``core.notify``): the list (the bell in the header links here), mark
read, and by which outside channels each kind reaches them."""
from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext as _

from cordon.core import access, notify
from cordon.core.actions import do_mark_notifications_read, do_set_notify_preferences
from cordon.core.models import Notification, NotifyPreference
from cordon.web.pages import attempt, done, paginate, route, submit


class PreferencesForm(forms.Form):
    """One set of check boxes per kind of notification (``core.notify.KINDS``)."""

    def __init__(self, *args, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in notify.KINDS.items():
            self.fields[kind] = forms.MultipleChoiceField(
                label=label, choices=list(notify.CHANNELS.items()), required=False,
                widget=forms.CheckboxSelectMultiple, initial=current.get(kind, []))


def _current(user) -> dict:
    prefs = {k: list(v) for k, v in notify.DEFAULT_CHANNELS.items()}
    prefs.update(dict(NotifyPreference.objects.filter(user=user).values_list("kind", "channels")))
    return prefs


@route("notifications/", "notifications")
@access.require(access.SIGNED_IN)
def notifications(request):
    user = request.user
    form = PreferencesForm(request.POST if request.POST.get("what") == "prefs" else None, current=_current(user))
    if request.method == "POST":
        if request.POST.get("what") == "read":
            attempt(request, lambda: do_mark_notifications_read(user, actor=user), ok=_("Marked read."))
            return done(request, _("All read."), "notifications")
        def save(c):
            do_set_notify_preferences(user, c, actor=user)
            return done(request, _("Preferences saved."), "notifications")

        response = submit(form, save, lambda exc: None)
        if response is not None:
            return response
    page = paginate(request, Notification.objects.filter(user=user), 50)
    rows = [{"n": n, "text": notify.text_of(n)} for n in page.object_list]
    return render(request, "web/notifications.html", {"page": page, "rows": rows, "form": form,
                                                      "unread": notify.unread_count(user)},
                  status=400 if request.method == "POST" else 200)
