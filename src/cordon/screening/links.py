"""A resident's screening on their page (``places.hooks.RESIDENT_SECTIONS``): for the latest rounds covering
their home, whether they were sampled (the round's registration bitmap), and their single-tube retests after a
positive pool. Whether a person was tested is health data: roles with ``read_health``, within their
jurisdiction."""
from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.core import access
from cordon.places.hooks import Section
from cordon.screening.models import BLOCK, Coverage, RecallMember, Registered, Round

LATEST = 10


def _bit(bits, n: int) -> bool:
    return bool(bits) and n // 8 < len(bits) and bool((bits[n // 8] >> (n % 8)) & 1)


def resident_tests(user, resident) -> Section | None:
    if not (access.has_perm(user, access.READ_HEALTH) and access.can(user, access.READ_HEALTH, resident)):
        return None
    anc = [getattr(resident, f"{lv}_id") for lv in access.LEVELS if getattr(resident, f"{lv}_id")]
    rounds = list(Round.objects.for_user(user).filter(Q(coverage=Coverage.CITY) | Q(areas__area_id__in=anc)).distinct()
                  .order_by("-on", "-id")[:LATEST + 1])
    block, n = divmod(resident.pk, BLOCK)
    bits = {g.round_id: bytes(g.bits) for g in Registered.objects.filter(round_id__in=[r.pk for r in rounds],
                                                                          block=block)}
    retests = {}
    for m in RecallMember.objects.for_user(user, access.READ_HEALTH).filter(resident=resident).select_related("task"):
        retests[m.task.round_id] = m
    s = Section(_("Screening tests"), [_("Round"), _("Day"), _("Sampled"), _("Retest")],
                empty=_("No screening round has covered this resident's home."))
    for r in rounds[:LATEST]:
        m = retests.get(r.pk)
        s.add(reverse("screening_detail", args=[r.pk]), r.name, r.on.isoformat(),
              _("yes") if _bit(bits.get(r.pk), n) else _("no"),
              (m.get_retest_display() if m else "—"))
    s.more = len(rounds) > LATEST
    return s
