"""``/api/situation`` (the situation page's data), ``/api/situation/daily`` (the daily close), the districts'
sign-off of it (``/api/situation/closes``) and the bulletin desk. Same scoping as the pages: figures cover the caller's jurisdiction; ``district`` narrows to a district
in scope (404 otherwise). Bulletin writes need a city-wide commander (403 otherwise)."""
from __future__ import annotations

import datetime as dt

from ninja import Router, Schema, Status

from cordon.core import access, clock
from cordon.core.api import current_user, writable
from cordon.core.fields import Day, Id, QueryId, Reason, finite, integer, text, text_of
from cordon.places.models import Area
from cordon.situation import actions, daily
from cordon.situation.models import Bulletin, BulletinStatus, DayClose
from cordon.situation.registry import SituationScope
from cordon.situation.views import situation_data

router = Router(tags=["situation"])


class DistrictOut(Schema):
    id: int
    name: str


class SituationOut(Schema):
    on: dt.date
    scope: str
    district: DistrictOut | None
    sections: dict


class DailyOut(Schema):
    day: dt.date
    generated: str
    scope: str
    sections: dict
    groups: list[dict]


class BulletinOut(Schema):
    id: int
    day: dt.date
    status: str
    title: str
    text: str
    drafted_text: str
    figures: dict
    approved_by: str
    published_at: dt.datetime | None


class BulletinDraftIn(Schema):
    day: Day


class BulletinEditIn(Schema):
    text: text(20_000, min_length=1)
    title: text_of(Bulletin, "title") | None = None
    reason: Reason = ""


class BulletinReasonIn(Schema):
    reason: Reason = ""


class DayCloseOut(Schema):
    id: int
    district: DistrictOut
    day: dt.date
    status: str
    signed_by: str
    signed_at: dt.datetime
    note: str
    open_items: int
    reopened_by: str
    reopened_at: dt.datetime | None
    reopen_reason: str


class SignOffIn(Schema):
    district_id: Id
    day: Day
    note: text_of(DayClose, "note") = ""


class ReopenIn(Schema):
    reason: text_of(DayClose, "reopen_reason", min_length=1)


def _view(request, district: int | None, **params) -> SituationScope:
    user = current_user(request)
    d = access.access(Area.objects.filter(kind="district"), user, district) if district is not None else None
    return SituationScope.for_user(user, district=d, **params)


def _day(value: dt.date | None) -> dt.date:
    return value or clock.today()


@router.get("/situation", response=SituationOut, url_name="situation")
def situation(request, district: QueryId | None = None, on: Day | None = None,
              days: integer(7, 400, strict=False) = 60, mean_si: finite(0.5, 30) | None = None,
              std_si: finite(0.1, 30) | None = None):
    view = _view(request, district, days=days, mean_si=mean_si, std_si=std_si)
    return situation_data(view, _day(on))


@router.get("/situation/daily", response=DailyOut, url_name="situation_daily")
def situation_daily(request, on: Day | None = None, district: QueryId | None = None):
    view = _view(request, district, days=14)
    return daily.report(view, _day(on))


@router.get("/bulletins", response=list[BulletinOut])
def bulletins(request, limit: integer(1, 366, strict=False) = 60):
    user = current_user(request)
    qs = Bulletin.objects.order_by("-day")
    try:
        actions.check_bulletin_authority(user)
    except access.Forbidden:
        qs = qs.filter(status=BulletinStatus.PUBLISHED)
    return list(qs[:max(1, min(limit, 366))])


@router.post("/bulletins", response={201: BulletinOut})
def draft_bulletin(request, payload: BulletinDraftIn):
    return Status(201, actions.do_draft_bulletin(payload.day, actor=current_user(request)))


def _bulletin(request, bulletin_id: int) -> Bulletin:
    user = current_user(request)
    b = Bulletin.objects.filter(pk=bulletin_id).first()
    if b is None:
        raise access.NotFound
    if b.status != BulletinStatus.PUBLISHED:
        try:
            actions.check_bulletin_authority(user)
        except access.Forbidden:
            raise access.NotFound from None
    actions.check_bulletin_authority(user)
    return b


@router.patch("/bulletins/{bulletin_id}", response=BulletinOut)
def edit_bulletin(request, bulletin_id: QueryId, payload: BulletinEditIn):
    b = _bulletin(request, bulletin_id)
    return actions.do_edit_bulletin(b, text=payload.text, title=payload.title, actor=current_user(request),
                                    reason=payload.reason)


@router.post("/bulletins/{bulletin_id}/approve", response=BulletinOut)
def approve_bulletin(request, bulletin_id: QueryId, payload: BulletinReasonIn):
    return actions.do_approve_bulletin(_bulletin(request, bulletin_id), actor=current_user(request),
                                       reason=payload.reason)


@router.post("/bulletins/{bulletin_id}/publish", response=BulletinOut)
def publish_bulletin(request, bulletin_id: QueryId, payload: BulletinReasonIn):
    return actions.do_publish_bulletin(_bulletin(request, bulletin_id), actor=current_user(request),
                                       reason=payload.reason)


def _close_out(c: DayClose) -> dict:
    return {"id": c.pk, "district": {"id": c.district.pk, "name": c.district.name}, "day": c.day,
            "status": c.status, "signed_by": c.signed_by, "signed_at": c.signed_at, "note": c.note,
            "open_items": len(c.open_items), "reopened_by": c.reopened_by, "reopened_at": c.reopened_at,
            "reopen_reason": c.reopen_reason}


@router.post("/situation/closes", response={201: DayCloseOut})
def sign_off_day(request, payload: SignOffIn):
    """A district signs off its daily close (the same action as the daily close page): the items still open
    are kept with the sign-off and carried over. A district outside the caller's jurisdiction is 404."""
    user, district = writable(request, Area.objects.filter(kind="district"), payload.district_id, access.CLOSE_DAY)
    return Status(201, _close_out(actions.do_sign_off_day(district, payload.day, note=payload.note, actor=user)))


@router.post("/situation/closes/{close_id}/reopen", response=DayCloseOut)
def reopen_day(request, close_id: QueryId, payload: ReopenIn):
    """Reopen a signed-off daily close, with a reason (the daily close page's reopen)."""
    user, c = writable(request, DayClose.objects.select_related("district"), close_id, access.CLOSE_DAY)
    return _close_out(actions.do_reopen_day(c, reason=payload.reason, actor=user))


access.declare_operations(router, {
    "situation": access.VIEW, "situation_daily": access.EXPORT, "bulletins": access.VIEW,
    "draft_bulletin": access.COMMAND, "edit_bulletin": access.COMMAND, "approve_bulletin": access.COMMAND,
    "publish_bulletin": access.COMMAND, "sign_off_day": access.CLOSE_DAY, "reopen_day": access.CLOSE_DAY,
})
