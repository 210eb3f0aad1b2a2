"""Passes pages (phone-friendly): the pass list with its filters and exports, issue a pass, a pass's page with
its QR code and the revoke form, the checkpoint page (camera or typed code; the token verified in the browser
with the deployment's public key and by the server), the check log, checkpoints, and a rider's assignment to a
delivery into a sealed unit."""
from __future__ import annotations

import segno
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from cordon.core import access, clock
from cordon.core.actions import ActionError
from cordon.passes import actions, exports, forms, queries, signing
from cordon.passes.models import Checkpoint, CheckLog, Kind, Pass, PassStatus
from cordon.places.models import Area, Resident
from cordon.supplies.actions import do_assign_delivery
from cordon.supplies.models import DeliveryOrder
from cordon.web import exports as web_exports
from cordon.web.pages import (FORM_PAGE, attempt, choice_label, done, form_context, form_errors_text, form_page,
                              paginate, parse_day, query_without_page, route, search_text)


def _crumbs():
    return [(reverse("passes_list"), _("Passes"))]


def _area(user, value: str, cap: str) -> Area:
    value = (value or "").strip().strip("/")
    a = Area.objects.for_user(user, access.PASSES_READ).filter(path=value).first() if value else None
    if a is None or not access.can(user, cap, a):
        raise ActionError(_("No such area in your jurisdiction: %(a)s") % {"a": value}, field="area")
    return a


def _listing(request):
    return queries.pass_list(request.user, status=request.GET.get("status") or "", kind=request.GET.get("kind") or "",
                             q=search_text(request), today=clock.today())


@route("passes/", "passes_list")
@access.require(access.PASSES_READ)
def pass_list(request):
    user = request.user
    page = paginate(request, _listing(request).select_related("holder"), 50)
    return render(request, "passes/list.html", {
        "page": page, "querystring": query_without_page(request), "kinds": Kind.choices,
        "statuses": [("current", _("Valid today")), *PassStatus.choices],
        "can_issue": access.has_perm(user, access.PASSES_ISSUE), "can_check": access.has_perm(user, access.PASSES_CHECK),
        "reassign": queries.to_reassign(user, clock.today()) if access.has_perm(user, access.SUPPLIES_READ) else [],
        "can_assign": access.has_perm(user, access.SUPPLIES_WRITE)})


@route("passes/export/", "passes_export")
@access.require(access.EXPORT)
def pass_export(request):
    listing = exports.passes(choice_label(Pass, "kind"), choice_label(Pass, "status"))
    return web_exports.respond(request, listing, _listing(request))


@route("passes/new/", "passes_new")
@access.require(access.PASSES_ISSUE)
def issue(request):
    user = request.user

    def act(c):
        holder = None
        if c["holder"]:
            holder = Resident.objects.for_user(user, access.PASSES_ISSUE).filter(
                id_number=c["holder"].strip().upper()).first()
            if holder is None:
                raise ActionError(_("No such resident in your jurisdiction"), field="holder")
        areas = [_area(user, line, access.PASSES_ISSUE) for line in c["areas"].splitlines() if line.strip()]
        p = actions.do_issue_pass(kind=c["kind"], areas=areas, valid_from=c["valid_from"], valid_to=c["valid_to"],
                                  holder=holder, holder_name=c["holder_name"], holder_id_number=c["holder_id_number"],
                                  actor=user, reason=c["reason"])
        return done(request, _("Pass %(n)s issued.") % {"n": p.pk}, "passes_detail", pk=p.pk)

    page = form_context(_("Issue a pass"), _("Issue"), crumbs=_crumbs(), cancel=reverse("passes_list"),
                        lead=_("A pass covers the areas listed (everything inside each) from the first to the last "
                               "day inclusive; it is suspended automatically while its holder is under an order or "
                               "overdue for a test."))
    return form_page(request, forms.PassForm(request.POST or None), FORM_PAGE, page, act=act)


@route("passes/<int:pk>/", "passes_detail")
@access.require(access.PASSES_READ)
def detail(request, pk: int):
    p = access.access(Pass.objects.select_related("holder"), request.user, pk, read=access.PASSES_READ)
    token = signing.token_for(p)
    qr = segno.make(token, error="m").svg_inline(scale=3, dark="#000", light="#fff")
    return render(request, "passes/detail.html", {
        "p": p, "qr": qr, "token": token, "crumbs": _crumbs(), "events": list(p.events.all()),
        "checks": list(p.checks.select_related("area").order_by("-at", "-id")[:20]),
        "can_revoke": p.status != PassStatus.REVOKED and access.can(request.user, access.PASSES_ISSUE, p),
        "revoke_form": forms.RevokeForm()})


@route("passes/<int:pk>/revoke/", "passes_revoke")
@access.require(access.PASSES_ISSUE)
def revoke(request, pk: int):
    user = request.user
    p = access.access(Pass, user, pk, perm=access.PASSES_ISSUE, read=access.PASSES_READ)
    form = forms.RevokeForm(request.POST or None)
    if request.method != "POST":
        page = form_context(_("Revoke pass %(n)s") % {"n": p.pk}, _("Revoke"), crumbs=_crumbs(),
                            cancel=reverse("passes_detail", args=[p.pk]), lead=_("A revocation is final."))
        return render(request, FORM_PAGE, {"form": form, **page})
    if form.is_valid():
        attempt(request, lambda: actions.do_revoke_pass(p, reason=form.cleaned_data["reason"], actor=user),
                ok=_("Pass revoked."))
    else:
        messages.error(request, form_errors_text(form))
    return redirect("passes_detail", pk=p.pk)


def _checkpoints(user):
    return list(Checkpoint.objects.for_user(user, access.PASSES_CHECK).select_related("area").order_by("name")[:200])


@route("passes/check/", "passes_check")
@access.require(access.PASSES_CHECK)
def check(request):
    """The checkpoint page: scan the QR code (the camera, where the browser reads codes) or type the code. The
    browser verifies a scanned token's signature with the public key and the synced revocation list (offline);
    the server's answer, logged, is the one that counts."""
    user = request.user
    cps = _checkpoints(user)
    form = forms.CheckForm(request.POST or None)
    form.fields["checkpoint"].choices = [(c.pk, f"{c.name}{' · ' + _('city exit') if c.city_exit else ''}") for c in cps]
    result, status = None, 200
    if request.method == "POST":
        if form.is_valid():
            c = form.cleaned_data
            cp = access.access(Checkpoint, user, c["checkpoint"], perm=access.PASSES_CHECK, read=access.PASSES_READ)
            text = c["code"].strip()
            log, answer = actions.do_check_pass(token=text if "." in text else "", code="" if "." in text else text,
                                                checkpoint=cp, actor=user)
            result = {"log": log, "answer": answer}
        else:
            status = 400
    return render(request, "passes/check.html", {
        "form": form, "result": result, "checkpoints": cps, "crumbs": _crumbs(),
        "paths": {c.pk: c.area.path for c in cps},  # the offline check: is the checkpoint's area covered
        "api": {"key": "/api/passes/public-key", "revocations": "/api/passes/revocations", "check": "/api/passes/check"},
    }, status=status)


def _checks(request):
    return queries.check_list(request.user, on=parse_day(request.GET.get("on")), result=request.GET.get("result") or "")


@route("passes/checks/", "passes_checks")
@access.require(access.PASSES_READ)
def check_log(request):
    return render(request, "passes/checks.html", {
        "page": paginate(request, _checks(request), 100), "querystring": query_without_page(request),
        "crumbs": _crumbs(), "results": CheckLog._meta.get_field("result").choices})


@route("passes/checks/export/", "passes_checks_export")
@access.require(access.EXPORT)
def check_export(request):
    return web_exports.respond(request, exports.checks(choice_label(CheckLog, "result")), _checks(request))


@route("passes/checkpoints/new/", "passes_checkpoint_new")
@access.require(access.PASSES_ISSUE)
def new_checkpoint(request):
    user = request.user

    def act(c):
        cp = actions.do_create_checkpoint(c["name"], area=_area(user, c["area"], access.PASSES_ISSUE),
                                          city_exit=c["city_exit"], actor=user)
        return done(request, _("%(name)s created.") % {"name": cp.name}, "passes_check")

    page = form_context(_("New checkpoint"), _("Create"), crumbs=_crumbs(), cancel=reverse("passes_list"))
    return form_page(request, forms.CheckpointForm(request.POST or None), FORM_PAGE, page, act=act)


@route("passes/deliveries/<int:pk>/assign/", "passes_assign")
@access.require(access.SUPPLIES_WRITE)
def assign(request, pk: int):
    """Give a planned delivery to a rider: into a sealed unit only a current key worker with a valid delivery or
    supply pass covering the unit."""
    user = request.user
    o = access.access(DeliveryOrder.objects.select_related("household"), user, pk, perm=access.SUPPLIES_WRITE,
                      read=access.SUPPLIES_READ)

    def act(c):
        rider = Resident.objects.filter(id_number=c["rider"].strip().upper()).first()
        if rider is None:
            raise ActionError(_("No resident with this ID number"), field="rider")
        do_assign_delivery(o, rider=rider, actor=user)
        return done(request, _("Delivery assigned."), "passes_list")

    page = form_context(_("Assign a rider to delivery %(n)s") % {"n": o.pk}, _("Assign"), crumbs=_crumbs(),
                        cancel=reverse("passes_list"))
    return form_page(request, forms.AssignForm(request.POST or None), FORM_PAGE, page, act=act)
