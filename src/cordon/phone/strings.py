"""The phone app's texts, translated on the server (gettext, django.po) and handed to the app as JSON in both
languages, so the language switch works offline: the shell carries {"zh-hans": {...}, "en": {...}}."""
from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cordon.care.forms import PRIORITY_CHOICES
from cordon.care.models import TaskKind
from cordon.places.models import Sex

#: key -> text; ``%(name)s`` placeholders are filled by the app.
TEXTS = {
    "app": _("Cordon field app"),
    "today": _("My tasks today"),
    "buildings": _("My buildings"),
    "tubes": _("Door-to-door sampling"),
    "deliveries": _("Deliveries"),
    "checkins": _("Home-order check-ins"),
    "visits": _("Special-group visits"),
    "care": _("Care request"),
    "pass": _("Pass check"),
    "playbooks": _("Playbooks"),
    "queue": _("Changes and sync"),
    "back": _("Back"),
    "online": _("Online"),
    "offline": _("Offline"),
    "pending": _("%(n)s to send"),
    "sync_now": _("Sync now"),
    "syncing": _("Syncing ..."),
    "synced_at": _("Data of %(t)s"),
    "setup": _("Setting up this phone ..."),
    "need_network": _("Connect to the network once to set up this phone."),
    "sign_in": _("Sign in"),
    "no_phone_use": _("Your account does not use the field app."),
    "server_error": _("The server did not answer (%(s)s). Your changes are kept on this phone."),
    "wiped_device": _("This phone's data was deleted: the device was revoked, expired or signed out."),
    "wiped_stale": _("This phone's data was deleted: your assignment changed. Fresh data is loaded."),
    "lost_unsent": _("%(n)s changes not yet sent could not be kept."),
    "round": _("Screening round"),
    "barcode": _("Tube barcode"),
    "scan": _("Scan with the camera"),
    "no_camera": _("This browser cannot read codes with the camera: type the code."),
    "building": _("Building"),
    "unit": _("Unit"),
    "choose": _("Choose ..."),
    "pool": _("%(n)s of %(max)s people in this tube"),
    "pool_full": _("This tube is full (%(max)s people)."),
    "register_tube": _("Register the tube"),
    "tube_queued": _("Tube %(b)s queued."),
    "tube_dup": _("Tube %(b)s is already registered today."),
    "tube_need": _("Type or scan a barcode and tick at least one person."),
    "sampled": _("sampled"),
    "no_rounds": _("No open screening round covers your areas today."),
    "delivered": _("Delivered"),
    "not_delivered": _("Not delivered"),
    "reason": _("Reason"),
    "reason_need": _("Say why it was not delivered."),
    "due": _("by %(d)s"),
    "nothing": _("Nothing to do here."),
    "temperature": _("Temperature (°C)"),
    "symptoms": _("Symptoms (empty if none)"),
    "record": _("Record"),
    "temp_need": _("Type a temperature between 34 and 43 °C."),
    "note": _("Note"),
    "done": _("Done"),
    "need": _("Need"),
    "urgent": _("Life-threatening now (critical)"),
    "send_request": _("Send the request"),
    "care_need": _("Choose the person and the need."),
    "care_queued": _("Care request queued."),
    "token": _("Code on the pass"),
    "check": _("Check"),
    "checked_at": _("Where"),
    "pass_ok": _("Signature valid"),
    "pass_bad": _("Forged or damaged code: refused"),
    "pass_revoked": _("Revoked: refused"),
    "pass_dates": _("Not valid today: refused"),
    "pass_nocrypto": _("This browser cannot verify the signature; the server checks it when the phone syncs."),
    "pass_area": _("Valid for: %(a)s"),
    "status_pending": _("waiting to be sent"),
    "status_applied": _("applied"),
    "status_duplicate": _("duplicate"),
    "status_flagged": _("flagged for review"),
    "status_rejected": _("rejected"),
    "kind_tube": _("Tube"),
    "kind_delivery": _("Delivery"),
    "kind_checkin": _("Check-in"),
    "kind_visit": _("Visit"),
    "kind_care_request": _("Care request"),
    "kind_pass_check": _("Pass check"),
    "results": _("Results of the last sync"),
    "no_changes": _("No change recorded on this phone yet."),
    "households": _("%(n)s households"),
    "under_order": _("home order until %(d)s"),
    "job_playbook": _("How to do it"),
    # the switch shows the other language's name: this text in English is "English", in Chinese "中文"
    "language": pgettext_lazy("the name of this language", "English"),
}


def catalog() -> dict[str, dict[str, str]]:
    """Every text in Chinese and English, with the app's choice lists (care needs, visit kinds)."""
    out = {}
    for lang in ("zh-hans", "en"):
        with translation.override(lang):
            texts = {k: str(v) for k, v in TEXTS.items()}
            texts.update({f"need_{k}": str(v) for k, v in PRIORITY_CHOICES})
            texts.update({f"visit_{k}": str(v) for k, v in TaskKind.choices})
            texts.update({f"sex_{k}": str(v) for k, v in Sex.choices})
            out[lang] = texts
    return out


#: the care needs offered, in the order of the care page's form
NEEDS = [k for k, _label in PRIORITY_CHOICES]
